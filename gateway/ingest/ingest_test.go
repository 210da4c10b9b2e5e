package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestEventTime(t *testing.T) {
	received := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	ms := func(d time.Duration) int64 { return received.Add(d).UnixMilli() }
	for _, tc := range []struct {
		name       string
		ts, sentAt int64
		want       time.Time
		ok         bool
	}{
		{"clocks agree", ms(-5 * time.Second), ms(0), received.Add(-5 * time.Second), true},
		{"client clock 3 h fast: only the age counts", ms(3*time.Hour - 10*time.Second), ms(3 * time.Hour), received.Add(-10 * time.Second), true},
		{"client clock 1 day slow", ms(-24*time.Hour - time.Minute), ms(-24 * time.Hour), received.Add(-time.Minute), true},
		{"queued offline 2 days", ms(-48 * time.Hour), ms(0), received.Add(-48 * time.Hour), true},
		{"stamped after sending: age clamped to 0", ms(time.Minute), ms(0), received, true},
		{"older than MaxAge", ms(-MaxAge - time.Hour), ms(0), time.Time{}, false},
		{"no sent_at: ts as is", ms(-time.Minute), 0, received.Add(-time.Minute), true},
		{"no sent_at, ts in the future: clamped to now", ms(time.Hour), 0, received, true},
		{"no sent_at, ancient ts", ms(-MaxAge - time.Hour), 0, received.Add(-MaxAge - time.Hour), false},
		{"exactly MaxAge", ms(-MaxAge), ms(0), received.Add(-MaxAge), true},
		// An age past what a Duration holds once in nanoseconds is too old,
		// not wrapped around to a small or negative one.
		{"sent_at 9e18, ts 1", 1, 9e18, time.Time{}, false},
		{"age just past a Duration", 0, math.MaxInt64/int64(time.Millisecond) + 1, time.Time{}, false},
		{"ts far below zero: sent_at−ts overflows int64", math.MinInt64, 9e18, time.Time{}, false},
		{"ts far above sent_at", math.MaxInt64, 1, received, true},
		{"no sent_at, ts at the int64 extremes", math.MinInt64, 0, time.Time{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := EventTime(tc.ts, tc.sentAt, received)
			if ok != tc.ok || (ok && !got.Equal(tc.want)) {
				t.Fatalf("EventTime = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestParseLanding(t *testing.T) {
	for _, tc := range []struct {
		url  string
		ok   bool
		want Landing
	}{
		{"https://www.Example.com/pricing?utm_source=google&utm_medium=cpc&utm_campaign=Spring%20Sale&utm_content=ad1&utm_term=call+tracking&gclid=Cj0KCQ",
			true, Landing{Hostname: "www.example.com", Path: "/pricing", UTMSource: "google", UTMMedium: "cpc", UTMCampaign: "Spring Sale", UTMContent: "ad1", UTMTerm: "call tracking", GCLID: "Cj0KCQ"}},
		{"https://example.com/?UTM_Source=Newsletter&utm_source=second&msclkid=abc&fbclid=fb1&ttclid=tt&li_fat_id=li&twclid=tw&gbraid=gb&wbraid=wb",
			true, Landing{Hostname: "example.com", Path: "/", UTMSource: "Newsletter", MSCLKID: "abc", FBCLID: "fb1", TTCLID: "tt", LiFatID: "li", TWCLID: "tw", GBRAID: "gb", WBRAID: "wb"}},
		{"http://shop.example.co.uk", true, Landing{Hostname: "shop.example.co.uk", Path: "/"}},
		{"https://example.com/a%20b?utm_source=x&bad=%zz&utm_medium=y#frag", true, Landing{Hostname: "example.com", Path: "/a%20b", UTMSource: "x", UTMMedium: "y"}},
		{"https://example.com/?utm_campaign=" + strings.Repeat("é", 400), true, Landing{Hostname: "example.com", Path: "/", UTMCampaign: strings.Repeat("é", 256)}},
		{"ftp://example.com/file", false, Landing{}},
		{"/relative/path?utm_source=x", false, Landing{}},
		{"javascript:alert(1)", false, Landing{}},
		{"https://", false, Landing{}},
		{"https://exa mple.com/", false, Landing{}},
		{"", false, Landing{}},
	} {
		got, ok := ParseLanding(tc.url)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseLanding(%.60q) = %+v, %v\nwant %+v, %v", tc.url, got, ok, tc.want, tc.ok)
		}
	}
}

func TestReferrerHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://www.Google.com/search?q=x":    "www.google.com",
		"http://t.co/abc":                      "t.co",
		"android-app://com.google.android.gm/": "",
		"about:blank":                          "",
		"":                                     "",
		"not a url at all":                     "",
	} {
		if got := ReferrerHost(in); got != want {
			t.Errorf("ReferrerHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDecodeBody(t *testing.T) {
	for _, tc := range []struct {
		name, body, err string
	}{
		{"valid", `{"site":"s","uid":"u","sid":"x","sent_at":1,"events":[{}]}`, ""},
		{"empty", ``, "empty body"},
		{"not json", `site=s`, "not valid JSON"},
		{"array", `[1,2]`, "must be"},
		{"truncated", `{"site":"s","events":[{"id":`, "not valid JSON"},
		{"sent_at as string", `{"sent_at":"now","events":[{}]}`, `"sent_at" must be a number`},
		{"events not array", `{"events":{}}`, `"events" must be an array`},
		{"no events", `{"site":"s","events":[]}`, "non-empty array"},
		{"too many events", `{"events":[` + strings.Repeat(`{},`, MaxEvents) + `{}]}`, "at most 500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeBody([]byte(tc.body))
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("DecodeBody error = %v, want one containing %q", err, tc.err)
			}
		})
	}
}

const testUID = "0123456789abcdef0123456789abcdef"

func body(events ...string) Body {
	b := Body{Site: "site1", UID: testUID, SID: "s1", SentAt: 1764770000000}
	for _, e := range events {
		b.Events = append(b.Events, json.RawMessage(e))
	}
	return b
}

func TestProcess(t *testing.T) {
	p := NewPipeline(Options{})
	received := time.UnixMilli(1764770000500).UTC()
	req := Request{ReceivedAt: received, UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15", Source: "js"}
	const id = `"id":"5f0c3b8e-2d7a-4c1e-9b1a-0f6f2f9a1c01"`
	events, rejected := p.Process(body(
		`{`+id+`,"type":"page_view","ts":1764769990000,"url":"https://example.com/?utm_source=google&gclid=G1","ref":"https://www.google.com/","title":"Home"}`,
		`{"id":"bad","type":"page_view","ts":1764769990000,"url":"https://example.com/"}`,
		`{"id":"5f0c3b8e-2d7a-4c1e-9b1a-0f6f2f9a1c02","type":"form_submit","ts":1764769995000,"url":"https://example.com/contact","form":"contact","email":" A@B.example "}`,
		`{"id":"5f0c3b8e-2d7a-4c1e-9b1a-0f6f2f9a1c03","type":"purchase","ts":1764769995000,"url":"https://example.com/"}`,
		`{"id":"5f0c3b8e-2d7a-4c1e-9b1a-0f6f2f9a1c04","type":"page_view","ts":"yesterday","url":"https://example.com/"}`,
		`{"id":"5f0c3b8e-2d7a-4c1e-9b1a-0f6f2f9a1c05","type":"page_view","ts":1764769995000,"url":"/relative"}`,
		`{"id":"5f0c3b8e-2d7a-4c1e-9b1a-0f6f2f9a1c06","type":"page_view","ts":1764769995000}`,
		`{"id":"5f0c3b8e-2d7a-4c1e-9b1a-0f6f2f9a1c07","type":"custom","ts":1764769995000,"name":"pricing_toggle","props":{"plan":"pro"}}`,
		`{"id":"5f0c3b8e-2d7a-4c1e-9b1a-0f6f2f9a1c08","type":"custom","ts":1764769995000,"name":"x","props":[1]}`,
		`{"id":"5f0c3b8e-2d7a-4c1e-9b1a-0f6f2f9a1c09","type":"page_view","ts":1764769995000,"url":"https://example.com/","title":"`+strings.Repeat("t", maxTitle+1)+`"}`,
		`{"id":"5f0c3b8e-2d7a-4c1e-9b1a-0f6f2f9a1c0a","type":"identify","ts":1764769995000,"email":"someone@example.com","lead_id":"00Q5e00000ABC"}`,
		`17`,
	), req)

	wantReasons := map[int]string{
		1: "id must be a UUID", 3: "type must be one of", 4: `"ts" must be a number`, 5: "absolute http(s) URL",
		6: "url is required", 8: "props must be a JSON object", 9: "title is 2049 bytes", 11: "not a JSON object",
	}
	if len(rejected) != len(wantReasons) {
		t.Fatalf("rejected %+v, want indexes %v", rejected, wantReasons)
	}
	for _, r := range rejected {
		if want, ok := wantReasons[r.Index]; !ok || !strings.Contains(r.Reason, want) {
			t.Errorf("rejection %d: %q, want it to contain %q", r.Index, r.Reason, want)
		}
	}
	if len(events) != 4 {
		t.Fatalf("accepted %d events, want 4", len(events))
	}
	pv := events[0]
	if pv.UTMSource != "google" || pv.GCLID != "G1" || pv.ReferrerHost != "www.google.com" || pv.Title != "Home" || pv.Hostname != "example.com" {
		t.Errorf("page view not enriched: %+v", pv)
	}
	// sent 10 s after the event; received 500 ms after sending (by the
	// server's clock): the event happened 10 s before receipt.
	if want := received.Add(-10 * time.Second); !pv.Time.Equal(want) {
		t.Errorf("event time %v, want %v", pv.Time, want)
	}
	if pv.Browser != "Safari" || pv.OS != "MacOS" || pv.IsBot {
		t.Errorf("browser %q os %q bot %v", pv.Browser, pv.OS, pv.IsBot)
	}
	// sha256("a@b.example"): trimmed and lower-cased before hashing.
	if form := events[1]; form.EmailHash != sha("a@b.example") || form.Form != "contact" {
		t.Errorf("form event: %+v", form)
	}
	if c := events[2]; c.Name != "pricing_toggle" || c.Props != `{"plan":"pro"}` {
		t.Errorf("custom event: %+v", c)
	}
	if id := events[3]; !strings.Contains(id.Props, `"lead_id":"00Q5e00000ABC"`) || id.EmailHash == "" {
		t.Errorf("identify event: %+v", id)
	}
	accepted, counts := p.Stats()
	if accepted != 4 || counts["bad_id"] != 1 || counts["bad_url"] != 2 || counts["too_long"] != 1 {
		t.Errorf("stats: accepted %d, rejected %v", accepted, counts)
	}
}

func TestEmailHashIsNormalised(t *testing.T) {
	p := NewPipeline(Options{})
	req := Request{ReceivedAt: time.Now(), UserAgent: "Mozilla/5.0"}
	hash := func(email string) string {
		evs, rej := p.Process(body(`{"id":"5f0c3b8e-2d7a-4c1e-9b1a-0f6f2f9a1c01","type":"identify","ts":`+
			jsonNum(time.Now().UnixMilli())+`,"email":`+jsonStr(email)+`}`), req)
		if len(rej) > 0 {
			t.Fatalf("%q rejected: %v", email, rej)
		}
		return evs[0].EmailHash
	}
	if a, b := hash("A@B.example "), hash("a@b.example"); a != b || len(a) != 64 {
		t.Fatalf("hashes differ or malformed: %q %q", a, b)
	}
	if _, rej := p.Process(body(`{"id":"5f0c3b8e-2d7a-4c1e-9b1a-0f6f2f9a1c01","type":"identify","ts":1,"email":"nope"}`), req); len(rej) != 1 {
		t.Fatalf("an email without @ was accepted")
	}
}

func TestHashEmail(t *testing.T) {
	for in, want := range map[string]string{
		" A@B.example\t": sha("a@b.example"),
		"a@b.example":    sha("a@b.example"),
		"":               "",
		"   ":            "",
	} {
		if got, ok := HashEmail(in); got != want || !ok {
			t.Errorf("HashEmail(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	if got, ok := HashEmail("nope"); ok || got != "" {
		t.Errorf("HashEmail(nope) = %q %v, want not ok", got, ok)
	}
}

func TestBatchLevelProblemsRejectEveryEvent(t *testing.T) {
	p := NewPipeline(Options{})
	ev := `{"id":"5f0c3b8e-2d7a-4c1e-9b1a-0f6f2f9a1c01","type":"page_view","ts":1764769990000,"url":"https://example.com/"}`
	for name, mutate := range map[string]func(*Body){
		"uid upper case":  func(b *Body) { b.UID = strings.ToUpper(testUID) },
		"uid short":       func(b *Body) { b.UID = "abc" },
		"no site":         func(b *Body) { b.Site = "" },
		"site with space": func(b *Body) { b.Site = "my site" },
		"sid symbols":     func(b *Body) { b.SID = "a;b" },
	} {
		b := body(ev, ev)
		mutate(&b)
		events, rejected := p.Process(b, Request{ReceivedAt: time.UnixMilli(1764770000000)})
		if len(events) != 0 || len(rejected) != 2 {
			t.Errorf("%s: %d accepted, %v rejected", name, len(events), rejected)
		}
	}
}

func TestBots(t *testing.T) {
	p := NewPipeline(Options{})
	for ua, bot := range map[string]bool{
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)": true,
		"curl/8.5.0":           true,
		"":                     true,
		"python-requests/2.31": true,
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36":                           true,
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1": false,
	} {
		evs, _ := p.Process(body(`{"id":"5f0c3b8e-2d7a-4c1e-9b1a-0f6f2f9a1c01","type":"page_view","ts":1764769990000,"url":"https://example.com/"}`),
			Request{ReceivedAt: time.UnixMilli(1764770000000), UserAgent: ua})
		if len(evs) != 1 || evs[0].IsBot != bot {
			t.Errorf("%q: bot=%v, want %v", ua, evs[0].IsBot, bot)
		}
	}
}

func TestAppendTSV(t *testing.T) {
	e := Event{Site: "s", UID: testUID, Type: "page_view", Title: "a\tb\nc\\d", Time: time.UnixMilli(1764769990007).UTC(), ReceivedAt: time.UnixMilli(1764769990000).UTC(), IsBot: true}
	line := string(e.AppendTSV(nil))
	fields := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
	if len(fields) != len(Columns) {
		t.Fatalf("%d fields, %d columns: %q", len(fields), len(Columns), line)
	}
	col := func(name string) string {
		for i, c := range Columns {
			if c == name {
				return fields[i]
			}
		}
		t.Fatalf("no column %s", name)
		return ""
	}
	if col("title") != `a\tb\nc\\d` || col("event_time") != "1764769990.007" || col("is_bot") != "1" {
		t.Fatalf("title %q time %q bot %q", col("title"), col("event_time"), col("is_bot"))
	}
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func jsonStr(s string) string { b, _ := json.Marshal(s); return string(b) }
func jsonNum(n int64) string  { b, _ := json.Marshal(n); return string(b) }

func TestEmailsInClearTextOnlyWhenOptedIn(t *testing.T) {
	ev := `{"id":"5f0c3b8e-2d7a-4c1e-9b1a-0f6f2f9a1c01","type":"form_submit","ts":1764769990000,"url":"https://example.com/contact","email":" Ann@Example.com "}`
	req := Request{ReceivedAt: time.UnixMilli(1764770000000), UserAgent: "Mozilla/5.0"}
	for _, tc := range []struct {
		opts Options
		want string
	}{{Options{}, ""}, {Options{StoreEmails: true}, "ann@example.com"}} {
		events, rejected := NewPipeline(tc.opts).Process(body(ev), req)
		if len(rejected) > 0 || len(events) != 1 {
			t.Fatalf("%+v: %v", tc.opts, rejected)
		}
		if events[0].Email != tc.want || events[0].EmailHash != sha("ann@example.com") {
			t.Errorf("%+v: email %q hash %q", tc.opts, events[0].Email, events[0].EmailHash)
		}
	}
}
