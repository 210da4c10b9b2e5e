package spool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calltrail/calltrail/gateway/store"
)

// memStore is a store that keeps inserted lines and, like ClickHouse with a
// deduplication token, drops an insert whose token it has seen.
type memStore struct {
	mu      sync.Mutex
	lines   map[string]int // line → times stored
	tokens  map[string]bool
	inserts int
	fail    atomic.Bool
	// lose, when set, stores an insert but answers with an error (the
	// answer lost on the way back), once.
	lose atomic.Bool
	// refuse makes the store refuse, for its rows (store.ErrBadData), any
	// insert with a line starting so; refuseAll, every insert.
	refuse    string
	refuseAll atomic.Bool
}

func newMemStore() *memStore {
	return &memStore{lines: map[string]int{}, tokens: map[string]bool{}}
}

func (m *memStore) Exec(context.Context, string, store.Params) error { return nil }
func (m *memStore) Query(context.Context, string, string, store.Params) ([]byte, error) {
	return nil, nil
}
func (m *memStore) QueryReadOnly(context.Context, string, string) ([]byte, error) { return nil, nil }
func (m *memStore) Close() error                                                  { return nil }

func (m *memStore) Insert(_ context.Context, table string, columns []string, format string, data []byte, token string) error {
	if m.fail.Load() {
		return errors.New("store unavailable")
	}
	if m.refuseAll.Load() || m.refuse != "" && strings.Contains("\n"+string(data), "\n"+m.refuse) {
		return fmt.Errorf("%w: cannot parse (test)", store.ErrBadData)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inserts++
	if token == "" {
		panic("insert without a deduplication token")
	}
	if !m.tokens[token] {
		m.tokens[token] = true
		for _, l := range strings.SplitAfter(string(data), "\n") {
			if l != "" {
				m.lines[l]++
			}
		}
	}
	if m.lose.CompareAndSwap(true, false) {
		return errors.New("connection reset after the insert")
	}
	return nil
}

// check fails the test unless every line of want was stored exactly once
// and nothing else was.
func (m *memStore) check(t *testing.T, want map[string]bool) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for l := range want {
		if m.lines[l] != 1 {
			t.Errorf("%q stored %d times, want 1", l, m.lines[l])
		}
	}
	for l, n := range m.lines {
		if !want[l] {
			t.Errorf("%q stored %d times, never written", l, n)
		}
	}
}

func (m *memStore) stored() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.lines)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testOptions() Options {
	return Options{Table: "t", Columns: []string{"a"}, BatchWait: 10 * time.Millisecond, SegmentBytes: 256 << 10,
		RetryMin: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond, Log: quiet()}
}

func open(t *testing.T, dir string, st *memStore, opts Options) *Spool {
	t.Helper()
	s, err := Open(dir, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(expired()) })
	return s
}

func expired() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitEmpty waits until s has nothing in its backlog and nothing parked,
// and says which of the two is stuck when it times out.
func waitEmpty(t *testing.T, what string, s *Spool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := s.Stats()
		if st.BacklogEvents == 0 && st.ParkedEvents == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: backlog_events %d, parked_events %d "+
				"(stored %d, batches %d, dead-lettered %d, insert errors %d, store error %q)",
				what, st.BacklogEvents, st.ParkedEvents, st.StoredEvents, st.Batches,
				st.DeadLetterEvents, st.InsertErrors, st.StoreError)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// writeLines writes n records of k lines each from many goroutines and
// returns the lines.
func writeLines(t *testing.T, s *Spool, prefix string, n, k int) map[string]bool {
	t.Helper()
	var mu sync.Mutex
	want := map[string]bool{}
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				var b strings.Builder
				var lines []string
				for j := 0; j < k; j++ {
					l := fmt.Sprintf("%s-%d-%d\tsome\tcolumns\n", prefix, i, j)
					b.WriteString(l)
					lines = append(lines, l)
				}
				if err := s.Write(context.Background(), []byte(b.String()), k); err != nil {
					t.Errorf("write %d: %v", i, err)
					return
				}
				mu.Lock()
				for _, l := range lines {
					want[l] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return want
}

func TestWritesAreGroupCommittedAndDrainedOnce(t *testing.T) {
	st := newMemStore()
	opts := testOptions()
	opts.SegmentBytes = 64 << 10 // several segments
	s := open(t, t.TempDir(), st, opts)
	want := writeLines(t, s, "a", 2000, 3)
	waitFor(t, "the drain", func() bool { return st.stored() == len(want) })
	st.check(t, want)
	stats := s.Stats()
	if stats.Fsyncs >= 2000 {
		t.Errorf("%d fsyncs for 2000 concurrent writes: not group-committed", stats.Fsyncs)
	}
	waitFor(t, "the backlog to empty", func() bool { return s.Stats().BacklogEvents == 0 })
	// Confirmed segments are deleted; the one being written stays.
	waitFor(t, "confirmed segments deleted", func() bool { return s.Stats().Segments <= 1 })
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), []byte("x\n"), 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v, want ErrClosed", err)
	}
	t.Logf("%d writes, %d fsyncs, %d batches", 2000, stats.Fsyncs, stats.Batches)
}

