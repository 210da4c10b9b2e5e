package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/calltrail/calltrail/gateway/ingest"
	"github.com/calltrail/calltrail/gateway/store"
)

// Browser is the user agent of test hits: a desktop Chrome, not a bot.
const Browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"

// Hit is one event of a test journey.
type Hit struct {
	ID       string // fixed event id, to send duplicates; random when empty
	Site     string // "site1" when empty
	UID, SID string
	Type     string // page_view when empty
	At       time.Time
	URL, Ref string
	Email    string
	LeadID   string // a CRM lead id (identify events)
	UA       string // Browser when empty
}

// Insert runs hits through the real ingest pipeline and stores them in one
// insert, as the gateway's writer would.
func Insert(t testing.TB, s store.Store, hits ...Hit) {
	t.Helper()
	p := ingest.NewPipeline(ingest.Options{})
	var rows []byte
	for _, h := range hits {
		id, site, typ, ua := h.ID, h.Site, h.Type, h.UA
		if id == "" {
			id = uuid.NewString()
		}
		if site == "" {
			site = "site1"
		}
		if typ == "" {
			typ = "page_view"
		}
		if ua == "" {
			ua = Browser
		}
		ts := h.At.UnixMilli()
		ev, _ := json.Marshal(map[string]any{"id": id, "type": typ, "ts": ts, "url": h.URL, "ref": h.Ref, "email": h.Email, "lead_id": h.LeadID})
		events, rejected := p.Process(ingest.Body{Site: site, UID: h.UID, SID: h.SID, SentAt: ts, Events: []json.RawMessage{ev}},
			ingest.Request{ReceivedAt: h.At, UserAgent: ua, Source: "js"})
		if len(rejected) > 0 {
			t.Fatalf("hit %+v rejected: %v", h, rejected)
		}
		for i := range events {
			rows = events[i].AppendTSV(rows)
		}
	}
	if err := s.Insert(context.Background(), "events_raw", ingest.Columns, "TabSeparated", rows, ""); err != nil {
		t.Fatal(err)
	}
}

// Query runs q and returns its TSV output without the final newline.
func Query(t testing.TB, s store.Store, q string) string {
	t.Helper()
	out, err := s.Query(context.Background(), q, "TSV", nil)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return string(trimNewline(out))
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	}
	return b
}
