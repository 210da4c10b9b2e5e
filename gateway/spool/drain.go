package spool

import (
	"context"
	"errors"
	"os"
	"slices"
	"time"

	"github.com/calltrail/calltrail/gateway/store"
)

// drainer is the one goroutine that reads the queue in order and inserts
// it into the store.
type drainer struct {
	s        *Spool
	cur      uint64 // segment being read
	r        reader
	rSeg     uint64 // segment r.f belongs to (r.f nil: none)
	b        batch
	forced   int64 // > 0: the batch must end exactly here (an intent left by the last run)
	stopping bool
	lastLog  time.Time
}

// batch is a run of whole records of one segment, [start, end).
type batch struct {
	start, end int64
	rows       int
	data       []byte
	first      int64     // Unix ms of its first record
	recs       []recSpan // where it can be cut: its records, in order
}

// recSpan is one record of a batch.
type recSpan struct {
	end     int64 // offset just past it in the segment
	dataEnd int   // and in the batch's data
	rows    int
	time    int64
}

// span is a run of a batch's records, [lo, hi) by index.
type span struct{ lo, hi int }

func (s *Spool) drainLoop() {
	defer close(s.drained)
	cp := s.ck.last
	d := &drainer{s: s, cur: cp.seg}
	d.b.start, d.b.end = cp.off, cp.off
	if cp.intentEnd > cp.off {
		d.forced = cp.intentEnd
	}
	defer d.closeReader()
	d.run()
}

// segFrom returns a copy of the first segment whose id is at least id.
func (s *Spool) segFrom(id uint64) (segment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, seg := range s.segs {
		if seg.id >= id {
			return *seg, true
		}
	}
	return segment{}, false
}

func (d *drainer) run() {
	s := d.s
	for {
		select {
		case <-s.hardStop:
			return
		default:
		}
		seg, ok := s.segFrom(d.cur)
		if !ok {
			if d.stopping || !d.idle() {
				return
			}
			continue
		}
		if seg.id != d.cur {
			// The segment we were at is gone (confirmed and deleted before a
			// restart): begin the next one.
			d.cur, d.b.start, d.b.end, d.forced = seg.id, 0, 0, 0
		}
		d.fill(seg)
		atEnd := seg.sealed && d.b.end >= seg.size
		if d.b.rows == 0 {
			switch {
			case atEnd:
				d.finishSegment(seg)
			case d.b.end > d.b.start:
				// Only a damaged stretch: nothing to send, move past it.
				d.confirm(d.b.end)
			case d.stopping:
				return
			case !d.idle():
				return
			}
			continue
		}
		full := d.b.rows >= s.opts.BatchRows || len(d.b.data) >= s.opts.BatchBytes ||
			(d.forced > 0 && d.b.end >= d.forced)
		age := time.Duration(time.Now().UnixMilli()-d.b.first) * time.Millisecond
		if !full && !atEnd && !d.stopping && age < s.opts.BatchWait {
			if !d.wait(s.opts.BatchWait - age) {
				return
			}
			continue
		}
		if !d.send() {
			return
		}
		if atEnd {
			d.finishSegment(seg)
		}
	}
}

// fill reads records of seg into the batch until it is full or the
// segment's durable end.
func (d *drainer) fill(seg segment) {
	s := d.s
	if d.rSeg != seg.id || d.r.f == nil {
		d.closeReader()
		f, err := os.Open(s.segPath(seg.id))
		if err != nil {
			s.opts.Log.Error("spool: segment unreadable; skipped", "segment", seg.id, "err", err)
			d.skip(d.b.end, seg.size)
			d.b.end = seg.size
			return
		}
		d.r, d.rSeg = reader{f: f}, seg.id
	}
	limit := seg.size
	if d.forced > 0 {
		limit = min(limit, d.forced)
	}
	for d.b.rows < s.opts.BatchRows && len(d.b.data) < s.opts.BatchBytes && d.b.end < limit {
		rec, st := d.r.next(d.b.end, limit)
		switch st {
		case readEnd:
			return
		case readBad:
			next := d.r.resync(d.b.end, limit)
			d.skip(d.b.end, next)
			d.b.end = next
		default:
			if d.b.rows == 0 {
				d.b.first = rec.time
				s.oldest.Store(rec.time)
			}
			d.b.data = append(d.b.data, rec.payload...)
			d.b.rows += rec.rows
			d.b.end = rec.end
			d.b.recs = append(d.b.recs, recSpan{end: rec.end, dataEnd: len(d.b.data), rows: rec.rows, time: rec.time})
		}
	}
}

