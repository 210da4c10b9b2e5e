package ingest

import (
	"net/url"
	"strings"
)

// Landing is what the gateway reads from a page URL itself, never trusting
// the client for it: host, path, UTM parameters and ad click ids.
type Landing struct {
	Hostname, Path                                                  string
	UTMSource, UTMMedium, UTMCampaign, UTMContent, UTMTerm          string
	GCLID, GBRAID, WBRAID, MSCLKID, FBCLID, TTCLID, LiFatID, TWCLID string
}

// ParseLanding reads an absolute http(s) URL. ok is false for anything else.
// Parameter names are matched case-insensitively (UTM_Source happens); the
// first occurrence of a repeated parameter wins.
func ParseLanding(raw string) (l Landing, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return l, false
	}
	l.Hostname = strings.ToLower(u.Hostname())
	l.Path = u.EscapedPath()
	if l.Path == "" {
		l.Path = "/"
	}
	l.readQuery(u.RawQuery)
	return l, true
}

// readQuery fills the campaign fields from a raw query string. It reads
// pairs as url.ParseQuery does (split on '&', pieces holding ';' or
// undecodable escapes ignored, '+' a space) without building a map; the
// first non-empty value of a parameter wins, whatever its case.
func (l *Landing) readQuery(q string) {
	fields := [...]struct {
		name string
		dst  *string
	}{
		{"utm_source", &l.UTMSource}, {"utm_medium", &l.UTMMedium}, {"utm_campaign", &l.UTMCampaign},
		{"utm_content", &l.UTMContent}, {"utm_term", &l.UTMTerm},
		{"gclid", &l.GCLID}, {"gbraid", &l.GBRAID}, {"wbraid", &l.WBRAID}, {"msclkid", &l.MSCLKID},
		{"fbclid", &l.FBCLID}, {"ttclid", &l.TTCLID}, {"li_fat_id", &l.LiFatID}, {"twclid", &l.TWCLID},
	}
	for q != "" {
		var piece string
		piece, q, _ = strings.Cut(q, "&")
		if piece == "" || strings.IndexByte(piece, ';') >= 0 {
			continue
		}
		key, value, _ := strings.Cut(piece, "=")
		if strings.ContainsAny(key, "%+") {
			k, err := url.QueryUnescape(key)
			if err != nil {
				continue
			}
			key = k
		}
		for _, f := range fields {
			if *f.dst != "" || len(key) != len(f.name) || !strings.EqualFold(key, f.name) {
				continue
			}
			if strings.ContainsAny(value, "%+") {
				v, err := url.QueryUnescape(value)
				if err != nil {
					break
				}
				value = v
			}
			*f.dst = clip(strings.TrimSpace(value), maxParam)
			break
		}
	}
}

// ReferrerHost is the lower-cased host of a referrer URL, "" when there is
// none or it is not a web URL (android-app://…, about:blank).
func ReferrerHost(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

const maxParam = 512

// clip cuts s to at most n bytes on a UTF-8 boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