func TestStoreOutageQueuesThenCatchesUp(t *testing.T) {
	st := newMemStore()
	st.fail.Store(true)
	opts := testOptions()
	opts.MaxBytes = 256 << 10
	s := open(t, t.TempDir(), st, opts)
	want := writeLines(t, s, "a", 200, 2)
	// Fill the queue: ErrFull, and /healthz says so.
	var err error
	for i := 0; i < 10000 && err == nil; i++ {
		l := fmt.Sprintf("fill-%d-%s\n", i, strings.Repeat("x", 4000))
		if err = s.Write(context.Background(), []byte(l), 1); err == nil {
			want[l] = true
		}
	}
	if !errors.Is(err, ErrFull) {
		t.Fatalf("writes to a full queue: %v, want ErrFull", err)
	}
	reason, _ := s.Health()
	stats := s.Stats()
	if !strings.Contains(reason, "full") || stats.StoreError == "" || stats.BacklogEvents != int64(len(want)) || stats.RefusedFull == 0 {
		t.Fatalf("health %q, stats %+v", reason, stats)
	}
	if stats.OldestSeconds <= 0 {
		t.Errorf("oldest age %v while the store is down", stats.OldestSeconds)
	}
	st.fail.Store(false)
	waitFor(t, "catch-up", func() bool { return s.Stats().BacklogEvents == 0 })
	st.check(t, want)
	if reason, _ := s.Health(); reason != "" {
		t.Fatalf("healthy again, yet %q", reason)
	}
	if err := s.Write(context.Background(), []byte("after\n"), 1); err != nil {
		t.Fatalf("write after catch-up: %v", err)
	}
}

func TestRestartReplaysOnlyUnconfirmed(t *testing.T) {
	dir := t.TempDir()
	st := newMemStore()
	s := open(t, dir, st, testOptions())
	first := writeLines(t, s, "a", 100, 1)
	waitFor(t, "the drain", func() bool { return st.stored() == len(first) })
	st.fail.Store(true)
	second := writeLines(t, s, "b", 100, 1)
	s.Close(expired()) // a stop that cannot wait: the rest stays queued

	st.fail.Store(false)
	inserts := st.inserts
	s2 := open(t, dir, st, testOptions())
	if got := s2.Stats().ReplayedEvents; got != 100 {
		t.Errorf("replayed %d events at start, want the 100 unconfirmed", got)
	}
	waitFor(t, "the replay", func() bool { return s2.Stats().BacklogEvents == 0 })
	for l := range second {
		first[l] = true
	}
	st.check(t, first)
	if st.inserts-inserts > 2 {
		t.Errorf("%d inserts to replay 100 small records", st.inserts-inserts)
	}
}

func TestBatchWhoseAnswerWasLostIsResentWithTheSameToken(t *testing.T) {
	dir := t.TempDir()
	st := newMemStore()
	opts := testOptions()
	opts.RetryMin, opts.RetryMax = time.Hour, time.Hour // no retry in this run
	st.lose.Store(true)
	s := open(t, dir, st, opts)
	want := writeLines(t, s, "a", 50, 2)
	waitFor(t, "the first insert", func() bool { return st.stored() > 0 })
	s.Close(expired()) // "crash": the intent is on disk, no confirmation
	storedBefore := st.stored()

	// The next start sends the same batch again: same bounds, same token.
	s2 := open(t, dir, st, testOptions())
	waitFor(t, "the replay", func() bool { return s2.Stats().BacklogEvents == 0 })
	st.check(t, want)
	if len(st.tokens) == 0 || storedBefore == 0 {
		t.Fatal("nothing was inserted")
	}
}