func (d *drainer) skip(from, to int64) {
	if to <= from {
		return
	}
	d.s.stats.skipped.Add(1)
	d.s.stats.skippedBytes.Add(to - from)
	d.s.opts.Log.Warn("spool: damaged records skipped (a write torn by a crash, or a damaged disk)",
		"segment", d.cur, "offset", from, "bytes", to-from)
}

func (d *drainer) closeReader() {
	if d.r.f != nil {
		d.r.f.Close()
	}
	d.r = reader{}
}

// wait sleeps until new data, the timeout (0: none) or Close; false means
// the drain must end now.
func (d *drainer) wait(timeout time.Duration) bool {
	var tc <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		tc = t.C
	}
	var stop <-chan struct{}
	if !d.stopping {
		stop = d.s.stopping
	}
	select {
	case <-d.s.drainKick:
	case <-tc:
	case <-stop:
		d.stopping = true
	case <-d.s.hardStop:
		return false
	}
	return true
}

// idle waits for new data with everything read confirmed (stored, parked
// or damaged). Only here is there no oldest event: between batches the last one's first event stands
// until fill reads the next, so the age never drops to 0 while a backlog
// remains.
func (d *drainer) idle() bool {
	s := d.s
	s.oldest.Store(0)
	if len(s.parked.recs) == 0 {
		return d.wait(0)
	}
	// Parked records wait for another insert to succeed; while none
	// comes they are tried again now and then.
	ok := d.wait(s.opts.RetryMax)
	d.retryParked(false)
	return ok
}

// sleep waits out a backoff; false when Close's deadline passed.
func (d *drainer) sleep(delay time.Duration) bool {
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-d.s.hardStop:
		return false
	}
}

// bisectAfter is how many times in a row the store may refuse a batch for
// its rows before it is sent by halves.
const bisectAfter = 3

// send inserts the batch, retrying with backoff until the store takes it;
// false when Close's deadline passed first (the rest stays queued).
//
// When the store keeps refusing the batch for its rows (store.ErrBadData:
// nothing of it was stored), it is sent by halves, left first, down to
// single records, and a single record refused is parked (parked.go), so
// that bad input never holds up good data. Each part is sent like a batch:
// its bounds are in the checkpoint first and it is confirmed once stored,
// so a crash while bisecting replays exactly the part in flight, with its
// token (made from its bounds). Every other error is the store's as a
// whole: the same rows are retried until they are taken.
func (d *drainer) send() bool {
	s, b := d.s, &d.b
	pending := []span{{0, len(b.recs)}} // parts still to send, the next last
	refused := 0                        // refusals in a row of the next part
	stored := false                     // some part was stored
	delay := s.opts.RetryMin
	for len(pending) > 0 {
		part := pending[len(pending)-1]
		end, data, rows := d.part(part)
		if !d.intend(end) {
			return false
		}
		err := s.store.Insert(context.Background(), s.opts.Table, s.opts.Columns, s.opts.Format, data,
			s.tokenFor(d.cur, b.start, end, data))
		if err == nil {
			pending, refused, delay, stored = pending[:len(pending)-1], 0, s.opts.RetryMin, true
			// Before the checkpoint passes this part: a stop before the
			// retry of the parked records below must not lose the witness.
			if err := s.parked.witness(); err != nil {
				s.opts.Log.Error("spool: cannot write the parked file", "err", err)
			}
			d.stored(rows, end)
			continue
		}
		d.failed(err, rows)
		if errors.Is(err, store.ErrBadData) {
			// The rows are refused, so they will be every time: the whole
			// batch is given a few tries, a part one.
			refused++
			if whole := part == (span{0, len(b.recs)}); !whole || refused >= bisectAfter {
				switch {
				case part.hi-part.lo > 1:
					mid := part.lo + (part.hi-part.lo)/2
					pending = append(pending[:len(pending)-1], span{mid, part.hi}, span{part.lo, mid})
					refused, delay = 0, s.opts.RetryMin
					continue
				case d.park(part, end, data, err, stored):
					pending, refused, delay = pending[:len(pending)-1], 0, s.opts.RetryMin
					continue
				}
			}
		}
		if !d.sleep(delay) {
			return false
		}
		delay = min(2*delay, s.opts.RetryMax)
	}
	d.forced = 0
	if stored {
		d.retryParked(true)
	}
	return true
}

