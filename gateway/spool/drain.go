package spool

import (
	"context"
	"os"
	"time"
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
	first      int64 // Unix ms of its first record
}

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
				d.confirm()
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

// idle waits for new data with everything read confirmed. Only here is
// there no oldest event: between batches the last one's first event stands
// until fill reads the next, so the age never drops to 0 while a backlog
// remains.
func (d *drainer) idle() bool {
	d.s.oldest.Store(0)
	return d.wait(0)
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

// send inserts the batch, retrying with backoff until the store takes it;
// false when Close's deadline passed first (the batch stays queued).
func (d *drainer) send() bool {
	s, b := d.s, &d.b
	token := s.tokenFor(d.cur, b.start, b.end, b.data)
	delay := s.opts.RetryMin
	backoff := func() bool {
		ok := d.sleep(delay)
		delay = min(2*delay, s.opts.RetryMax)
		return ok
	}
	// The intent: after a crash the same bounds, so the same token.
	for {
		err := s.ck.write(checkpoint{seg: d.cur, off: b.start, intentEnd: b.end}, true)
		if err == nil {
			break
		}
		s.opts.Log.Error("spool: cannot write the checkpoint", "err", err)
		if !backoff() {
			return false
		}
	}
	for {
		err := s.store.Insert(context.Background(), s.opts.Table, s.opts.Columns, s.opts.Format, b.data, token)
		if err == nil {
			break
		}
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
				"events", b.rows, "backlog_events", s.backlogRows.Load(), "err", err)
		}
		if !backoff() {
			return false
		}
	}
	if prev := s.storeErr.Swap(nil); prev != nil {
		s.opts.Log.Info("spool: the store is back; catching up",
			"down_for", time.Since(prev.since).Round(time.Millisecond), "backlog_events", s.backlogRows.Load())
	}
	s.stats.stored.Add(int64(b.rows))
	s.stats.batches.Add(1)
	s.backlogRows.Add(-int64(b.rows))
	d.forced = 0
	d.confirm()
	return true
}

// confirm moves the checkpoint to the batch's end and starts the next
// batch there.
func (d *drainer) confirm() {
	s, b := d.s, &d.b
	if err := s.ck.write(checkpoint{seg: d.cur, off: b.end}, false); err != nil {
		s.opts.Log.Error("spool: cannot write the checkpoint", "err", err)
	}
	s.mu.Lock()
	s.queued -= b.end - b.start
	s.confirmedBytes += b.end - b.start
	close(s.confirmedCh)
	s.confirmedCh = make(chan struct{})
	s.mu.Unlock()
	b.start, b.rows, b.data, b.first = b.end, 0, b.data[:0], 0
	if cap(b.data) > 2*s.opts.BatchBytes {
		b.data = nil
	}
}

// finishSegment deletes a sealed segment whose every record is confirmed.
func (d *drainer) finishSegment(seg segment) {
	s := d.s
	if d.b.end > d.b.start {
		d.confirm() // a damaged tail
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
