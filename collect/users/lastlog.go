package users

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// LastlogRecord is one non-empty record of /var/log/lastlog: the last
// login of the uid the record's position gives.
type LastlogRecord struct {
	UID uint64 `json:"uid"`
	// Names are the accounts /etc/passwd gives this uid, in file order.
	Names      []string `json:"names,omitempty"`
	Offset     int64    `json:"offset"`
	RecordSize int      `json:"record_size"`
	// Time is ll_time as UTC RFC 3339; empty only when it cannot be
	// written (Notes says why).
	Time    string   `json:"time,omitempty"`
	Line    string   `json:"line"`
	LineRaw []byte   `json:"line_raw,omitempty"`
	Host    string   `json:"host"`
	HostRaw []byte   `json:"host_raw,omitempty"`
	Notes   []string `json:"notes,omitempty"`

	sec int64 // ll_time
}

// ParseLastlog parses the lastlog record of layout l in b (at least
// l.LastlogSize() bytes) found at offset off; the uid is off divided by
// the record size.
func ParseLastlog(b []byte, off int64, l Layout) LastlogRecord {
	size := l.LastlogSize()
	b = b[:size]
	r := LastlogRecord{UID: uint64(off) / uint64(size), Offset: off, RecordSize: size}
	if r.UID > math.MaxUint32 {
		r.Notes = append(r.Notes, "position is beyond the 32-bit uid range")
	}
	var sec int64
	p := 4
	if l == Layout64 {
		sec, p = int64(binary.LittleEndian.Uint64(b)), 8
	} else {
		// Unsigned, as glibc reads it since 2.40: times up to 2106.
		sec = int64(binary.LittleEndian.Uint32(b))
	}
	r.sec = sec
	var note string
	r.Time, note = unixTime(sec, 0)
	if note != "" {
		r.Notes = append(r.Notes, note)
	}
	r.Line, r.LineRaw = text(b[p : p+32])
	r.Host, r.HostRaw = text(b[p+32 : p+32+256])
	return r
}

// A DataFinder returns the first range [start, end) at or after off that
// may hold non-zero bytes of a file, skipping holes; found is false when
// no data follows off.
type DataFinder func(off int64) (start, end int64, found bool, err error)

// WholeFile is the DataFinder of a file of size bytes with no known holes.
func WholeFile(size int64) DataFinder {
	return func(off int64) (int64, int64, bool, error) {
		if off >= size {
			return 0, 0, false, nil
		}
		return off, size, true, nil
	}
}

// lastlogChunk is how many records ScanLastlog reads at once.
const lastlogChunk = 256

// ScanLastlog calls fn, in uid order, for each record of layout l in the
// first size bytes of r that is not all zero. It reads only the ranges
// next reports, so the holes of a sparse file are skipped, not read. When
// size is not a whole number of records it returns, after the last
// record, a *PartialRecordError holding the remaining bytes. An error fn
// returns stops the scan and is returned.
func ScanLastlog(r io.ReaderAt, size int64, l Layout, next DataFinder, fn func(LastlogRecord) error) error {
	rs := int64(l.LastlogSize())
	whole := size - size%rs
	buf := make([]byte, lastlogChunk*rs)
	off := int64(0)
	for off < whole {
		start, end, found, err := next(off)
		if err != nil {
			return fmt.Errorf("find data after offset %d: %w", off, err)
		}
		if !found || start >= whole {
			break
		}
		if start < off || end <= start {
			return fmt.Errorf("find data after offset %d: bad range [%d, %d)", off, start, end)
		}
		end = min(end, whole)
		pos := max(start-start%rs, off)
		for pos < end {
			n := min(int64(len(buf)), (end-pos+rs-1)/rs*rs)
			b := buf[:n]
			if k, err := r.ReadAt(b, pos); int64(k) < n {
				return fmt.Errorf("read lastlog at offset %d: %w", pos+int64(k), err)
			}
			for i := int64(0); i < n; i += rs {
				if allZero(b[i : i+rs]) {
					continue
				}
				if err := fn(ParseLastlog(b[i:i+rs], pos+i, l)); err != nil {
					return err
				}
			}
			pos += n
		}
		off = pos
	}
	if size > whole {
		b := make([]byte, size-whole)
		if k, err := r.ReadAt(b, whole); int64(k) < int64(len(b)) {
			return fmt.Errorf("read lastlog at offset %d: %w", whole+int64(k), err)
		}
		return &PartialRecordError{Offset: whole, RecordSize: int(rs), Data: b}
	}
	return nil
}

// lastlogValid reports whether a non-empty record looks like one a system
// wrote: a time after 1980 and text fields that end in NULs.
func lastlogValid(r *LastlogRecord) bool {
	return r.LineRaw == nil && r.HostRaw == nil && r.UID <= math.MaxUint32 &&
		r.sec >= minPlausibleSec && r.sec < maxPlausibleSec
}

// DetectLastlogLayout returns the layout of a lastlog file of size bytes:
// the one under which more of the first 32 non-empty records look valid,
// then the one whose record size alone divides size, then NativeLayout.
func DetectLastlogLayout(r io.ReaderAt, size int64, next DataFinder) Layout {
	score := func(l Layout) int {
		n, seen := 0, 0
		stop := errors.New("enough records")
		_ = ScanLastlog(r, size, l, next, func(rec LastlogRecord) error {
			if lastlogValid(&rec) {
				n++
			}
			if seen++; seen >= 32 {
				return stop
			}
			return nil
		})
		return n
	}
	return choose(score(Layout32), score(Layout64), size, Layout32.LastlogSize(), Layout64.LastlogSize())
}
