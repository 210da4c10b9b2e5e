package server_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/calltrail/calltrail/gateway/server/servertest"
)

// batch is a POST /v1/events body with the given events.
func batch(events ...map[string]any) string {
	b, _ := json.Marshal(map[string]any{"site": "shop.example", "uid": uid, "sid": "s1",
		"sent_at": time.Now().UnixMilli(), "events": events})
	return string(b)
}

func queuedPageView(id string) map[string]any {
	return map[string]any{"id": id, "type": "page_view", "ts": time.Now().UnixMilli(),
		"url": "https://shop.example/landing?utm_source=news&utm_medium=email", "title": "Landing"}
}

type answer struct {
	Accepted int `json:"accepted"`
	Rejected []struct {
		Index  int    `json:"index"`
		Reason string `json:"reason"`
	} `json:"rejected"`
	Error string `json:"error"`
}

func postEvents(t *testing.T, g *servertest.Gateway, b string) (int, answer, http.Header) {
	t.Helper()
	resp, err := http.Post(g.URL+"/v1/events", "text/plain", strings.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var a answer
	_ = json.Unmarshal(raw, &a)
	return resp.StatusCode, a, resp.Header
}

func healthz(t *testing.T, g *servertest.Gateway) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(g.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, m
}

func TestEventsGoThroughTheQueueIntoClickHouse(t *testing.T) {
	g := servertest.Start(t)
	ids := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	code, a, _ := postEvents(t, g, batch(queuedPageView(ids[0]), queuedPageView(ids[1]), queuedPageView(ids[2])))
	if code != http.StatusAccepted || a.Accepted != 3 {
		t.Fatalf("POST = %d %+v", code, a)
	}
	g.WaitStored(t)
	got := g.Query(t, "SELECT count(), uniqExact(event_id), any(utm_source) FROM events_raw")
	if got != "3\t3\tnews\n" {
		t.Fatalf("events_raw: %q", got)
	}
	code, h := healthz(t, g)
	q, _ := h["queue"].(map[string]any)
	if code != 200 || h["status"] != "ok" || q == nil || q["stored_events"] != 3.0 || q["backlog_events"] != 0.0 {
		t.Fatalf("healthz %d %v", code, h)
	}
}

// Each route has its body limit, decided from the header before the body is
// read: a larger body is refused unread, and still answered 413 with the
// limit in the route's answer shape (the client reads it; no reset).
func TestBodyLimitsByRoute(t *testing.T) {
	g := servertest.Start(t)
	for _, tc := range []struct {
		name, path, token string
		size, status      int
		reason            string
	}{
		{"events over 64 KiB", "/v1/events", "", 70 << 10, 413, "body over 64 KiB: send fewer events per request"},
		{"events, 10 MiB", "/v1/events", "", 10 << 20, 413, "body over 64 KiB"},
		{"events, as Fiber routes it", "/V1/Events/?x=1", "", 70 << 10, 413, "body over 64 KiB"},
		{"call webhook over 256 KiB", "/v1/calls/callrail", "", 300 << 10, 413, "body over 256 KiB"},
		{"call webhook within", "/v1/calls/callrail", "", 200 << 10, 401, "no secret"},
		{"tasks without the token", "/v1/tasks", "", 100 << 10, 413, "body over 64 KiB: without the valid API token"},
		{"tasks with a wrong token", "/v1/tasks", "Bearer wrong", 100 << 10, 413, "8 MiB with it"},
		{"tasks with the token", "/v1/tasks", "Bearer " + servertest.Token, 1 << 20, 400, "must be a JSON object or an array"},
		{"sql over 8 MiB", "/v1/sql", "Bearer " + servertest.Token, 9 << 20, 413, "body over 8 MiB"},
		{"any other route", "/healthz", "", 100 << 10, 413, "body over 64 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 3 { // a reset instead of the answer came and went
				req, _ := http.NewRequest(http.MethodPost, g.URL+tc.path, bytes.NewReader(bytes.Repeat([]byte("x"), tc.size)))
				req.Header.Set("Content-Type", "text/plain")
				if tc.token != "" {
					req.Header.Set("Authorization", tc.token)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("no answer: %v", err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.reason) {
					t.Fatalf("%d %s, want %d with %q", resp.StatusCode, b, tc.status, tc.reason)
				}
				events := strings.HasPrefix(strings.ToLower(tc.path), "/v1/events")
				if events && (!strings.Contains(string(b), `"accepted":0,"rejected":[]`) || resp.Header.Get("Access-Control-Allow-Origin") != "*") {
					t.Fatalf("events 413 without its answer shape or CORS: %s %v", b, resp.Header)
				}
			}
		})
	}
}