func TestDamagedRecordsAreSkippedAndCounted(t *testing.T) {
	dir := t.TempDir()
	st := newMemStore()
	st.fail.Store(true)
	s := open(t, dir, st, testOptions())
	var want = map[string]bool{}
	for i := 0; i < 30; i++ {
		l := fmt.Sprintf("line-%d\n", i)
		if err := s.Write(context.Background(), []byte(l), 1); err != nil {
			t.Fatal(err)
		}
		want[l] = true
	}
	s.Close(expired())
	ids, _ := segmentIDs(dir)
	if len(ids) != 1 {
		t.Fatalf("segments %v", ids)
	}
	path := filepath.Join(dir, fmt.Sprintf("%020d.seg", ids[0]))
	data, _ := os.ReadFile(path)
	recLen := headerSize + len("line-0\n")
	// Flip a byte in record 10's payload: that record is lost, the rest is read.
	data[10*recLen+headerSize+2] ^= 0xff
	delete(want, "line-10\n")
	// A torn tail: a record header and half its payload, as a crash leaves
	// it, right after the last record (the file may go on with zeros: the
	// queue fills segments with zeros before use).
	end := 10*recLen + 20*(recLen+1)
	h := header([]byte("torn-record-payload\n"), 1, time.Now().UnixMilli())
	torn := append(h[:], "torn-rec"...)
	if len(data) < end+len(torn) {
		data = append(data, make([]byte, end+len(torn)-len(data))...)
	}
	copy(data[end:], torn)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}

	st.fail.Store(false)
	s2 := open(t, dir, st, testOptions())
	waitFor(t, "the replay", func() bool { return st.stored() == len(want) })
	waitFor(t, "the segment finished", func() bool { return s2.Stats().Segments == 0 })
	st.check(t, want)
	stats := s2.Stats()
	wantSkipped := int64(headerSize + len("line-10\n") + headerSize + len("torn-rec"))
	if stats.SkippedRecords != 2 || stats.SkippedBytes != wantSkipped {
		t.Fatalf("skipped %d stretches, %d bytes; want 2 and %d", stats.SkippedRecords, stats.SkippedBytes, wantSkipped)
	}
	if err := s2.Write(context.Background(), []byte("after\n"), 1); err != nil {
		t.Fatal(err)
	}
	want["after\n"] = true
	waitFor(t, "the new write", func() bool { return st.stored() == len(want) })
	st.check(t, want)
}

func TestTwoGatewaysCannotShareAQueue(t *testing.T) {
	dir := t.TempDir()
	open(t, dir, newMemStore(), testOptions())
	if _, err := Open(dir, newMemStore(), testOptions()); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Open: %v", err)
	}
}

// Segments are zero-filled before use; after a restart the zeros are
// neither data nor damage.
func TestZeroFilledSegmentsReplayExactly(t *testing.T) {
	dir := t.TempDir()
	st := newMemStore()
	st.fail.Store(true)
	s := open(t, dir, st, testOptions())
	waitFor(t, "the spare segment", func() bool { return len(s.prepared) == 1 })
	want := writeLines(t, s, "z", 20, 1)
	s.Close(expired())
	ids, _ := segmentIDs(dir)
	fi, err := os.Stat(filepath.Join(dir, fmt.Sprintf("%020d.seg", ids[0])))
	if err != nil || fi.Size() != testOptions().SegmentBytes {
		t.Fatalf("segment %v: size %d, want it zero-filled to %d", err, fi.Size(), testOptions().SegmentBytes)
	}
	st.fail.Store(false)
	s2 := open(t, dir, st, testOptions())
	stats := s2.Stats()
	var size int64
	for l := range want {
		size += int64(headerSize + len(l))
	}
	if stats.ReplayedEvents != 20 || stats.BacklogBytes != size {
		t.Fatalf("replaying %d events, %d bytes; want 20 and %d", stats.ReplayedEvents, stats.BacklogBytes, size)
	}
	waitFor(t, "the replay", func() bool { return s2.Stats().BacklogEvents == 0 })
	st.check(t, want)
	if stats := s2.Stats(); stats.SkippedRecords != 0 {
		t.Fatalf("skipped %d stretches of zeros as damage", stats.SkippedRecords)
	}
}

// With AckAfterStore a Write returns once the store has the rows.
func TestAckAfterStoreWaitsForTheStore(t *testing.T) {
	st := newMemStore()
	opts := testOptions()
	opts.AckAfterStore = true
	s := open(t, t.TempDir(), st, opts)
	for i := 0; i < 20; i++ {
		l := fmt.Sprintf("ack-%d\n", i)
		if err := s.Write(context.Background(), []byte(l), 1); err != nil {
			t.Fatal(err)
		}
		if st.stored() != i+1 {
			t.Fatalf("Write %d returned with %d lines stored", i, st.stored())
		}
	}
	st.fail.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Write(ctx, []byte("down\n"), 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Write while the store is down: %v, want it to wait", err)
	}
}

