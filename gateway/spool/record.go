package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
)

// A segment is a file of records, each:
//
//	magic   uint32  "CTQ1"
//	crc     uint32  CRC-32C of everything after it: the rest of the header and the payload
//	length  uint32  payload bytes
//	rows    uint32  events in the payload
//	time    int64   when the gateway accepted it, Unix milliseconds
//	payload         TabSeparated rows of ingest.Columns, each ending in '\n'
//
// all little-endian. A record is written whole or found torn: the checksum
// covers its length, so a torn or overwritten record never passes for a
// good one, and the magic lets a reader find the next good record after a
// damaged stretch.
const (
	headerSize = 24
	magic      = 0x31515443 // "CTQ1" in little-endian order
	// MaxRecord bounds one record's payload (one request's rows). The
	// gateway's 64 KiB body limit keeps real records far below it.
	MaxRecord = 16 << 20
)

var (
	castagnoli  = crc32.MakeTable(crc32.Castagnoli)
	magicBytes  = binary.LittleEndian.AppendUint32(nil, magic)
	errTooLarge = errors.New("spool: record over 16 MiB")
)

// header builds a record header for payload.
func header(payload []byte, rows int, unixMilli int64) [headerSize]byte {
	var h [headerSize]byte
	binary.LittleEndian.PutUint32(h[0:], magic)
	binary.LittleEndian.PutUint32(h[8:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(h[12:], uint32(rows))
	binary.LittleEndian.PutUint64(h[16:], uint64(unixMilli))
	crc := crc32.Update(0, castagnoli, h[8:])
	crc = crc32.Update(crc, castagnoli, payload)
	binary.LittleEndian.PutUint32(h[4:], crc)
	return h
}

// record is one record as read back.
type record struct {
	rows    int
	time    int64 // Unix ms
	payload []byte
	end     int64 // offset just past it
}

// readStatus says what a read found at an offset.
type readStatus int

const (
	readOK  readStatus = iota
	readEnd            // nothing more before the limit
	readBad            // bytes that are not a whole, valid record
)

// reader reads records of one segment file through a buffer, so that
// draining costs one read per megabyte, not two per record.
type reader struct {
	f      *os.File
	buf    []byte
	bufOff int64 // file offset of buf[0]
}

const readChunk = 1 << 20

// at returns the bytes [off, off+n) of the file, which must lie before limit.
func (r *reader) at(off int64, n int, limit int64) ([]byte, error) {
	if off+int64(n) > limit {
		return nil, io.ErrUnexpectedEOF
	}
	if off >= r.bufOff && off+int64(n) <= r.bufOff+int64(len(r.buf)) {
		return r.buf[off-r.bufOff:][:n], nil
	}
	size := max(n, readChunk)
	if rest := limit - off; int64(size) > rest {
		size = int(rest)
	}
	if cap(r.buf) < size {
		r.buf = make([]byte, size)
	}
	r.buf = r.buf[:size]
	k, err := r.f.ReadAt(r.buf, off)
	r.buf, r.bufOff = r.buf[:k], off
	if k < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return r.buf[:n], nil
}

// next reads the record at off. The payload points into the reader's
// buffer: it is valid until the next call.
func (r *reader) next(off, limit int64) (record, readStatus) {
	if off >= limit {
		return record{}, readEnd
	}
	h, err := r.at(off, headerSize, limit)
	if err != nil || binary.LittleEndian.Uint32(h[0:]) != magic {
		return record{}, readBad
	}
	n := binary.LittleEndian.Uint32(h[8:])
	if n > MaxRecord {
		return record{}, readBad
	}
	want := binary.LittleEndian.Uint32(h[4:])
	rows := int(binary.LittleEndian.Uint32(h[12:]))
	t := int64(binary.LittleEndian.Uint64(h[16:]))
	crc := crc32.Update(0, castagnoli, h[8:])
	// h may be invalidated by the next read; everything needed is copied.
	whole, err := r.at(off, headerSize+int(n), limit)
	if err != nil {
		return record{}, readBad
	}
	payload := whole[headerSize:]
	if crc32.Update(crc, castagnoli, payload) != want {
		return record{}, readBad
	}
	return record{rows: rows, time: t, payload: payload, end: off + headerSize + int64(n)}, readOK
}

// resync finds the first valid record after a damaged one at off, or
// limit when there is none: the damaged stretch is [off, result).
func (r *reader) resync(off, limit int64) int64 {
	pos := off + 1
	for pos+headerSize <= limit {
		size := min(int64(readChunk), limit-pos)
		chunk, err := r.at(pos, int(size), limit)
		if err != nil {
			return limit
		}
		i := bytes.Index(chunk, magicBytes)
		if i < 0 {
			// Keep the last three bytes: a magic may straddle the chunks.
			pos += max(1, size-int64(len(magicBytes)-1))
			continue
		}
		cand := pos + int64(i)
		if _, st := r.next(cand, limit); st == readOK {
			return cand
		}
		pos = cand + 1
	}
	return limit
}
