package ingest

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The fuzz targets run their seed corpus as ordinary tests in `go test`;
// `make test` also runs each one briefly with -fuzz, `make fuzz` for longer.

var fuzzPipeline = NewPipeline(Options{})

// FuzzEvents feeds arbitrary bodies (and user agents) through the decoder
// and the pipeline. Whatever comes in: no panic, every event either stored
// or rejected with a reason, and every stored row a well-formed TSV line
// within the field limits.
func FuzzEvents(f *testing.F) {
	for _, seed := range []string{
		`{"site":"shop.example","uid":"0123456789abcdef0123456789abcdef","sid":"s1","sent_at":1764770000000,"events":[{"id":"2f1c3b4a-1111-4222-8333-444455556666","type":"page_view","ts":1764769990000,"url":"https://shop.example/a?utm_source=x&gclid=1","ref":"https://www.google.com/","title":"A\ttab"}]}`,
		`{"site":"s","uid":"0123456789abcdef0123456789abcdef","sid":"s","events":[{"id":"2f1c3b4a-1111-4222-8333-444455556666","type":"form_submit","ts":1,"url":"http://x.example/","email":" A@B.example ","form":"contact\n"},{"id":"x"}]}`,
		`{"site":"s","uid":"0123456789abcdef0123456789abcdef","sid":"s","sent_at":5,"events":[{"id":"2f1c3b4a-1111-4222-8333-444455556666","type":"custom","name":"n","ts":9,"props":{"a":[1,{"b":null}]},"lead_id":"L1"},{"id":"2f1c3b4a-1111-4222-8333-444455556667","type":"identify","ts":3,"email":"x@y"}]}`,
		`{"site":"s","uid":"0123456789abcdef0123456789abcdef","sid":"s","events":[1,"x",null,[],{"ts":"1"}]}`,
		`{"site":"","uid":"x","events":[{}]}`,
		`[]`, `{`, ``, `{"events":null}`, "{\"site\":\"\xff\"}",
	} {
		f.Add([]byte(seed), "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36")
	}
	f.Add([]byte(`{"site":"s","uid":"0123456789abcdef0123456789abcdef","sid":"s","events":[{"id":"2f1c3b4a-1111-4222-8333-444455556666","type":"chat","ts":1,"url":"https://a.example"}]}`), "")
	received := time.UnixMilli(1764770000000).UTC()
	f.Fuzz(func(t *testing.T, body []byte, ua string) {
		b, err := DecodeBody(body)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a reason")
			}
			return
		}
		if len(b.Events) == 0 || len(b.Events) > MaxEvents {
			t.Fatalf("DecodeBody accepted %d events", len(b.Events))
		}
		events, rejected := fuzzPipeline.Process(b, Request{ReceivedAt: received, UserAgent: ua, Source: "js"})
		if len(events)+len(rejected) != len(b.Events) {
			t.Fatalf("%d events in, %d stored + %d rejected out", len(b.Events), len(events), len(rejected))
		}
		for _, r := range rejected {
			if r.Index < 0 || r.Index >= len(b.Events) || r.Reason == "" {
				t.Fatalf("rejection %+v", r)
			}
			if !utf8.ValidString(r.Reason) && utf8.Valid(body) {
				t.Fatalf("reason %q is not UTF-8 for a UTF-8 body", r.Reason)
			}
		}
		for i := range events {
			checkEvent(t, &events[i], received)
		}
	})
}

func checkEvent(t *testing.T, ev *Event, received time.Time) {
	t.Helper()
	line := ev.AppendTSV(nil)
	if !bytes.HasSuffix(line, []byte("\n")) || bytes.Count(line, []byte("\n")) != 1 {
		t.Fatalf("row is not one line: %q", line)
	}
	if got := bytes.Count(line, []byte("\t")); got != len(Columns)-1 {
		t.Fatalf("row has %d tabs for %d columns: %q", got, len(Columns), line)
	}
	if bytes.IndexByte(line, 0) >= 0 || bytes.IndexByte(line, '\r') >= 0 {
		t.Fatalf("row holds a raw NUL or CR: %q", line)
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"url", ev.URL, maxURL}, {"referrer", ev.Referrer, maxURL}, {"title", ev.Title, maxTitle},
		{"name", ev.Name, maxName}, {"form", ev.Form, maxForm}, {"ua", ev.UserAgent, maxUA},
		{"utm_source", ev.UTMSource, maxParam}, {"gclid", ev.GCLID, maxParam}, {"site", ev.Site, maxSite}} {
		if len(f.v) > f.max {
			t.Fatalf("%s is %d bytes, over %d", f.name, len(f.v), f.max)
		}
	}
	if ev.Time.After(received) || received.Sub(ev.Time) > MaxAge {
		t.Fatalf("event time %v outside [received − %v, received %v]", ev.Time, MaxAge, received)
	}
	if ev.EmailHash != "" && len(ev.EmailHash) != 64 {
		t.Fatalf("email hash %q", ev.EmailHash)
	}
	if ev.ID.String() == "00000000-0000-0000-0000-000000000000" && ev.Type == "" {
		t.Fatal("an event with neither id nor type was stored")
	}
}

// FuzzParseLanding reads arbitrary strings as page URLs: no panic; when
// one is accepted, it is an absolute http(s) URL and what is read from it
// is normalised and bounded.
func FuzzParseLanding(f *testing.F) {
	for _, seed := range []string{
		"https://shop.example/a/b?utm_source=News&UTM_Medium=email&utm_campaign=%E2%9C%93&gclid=abc#frag",
		"http://WWW.Example.COM", "https://x.example/?utm_source=a&utm_source=b&utm_term=%zz",
		"https://[::1]:8080/p?fbclid=1;msclkid=2", "javascript:alert(1)", "//no-scheme.example/",
		"https://user:pw@host.example:99/%2F?li_fat_id=" + strings.Repeat("x", 600), "", "http://", "https://a b/",
		"android-app://com.google.android.gm/", "https://例え.jp/パス?utm_source=テスト",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		host := ReferrerHost(raw)
		l, ok := ParseLanding(raw)
		if !ok {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Fatalf("accepted %q (parse: %v)", raw, err)
		}
		if l.Hostname != strings.ToLower(l.Hostname) || l.Hostname != host {
			t.Fatalf("hostname %q, referrer host %q", l.Hostname, host)
		}
		if !strings.HasPrefix(l.Path, "/") {
			t.Fatalf("path %q", l.Path)
		}
		for _, v := range []string{l.UTMSource, l.UTMMedium, l.UTMCampaign, l.UTMContent, l.UTMTerm,
			l.GCLID, l.GBRAID, l.WBRAID, l.MSCLKID, l.FBCLID, l.TTCLID, l.LiFatID, l.TWCLID} {
			if len(v) > maxParam || v != strings.TrimSpace(v) {
				t.Fatalf("parameter %q (%d bytes)", v, len(v))
			}
		}
	})
}