// After a disk error /healthz says so; once the disk works again it
// recovers by itself, with no request coming to try it (a load balancer
// that saw the 503 sends none), and what was answered 503 is not stored.
func TestHealthRecoversWhenTheDiskDoes(t *testing.T) {
	st := newMemStore()
	opts := testOptions()
	var broken atomic.Bool
	opts.sync = func(f *os.File) error {
		if broken.Load() {
			return errors.New("input/output error (injected)")
		}
		return fdatasync(f)
	}
	s := open(t, t.TempDir(), st, opts)
	want := writeLines(t, s, "before", 20, 1)
	broken.Store(true)
	if err := s.Write(context.Background(), []byte("refused\n"), 1); err == nil {
		t.Fatal("a write whose fsync failed returned nil")
	}
	if reason, _ := s.Health(); !strings.Contains(reason, "cannot write to disk") {
		t.Fatalf("health after a disk error: %q", reason)
	}
	broken.Store(false)
	waitFor(t, "/healthz to recover with no write", func() bool { r, _ := s.Health(); return r == "" })
	for l := range writeLines(t, s, "after", 20, 1) {
		want[l] = true
	}
	waitFor(t, "the drain", func() bool { return s.Stats().BacklogEvents == 0 && st.stored() == len(want) })
	st.check(t, want)
}

// While a backlog drains, /healthz's oldest_seconds is the age of the
// oldest event not yet confirmed: it never drops to 0 between batches.
func TestOldestAgeStaysWhileABacklogDrains(t *testing.T) {
	st := newMemStore()
	st.fail.Store(true)
	opts := testOptions()
	opts.SegmentBytes, opts.BatchRows = 64<<10, 10 // many segments and batches
	s := open(t, t.TempDir(), st, opts)
	writeLines(t, s, strings.Repeat("x", 1000), 400, 1)
	time.Sleep(300 * time.Millisecond) // every event is older than that
	st.fail.Store(false)
	var samples, zero int
	for s.Stats().BacklogEvents > 0 {
		if stats := s.Stats(); stats.BacklogEvents > 0 {
			samples++
			if stats.OldestSeconds < 0.3 {
				zero++
			}
		}
	}
	if zero > 0 {
		t.Fatalf("%d of %d samples during the drain gave the oldest event's age under 0.3 s", zero, samples)
	}
	if s.Stats().OldestSeconds != 0 {
		t.Fatalf("oldest age %v with nothing queued", s.Stats().OldestSeconds)
	}
}

// /healthz says ok only while the largest write the queue can take fits,
// not merely one 64 KiB request: one request's rows can be larger.
func TestHealthSaysFullUnlessTheLargestWriteFits(t *testing.T) {
	st := newMemStore()
	st.fail.Store(true)
	opts := testOptions()
	opts.MaxBytes = 1 << 20
	s := open(t, t.TempDir(), st, opts)
	if err := s.Write(context.Background(), []byte(strings.Repeat("y", 600<<10)+"\n"), 1); err != nil {
		t.Fatal(err)
	}
	if reason, _ := s.Health(); !strings.Contains(reason, "full") {
		t.Fatalf("health %q with %d of %d bytes queued", reason, s.Stats().BacklogBytes, opts.MaxBytes)
	}
	st.fail.Store(false)
	waitFor(t, "the drain", func() bool { return s.Stats().BacklogEvents == 0 })
	if reason, _ := s.Health(); reason != "" {
		t.Fatalf("health %q with the queue empty", reason)
	}
	largest := []byte(strings.Repeat("z", int(opts.MaxBytes)-headerSize-1) + "\n")
	if err := s.Write(context.Background(), largest, 1); err != nil {
		t.Fatalf("health said ok, yet the largest write was refused: %v", err)
	}
}

