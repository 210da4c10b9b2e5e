package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
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
