package server_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/calltrail/calltrail/gateway/server/servertest"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

const (
	uid     = "0123456789abcdef0123456789abcdef"
	browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
)

func post(t *testing.T, url, contentType, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", browser)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func eventsBody(events ...string) string {
	now := time.Now().UnixMilli()
	return fmt.Sprintf(`{"site":"demo","uid":"%s","sid":"s1","sent_at":%d,"events":[%s]}`, uid, now, strings.Join(events, ","))
}

func pageView(id, url string) string {
	return fmt.Sprintf(`{"id":"%s","type":"page_view","ts":%d,"url":"%s","ref":"https://www.google.com/"}`, id, time.Now().UnixMilli()-1000, url)
}

func TestPostEvents(t *testing.T) {
	g := servertest.Start(t)
	id := uuid.NewString()
	resp, body := post(t, g.URL+"/v1/events", "text/plain;charset=UTF-8", eventsBody(pageView(id, "https://www.example.com/?utm_source=google&utm_medium=cpc&gclid=abc")))
	if resp.StatusCode != http.StatusAccepted || body != `{"accepted":1,"rejected":[]}` {
		t.Fatalf("202 expected: %d %s", resp.StatusCode, body)
	}
	cookie := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"_biz_uid=" + uid, "max-age=31536000", "path=/", "SameSite=Lax"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("Set-Cookie %q lacks %q", cookie, want)
		}
	}
	if strings.Contains(strings.ToLower(cookie), "httponly") {
		t.Errorf("Set-Cookie %q is HttpOnly: call-tracking scripts could not read it", cookie)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("no CORS header")
	}
	got := g.Query(t, "SELECT type, url, utm_source, utm_medium, gclid, referrer_host, browser, is_bot, source FROM events WHERE event_id = '"+id+"'")
	if want := "page_view\thttps://www.example.com/?utm_source=google&utm_medium=cpc&gclid=abc\tgoogle\tcpc\tabc\twww.google.com\tChrome\t0\tjs\n"; got != want {
		t.Fatalf("stored %q, want %q", got, want)
	}
}

func TestPostEventsKeepsValidOnesAndSaysWhy(t *testing.T) {
	g := servertest.Start(t)
	good := uuid.NewString()
	resp, body := post(t, g.URL+"/v1/events", "application/json", eventsBody(
		pageView(good, "https://example.com/"),
		`{"id":"nope","type":"page_view","ts":1,"url":"https://example.com/"}`,
		pageView(uuid.NewString(), "not a url"),
	))
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `"accepted":1`) || !strings.Contains(body, `{"index":1,"reason":"id must be a UUID`) || !strings.Contains(body, `{"index":2,"reason":"url must be an absolute http(s) URL`) {
		t.Fatalf("body %s", body)
	}
	if got := g.Query(t, "SELECT count() FROM events"); got != "1\n" {
		t.Fatalf("%s events stored, want the 1 valid one", got)
	}
}

func TestPostEventsBadBodies(t *testing.T) {
	g := servertest.Start(t)
	for _, tc := range []struct {
		name, body string
		status     int
		reason     string
	}{
		{"not json", "hello", 400, "not valid JSON"},
		{"empty", "", 400, "empty body"},
		{"wrong type", `{"site":"demo","uid":"` + uid + `","sid":"s","sent_at":"x","events":[{}]}`, 400, `sent_at`},
		{"bad uid", `{"site":"demo","uid":"ABC","sid":"s","sent_at":1,"events":[` + pageView(uuid.NewString(), "https://e.com/") + `]}`, 400, "uid must be 32 lowercase hex"},
		{"over 64 KiB", eventsBody(pageView(uuid.NewString(), "https://e.com/?q="+strings.Repeat("x", 66000))), 413, "64 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := post(t, g.URL+"/v1/events", "text/plain", tc.body)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.reason) {
				t.Fatalf("got %d %s, want %d with %q", resp.StatusCode, body, tc.status, tc.reason)
			}
		})
	}
	if got := g.Query(t, "SELECT count() FROM events_raw"); got != "0\n" {
		t.Fatalf("bad bodies stored %s rows", got)
	}
}

