package spool_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/calltrail/calltrail/gateway/ingest"
	"github.com/calltrail/calltrail/gateway/spool"
	"github.com/calltrail/calltrail/gateway/store"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

func options() spool.Options {
	return spool.Options{Table: "events_raw", Columns: ingest.Columns, BatchRows: 300, SegmentBytes: 1 << 20,
		BatchWait: 20 * time.Millisecond, RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// rows makes n events of one request, as the gateway encodes them.
func rows(n int) []byte {
	var b []byte
	now := time.Now().UTC()
	for i := 0; i < n; i++ {
		ev := ingest.Event{ID: uuid.New(), Site: "replay.example", UID: strings.Repeat("a", 32), SessionID: "s1",
			Type: "page_view", Time: now, ReceivedAt: now, URL: "https://replay.example/p?utm_source=x",
			Landing: ingest.Landing{Hostname: "replay.example", Path: "/p", UTMSource: "x"}, Source: "js"}
		b = ev.AppendTSV(b)
	}
	return b
}

func count(t *testing.T, st store.Store, sql string) string {
	t.Helper()
	out, err := st.Query(context.Background(), sql, "TSV", nil)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(to, 0o755)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// stopMerges keeps every insert into events_raw in a part of its own, so
// that count() sees what was inserted: its background merges would
// otherwise collapse duplicate event ids and hide a batch stored twice.
func stopMerges(t *testing.T, st store.Store) {
	t.Helper()
	if err := st.Exec(context.Background(), "SYSTEM STOP MERGES events_raw", nil); err != nil {
		t.Fatal(err)
	}
}

func drain(t *testing.T, dir string, st store.Store) spool.Stats {
	t.Helper()
	s, err := spool.Open(dir, st, options())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stats := s.Stats()
	s.Close(ctx) // drains everything before returning
	return stats
}

// The same queue segments replayed twice into ClickHouse (a restart that
// lost its checkpoint, an operator restoring a copy of the spool) store
// nothing twice: every batch is cut the same way and carries the same
// insert deduplication token, which events_raw remembers.
func TestReplayingTheSameSegmentsTwiceStoresNothingTwice(t *testing.T) {
	real := storetest.Open(t)
	stopMerges(t, real)
	st := storetest.NewFaulty(real)
	dir := filepath.Join(t.TempDir(), "spool")
	opts := options()
	opts.SegmentBytes = 256 << 10 // several segments
	opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	st.SetDown(true)
	s, err := spool.Open(dir, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	const requests, perRequest = 100, 20
	for i := 0; i < requests; i++ {
		if err := s.Write(context.Background(), rows(perRequest), perRequest); err != nil {
			t.Fatal(err)
		}
	}
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	s.Close(expired) // nothing could be sent: all of it is in the segments
	copyDir(t, dir, dir+"-copy")
	st.SetDown(false)

	first := drain(t, dir, st)
	if first.BacklogEvents != requests*perRequest {
		t.Fatalf("first replay found %d events, want %d", first.BacklogEvents, requests*perRequest)
	}
	insertsFirst := st.Inserted()
	second := drain(t, dir+"-copy", st)
	if second.BacklogEvents != requests*perRequest {
		t.Fatalf("second replay found %d events", second.BacklogEvents)
	}
	if st.Inserted() <= insertsFirst {
		t.Fatal("the second replay inserted nothing: it did not replay")
	}
	want := fmt.Sprint(requests * perRequest)
	if got := count(t, real, "SELECT count() FROM events_raw"); got != want {
		t.Fatalf("events_raw holds %s rows after two replays of %s events", got, want)
	}
	if got := count(t, real, "SELECT uniqExact(event_id) FROM events_raw"); got != want {
		t.Fatalf("%s distinct events, want %s", got, want)
	}
	// The queue is empty after a replay: a third start finds nothing.
	if third := drain(t, dir, st); third.BacklogEvents != 0 || third.Segments != 0 {
		t.Fatalf("after the replay the queue still holds %+v", third)
	}
}

// A record ClickHouse refuses (a row that does not parse) in a batch of
// good ones: the good ones are stored once, the refused one is in the
// dead-letter file with ClickHouse's error, and the queue drains.
func TestARecordClickHouseRefusesIsDeadLetteredAndTheRestStoredOnce(t *testing.T) {
	real := storetest.Open(t)
	stopMerges(t, real)
	st := storetest.NewFaulty(real)
	st.SetDown(true) // gather one batch
	s, err := spool.Open(filepath.Join(t.TempDir(), "spool"), st, options())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	const requests, perRequest = 10, 20
	for i := range requests {
		if i == 4 {
			bad := "not-a-uuid" + string(rows(1)[36:])
			if err := s.Write(context.Background(), []byte(bad), 1); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Write(context.Background(), rows(perRequest), perRequest); err != nil {
			t.Fatal(err)
		}
	}
	st.SetDown(false)
	waitDrained(t, s)
	want := fmt.Sprint(requests * perRequest)
	if got := count(t, real, "SELECT count(), uniqExact(event_id) FROM events_raw"); got != want+"\t"+want {
		t.Fatalf("events_raw holds (rows, ids) %q, want %s of each", got, want)
	}
	stats := s.Stats()
	b, err := os.ReadFile(stats.DeadLetterFile)
	if err != nil || stats.DeadLetterEvents != 1 {
		t.Fatalf("dead letters: %d events, file %q: %v", stats.DeadLetterEvents, stats.DeadLetterFile, err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"rows":"not-a-uuid\t`) || !strings.Contains(lines[0], "CANNOT_PARSE") {
		t.Fatalf("dead-letter file: %s", b)
	}
}

// When ClickHouse refuses every row (here a constraint no row meets, as a
// table that no longer matches the queue would), nothing is dead-lettered,
// and once it takes rows again every event is stored once.
func TestWhenClickHouseRefusesEveryRowNothingIsDeadLettered(t *testing.T) {
	real := storetest.Open(t)
	stopMerges(t, real)
	exec := func(q string) {
		if err := real.Exec(context.Background(), q, nil); err != nil {
			t.Fatal(err)
		}
	}
	exec("ALTER TABLE events_raw ADD CONSTRAINT refuse_all CHECK site = 'nowhere.example'")
	s, err := spool.Open(filepath.Join(t.TempDir(), "spool"), real, options())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	const requests, perRequest = 12, 5
	for range requests {
		if err := s.Write(context.Background(), rows(perRequest), perRequest); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for s.Stats().ParkedEvents < requests*perRequest { // bisected down to single records
		if time.Now().After(deadline) {
			t.Fatalf("not bisected: %+v", s.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the parked are retried while the queue is idle
	if stats := s.Stats(); stats.DeadLetterEvents != 0 || stats.DeadLetterFile != "" {
		t.Fatalf("dead-lettered while every row was refused: %+v", stats)
	}
	exec("ALTER TABLE events_raw DROP CONSTRAINT refuse_all")
	waitDrained(t, s)
	want := fmt.Sprint(requests * perRequest)
	if got := count(t, real, "SELECT count(), uniqExact(event_id) FROM events_raw"); got != want+"\t"+want {
		t.Fatalf("events_raw holds (rows, ids) %q, want %s of each", got, want)
	}
	if stats := s.Stats(); stats.DeadLetterEvents != 0 {
		t.Fatalf("dead-lettered: %+v", stats)
	}
}

// waitDrained waits until nothing is queued or parked.
func waitDrained(t *testing.T, s *spool.Spool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		stats := s.Stats()
		if stats.BacklogEvents == 0 && stats.ParkedEvents == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queue did not drain: %+v", stats)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
