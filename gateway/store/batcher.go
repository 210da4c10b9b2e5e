package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Batcher groups rows from many requests into few large inserts (ClickHouse
// wants ≥1,000 rows or about one insert a second, not one per request). A
// Write returns once the insert holding its rows is confirmed, so a caller
// that answers after Write has its rows stored.
type Batcher struct {
	store   Store
	table   string
	columns []string
	format  string
	opts    BatchOptions
	in      chan *pending
	done    chan struct{}
}

// BatchOptions say when a batch is sent: whichever limit comes first.
type BatchOptions struct {
	MaxRows  int           // rows in one insert
	MaxBytes int           // encoded bytes in one insert
	MaxWait  time.Duration // how long the first row of a batch may wait
	Retries  int           // attempts per insert before the writers get the error
}

// DefaultBatchOptions suit the embedded engine: inserts of up to 10k rows,
// never holding a request more than 100 ms plus the insert itself.
var DefaultBatchOptions = BatchOptions{MaxRows: 10_000, MaxBytes: 8 << 20, MaxWait: 100 * time.Millisecond, Retries: 3}

type pending struct {
	data []byte
	rows int
	done chan error
}

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("batcher closed")

// NewBatcher starts a batcher for rows of table, each encoded in format with
// the given columns.
func NewBatcher(s Store, table string, columns []string, format string, opts BatchOptions) *Batcher {
	b := &Batcher{store: s, table: table, columns: columns, format: format, opts: opts,
		in: make(chan *pending, 1024), done: make(chan struct{})}
	go b.loop()
	return b
}

// Write queues rows (already encoded) and waits until they are inserted.
func (b *Batcher) Write(ctx context.Context, data []byte, rows int) error {
	p := &pending{data: data, rows: rows, done: make(chan error, 1)}
	select {
	case b.in <- p:
	case <-b.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close flushes what is queued and stops the batcher.
func (b *Batcher) Close() {
	close(b.in)
	<-b.done
}

func (b *Batcher) loop() {
	defer close(b.done)
	var batch []*pending
	var rows, size int
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		if len(batch) > 0 {
			b.insert(batch, size)
		}
		batch, rows, size = nil, 0, 0
		timer.Stop()
	}
	for {
		select {
		case p, ok := <-b.in:
			if !ok {
				flush()
				return
			}
			if len(batch) == 0 {
				timer.Reset(b.opts.MaxWait)
			}
			batch = append(batch, p)
			rows += p.rows
			size += len(p.data)
			if rows >= b.opts.MaxRows || size >= b.opts.MaxBytes {
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}

// insert sends one batch, retrying with the same deduplication token so a
// retry of an insert that did land is not stored twice.
func (b *Batcher) insert(batch []*pending, size int) {
	data := make([]byte, 0, size)
	for _, p := range batch {
		data = append(data, p.data...)
	}
	token := uuid.NewString()
	var err error
	for attempt := 0; attempt < max(1, b.opts.Retries); attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
		}
		if err = b.store.Insert(context.Background(), b.table, b.columns, b.format, data, token); err == nil {
			break
		}
	}
	if err != nil {
		err = fmt.Errorf("store %d rows into %s: %w", len(batch), b.table, err)
	}
	for _, p := range batch {
		p.done <- err
	}
}