func TestPreflight(t *testing.T) {
	g := servertest.Start(t)
	req, _ := http.NewRequest(http.MethodOptions, g.URL+"/v1/events", nil)
	req.Header.Set("Origin", "https://www.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Methods") != "POST" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestPixel(t *testing.T) {
	g := servertest.Start(t)
	get := func(cookie string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, g.URL+"/v1/p.gif?site=demo&url=https%3A%2F%2Fwww.example.com%2F%3Futm_source%3Dnewsletter&ref=", nil)
		req.Header.Set("User-Agent", browser)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	first := get("")
	if first.StatusCode != 200 || first.Header.Get("Content-Type") != "image/gif" {
		t.Fatalf("pixel: %d %s", first.StatusCode, first.Header.Get("Content-Type"))
	}
	var cookies []string
	for _, c := range first.Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	if len(cookies) != 2 {
		t.Fatalf("pixel set cookies %v, want _biz_uid and _biz_sid", cookies)
	}
	// The same browser again: same visitor, same session.
	get(strings.Join(cookies, "; "))
	got := g.Query(t, "SELECT count(), uniqExact(uid), uniqExact(session_id), any(utm_source), any(source) FROM events")
	if got != "2\t1\t1\tnewsletter\tpixel\n" {
		t.Fatalf("pixel events: %q", got)
	}
	// A session cookie the gateway did not make starts a new session.
	bad := get("_biz_sid=not.a/sid!; " + cookies[0])
	if bad.StatusCode != 200 {
		t.Fatalf("pixel with an invalid _biz_sid: %d, want the hit taken", bad.StatusCode)
	}
	var newSID string
	for _, c := range bad.Cookies() {
		if c.Name == "_biz_sid" {
			newSID = c.Value
		}
	}
	if newSID == "" || newSID == "not.a/sid!" {
		t.Fatalf("pixel kept the invalid _biz_sid: Set-Cookie %v", bad.Header["Set-Cookie"])
	}
	if got := g.Query(t, "SELECT count(), uniqExact(session_id) FROM events"); got != "3\t2\n" {
		t.Fatalf("pixel events after the invalid cookie: %q, want 3 in 2 sessions", got)
	}
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/v1/p.gif?url=https%3A%2F%2Fwww.example.com%2F", nil)
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("pixel without site: %d", resp.StatusCode)
	}
}

func TestPixelWithTheScriptsIDs(t *testing.T) {
	// The site script's fallback: its own visitor, session, event id and
	// times in the query. The ids win over any cookie, a resend is stored
	// once, and the gateway leaves the script's session cookie alone.
	g := servertest.Start(t)
	const uid, sid = "0123456789abcdef0123456789abcdef", "3f9a0c41d2e7-1467730851"
	id := uuid.NewString()
	ts := time.Now().Add(-time.Hour).UnixMilli()
	get := func(query string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, g.URL+"/v1/p.gif?site=demo&url=https%3A%2F%2Fwww.example.com%2Fa&title=A"+query, nil)
		req.Header.Set("User-Agent", browser)
		req.Header.Set("Cookie", "_biz_uid=fedcba9876543210fedcba9876543210; _biz_sid=other")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	// sent_at 10 s after ts on the client's clock, which is an hour slow:
	// the event happened 10 s before the gateway received it.
	q := fmt.Sprintf("&uid=%s&sid=%s&id=%s&ts=%d&sent_at=%d", uid, sid, id, ts, ts+10_000)
	for range 2 {
		resp := get(q)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/gif" {
			t.Fatalf("pixel: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		for _, c := range resp.Cookies() {
			if c.Name == "_biz_sid" {
				t.Errorf("the pixel set _biz_sid=%s over the script's session", c.Value)
			}
			if c.Name == "_biz_uid" && c.Value != uid {
				t.Errorf("the pixel set _biz_uid=%s, want %s", c.Value, uid)
			}
		}
	}
	got := g.Query(t, "SELECT count(), any(uid), any(session_id), toString(any(event_id)), any(title), "+
		"dateDiff('second', any(event_time), any(received_at)) BETWEEN 9 AND 12 FROM events")
	if want := fmt.Sprintf("1\t%s\t%s\t%s\tA\t1\n", uid, sid, id); got != want {
		t.Fatalf("pixel events: %q, want %q", got, want)
	}
	// Malformed ids are refused, not replaced.
	for _, bad := range []string{"&uid=XYZ", "&sid=a%20b", "&id=42", "&ts=yesterday"} {
		if resp := get(bad); resp.StatusCode != 400 {
			t.Errorf("pixel with %s: %d, want 400", bad, resp.StatusCode)
		}
	}
}

