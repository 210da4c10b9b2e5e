// Package spool is the gateway's write-ahead queue: an event is answered 202
// only once it is on disk here, and a drain sends what is here to ClickHouse
// in large batches.
//
// Writes from many requests are group-committed: they are appended to one
// buffer, and the committer writes and fsyncs whatever has gathered while
// the previous fsync ran, so one fsync covers every request of the last
// millisecond or so, and Write returns only after its fsync.
//
// The drain reads records in order and inserts them in batches (by rows,
// bytes and age), each with a deduplication token made from the batch's
// place in the queue and its checksum, so a batch sent again after a crash
// or an error is stored once. Before a batch is sent, its bounds are written
// to the checkpoint; after ClickHouse confirms it, the checkpoint moves past
// it, and a segment is deleted once all of it is confirmed. A restart
// replays only what the checkpoint does not cover.
//
// A batch the store refuses for its rows (store.ErrBadData) is sent by
// halves, down to single records; a record refused on its own is parked
// and, refused again once the store has taken other rows, written to the
// dead-letter file (parked.go): bad input never holds up good data, and a
// failure of the store as a whole never throws events away.
//
// A record that fails its checksum (a write torn by a crash, a damaged disk)
// is skipped and counted, and reading goes on at the next good record:
// a damaged queue never stops the gateway from starting.
//
// The next segment file is filled with zeros in the background before it is
// needed, so that a commit overwrites allocated blocks and its fdatasync
// flushes data only, not the file system's journal as appending would.
// docs/queue.md describes the queue for operators.
package spool

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/calltrail/calltrail/gateway/store"
)

// Options configure a spool. Zero values take the defaults below.
type Options struct {
	// MaxBytes caps the queue's disk use; past it Write returns ErrFull.
	MaxBytes int64
	// SegmentBytes is the size at which a new segment file is started.
	SegmentBytes int64
	// A batch is sent when it has BatchRows rows or BatchBytes bytes, or
	// when its oldest event has waited BatchWait, whichever comes first.
	BatchRows  int
	BatchBytes int
	BatchWait  time.Duration
	// RetryMin and RetryMax bound the backoff between failed inserts.
	RetryMin, RetryMax time.Duration

	// AckAfterStore makes Write return only once the store has confirmed
	// the rows (or they were parked), not when they are on disk: a 202
	// then means "in ClickHouse". Tests use it so that what they post is
	// readable at once; it costs every request a batch's wait.
	AckAfterStore bool

	// Where the rows go: INSERT INTO Table (Columns) FORMAT Format.
	Table   string
	Columns []string
	Format  string

	Log *slog.Logger

	// sync makes a segment's writes durable (fdatasync); tests inject
	// disk errors through it.
	sync func(*os.File) error
}

// Defaults.
const (
	DefaultMaxBytes     = 1 << 30
	DefaultSegmentBytes = 64 << 20
	DefaultBatchRows    = 10_000
	DefaultBatchBytes   = 16 << 20
	DefaultBatchWait    = time.Second
)

func (o *Options) defaults() {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = min(DefaultSegmentBytes, max(o.MaxBytes/8, 1<<20))
	}
	if o.BatchRows <= 0 {
		o.BatchRows = DefaultBatchRows
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = DefaultBatchBytes
	}
	if o.BatchWait <= 0 {
		o.BatchWait = DefaultBatchWait
	}
	if o.RetryMin <= 0 {
		o.RetryMin = 100 * time.Millisecond
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 5 * time.Second
	}
	if o.Format == "" {
		o.Format = "TabSeparated"
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.sync == nil {
		o.sync = fdatasync
	}
}

var (
	// ErrFull is returned by Write when the queue holds MaxBytes: the store
	// has been unavailable for long, and clients should keep their events.
	ErrFull = errors.New("the queue is full while the store catches up")
	// ErrClosed is returned by Write after Close.
	ErrClosed = errors.New("the queue is closed: shutting down")
)

