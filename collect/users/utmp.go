package users

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
)

// Record types of ut_type (glibc bits/utmp.h).
var utmpTypes = [...]string{
	0: "EMPTY",
	1: "RUN_LVL",
	2: "BOOT_TIME",
	3: "NEW_TIME",
	4: "OLD_TIME",
	5: "INIT_PROCESS",
	6: "LOGIN_PROCESS",
	7: "USER_PROCESS",
	8: "DEAD_PROCESS",
	9: "ACCOUNTING",
}

// UtmpTypeName returns the glibc name of a ut_type value, or
// "UNKNOWN(n)".
func UtmpTypeName(t int16) string {
	if t >= 0 && int(t) < len(utmpTypes) {
		return utmpTypes[t]
	}
	return fmt.Sprintf("UNKNOWN(%d)", t)
}

// UtmpRecord is one record of a utmp, wtmp or btmp file (glibc's struct
// utmp), as written to the parsed JSON Lines.
type UtmpRecord struct {
	// Offset is the record's byte offset in the file.
	Offset     int64  `json:"offset"`
	RecordSize int    `json:"record_size"`
	Type       string `json:"type"`
	TypeCode   int16  `json:"type_code"`
	PID        int32  `json:"pid"`
	Line       string `json:"line"`
	LineRaw    []byte `json:"line_raw,omitempty"`
	ID         string `json:"id"`
	IDRaw      []byte `json:"id_raw,omitempty"`
	User       string `json:"user"`
	UserRaw    []byte `json:"user_raw,omitempty"`
	Host       string `json:"host"`
	HostRaw    []byte `json:"host_raw,omitempty"`
	// Addr is ut_addr_v6 rendered: IPv4 when only its first word is set,
	// IPv6 otherwise, empty when all zero.
	Addr            string `json:"addr,omitempty"`
	ExitTermination int16  `json:"exit_termination"`
	ExitStatus      int16  `json:"exit_status"`
	Session         int64  `json:"session"`
	// Time is ut_tv as UTC RFC 3339 with microseconds; empty only when
	// it cannot be written (Notes says why).
	Time  string   `json:"time,omitempty"`
	Notes []string `json:"notes,omitempty"`

	// Zero is set when every byte of the record is zero.
	Zero bool `json:"-"`

	sec, usec int64 // ut_tv
}

// ParseUtmp parses one record of layout l from b, which must hold at least
// l.UtmpSize() bytes. Offset is left zero.
func ParseUtmp(b []byte, l Layout) UtmpRecord {
	le := binary.LittleEndian
	b = b[:l.UtmpSize()]
	r := UtmpRecord{RecordSize: len(b), Zero: allZero(b)}
	r.TypeCode = int16(le.Uint16(b[0:]))
	r.Type = UtmpTypeName(r.TypeCode)
	if r.TypeCode < 0 || int(r.TypeCode) >= len(utmpTypes) {
		r.Notes = append(r.Notes, "record type not defined by glibc")
	}
	r.PID = int32(le.Uint32(b[4:]))
	r.Line, r.LineRaw = text(b[8:40])
	r.ID, r.IDRaw = text(b[40:44])
	r.User, r.UserRaw = text(b[44:76])
	r.Host, r.HostRaw = text(b[76:332])
	r.ExitTermination = int16(le.Uint16(b[332:]))
	r.ExitStatus = int16(le.Uint16(b[334:]))
	var sec, usec int64
	var addr []byte
	if l == Layout64 {
		r.Session = int64(le.Uint64(b[336:]))
		sec = int64(le.Uint64(b[344:]))
		usec = int64(le.Uint64(b[352:]))
		addr = b[360:376]
	} else {
		r.Session = int64(int32(le.Uint32(b[336:])))
		// Unsigned, as glibc reads it since 2.40: times up to 2106.
		sec = int64(le.Uint32(b[340:]))
		usec = int64(int32(le.Uint32(b[344:])))
		addr = b[348:364]
	}
	r.sec, r.usec = sec, usec
	var note string
	r.Time, note = unixTime(sec, usec)
	if note != "" {
		r.Notes = append(r.Notes, note)
	}
	r.Addr = renderAddr(addr)
	return r
}

