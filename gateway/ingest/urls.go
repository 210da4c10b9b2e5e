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
	fields := map[string]*string{
		"utm_source": &l.UTMSource, "utm_medium": &l.UTMMedium, "utm_campaign": &l.UTMCampaign,
		"utm_content": &l.UTMContent, "utm_term": &l.UTMTerm,
		"gclid": &l.GCLID, "gbraid": &l.GBRAID, "wbraid": &l.WBRAID, "msclkid": &l.MSCLKID,
		"fbclid": &l.FBCLID, "ttclid": &l.TTCLID, "li_fat_id": &l.LiFatID, "twclid": &l.TWCLID,
	}
	// Walk the pairs in order (a map from url.ParseQuery would make "first
	// wins" random); a malformed pair is skipped, the others still count.
	for pair := range strings.SplitSeq(u.RawQuery, "&") {
		k, v, _ := strings.Cut(pair, "=")
		dst := fields[strings.ToLower(k)]
		if dst == nil || *dst != "" {
			continue
		}
		if v, err := url.QueryUnescape(v); err == nil {
			*dst = clip(strings.TrimSpace(v), maxParam)
		}
	}
	return l, true
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
