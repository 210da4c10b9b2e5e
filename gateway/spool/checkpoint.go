package spool

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"syscall"
)

// checkpoint is how far ClickHouse has confirmed the queue, and the batch
// being inserted now. Before a batch is sent its bounds are made durable
// here (the intent); after a crash the first batch is cut to exactly those
// bounds again, so it carries the same deduplication token and ClickHouse
// drops it if the first attempt had landed.
type checkpoint struct {
	seq       uint64
	seg       uint64 // confirmed: every record before (seg, off) is stored
	off       int64
	intentEnd int64 // > off: the batch [off, intentEnd) of seg may have been sent
}

// checkpointFile keeps the checkpoint in two slots written in turn, each
// with its own checksum: a write torn by a crash spoils one slot only, and
// the other still holds the previous checkpoint.
type checkpointFile struct {
	f    *os.File
	last checkpoint
}

const (
	slotSize  = 64
	slotMagic = 0x31504b43 // "CKP1"
)

func openCheckpoint(path string) (*checkpointFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	c := &checkpointFile{f: f}
	buf := make([]byte, 2*slotSize)
	n, _ := f.ReadAt(buf, 0)
	for i := 0; i+slotSize <= n; i += slotSize {
		if cp, ok := decodeSlot(buf[i : i+slotSize]); ok && cp.seq >= c.last.seq {
			c.last = cp
		}
	}
	return c, nil
}

func decodeSlot(b []byte) (checkpoint, bool) {
	le := binary.LittleEndian
	if le.Uint32(b[0:]) != slotMagic || le.Uint32(b[4:]) != crc32.Checksum(b[8:40], castagnoli) {
		return checkpoint{}, false
	}
	return checkpoint{seq: le.Uint64(b[8:]), seg: le.Uint64(b[16:]), off: int64(le.Uint64(b[24:])), intentEnd: int64(le.Uint64(b[32:]))}, true
}

// write stores cp in the slot the last one did not use; sync makes it
// durable before returning (needed for intents, not for confirmations: a
// lost confirmation only replays a batch whose token ClickHouse knows).
func (c *checkpointFile) write(cp checkpoint, sync bool) error {
	cp.seq = c.last.seq + 1
	le := binary.LittleEndian
	b := make([]byte, slotSize)
	le.PutUint32(b[0:], slotMagic)
	le.PutUint64(b[8:], cp.seq)
	le.PutUint64(b[16:], cp.seg)
	le.PutUint64(b[24:], uint64(cp.off))
	le.PutUint64(b[32:], uint64(cp.intentEnd))
	le.PutUint32(b[4:], crc32.Checksum(b[8:40], castagnoli))
	if _, err := c.f.WriteAt(b, int64(cp.seq%2)*slotSize); err != nil {
		return err
	}
	if sync {
		if err := fdatasync(c.f); err != nil {
			return err
		}
	}
	c.last = cp
	return nil
}

func (c *checkpointFile) close() error { return c.f.Close() }

func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