// renderAddr renders ut_addr_v6 as OpenSSH and others write it: an IPv4
// address in the first word alone, or all 16 bytes of an IPv6 address.
func renderAddr(a []byte) string {
	if allZero(a) {
		return ""
	}
	if allZero(a[4:16]) {
		return netip.AddrFrom4([4]byte(a[:4])).String()
	}
	return netip.AddrFrom16([16]byte(a[:16])).String()
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// utmpValid reports whether a record looks like one a system wrote: a
// defined non-EMPTY type, microseconds in range and a time after 1980.
func utmpValid(r *UtmpRecord) bool {
	return r.TypeCode >= 1 && r.TypeCode <= 9 && r.usec >= 0 && r.usec < 1e6 &&
		r.sec >= minPlausibleSec && r.sec < maxPlausibleSec
}

// DetectUtmpLayout returns the layout of a utmp-format file of size bytes
// whose first bytes are head: the one under which more of head's whole
// records look valid, then the one whose record size alone divides size,
// then NativeLayout.
func DetectUtmpLayout(head []byte, size int64) Layout {
	score := func(l Layout) int {
		n := 0
		for off := 0; off+l.UtmpSize() <= len(head); off += l.UtmpSize() {
			r := ParseUtmp(head[off:], l)
			if utmpValid(&r) {
				n++
			}
		}
		return n
	}
	return choose(score(Layout32), score(Layout64), size, Layout32.UtmpSize(), Layout64.UtmpSize())
}

// DetectHeadSize is how many bytes of a file's start DetectUtmpLayout
// should be given: 64 records of the larger layout.
const DetectHeadSize = 64 * 400

// PartialRecordError reports bytes after the last whole record of a file:
// a record cut short (a write in progress, a truncated or damaged file).
type PartialRecordError struct {
	Offset     int64  // where the partial record starts
	RecordSize int    // the size a whole record would have
	Data       []byte // its bytes, fewer than RecordSize
}

func (e *PartialRecordError) Error() string {
	return fmt.Sprintf("partial record of %d bytes (of %d) at offset %d", len(e.Data), e.RecordSize, e.Offset)
}

// UtmpReader reads utmp records from a stream.
type UtmpReader struct {
	r      io.Reader
	layout Layout
	off    int64
	buf    []byte
	done   bool
}

// NewUtmpReader returns a reader of the records of layout l in r. The
// caller should buffer r.
func NewUtmpReader(r io.Reader, l Layout) *UtmpReader {
	return &UtmpReader{r: r, layout: l, buf: make([]byte, l.UtmpSize())}
}

// Next returns the next record with its Offset. At the end it returns
// io.EOF, or first a *PartialRecordError when bytes remain that do not
// make a whole record. A read error is returned wrapped, with its offset.
func (u *UtmpReader) Next() (UtmpRecord, error) {
	if u.done {
		return UtmpRecord{}, io.EOF
	}
	n, err := io.ReadFull(u.r, u.buf)
	switch {
	case errors.Is(err, io.EOF) && n == 0:
		u.done = true
		return UtmpRecord{}, io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		u.done = true
		e := &PartialRecordError{Offset: u.off, RecordSize: len(u.buf), Data: append([]byte{}, u.buf[:n]...)}
		u.off += int64(n)
		return UtmpRecord{}, e
	case err != nil:
		u.done = true
		return UtmpRecord{}, fmt.Errorf("read record at offset %d: %w", u.off+int64(n), err)
	}
	rec := ParseUtmp(u.buf, u.layout)
	rec.Offset = u.off
	u.off += int64(n)
	return rec, nil
}