// A compressed body is decoded within the same 64 KiB: a small gzip bomb is
// a 413 without being expanded, a small gzip body is taken like a plain one.
func TestCompressedBodies(t *testing.T) {
	g := servertest.Start(t)
	send := func(encoding string, body []byte) (int, answer) {
		code, b := g.Request(t, http.MethodPost, "/v1/events",
			map[string]string{"Content-Type": "text/plain", "Content-Encoding": encoding}, string(body))
		var a answer
		_ = json.Unmarshal(b, &a)
		return code, a
	}

	bomb := gzipped(make([]byte, 50<<20)) // 50 MiB of zeros in ~50 KB
	if len(bomb) > 64<<10 {
		t.Fatalf("the bomb is %d bytes on the wire, meant to fit 64 KiB", len(bomb))
	}
	start := time.Now()
	if code, a := send("gzip", bomb); code != http.StatusRequestEntityTooLarge || !strings.Contains(a.Error, "64 KiB once decompressed") {
		t.Fatalf("gzip bomb: %d %+v", code, a)
	}
	t.Logf("gzip bomb refused in %v", time.Since(start))

	id := uuid.NewString()
	if code, a := send("gzip", gzipped([]byte(batch(queuedPageView(id))))); code != http.StatusAccepted || a.Accepted != 1 {
		t.Fatalf("gzip body: %d %+v", code, a)
	}
	if code, a := send("gzip", []byte("not gzip")); code != http.StatusBadRequest || !strings.Contains(a.Error, "cannot be decoded") {
		t.Fatalf("corrupt gzip: %d %+v", code, a)
	}
	if code, a := send("br", []byte(batch(queuedPageView(uuid.NewString())))); code != http.StatusUnsupportedMediaType || !strings.Contains(a.Error, "gzip or deflate") {
		t.Fatalf("br: %d %+v", code, a)
	}
	g.WaitStored(t)
	if got := g.Query(t, "SELECT toString(event_id) FROM events_raw"); got != id+"\n" {
		t.Fatalf("events_raw: %q, want only the gzip body's event", got)
	}
}

