// Package servertest starts a real gateway for tests: the Fiber server on a
// random loopback port, its events going through the durable queue into a
// fresh embedded ClickHouse database.
package servertest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calltrail/calltrail/gateway/ingest"
	"github.com/calltrail/calltrail/gateway/server"
	"github.com/calltrail/calltrail/gateway/spool"
	"github.com/calltrail/calltrail/gateway/store"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

// Token is the API token of every test gateway.
const Token = "test-token"

// Gateway is a running test gateway.
type Gateway struct {
	URL    string // http://127.0.0.1:PORT
	Store  *store.Embedded
	Faulty *storetest.Faulty // the store as the queue sees it: SetDown fails its inserts
	Spool  *spool.Spool
	Server *server.Server
}

// Options change a test gateway; the zero value is what Start uses.
type Options struct {
	QueueBytes int64 // the queue's size limit (default 1 GiB)
	RateLimit  int   // requests per second per client IP (0: off)
	// BatchWait is how long the queue gathers events before an insert
	// (default 20 ms, so tests see rows quickly; production waits 1 s).
	BatchWait time.Duration
	// Configure, when set, changes the gateway's Config last (e.g.
	// provider secrets).
	Configure func(*server.Config)
	// Async answers 202 once events are on disk, as production does. By
	// default a test gateway answers once they are in ClickHouse
	// (spool.Options.AckAfterStore), so a test can read what it posted.
	Async bool
}

// Start runs a gateway until the test ends, with the production path for
// events: the durable queue (in t.TempDir()) drained into the store.
// Batches are sent after 20 ms, and a 202 waits for ClickHouse (unless
// Options.Async), so tests read what they posted.
func Start(t testing.TB) *Gateway {
	t.Helper()
	return StartWithOptions(t, Options{})
}

// StartWith is Start with configure applied to the gateway's Config first
// (e.g. provider secrets).
func StartWith(t testing.TB, configure func(*server.Config)) *Gateway {
	t.Helper()
	return StartWithOptions(t, Options{Configure: configure})
}

// StartWithOptions is Start with options.
func StartWithOptions(t testing.TB, o Options) *Gateway {
	t.Helper()
	st := storetest.Open(t)
	faulty := storetest.NewFaulty(st)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	if o.BatchWait <= 0 {
		o.BatchWait = 20 * time.Millisecond
	}
	q, err := spool.Open(filepath.Join(t.TempDir(), "spool"), faulty, spool.Options{
		MaxBytes: o.QueueBytes, SegmentBytes: 1 << 20, Table: "events_raw", Columns: ingest.Columns,
		BatchWait: o.BatchWait, RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		AckAfterStore: !o.Async, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{APIToken: Token, Log: log, RateLimit: o.RateLimit}
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	srv.Ready(server.Backend{Store: st, Events: q})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		faulty.SetDown(false)
		_ = q.Close(ctx)
	})
	return &Gateway{URL: "http://" + ln.Addr().String(), Store: st, Faulty: faulty, Spool: q, Server: srv}
}

// WaitStored waits until the queue has handed every accepted event to the
// store, so that queries see them.
func (g *Gateway) WaitStored(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for g.Spool.Stats().BacklogEvents > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("events still queued after 20 s: %+v", g.Spool.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Bearer is the Authorization header with the test gateway's API token.
var Bearer = map[string]string{"Authorization": "Bearer " + Token}

// Post sends body to path with the API token and returns status and body.
func (g *Gateway) Post(t testing.TB, path, contentType, body string) (int, string) {
	t.Helper()
	code, b := g.Request(t, http.MethodPost, path, map[string]string{"Content-Type": contentType, "Authorization": Bearer["Authorization"]}, body)
	return code, string(b)
}

// Request sends body to path with exactly the given headers and returns
// status and body.
func (g *Gateway) Request(t testing.TB, method, path string, header map[string]string, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, g.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// JSON sends a JSON body (Content-Type application/json plus the given
// headers) and decodes the JSON answer.
func (g *Gateway) JSON(t testing.TB, method, path string, header map[string]string, body string) (int, map[string]any) {
	t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	for k, v := range header {
		h[k] = v
	}
	code, b := g.Request(t, method, path, h, body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %s", method, path, code, b)
	}
	return code, m
}

// Query runs SQL on the gateway's store and returns TSV output.
func (g *Gateway) Query(t testing.TB, sql string) string {
	t.Helper()
	out, err := g.Store.Query(context.Background(), sql, "TSV", nil)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return string(out)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