// Spool is a durable queue in front of a store.
type Spool struct {
	opts  Options
	store store.Store
	dir   string
	id    string // this queue's identity, part of every deduplication token
	lock  *os.File

	mu        sync.Mutex
	pending   []byte // records of the group being gathered
	groupRows int
	group     *group
	spare     []byte
	closed    bool
	segs      []*segment // ascending ids; the drain reads them in order
	// queued is the bytes of records not yet confirmed by the store,
	// including those on their way to disk: what MaxBytes caps. The disk
	// holds at most two segments more (the confirmed head of the first,
	// and of the one being written).
	queued   int64
	writeErr error // the last write or fsync error, until a commit or a probe succeeds
	// committedBytes and confirmedBytes measure the queue as one stream
	// since Open (what was waiting at Open comes first): a group is stored
	// once confirmedBytes reaches its end. confirmedCh is closed and
	// replaced whenever confirmedBytes grows.
	committedBytes, confirmedBytes int64
	confirmedCh                    chan struct{}

	// Events accepted and not yet confirmed by the store.
	backlogRows atomic.Int64
	oldest      atomic.Int64 // Unix ms of the oldest unconfirmed event, 0 when none is waiting

	kick      chan struct{} // wakes the committer
	drainKick chan struct{} // wakes the drain
	stopping  chan struct{} // Close began: the drain flushes and ends when caught up
	hardStop  chan struct{} // Close's deadline passed: the drain ends after the current insert
	committed chan struct{} // closed when the committer has ended
	drained   chan struct{} // closed when the drain has ended

	// Committer's own state.
	w         *os.File
	wSeg      *segment
	nextID    uint64
	preparing bool          // a spare segment is being prepared
	prepared  chan *os.File // the spare, once ready (nil if it failed)

	// Drain's own state.
	ck     *checkpointFile
	parked *parkedSet

	stats     counters
	storeErr  atomic.Pointer[storeFailure]
	closeOnce sync.Once
}

type segment struct {
	id     uint64
	size   int64 // bytes durable on disk: the drain reads up to here
	sealed bool  // no more writes: the drain may finish and delete it
}

type group struct {
	done chan struct{}
	err  error
	end  int64 // the queue's length once this group is committed (see committedBytes)
}

type storeFailure struct {
	err   string
	since time.Time
}

type counters struct {
	written, writtenRows  atomic.Int64 // records and events made durable
	fsyncs                atomic.Int64
	commitNanos           atomic.Int64 // time spent writing and fsyncing groups
	full                  atomic.Int64 // writes refused: queue full
	writeErrors           atomic.Int64 // writes refused: disk errors
	stored, batches       atomic.Int64 // events and batches confirmed by the store
	insertErrors          atomic.Int64
	skippedBytes, skipped atomic.Int64 // damaged stretches skipped while reading
	replayedRows          atomic.Int64 // events found in the queue at start
	parked                atomic.Int64 // events parked now
	deadLettered          atomic.Int64 // events written to the dead-letter file
}

