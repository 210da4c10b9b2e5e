package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/calltrail/calltrail/gateway/ingest"
	"github.com/calltrail/calltrail/gateway/store"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

// eventRows encodes n page views of one session as the gateway does.
func eventRows(n int, session string) []byte {
	var b []byte
	now := time.Now().UTC()
	for range n {
		ev := ingest.Event{ID: uuid.New(), Site: "insert.example", UID: strings.Repeat("b", 32), SessionID: session,
			Type: "page_view", Time: now, ReceivedAt: now, URL: "https://insert.example/",
			Landing: ingest.Landing{Hostname: "insert.example", Path: "/"}, Source: "js"}
		b = ev.AppendTSV(b)
	}
	return b
}

// A row the engine cannot parse fails the insert with ErrBadData and
// stores none of the rows sent with it; an error of the store as a whole
// is not ErrBadData.
func TestInsertOfRowsTheEngineRefusesIsErrBadDataAndStoresNothing(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	bad := append(eventRows(3, "s1"), "not-a-uuid"+string(eventRows(1, "s1")[36:])...)
	err := s.Insert(ctx, "events_raw", ingest.Columns, "TabSeparated", bad, "bad-1")
	if !errors.Is(err, store.ErrBadData) {
		t.Fatalf("insert of an unparsable row: %v, want ErrBadData", err)
	}
	if got := storetest.Query(t, s, "SELECT count() FROM events_raw"); got != "0" {
		t.Fatalf("a refused insert stored %s rows", got)
	}
	err = s.Insert(ctx, "no_such_table", ingest.Columns, "TabSeparated", eventRows(1, "s1"), "bad-2")
	if err == nil || errors.Is(err, store.ErrBadData) {
		t.Fatalf("insert into a missing table: %v, want an error that is not ErrBadData", err)
	}
}

// An insert that stored its rows in events_raw and then failed in a
// materialized view, retried with the same token, is stored once in
// events_raw and reaches the views: the retry is not dropped at the source
// table, even where the session's default says so (older servers).
func TestRetryOfAnInsertThatFailedInAViewReachesTheViews(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	for _, q := range []string{
		"SYSTEM STOP MERGES events_raw", // count() sees every copy
		"CREATE TABLE view_fails (x UInt8) ENGINE = MergeTree ORDER BY tuple()",
		"CREATE TABLE view_sink (x UInt8) ENGINE = Null",
		// Throws while view_fails has a row, after events_raw took the block.
		"CREATE MATERIALIZED VIEW failing_mv TO view_sink AS SELECT throwIf((SELECT count() FROM view_fails) > 0) AS x FROM events_raw",
		"INSERT INTO view_fails VALUES (1)",
		"SET deduplicate_blocks_in_dependent_materialized_views = 0",
	} {
		if err := s.Exec(ctx, q, nil); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rows := eventRows(5, "half-way")
	err := s.Insert(ctx, "events_raw", ingest.Columns, "TabSeparated", rows, "half-way-1")
	if err == nil || errors.Is(err, store.ErrBadData) {
		t.Fatalf("first attempt: %v, want a view's error (not ErrBadData)", err)
	}
	if err := s.Exec(ctx, "TRUNCATE TABLE view_fails", nil); err != nil {
		t.Fatal(err)
	}
	// The first attempt's sessions_agg part, if any, is lost as well.
	if err := s.Exec(ctx, "TRUNCATE TABLE sessions_agg", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Insert(ctx, "events_raw", ingest.Columns, "TabSeparated", rows, "half-way-1"); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if got := storetest.Query(t, s, "SELECT count() FROM events_raw"); got != "5" {
		t.Fatalf("events_raw holds %s rows after the retry, want 5", got)
	}
	got := storetest.Query(t, s, "SELECT uniqExactMerge(event_ids) FROM sessions_agg WHERE session_id = 'half-way'")
	if got != fmt.Sprint(5) {
		t.Fatalf("sessions_agg counts %s events of the session after the retry, want 5", got)
	}
}