// part returns the end offset, rows and event count of a part of the batch
// whose first record is the first one not yet confirmed (b.start): parts
// are sent left first. The last part ends where the batch does, past any
// damaged stretch after its last record, so a whole batch has the bounds
// and token it has always had.
func (d *drainer) part(p span) (end int64, data []byte, rows int) {
	b := &d.b
	from := 0
	if p.lo > 0 {
		from = b.recs[p.lo-1].dataEnd
	}
	end = b.end
	if p.hi < len(b.recs) {
		end = b.recs[p.hi-1].end
	}
	for _, r := range b.recs[p.lo:p.hi] {
		rows += r.rows
	}
	return end, b.data[from:b.recs[p.hi-1].dataEnd], rows
}

// intend makes [b.start, end) durable as the part being sent: after a
// crash the first batch is cut to exactly these bounds, so it carries the
// same token. False when Close's deadline passed first.
func (d *drainer) intend(end int64) bool {
	s := d.s
	for delay := s.opts.RetryMin; ; delay = min(2*delay, s.opts.RetryMax) {
		err := s.ck.write(checkpoint{seg: d.cur, off: d.b.start, intentEnd: end}, true)
		if err == nil {
			return true
		}
		s.opts.Log.Error("spool: cannot write the checkpoint", "err", err)
		if !d.sleep(delay) {
			return false
		}
	}
}

// stored counts a part the store took and confirms it.
func (d *drainer) stored(rows int, end int64) {
	s := d.s
	if prev := s.storeErr.Swap(nil); prev != nil {
		s.opts.Log.Info("spool: the store is back; catching up",
			"down_for", time.Since(prev.since).Round(time.Millisecond), "backlog_events", s.backlogRows.Load())
	}
	s.stats.stored.Add(int64(rows))
	s.stats.batches.Add(1)
	s.backlogRows.Add(-int64(rows))
	d.confirm(end)
}

// failed counts a failed insert and shows it in /healthz.
func (d *drainer) failed(err error, rows int) {
	s := d.s
	s.stats.insertErrors.Add(1)
	now := time.Now()
	prev := s.storeErr.Load()
	since := now
	if prev != nil {
		since = prev.since
	}
	s.storeErr.Store(&storeFailure{err: err.Error(), since: since})
	if prev == nil || now.Sub(d.lastLog) > 30*time.Second {
		d.lastLog = now
		s.opts.Log.Error("spool: insert failed; events stay queued and are retried",
			"events", rows, "backlog_events", s.backlogRows.Load(), "err", err)
	}
}

