// Package servertest starts a real gateway for tests: the Fiber server on a
// random loopback port, writing to a fresh embedded ClickHouse database.
package servertest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/calltrail/calltrail/gateway/ingest"
	"github.com/calltrail/calltrail/gateway/server"
	"github.com/calltrail/calltrail/gateway/store"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

// Token is the API token of every test gateway.
const Token = "test-token"

// Gateway is a running test gateway.
type Gateway struct {
	URL    string // http://127.0.0.1:PORT
	Store  *store.Embedded
	Server *server.Server
}

// Start runs a gateway until the test ends. Batches are flushed every 20 ms
// so tests see rows quickly.
func Start(t testing.TB) *Gateway {
	t.Helper()
	st := storetest.Open(t)
	opts := store.DefaultBatchOptions
	opts.MaxWait = 20 * time.Millisecond
	batcher := store.NewBatcher(st, "events_raw", ingest.Columns, "TabSeparated", opts)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	srv, err := server.New(server.Config{Store: st, Events: batcher, APIToken: Token, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	srv.SetReady()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		batcher.Close()
	})
	return &Gateway{URL: "http://" + ln.Addr().String(), Store: st, Server: srv}
}

// Post sends body to path with the API token and returns status and body.
func (g *Gateway) Post(t testing.TB, path, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, g.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
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