func TestSQLAPI(t *testing.T) {
	g := servertest.Start(t)
	post(t, g.URL+"/v1/events", "text/plain", eventsBody(pageView(uuid.NewString(), "https://example.com/")))
	auth := []string{"Authorization", "Bearer " + servertest.Token}

	resp, body := post(t, g.URL+"/v1/sql?format=CSV", "text/plain", "SELECT count() FROM events", auth...)
	if resp.StatusCode != 200 || body != "1\n" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %q %s", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
	resp, body = post(t, g.URL+"/v1/sql", "text/plain", "SELECT type FROM events", auth...)
	if resp.StatusCode != 200 || !strings.Contains(body, `"data"`) || !strings.Contains(body, `"page_view"`) {
		t.Fatalf("JSON: %d %s", resp.StatusCode, body)
	}
	resp, body = post(t, g.URL+"/v1/sql?format=JSONEachRow", "text/plain", "SELECT type FROM events", auth...)
	if resp.StatusCode != 200 || body != "{\"type\":\"page_view\"}\n" {
		t.Fatalf("JSONEachRow: %d %s", resp.StatusCode, body)
	}
	for _, q := range []string{"DROP TABLE events_raw", "INSERT INTO events_raw (site) VALUES ('x')",
		"SYSTEM STOP MERGES", "KILL QUERY WHERE 1 SYNC", "CREATE TABLE x (a UInt8) ENGINE = Memory",
		"ALTER TABLE events_raw DELETE WHERE 1", "SET readonly = 0", "OPTIMIZE TABLE events_raw"} {
		if resp, body = post(t, g.URL+"/v1/sql", "text/plain", q, auth...); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "only reads are allowed here") {
			t.Errorf("%q: %d %s, want 403", q, resp.StatusCode, body)
		}
	}
	for _, q := range []string{"SHOW TABLES", "DESCRIBE events", "EXPLAIN SELECT 1", "WITH 1 AS n SELECT n"} {
		if resp, body = post(t, g.URL+"/v1/sql", "text/plain", q, auth...); resp.StatusCode != 200 {
			t.Errorf("%q: %d %s, want 200", q, resp.StatusCode, body)
		}
	}
	// Two statements are not one: refused before either runs.
	if resp, body = post(t, g.URL+"/v1/sql", "text/plain", "SELECT 1; TRUNCATE TABLE events_raw", auth...); resp.StatusCode != 400 || !strings.Contains(body, "Multi-statements are not allowed") {
		t.Errorf("two statements: %d %s, want 400", resp.StatusCode, body)
	}
	if resp, body = post(t, g.URL+"/v1/sql", "text/plain", "SELEC 1", auth...); resp.StatusCode != 400 || !strings.Contains(body, "Syntax error") {
		t.Errorf("syntax error: %d %s", resp.StatusCode, body)
	}
	if resp, _ = post(t, g.URL+"/v1/sql?format=Native", "text/plain", "SELECT 1", auth...); resp.StatusCode != 400 {
		t.Errorf("unknown format: %d", resp.StatusCode)
	}
	for _, h := range [][]string{nil, {"Authorization", "Bearer wrong"}, {"Authorization", servertest.Token}} {
		if resp, body = post(t, g.URL+"/v1/sql", "text/plain", "SELECT 1", h...); resp.StatusCode != 401 || !strings.Contains(body, "bearer token") {
			t.Errorf("auth %v: %d %s", h, resp.StatusCode, body)
		}
	}
	if got := g.Query(t, "SELECT count() FROM events"); got != "1\n" {
		t.Fatalf("events after refused writes: %s", got)
	}
}