// deadLetters returns the lines of the dead-letter file in dir.
func deadLetters(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, deadLetterName))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// A batch with records the store refuses (store.ErrBadData) does not hold
// up the queue: it is bisected, every other event is stored once, and the
// refused records are dead-lettered with the store's error, wherever they
// sit in the batch.
func TestRefusedRecordsAreDeadLetteredAndTheRestStoredOnce(t *testing.T) {
	dir := t.TempDir()
	st := newMemStore()
	st.refuse = "BAD"
	st.fail.Store(true) // everything below is sent as one batch
	s := open(t, dir, st, testOptions())
	write := func(l string) {
		if err := s.Write(context.Background(), []byte(l), 1); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]bool{}
	write("BAD-first\n")
	for i := range 100 {
		l := fmt.Sprintf("good-%d\n", i)
		write(l)
		want[l] = true
		if i == 40 || i == 41 {
			write(fmt.Sprintf("BAD-%d\n", i))
		}
	}
	write("BAD-last\n")
	st.fail.Store(false)
	waitFor(t, "the queue to drain", func() bool {
		stats := s.Stats()
		return stats.BacklogEvents == 0 && stats.ParkedEvents == 0
	})
	st.check(t, want)
	stats := s.Stats()
	if stats.DeadLetterEvents != 4 || stats.DeadLetterFile != filepath.Join(dir, deadLetterName) {
		t.Fatalf("dead letters: %d events in %q, want 4", stats.DeadLetterEvents, stats.DeadLetterFile)
	}
	lines := deadLetters(t, dir)
	if len(lines) != 4 {
		t.Fatalf("dead-letter file: %q", lines)
	}
	for i, name := range []string{"BAD-first", "BAD-40", "BAD-41", "BAD-last"} {
		var dl struct {
			Rows, Error string
			Events      int
		}
		if err := json.Unmarshal([]byte(lines[i]), &dl); err != nil || dl.Rows != name+"\n" || dl.Events != 1 ||
			!strings.Contains(dl.Error, "cannot parse") {
			t.Errorf("dead letter %d: %s (%v), want %s with its error", i, lines[i], err, name)
		}
	}
	// The queue goes on.
	write("after\n")
	want["after\n"] = true
	waitFor(t, "the next write", func() bool { return st.stored() == len(want) })
	st.check(t, want)
}

// A refusal of every record is the store's, not the records': nothing is
// dead-lettered, and once the store takes rows again all are stored once.
func TestARefusalOfEveryRecordDeadLettersNothing(t *testing.T) {
	dir := t.TempDir()
	st := newMemStore()
	st.refuseAll.Store(true)
	s := open(t, dir, st, testOptions())
	want := writeLines(t, s, "all", 60, 2)
	waitFor(t, "the batch to be bisected", func() bool { return s.Stats().ParkedEvents > 0 })
	want2 := writeLines(t, s, "more", 20, 1)
	time.Sleep(200 * time.Millisecond) // retries, bisections, idle retries of the parked
	if stats := s.Stats(); stats.DeadLetterEvents != 0 || len(deadLetters(t, dir)) != 0 || stats.StoredEvents != 0 {
		t.Fatalf("while every record is refused: %+v, dead letters %q", stats, deadLetters(t, dir))
	}
	st.refuseAll.Store(false)
	for l := range want2 {
		want[l] = true
	}
	waitFor(t, "everything stored", func() bool {
		stats := s.Stats()
		return stats.BacklogEvents == 0 && stats.ParkedEvents == 0
	})
	st.check(t, want)
	if stats := s.Stats(); stats.DeadLetterEvents != 0 || len(deadLetters(t, dir)) != 0 {
		t.Fatalf("dead letters after the store came back: %+v", stats)
	}
}

// A gateway stopped while bisecting (the parked records and the part in
// flight on disk) resumes where it was: nothing lost, nothing stored twice,
// each refused record dead-lettered.
func TestStopWhileBisectingLosesAndDuplicatesNothing(t *testing.T) {
	dir := t.TempDir()
	for round := range 8 {
		st := newMemStore()
		st.refuse = "BAD"
		st.fail.Store(true)
		s := open(t, dir, st, testOptions())
		want := map[string]bool{}
		for i := range 64 {
			l := fmt.Sprintf("r%d-%d\n", round, i)
			if i%9 == 0 {
				l = fmt.Sprintf("BAD-%d-%d\n", round, i)
			} else {
				want[l] = true
			}
			if err := s.Write(context.Background(), []byte(l), 1); err != nil {
				t.Fatal(err)
			}
		}
		st.fail.Store(false)
		// Stop at some point of the bisection.
		waitFor(t, "the bisection to begin", func() bool { return s.Stats().InsertErrors >= int64(3+round) })
		s.Close(expired())
		s2 := open(t, dir, st, testOptions())
		waitEmpty(t, fmt.Sprintf("the rest after the restart (round %d)", round), s2)
		st.check(t, want)
		s2.Close(expired())
	}
	if got := len(deadLetters(t, dir)); got != 8*8 {
		t.Fatalf("%d dead letters, want 64 (8 refused records in each of 8 rounds)", got)
	}
}
