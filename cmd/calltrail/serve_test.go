package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calltrail/calltrail/gateway/channels"
)

// `make run` passes --data ./data: a relative data folder must store events
// like an absolute one (chDB once put the parts under data/chdb/data/chdb/).
func TestServeWithRelativeDataFolderStoresEvents(t *testing.T) {
	g := startGatewayIn(t, t.TempDir(), "./data")
	body := `{"site":"relative.example","uid":"0123456789abcdef0123456789abcdef","sid":"s1","sent_at":1764770000000,
		"events":[{"id":"7d1f9e2a-3b4c-4d5e-8f90-a1b2c3d4e5f6","type":"page_view","ts":1764770000000,"url":"https://relative.example/"}]}`
	resp, err := http.Post(g.url+"/v1/events", "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/events: %d, want 202", resp.StatusCode)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := strings.TrimSpace(g.sql(t, "SELECT count() FROM events WHERE site = 'relative.example'"))
		if got == "1" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the event is not in ClickHouse after 20 s (count %q):\n%s", got, g.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The gateway listens before the store is open: while it starts, /healthz
// and the /v1 routes answer 503 with the reason, and then it becomes ready.
// The channel sheet is a FIFO, read once the store is open and migrated, so
// the start waits there until the test writes it.
func TestServeAnswers503WhileStarting(t *testing.T) {
	dir := t.TempDir()
	sheet := filepath.Join(dir, "channels.csv")
	if err := syscall.Mkfifo(sheet, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd, pipe := startServe(t, "", "--data", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0",
		"--api-token", testToken, "--channels", sheet)
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "CallTrail is starting on "); ok {
				urls <- strings.TrimSuffix(strings.Fields(rest)[0], ":")
			}
		}
	}()
	var url string
	select {
	case url = <-urls:
	case <-time.After(30 * time.Second):
		t.Fatal("no \"CallTrail is starting on\" line in 30 s")
	}

	request := func(method, path, body string, header ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s while starting: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := request(http.MethodGet, "/healthz", "")
	var h struct{ Status, Reason string }
	if err := json.Unmarshal([]byte(body), &h); err != nil || resp.StatusCode != 503 || h.Status != "starting" || h.Reason == "" {
		t.Fatalf("healthz while starting: %d %s", resp.StatusCode, body)
	}
	event := `{"site":"s.example","uid":"0123456789abcdef0123456789abcdef","sid":"s1","sent_at":1764770000000,
		"events":[{"id":"0d1f9e2a-3b4c-4d5e-8f90-a1b2c3d4e5f6","type":"page_view","ts":1764770000000,"url":"https://s.example/"}]}`
	resp, body = request(http.MethodPost, "/v1/events", event, "Content-Type", "text/plain")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(body, "starting") {
		t.Fatalf("events while starting: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if resp, body = request(http.MethodPost, "/v1/sql", "SELECT 1", "Authorization", "Bearer "+testToken); resp.StatusCode != 503 || !strings.Contains(body, "starting") {
		t.Fatalf("sql while starting: %d %s", resp.StatusCode, body)
	}
	if resp, _ = request(http.MethodGet, "/calltrail.js", ""); resp.StatusCode != 200 {
		t.Fatalf("the site script while starting: %d", resp.StatusCode)
	}

	f, err := os.OpenFile(sheet, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(channels.DefaultSheet())
	f.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, _ = request(http.MethodGet, "/healthz", ""); resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready 30 s after the channel sheet was given: %d", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if resp, body = request(http.MethodPost, "/v1/events", event, "Content-Type", "text/plain"); resp.StatusCode != 202 {
		t.Fatalf("events once ready: %d %s", resp.StatusCode, body)
	}
}