func TestHealthz(t *testing.T) {
	g := servertest.Start(t)
	resp, err := http.Get(g.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"status":"ok"`) {
		t.Fatalf("healthz %d %s", resp.StatusCode, b)
	}
}

func TestScript(t *testing.T) {
	g := servertest.Start(t)
	_, statErr := os.Stat("../assets/dist/calltrail.js")
	resp, err := http.Get(g.URL + "/calltrail.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if statErr != nil {
		if resp.StatusCode != 404 {
			t.Fatalf("no bundle, yet /calltrail.js answered %d", resp.StatusCode)
		}
		t.Fatalf("gateway/assets/dist/calltrail.js is not built: run `make bundle` before the tests")
	}
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || etag == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age") {
		t.Fatalf("script: %d etag %q", resp.StatusCode, etag)
	}
	// Revalidation: 304 with the same ETag.
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/calltrail.js", nil)
	req.Header.Set("If-None-Match", etag)
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", resp.StatusCode)
	}
	// gzip on request, and it decompresses to the file.
	raw, _ := os.ReadFile("../assets/dist/calltrail.js")
	req, _ = http.NewRequest(http.MethodGet, g.URL+"/calltrail.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, _ = (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	zb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	zr, err := gzip.NewReader(bytes.NewReader(zb))
	if err != nil || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip: %v %s", err, resp.Header.Get("Content-Encoding"))
	}
	unz, _ := io.ReadAll(zr)
	if !bytes.Equal(unz, raw) {
		t.Fatalf("gzip body differs from the file")
	}
	req.Header.Set("Accept-Encoding", "br, gzip")
	resp, _ = (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "br" {
		t.Fatalf("br not preferred: %s", resp.Header.Get("Content-Encoding"))
	}
}

// The script is sent in the coding the client accepts most, by q-value;
// q=0 refuses a coding.
func TestScriptEncodingByQValue(t *testing.T) {
	g := servertest.Start(t)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	for _, tc := range []struct{ accept, want string }{
		{"", ""},
		{"gzip", "gzip"},
		{"br", "br"},
		{"gzip, deflate, br", "br"},
		{"br;q=0, gzip", "gzip"},
		{"br;q=0", ""},
		{"gzip;q=1.0, br;q=0.5", "gzip"},
		{"BR;Q=0.8, gzip;q=0.8", "br"},
		{"*", "br"},
		{"*;q=0", ""},
		{"gzip;q=0, *", "br"},
		{"br;q=0, *;q=0.5", "gzip"},
		{"br;q=abc, gzip", "gzip"},
		{"identity, deflate", ""},
		{"brotli, x-br, gzipped", ""},
	} {
		req, _ := http.NewRequest(http.MethodGet, g.URL+"/calltrail.js", nil)
		req.Header.Set("Accept-Encoding", tc.accept)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Content-Encoding"); resp.StatusCode != 200 || got != tc.want {
			t.Errorf("Accept-Encoding %q: %d %q, want %q", tc.accept, resp.StatusCode, got, tc.want)
		}
	}
}

func TestDemoSite(t *testing.T) {
	g := servertest.Start(t)
	for _, path := range []string{"/demo/", "/demo", "/demo/index.html"} {
		resp, err := http.Get(g.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `src="/calltrail.js"`) {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
	}
}

func TestPutChannels(t *testing.T) {
	g := servertest.Start(t)
	auth := []string{"Authorization", "Bearer " + servertest.Token}
	post(t, g.URL+"/v1/events", "text/plain", eventsBody(pageView(uuid.NewString(), "https://example.com/?utm_source=podcast-fm&utm_medium=audio")))
	if got := g.Query(t, "SELECT marketing_channel_path FROM sessions"); got != "Other\n" {
		t.Fatalf("before: %q", got)
	}
	put := func(sheet string) (int, string) {
		code, b := g.Request(t, http.MethodPut, "/v1/channels", map[string]string{auth[0]: auth[1]}, sheet)
		return code, string(b)
	}
	if code, body := put("Channel,Subchannel,Medium\nAudio,Podcasts,audio;podcast\nOther,,\nDirect,,,,\n"); code != 400 || !strings.Contains(body, `"line":4`) {
		t.Fatalf("bad sheet: %d %s", code, body)
	}
	if code, body := put("Channel,Subchannel,Medium\nAudio,Podcasts,audio;podcast\nOther,,\n"); code != 200 || body != `{"changed":true,"rules":2}` {
		t.Fatalf("good sheet: %d %s", code, body)
	}
	if got := g.Query(t, "SELECT marketing_channel_path FROM sessions"); got != "Audio.Podcasts\n" {
		t.Fatalf("after: %q", got)
	}
}

func TestReportsList(t *testing.T) {
	g := servertest.Start(t)
	code, body := g.Request(t, http.MethodGet, "/v1/reports", servertest.Bearer, "")
	if code != http.StatusOK {
		t.Fatalf("GET /v1/reports: %d %s", code, body)
	}
	var list []struct {
		Name   string `json:"name"`
		Title  string `json:"title"`
		Params []struct {
			Name    string   `json:"name"`
			Allowed []string `json:"allowed"`
		} `json:"params"`
	}
	if err := json.Unmarshal(body, &list); err != nil || len(list) == 0 {
		t.Fatalf("not a list of reports (%v): %s", err, body)
	}
	if !strings.Contains(string(body), `"params":[]`) {
		t.Errorf("a report without parameters should say params: [], got %s", body)
	}
	for _, r := range list {
		if r.Name == "" || r.Title == "" {
			t.Errorf("report without a name or title: %+v", r)
		}
		if r.Name == "journey" {
			continue // needs a person; covered in gateway/reports
		}
		// Every listed report runs on an empty store.
		if code, ans := g.JSON(t, http.MethodGet, "/v1/reports/"+r.Name, servertest.Bearer, ""); code != http.StatusOK || ans["report"] != r.Name {
			t.Errorf("GET /v1/reports/%s: %d %v", r.Name, code, ans)
		}
		if r.Name == "calls_by_channel" && (len(r.Params) != 1 || r.Params[0].Name != "grain" || len(r.Params[0].Allowed) != 2) {
			t.Errorf("calls_by_channel parameters: %+v", r.Params)
		}
	}
}