// Every Content-Encoding header counts, and every coding listed in one: a
// body marked "identity" then "gzip" is gzip, decoded within the route's
// limit, never expanded without one by a handler.
func TestEveryContentEncodingHeaderCounts(t *testing.T) {
	g := servertest.Start(t)
	send := func(path string, encodings []string, body []byte) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, g.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for _, e := range encodings {
			req.Header.Add("Content-Encoding", e)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	id := uuid.NewString()
	if code, body := send("/v1/events", []string{"identity", "gzip"}, gzipped([]byte(batch(queuedPageView(id))))); code != http.StatusAccepted {
		t.Fatalf("identity then gzip: %d %s, want the gzip body decoded and accepted", code, body)
	}
	if code, body := send("/v1/events", []string{"identity, gzip"}, gzipped([]byte(batch(queuedPageView(uuid.NewString()))))); code != http.StatusAccepted {
		t.Fatalf("\"identity, gzip\": %d %s", code, body)
	}
	// A public webhook: 20 MiB of zeros in 20 KB of gzip is a 413, not
	// expanded in full on the way to the signature check.
	if code, body := send("/v1/calls/callrail", []string{"identity", "gzip"}, gzipped(make([]byte, 20<<20))); code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "once decompressed") {
		t.Fatalf("gzip bomb behind identity: %d %s, want 413", code, body)
	}
	for _, encodings := range [][]string{{"gzip", "gzip"}, {"gzip, deflate"}, {"identity", "deflate", "gzip"}} {
		code, body := send("/v1/events", encodings, gzipped([]byte(batch(queuedPageView(uuid.NewString())))))
		if code != http.StatusUnsupportedMediaType || !strings.Contains(body, "one coding") || !strings.Contains(body, `"accepted":0`) {
			t.Errorf("Content-Encoding %q: %d %s, want 415 naming the rule", encodings, code, body)
		}
	}
	g.WaitStored(t)
	if got := g.Query(t, "SELECT count() FROM events_raw"); got != "2\n" {
		t.Fatalf("events_raw holds %s rows, want the 2 accepted", got)
	}
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestBadEventsAre400WithReasonsAndGoodOnesStored(t *testing.T) {
	g := servertest.Start(t)
	good1, good2 := uuid.NewString(), uuid.NewString()
	long := queuedPageView(uuid.NewString())
	long["url"] = "https://shop.example/" + strings.Repeat("a", 5000)
	custom := map[string]any{"id": uuid.NewString(), "type": "custom", "ts": time.Now().UnixMilli()}
	props := map[string]any{"id": uuid.NewString(), "type": "custom", "name": "x", "ts": time.Now().UnixMilli(), "props": []int{1}}
	code, a, _ := postEvents(t, g, batch(
		queuedPageView(good1),
		map[string]any{"id": "not-a-uuid", "type": "page_view", "ts": 1, "url": "https://a.example/"},
		map[string]any{"id": uuid.NewString(), "type": "teleport", "ts": time.Now().UnixMilli()},
		long,
		queuedPageView(good2),
		custom,
		props,
		map[string]any{"id": uuid.NewString(), "type": "page_view", "ts": time.Now().UnixMilli(), "url": "javascript:alert(1)"},
	))
	if code != http.StatusBadRequest || a.Accepted != 2 || len(a.Rejected) != 6 {
		t.Fatalf("POST = %d %+v", code, a)
	}
	want := map[int]string{1: "id must be a UUID", 2: "type must be one of", 3: "url is 5021 bytes, at most 4096",
		5: "custom event needs a name", 6: "props must be a JSON object", 7: "absolute http(s) URL"}
	for _, r := range a.Rejected {
		if !strings.Contains(r.Reason, want[r.Index]) || want[r.Index] == "" {
			t.Errorf("event %d rejected with %q, want %q", r.Index, r.Reason, want[r.Index])
		}
	}
	g.WaitStored(t)
	got := g.Query(t, "SELECT arraySort(groupArray(toString(event_id))) FROM events_raw")
	if !strings.Contains(got, good1) || !strings.Contains(got, good2) || strings.Count(got, "-") != 8 {
		t.Fatalf("stored %s, want exactly %s and %s", got, good1, good2)
	}

	// A body that is not an events document at all: 400, never 5xx.
	for _, b := range []string{"", "[]", "{", `{"events": "x"}`, `{"site":"a","uid":"` + uid + `","sid":"s","events":[]}`, "\x00\xff"} {
		if code, a, _ := postEvents(t, g, b); code != http.StatusBadRequest || (a.Error == "" && len(a.Rejected) == 0) {
			t.Errorf("POST %q = %d %+v, want 400 with a reason", b, code, a)
		}
	}
}

func TestRateLimitIs429(t *testing.T) {
	g := servertest.StartWithOptions(t, servertest.Options{RateLimit: 3, Async: true})
	// 12 requests at once: one (at most two) one-second windows of 3.
	var mu sync.Mutex
	var limited, accepted int
	var retryAfter string
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, h := postEvents(t, g, batch(queuedPageView(uuid.NewString())))
			mu.Lock()
			defer mu.Unlock()
			switch code {
			case http.StatusTooManyRequests:
				limited++
				retryAfter = h.Get("Retry-After")
			case http.StatusAccepted:
				accepted++
			default:
				t.Errorf("POST %d = %d", i, code)
			}
		}()
	}
	wg.Wait()
	if limited < 6 || accepted > 6 || accepted < 3 || retryAfter == "" {
		t.Fatalf("%d accepted, %d limited (Retry-After %q)", accepted, limited, retryAfter)
	}
	// The pixel is an ingestion endpoint too: limited within a few requests
	// (a window may have just begun).
	pixelLimited := false
	for i := 0; i < 8 && !pixelLimited; i++ {
		resp, err := http.Get(g.URL + "/v1/p.gif?site=shop.example&url=https://shop.example/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		pixelLimited = resp.StatusCode == http.StatusTooManyRequests
	}
	if !pixelLimited {
		t.Error("8 pixel requests at once were never limited")
	}
	// /healthz is not limited.
	if code, _ := healthz(t, g); code != 200 {
		t.Errorf("healthz = %d", code)
	}
}