// park sets aside a single record the store refused, and confirms it: it
// has left the queue for the parked file; witnessed, when the store has
// taken another part of its batch already. False when it cannot be parked
// (too much is parked already, or the file cannot be written): the record
// is then retried where it is.
func (d *drainer) park(p span, end int64, data []byte, refusal error, witnessed bool) bool {
	s := d.s
	if s.stats.parked.Load() >= maxParkedEvents {
		return false
	}
	rec := d.b.recs[p.lo]
	r := parkedRecord{Seg: d.cur, Start: d.b.start, End: end, Rows: rec.rows, Time: rec.time, Data: slices.Clone(data),
		Witnessed: witnessed}
	if err := s.parked.add(r); err != nil {
		s.opts.Log.Error("spool: cannot park a refused record", "err", err)
		return false
	}
	s.opts.Log.Warn("spool: the store refuses a record on its own; parked until other events are stored, then tried again",
		"events", r.Rows, "segment", r.Seg, "offset", r.Start, "err", refusal)
	s.stats.parked.Add(int64(r.Rows))
	s.backlogRows.Add(-int64(r.Rows))
	d.confirm(end)
	return true
}

// retryParked tries the parked records again: each stored is resolved.
// Witnessed (the store has just taken other rows of a batch, or has since
// the record was parked: a witness that survives a restart), one refused
// for its rows again is dead-lettered; otherwise it stays parked. Any other
// error is the store's: the rest waits.
func (d *drainer) retryParked(witnessed bool) {
	s := d.s
	for i := 0; i < len(s.parked.recs); {
		select {
		case <-s.hardStop:
			return
		default:
		}
		r := s.parked.recs[i]
		err := s.store.Insert(context.Background(), s.opts.Table, s.opts.Columns, s.opts.Format, r.Data,
			s.tokenFor(r.Seg, r.Start, r.End, r.Data))
		switch {
		case err == nil:
			s.stats.stored.Add(int64(r.Rows))
		case !errors.Is(err, store.ErrBadData):
			return
		case !witnessed && !r.Witnessed:
			i++
			continue
		default:
			if werr := s.deadLetter(r, err); werr != nil {
				s.opts.Log.Error("spool: cannot write the dead-letter file; the record stays parked", "err", werr)
				return
			}
			s.stats.deadLettered.Add(int64(r.Rows))
			s.opts.Log.Error("spool: the store refuses a record while it stores others; written to the dead-letter file",
				"file", s.deadLetterPath(), "events", r.Rows, "segment", r.Seg, "offset", r.Start, "err", err)
		}
		if err := s.parked.resolve(i); err != nil {
			s.opts.Log.Error("spool: cannot write the parked file", "err", err)
			return
		}
		s.stats.parked.Add(-int64(r.Rows))
	}
}

// confirm moves the checkpoint to end (the end of the batch or of one of
// its records): everything before it is stored, parked or damaged.
func (d *drainer) confirm(end int64) {
	s, b := d.s, &d.b
	if err := s.ck.write(checkpoint{seg: d.cur, off: end}, false); err != nil {
		s.opts.Log.Error("spool: cannot write the checkpoint", "err", err)
	}
	s.mu.Lock()
	s.queued -= end - b.start
	s.confirmedBytes += end - b.start
	close(s.confirmedCh)
	s.confirmedCh = make(chan struct{})
	s.mu.Unlock()
	b.start = end
	if end < b.end {
		return
	}
	b.rows, b.data, b.first, b.recs = 0, b.data[:0], 0, b.recs[:0]
	if cap(b.data) > 2*s.opts.BatchBytes {
		b.data = nil
	}
}

// finishSegment deletes a sealed segment whose every record is confirmed.
func (d *drainer) finishSegment(seg segment) {
	s := d.s
	if d.b.end > d.b.start {
		d.confirm(d.b.end) // a damaged tail
	}
	if err := s.ck.write(checkpoint{seg: seg.id, off: seg.size}, true); err != nil {
		s.opts.Log.Error("spool: cannot write the checkpoint", "err", err)
	}
	d.closeReader()
	if err := os.Remove(s.segPath(seg.id)); err != nil && !os.IsNotExist(err) {
		s.opts.Log.Error("spool: cannot delete a confirmed segment", "segment", seg.id, "err", err)
	}
	s.mu.Lock()
	for i, x := range s.segs {
		if x.id == seg.id {
			s.segs = append(s.segs[:i], s.segs[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
	d.cur, d.b.start, d.b.end = seg.id+1, 0, 0
}
