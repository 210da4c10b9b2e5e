package spool

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
	"unicode/utf8"
)

// A record that the store refuses on its own (store.ErrBadData) when its
// batch is sent by halves is parked: set aside, so that the queue goes on
// past it. It is tried again once the store has taken other rows (at the
// end of a batch of which some part was stored): stored, or, refused
// again, written to the dead-letter file for a person to look at. A refusal of every row (a table
// that no longer matches the queue's columns) thus dead-letters nothing:
// the parked records wait, tried again now and then while the queue is idle
// (a refusal then proves nothing, unless the store took other rows since the
// record was parked), and past maxParkedEvents a refused record
// is retried where it is instead.
//
// The parked file (DATA/spool/parked) holds one JSON line per record parked
// and one per record resolved (stored or dead-lettered), each fsynced before
// the checkpoint moves on. A record is parked under its place in the queue,
// so its token is the one it had there: a crash between its insert and its
// "resolved" line stores it once.
//
// That the store took other rows after a record was refused (the witness
// that makes a second refusal the record's own) is kept in the file too: a
// record parked after a part of its batch was stored is parked Witnessed,
// and a "witness" line, written before the checkpoint moves past a stored
// part, marks every record above it. Kept only in memory, it was lost when
// the gateway stopped between the end of a bisection and the retry of the
// parked records: with the whole batch confirmed, nothing was left to store
// after the restart, and the records stayed parked for good.
type parkedSet struct {
	f    *os.File
	recs []parkedRecord
}

type parkedRecord struct {
	Seg      uint64 `json:"seg"`
	Start    int64  `json:"start"` // its bounds in the queue: its token's
	End      int64  `json:"end"`
	Rows     int    `json:"rows"`
	Time     int64  `json:"time"`           // when it was accepted, Unix ms
	Data     []byte `json:"data,omitempty"` // the rows as queued
	Resolved bool   `json:"resolved,omitempty"`
	// Witnessed: the store has taken other rows since this record was
	// refused; refused again, it is dead-lettered.
	Witnessed bool `json:"witnessed,omitempty"`
	// Witness marks a line that is no record: every record above it is
	// Witnessed.
	Witness bool `json:"witness,omitempty"`
}

// maxParkedEvents bounds what is parked while no insert succeeds: past it a
// refused record holds up the queue (retried, never dropped), as when every
// row is refused the store is not taking this queue's rows at all.
const maxParkedEvents = 1000

// openParked reads the parked records that the checkpoint cp has moved
// past (one parked by a run that stopped before the checkpoint passed it is
// still in the queue) and rewrites the file with only those.
func openParked(path string, cp checkpoint) (*parkedSet, error) {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var recs []parkedRecord
	for _, line := range bytes.Split(data, []byte("\n")) {
		var r parkedRecord
		if json.Unmarshal(line, &r) != nil {
			continue // empty, or torn by a crash before the checkpoint moved
		}
		if r.Witness {
			for i := range recs {
				recs[i].Witnessed = true
			}
			continue
		}
		recs = slices.DeleteFunc(recs, func(x parkedRecord) bool { return x.Seg == r.Seg && x.Start == r.Start })
		if !r.Resolved && (r.Seg < cp.seg || r.Seg == cp.seg && r.Start < cp.off) {
			recs = append(recs, r)
		}
	}
	var live []byte
	for _, r := range recs {
		live = appendJSONLine(live, r)
	}
	if err := writeFileSync(path, live); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &parkedSet{f: f, recs: recs}, nil
}

func (p *parkedSet) rows() (n int64) {
	for _, r := range p.recs {
		n += int64(r.Rows)
	}
	return n
}

// add parks r durably.
func (p *parkedSet) add(r parkedRecord) error {
	if err := p.append(r); err != nil {
		return err
	}
	p.recs = append(p.recs, r)
	return nil
}

// witness records durably that the store has taken other rows since every
// record parked now was refused.
func (p *parkedSet) witness() error {
	if !slices.ContainsFunc(p.recs, func(r parkedRecord) bool { return !r.Witnessed }) {
		return nil
	}
	if err := p.append(parkedRecord{Witness: true}); err != nil {
		return err
	}
	for i := range p.recs {
		p.recs[i].Witnessed = true
	}
	return nil
}

// resolve records that the i-th parked record is stored or dead-lettered.
func (p *parkedSet) resolve(i int) error {
	r := p.recs[i]
	if len(p.recs) == 1 {
		// Nothing left: start the file afresh rather than let it grow.
		if err := p.f.Truncate(0); err != nil {
			return err
		}
		if err := fdatasync(p.f); err != nil {
			return err
		}
	} else if err := p.append(parkedRecord{Seg: r.Seg, Start: r.Start, Resolved: true}); err != nil {
		return err
	}
	p.recs = slices.Delete(p.recs, i, i+1)
	return nil
}

func (p *parkedSet) append(r parkedRecord) error {
	if _, err := p.f.Write(appendJSONLine(nil, r)); err != nil {
		return err
	}
	return fdatasync(p.f)
}

func (p *parkedSet) close() { p.f.Close() }

func appendJSONLine(b []byte, v any) []byte {
	line, _ := json.Marshal(v) // plain structs: cannot fail
	return append(append(b, line...), '\n')
}

// deadLetterName is the dead-letter file, in the spool's folder.
const deadLetterName = "dead-letter.jsonl"

// deadLetter appends r and the store's refusal to the dead-letter file, one
// JSON line for a person to read: the rows as queued (TabSeparated, in
// rows_base64 instead when they are not UTF-8), when they were accepted,
// where they were in the queue, and the error.
func (s *Spool) deadLetter(r parkedRecord, refusal error) error {
	line := struct {
		Time       time.Time `json:"time"`
		Accepted   time.Time `json:"accepted"`
		Queue      string    `json:"queue"`
		Segment    uint64    `json:"segment"`
		Offset     int64     `json:"offset"`
		Events     int       `json:"events"`
		Error      string    `json:"error"`
		Rows       string    `json:"rows,omitempty"`
		RowsBase64 []byte    `json:"rows_base64,omitempty"`
	}{Time: time.Now().UTC(), Accepted: time.UnixMilli(r.Time).UTC(), Queue: s.id, Segment: r.Seg,
		Offset: r.Start, Events: r.Rows, Error: refusal.Error()}
	if utf8.Valid(r.Data) {
		line.Rows = string(r.Data)
	} else {
		line.RowsBase64 = r.Data
	}
	f, err := os.OpenFile(s.deadLetterPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Write(appendJSONLine(nil, line)); err != nil {
		return err
	}
	if err := fdatasync(f); err != nil {
		return fmt.Errorf("%s: %w", s.deadLetterPath(), err)
	}
	return nil
}

func (s *Spool) deadLetterPath() string { return filepath.Join(s.dir, deadLetterName) }