// Open opens (creating) the queue in dir and starts draining it into st.
// Segments left by an earlier run are replayed from the checkpoint on.
func Open(dir string, st store.Store, opts Options) (*Spool, error) {
	opts.defaults()
	if opts.Table == "" || len(opts.Columns) == 0 {
		return nil, errors.New("spool: Table and Columns are required")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &Spool{
		opts: opts, store: st, dir: dir,
		group:       &group{done: make(chan struct{})},
		confirmedCh: make(chan struct{}),
		kick:        make(chan struct{}, 1),
		drainKick:   make(chan struct{}, 1),
		stopping:    make(chan struct{}),
		hardStop:    make(chan struct{}),
		committed:   make(chan struct{}),
		drained:     make(chan struct{}),
		prepared:    make(chan *os.File, 1),
	}
	if err := s.open(); err != nil {
		s.closeFiles()
		return nil, err
	}
	go s.commitLoop()
	go s.drainLoop()
	return s, nil
}

func (s *Spool) open() error {
	var err error
	if s.lock, err = os.OpenFile(filepath.Join(s.dir, "lock"), os.O_RDWR|os.O_CREATE, 0o644); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if err := syscall.Flock(int(s.lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("spool: %s is in use by another gateway (%v)", s.dir, err)
	}
	if s.id, err = loadID(s.dir); err != nil {
		return err
	}
	if s.ck, err = openCheckpoint(filepath.Join(s.dir, "checkpoint")); err != nil {
		return fmt.Errorf("spool: checkpoint: %w", err)
	}
	cp := s.ck.last
	if s.parked, err = openParked(filepath.Join(s.dir, "parked"), cp); err != nil {
		return fmt.Errorf("spool: parked records: %w", err)
	}
	s.stats.parked.Store(s.parked.rows())
	ids, err := segmentIDs(s.dir)
	if err != nil {
		return err
	}
	s.nextID = cp.seg + 1
	for _, id := range ids {
		path := s.segPath(id)
		if id < cp.seg {
			// Confirmed before the last run ended, not yet deleted.
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("spool: %w", err)
			}
			continue
		}
		fi, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		s.segs = append(s.segs, &segment{id: id, size: fi.Size(), sealed: true})
		s.nextID = max(s.nextID, id+1)
	}
	// Count what waits, so /healthz shows the backlog from the start.
	// Segments are zero-filled ahead of use: a segment's data ends where
	// its last record (or damaged stretch) does, not at the file's end.
	var rows, size int64
	for _, seg := range s.segs {
		from := int64(0)
		if seg.id == cp.seg {
			from = cp.off
		}
		r, end, err := s.scan(seg, from)
		if err != nil {
			return err
		}
		seg.size = end
		rows, size = rows+r, size+max(0, seg.size-from)
	}
	os.Remove(s.sparePath())
	s.preparing = true
	go s.prepare()
	s.backlogRows.Store(rows)
	s.queued = size
	s.committedBytes = size
	s.stats.replayedRows.Store(rows)
	if rows > 0 {
		s.opts.Log.Info("spool: replaying events accepted before the last stop",
			"events", rows, "bytes", size, "segments", len(s.segs))
	}
	return nil
}

// scan counts the events in valid records of seg from off on, and finds
// where its data ends: past the last valid record, or past the last
// non-zero byte when a damaged stretch follows it (a torn write in the
// zero-filled rest of the file).
func (s *Spool) scan(seg *segment, off int64) (rows, end int64, err error) {
	f, err := os.Open(s.segPath(seg.id))
	if err != nil {
		return 0, 0, fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	nonZero, err := lastNonZero(f, seg.size)
	if err != nil {
		return 0, 0, fmt.Errorf("spool: %w", err)
	}
	r := reader{f: f}
	end = off
	for {
		rec, st := r.next(off, seg.size)
		switch st {
		case readEnd:
			return rows, end, nil
		case readBad:
			if off >= nonZero {
				return rows, end, nil // the zero-filled rest
			}
			off = r.resync(off, seg.size)
			end = min(off, nonZero)
		default:
			rows, off, end = rows+int64(rec.rows), rec.end, rec.end
		}
	}
}

// lastNonZero returns the offset just past the file's last non-zero byte.
func lastNonZero(f *os.File, size int64) (int64, error) {
	buf := make([]byte, readChunk)
	for end := size; end > 0; {
		start := max(0, end-readChunk)
		n, err := f.ReadAt(buf[:end-start], start)
		if n < int(end-start) {
			return 0, err
		}
		for i := n - 1; i >= 0; i-- {
			if buf[i] != 0 {
				return start + int64(i) + 1, nil
			}
		}
		end = start
	}
	return 0, nil
}

func loadID(dir string) (string, error) {
	path := filepath.Join(dir, "id")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	buf := make([]byte, 8)
	_, _ = rand.Read(buf)
	id := hex.EncodeToString(buf)
	if err := writeFileSync(path, []byte(id+"\n")); err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	return id, nil
}

// writeFileSync writes a small file atomically and durably.
func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func segmentIDs(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	var ids []uint64
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".seg")
		if !ok {
			continue
		}
		id, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			continue
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

func (s *Spool) segPath(id uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d.seg", id))
}

// Write makes rows (n events, TabSeparated) durable: it returns nil only
// once they are fsynced. It returns ErrFull when the queue is at its size
// limit and ErrClosed after Close; rows are copied, the caller keeps them.
func (s *Spool) Write(ctx context.Context, rows []byte, n int) error {
	if len(rows) > MaxRecord {
		return errTooLarge
	}
	h := header(rows, n, time.Now().UnixMilli())
	size := int64(headerSize + len(rows))

	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return ErrClosed
	case s.queued+size > s.opts.MaxBytes:
		s.mu.Unlock()
		s.stats.full.Add(1)
		return ErrFull
	}
	s.pending = append(append(s.pending, h[:]...), rows...)
	s.groupRows += n
	s.queued += size
	g := s.group
	select { // under mu: Close closes kick under mu too
	case s.kick <- struct{}{}:
	default:
	}
	s.mu.Unlock()

	select {
	case <-g.done:
		if g.err != nil || !s.opts.AckAfterStore {
			return g.err
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	for {
		s.mu.Lock()
		stored, ch := s.confirmedBytes >= g.end, s.confirmedCh
		s.mu.Unlock()
		if stored {
			return nil
		}
		select {
		case <-ch:
		case <-s.drained:
			return ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// maxSpare is the largest group buffer kept for reuse after a burst.
const maxSpare = 4 << 20

// probeEvery is how often the disk is tried again after a failed commit.
const probeEvery = time.Second

// commitLoop writes and fsyncs each gathered group, and retries a failing
// disk on its own: no request may come to try it (a load balancer that saw
// /healthz answer 503 sends none), and /healthz recovers only with it.
func (s *Spool) commitLoop() {
	defer close(s.committed)
	probe := time.NewTicker(probeEvery)
	defer probe.Stop()
	for {
		select {
		case <-s.kick:
			if s.commitGathered() {
				return
			}
		case <-probe.C:
			s.probeDisk()
		}
	}
}

// commitGathered commits groups until none is waiting; true once the
// queue is closed and everything is committed.
func (s *Spool) commitGathered() bool {
	for {
		s.mu.Lock()
		buf, rows, g, closed := s.pending, s.groupRows, s.group, s.closed
		if len(buf) == 0 {
			s.mu.Unlock()
			return closed
		}
		s.pending, s.spare, s.groupRows = s.spare[:0], nil, 0
		s.group = &group{done: make(chan struct{})}
		s.mu.Unlock()

		t0 := time.Now()
		err := s.commit(buf)
		s.stats.commitNanos.Add(int64(time.Since(t0)))

		s.mu.Lock()
		if err != nil {
			s.queued -= int64(len(buf))
			s.writeErr = err
		} else {
			s.writeErr = nil
			s.wSeg.size += int64(len(buf))
			s.backlogRows.Add(int64(rows))
			s.committedBytes += int64(len(buf))
			g.end = s.committedBytes
		}
		if cap(buf) <= maxSpare {
			s.spare = buf[:0]
		}
		s.mu.Unlock()
		if err != nil {
			s.stats.writeErrors.Add(1)
			s.opts.Log.Error("spool: write failed; requests answered 503", "err", err)
			g.err = fmt.Errorf("the queue cannot write to disk: %w", err)
		} else {
			s.stats.fsyncs.Add(1)
			s.stats.writtenRows.Add(int64(rows))
		}
		close(g.done)
		s.wakeDrain()
	}
}

// probeDisk, while commits fail, writes and fdatasyncs one zero byte where
// the next group goes: the path of a real commit (a new segment after the
// failed one), and harmless, as zeros past a segment's data read as its end.
func (s *Spool) probeDisk() {
	s.mu.Lock()
	failing := s.writeErr != nil
	s.mu.Unlock()
	if !failing {
		return
	}
	err := s.commit([]byte{0})
	s.mu.Lock()
	s.writeErr = err
	s.mu.Unlock()
	if err == nil {
		s.opts.Log.Info("spool: the disk works again; accepting events")
	}
}

func (s *Spool) wakeDrain() {
	select {
	case s.drainKick <- struct{}{}:
	default:
	}
}

// commit appends buf to the segment being written and fsyncs it.
func (s *Spool) commit(buf []byte) error {
	if s.w == nil || (s.wSeg.size > 0 && s.wSeg.size+int64(len(buf)) > s.opts.SegmentBytes) {
		if err := s.rotate(); err != nil {
			return err
		}
	}
	_, err := s.w.WriteAt(buf, s.wSeg.size)
	if err == nil {
		err = s.opts.sync(s.w)
	}
	if err != nil {
		// The segment may end in part of buf now: seal it at what is known
		// good (readers skip the torn rest) and start a new one next time.
		s.sealCurrent()
		return err
	}
	return nil
}

// rotate seals the current segment and starts the next: the spare file
// prepared in the background when it is ready, else a new empty file.
func (s *Spool) rotate() error {
	s.sealCurrent()
	id := s.nextID
	var f *os.File
	if s.preparing {
		select {
		case f = <-s.prepared:
			s.preparing = false
		default:
		}
	}
	if f != nil {
		if err := os.Rename(s.sparePath(), s.segPath(id)); err != nil {
			f.Close()
			f = nil
		}
	}
	if f == nil {
		var err error
		if f, err = os.OpenFile(s.segPath(id), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err != nil {
			return err
		}
	}
	// The new file's name must survive a crash as well as its contents.
	if err := syncDir(s.dir); err != nil {
		f.Close()
		os.Remove(s.segPath(id))
		return err
	}
	s.nextID++
	seg := &segment{id: id}
	s.mu.Lock()
	s.segs = append(s.segs, seg)
	s.mu.Unlock()
	s.w, s.wSeg = f, seg
	if !s.preparing {
		s.preparing = true
		go s.prepare()
	}
	return nil
}

func (s *Spool) sparePath() string { return filepath.Join(s.dir, "spare.tmp") }

// prepare writes the next segment's file full of zeros ahead of use, so
// that appending a group overwrites allocated blocks and its fdatasync
// flushes data only: appending to a growing file also commits the file
// system's journal on every fsync, which under load made commits several
// times slower.
func (s *Spool) prepare() {
	var f *os.File
	defer func() { s.prepared <- f }()
	g, err := os.OpenFile(s.sparePath(), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		s.opts.Log.Warn("spool: cannot prepare the next segment", "err", err)
		return
	}
	zeros := make([]byte, 1<<20)
	for off := int64(0); off < s.opts.SegmentBytes; off += int64(len(zeros)) {
		if _, err := g.WriteAt(zeros[:min(int64(len(zeros)), s.opts.SegmentBytes-off)], off); err != nil {
			g.Close()
			s.opts.Log.Warn("spool: cannot prepare the next segment", "err", err)
			return
		}
	}
	if err := fdatasync(g); err != nil {
		g.Close()
		return
	}
	f = g
}

func (s *Spool) sealCurrent() {
	if s.w == nil {
		return
	}
	s.w.Close()
	s.mu.Lock()
	s.wSeg.sealed = true
	s.mu.Unlock()
	s.w, s.wSeg = nil, nil
	s.wakeDrain()
}

// Close stops accepting writes, commits what was accepted, and lets the
// drain send what it can until ctx ends. What is left stays in the queue
// for the next start. The store is not closed.
func (s *Spool) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.kick)
		s.mu.Unlock()
		<-s.committed
		s.sealCurrent()
		if s.preparing {
			if f := <-s.prepared; f != nil {
				f.Close()
			}
			os.Remove(s.sparePath())
		}
		close(s.stopping)
		select {
		case <-s.drained:
		case <-ctx.Done():
			close(s.hardStop)
			<-s.drained // an insert in progress cannot be interrupted
		}
		if n := s.backlogRows.Load(); n > 0 {
			s.opts.Log.Warn("spool: events left in the queue for the next start", "events", n)
		}
		s.closeFiles()
	})
	return nil
}

func (s *Spool) closeFiles() {
	if s.ck != nil {
		s.ck.close()
	}
	if s.parked != nil {
		s.parked.close()
	}
	if s.lock != nil {
		s.lock.Close()
	}
}

// Stats is the queue's state, for /healthz and tests.
type Stats struct {
	BacklogEvents int64   `json:"backlog_events"` // accepted, not yet confirmed by the store
	BacklogBytes  int64   `json:"backlog_bytes"`  // their queue bytes: what max_bytes caps
	OldestSeconds float64 `json:"oldest_seconds"` // age of the oldest event not yet stored
	DiskBytes     int64   `json:"disk_bytes"`
	MaxBytes      int64   `json:"max_bytes"`
	Segments      int     `json:"segments"`

	WrittenEvents int64 `json:"written_events"` // made durable since start
	Fsyncs        int64 `json:"fsyncs"`
	// CommitMillis is the mean time of one group's write and fsync.
	CommitMillis   float64 `json:"commit_ms"`
	StoredEvents   int64   `json:"stored_events"` // confirmed by the store since start
	Batches        int64   `json:"batches"`
	ReplayedEvents int64   `json:"replayed_events"` // found in the queue at start

	RefusedFull    int64 `json:"refused_full"`    // writes answered 503: queue full
	RefusedDisk    int64 `json:"refused_disk"`    // writes answered 503: disk error
	InsertErrors   int64 `json:"insert_errors"`   // failed inserts (retried)
	SkippedRecords int64 `json:"skipped_records"` // damaged stretches skipped
	SkippedBytes   int64 `json:"skipped_bytes"`
	// ParkedEvents are refused by the store on their own and set aside
	// (not in the backlog) until other events are stored; DeadLetterEvents
	// (since start) were refused again then, and are in DeadLetterFile.
	ParkedEvents     int64  `json:"parked_events"`
	DeadLetterEvents int64  `json:"dead_letter_events"`
	DeadLetterFile   string `json:"dead_letter_file,omitempty"`

	StoreError      string  `json:"store_error,omitempty"` // while inserts fail
	StoreDownSecond float64 `json:"store_down_seconds,omitempty"`
}

// Stats returns the queue's state now.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	st := Stats{BacklogBytes: s.queued, MaxBytes: s.opts.MaxBytes, Segments: len(s.segs)}
	for _, seg := range s.segs {
		st.DiskBytes += seg.size
	}
	s.mu.Unlock()
	st.BacklogEvents = s.backlogRows.Load()
	if o := s.oldest.Load(); o > 0 && st.BacklogEvents > 0 {
		st.OldestSeconds = max(0, float64(time.Now().UnixMilli()-o)/1000)
	}
	st.WrittenEvents = s.stats.writtenRows.Load()
	st.Fsyncs = s.stats.fsyncs.Load()
	if st.Fsyncs > 0 {
		st.CommitMillis = float64(s.stats.commitNanos.Load()) / float64(st.Fsyncs) / 1e6
	}
	st.StoredEvents = s.stats.stored.Load()
	st.Batches = s.stats.batches.Load()
	st.ReplayedEvents = s.stats.replayedRows.Load()
	st.RefusedFull = s.stats.full.Load()
	st.RefusedDisk = s.stats.writeErrors.Load()
	st.InsertErrors = s.stats.insertErrors.Load()
	st.SkippedRecords = s.stats.skipped.Load()
	st.SkippedBytes = s.stats.skippedBytes.Load()
	st.ParkedEvents = s.stats.parked.Load()
	if st.DeadLetterEvents = s.stats.deadLettered.Load(); st.DeadLetterEvents > 0 {
		st.DeadLetterFile = s.deadLetterPath()
	}
	if f := s.storeErr.Load(); f != nil {
		st.StoreError = f.err
		st.StoreDownSecond = time.Since(f.since).Seconds()
	}
	return st
}

// Health says why events cannot be made durable now ("" when they can),
// with the queue's state.
func (s *Spool) Health() (reason string, details any) {
	st := s.Stats()
	s.mu.Lock()
	closed, werr, room := s.closed, s.writeErr, s.opts.MaxBytes-s.queued
	s.mu.Unlock()
	switch {
	case closed:
		reason = "shutting down: the queue is closed"
	case werr != nil:
		reason = "the queue cannot write to disk: " + werr.Error()
	case room < s.largestRecord():
		reason = fmt.Sprintf("the queue is full (%d of %d bytes) while the store catches up", st.BacklogBytes, st.MaxBytes)
		if st.StoreError != "" {
			reason += "; store: " + st.StoreError
		}
	}
	return reason, st
}

// largestRecord is the most queue bytes one Write can take: "ok" must mean
// that any request is accepted, and the rows of one request (up to 500
// events, each with its URL parsed into several columns and the user agent
// repeated) can be far larger than its 64 KiB body.
func (s *Spool) largestRecord() int64 {
	return min(MaxRecord+headerSize, s.opts.MaxBytes)
}

// tokenFor is a batch's insert deduplication token: the queue's identity,
// the batch's place in it, and a checksum of its rows.
func (s *Spool) tokenFor(seg uint64, start, end int64, data []byte) string {
	return fmt.Sprintf("spool-%s-%d-%d-%d-%08x", s.id, seg, start, end, crc32.Checksum(data, castagnoli))
}