// While ClickHouse is down the gateway keeps accepting into the queue; when
// the queue is full it answers 503 with Retry-After; when ClickHouse is
// back every accepted event is stored, once.
func TestStoreOutageQueuesThenCatchesUpAndQueueFullIs503(t *testing.T) {
	g := servertest.StartWithOptions(t, servertest.Options{QueueBytes: 512 << 10, Async: true})
	g.Faulty.SetDown(true)

	var mu sync.Mutex
	var accepted []string
	var full int
	var retryAfter string
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				ids := make([]map[string]any, 10)
				for j := range ids {
					ids[j] = queuedPageView(uuid.NewString())
				}
				code, a, h := postEvents(t, g, batch(ids...))
				mu.Lock()
				switch code {
				case http.StatusAccepted:
					for _, e := range ids {
						accepted = append(accepted, e["id"].(string))
					}
				case http.StatusServiceUnavailable:
					full++
					retryAfter = h.Get("Retry-After")
					if !strings.Contains(a.Error, "full") {
						t.Errorf("503 says %q", a.Error)
					}
				default:
					t.Errorf("POST = %d %+v", code, a)
				}
				stop := full > 20
				mu.Unlock()
				if stop {
					return
				}
			}
		}()
	}
	wg.Wait()
	if full == 0 || retryAfter == "" || len(accepted) == 0 {
		t.Fatalf("%d accepted, %d refused as full (Retry-After %q)", len(accepted), full, retryAfter)
	}
	code, h := healthz(t, g)
	q, _ := h["queue"].(map[string]any)
	if code != http.StatusServiceUnavailable || !strings.Contains(fmt.Sprint(h["reason"]), "full") ||
		q["backlog_events"] != float64(len(accepted)) || q["store_error"] == nil || q["oldest_seconds"] == 0.0 {
		t.Fatalf("healthz while full: %d %v", code, h)
	}
	if got := g.Query(t, "SELECT count() FROM events_raw"); got != "0\n" {
		t.Fatalf("the store was down, yet it holds %s rows", got)
	}

	g.Faulty.SetDown(false)
	g.WaitStored(t)
	got := g.Query(t, "SELECT count(), uniqExact(event_id) FROM events_raw")
	if want := fmt.Sprintf("%d\t%d\n", len(accepted), len(accepted)); got != want {
		t.Fatalf("after the outage events_raw holds %q, want %q", got, want)
	}
	missing := g.Query(t, fmt.Sprintf("SELECT count() FROM (SELECT arrayJoin(['%s']) AS id) WHERE toUUID(id) NOT IN (SELECT event_id FROM events_raw)",
		strings.Join(accepted, "','")))
	if missing != "0\n" {
		t.Fatalf("%s accepted events missing", missing)
	}
	if code, h := healthz(t, g); code != 200 {
		t.Fatalf("healthz after catch-up: %d %v", code, h)
	}
	if code, _, _ := postEvents(t, g, batch(queuedPageView(uuid.NewString()))); code != http.StatusAccepted {
		t.Fatalf("POST after catch-up = %d", code)
	}
}
