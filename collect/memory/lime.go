package memory

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	sha256 "github.com/minio/sha256-simd"
)

// The LiME format: records of a 32-byte little-endian header (magic,
// version, first and last physical address, a reserved zero) followed by
// the bytes of that physical range.
const (
	LiMEMagic      = 0x4C694D45 // "EMiL" on disk, "LiME" read as a little-endian uint32
	LiMEVersion    = 1
	LiMEHeaderSize = 32
	// DefaultChunk is the most bytes a LiMEWriter holds, and so the
	// largest record it writes.
	DefaultChunk = 1 << 20
)

// Header is a LiME record header.
type Header struct {
	Start, End uint64 // physical addresses of the record's first and last bytes (End inclusive)
	Offset     int64  // where the header starts in the stream (set by ReadLiME)
}

// Size returns the number of bytes of the record's body.
func (h Header) Size() uint64 { return h.End - h.Start + 1 }

// The errors ReadLiME and LiMEWriter wrap.
var (
	ErrLiMEFormat    = errors.New("not a LiME record")
	ErrLiMETruncated = errors.New("LiME stream cut short")
	// ErrLiMEOrder is returned for a range that does not start after the
	// previous one: Volatility refuses records out of address order.
	ErrLiMEOrder = errors.New("range not after the previous one")
)

// LiMEError locates a problem in a LiME stream.
type LiMEError struct {
	Offset int64 // where the record's header starts in the stream
	Err    error
}

func (e *LiMEError) Error() string { return fmt.Sprintf("lime record at byte %d: %v", e.Offset, e.Err) }
func (e *LiMEError) Unwrap() error { return e.Err }

// RangeResult is what LiMEWriter.WriteRange wrote of one range.
type RangeResult struct {
	Start, End uint64 // the range asked for, End inclusive
	// Bytes counts the bytes of the range written, from Start: the image
	// holds exactly [Start, Start+Bytes-1] of it. SHA256 is the hash of
	// those bytes.
	Bytes  uint64
	SHA256 [32]byte
	// Err says why the range ended before End (a read error, the source
	// ending early, a write error); nil when it is complete.
	Err error
}

// Complete reports whether the whole range was written.
func (r RangeResult) Complete() bool {
	return r.Err == nil && r.Bytes-1 == r.End-r.Start
}

// LiMEWriter writes a LiME image, range by range, to an io.Writer.
//
// A range is read in chunks of at most the writer's chunk size (1 MiB by
// default); each chunk is read whole into the writer's buffer before its
// record is written, so that a record header never claims a byte that
// was not read. A range is therefore written as one record or more, in
// address order, which Volatility and every LiME reader map as one
// contiguous span. When a read fails part way, the bytes read before the
// failure are written as a last, shorter record, and the range ends there:
// the image never holds a byte it did not read and never zeros in place
// of one. The next range is written as usual.
//
// A write error is final: the stream may end in the middle of a record,
// and every later WriteRange returns that error.
//
// A LiMEWriter is not safe for concurrent use. It never closes w.
type LiMEWriter struct {
	w       io.Writer
	buf     []byte
	hdr     [LiMEHeaderSize]byte
	next    uint64 // the lowest start of the next range
	full    bool   // the last byte of the address space is written
	written int64
	err     error
}

// NewLiMEWriter returns a writer of records of at most DefaultChunk bytes.
func NewLiMEWriter(w io.Writer) *LiMEWriter { return NewLiMEWriterSize(w, DefaultChunk) }

// NewLiMEWriterSize returns a writer whose buffer, and so its largest
// record, is chunk bytes (at least 1).
func NewLiMEWriterSize(w io.Writer, chunk int) *LiMEWriter {
	return &LiMEWriter{w: w, buf: make([]byte, max(chunk, 1))}
}

// Written returns the number of bytes written to the underlying writer.
func (lw *LiMEWriter) Written() int64 { return lw.written }

// WriteRange writes the physical range rg, whose bytes r yields from
// rg.Start on, and returns what it wrote. It reads at most rg.Size()
// bytes of r and never reads it to its end. Ranges must come in address
// order, each starting after the last byte written before it.
func (lw *LiMEWriter) WriteRange(rg Range, r io.Reader) (res RangeResult) {
	res = RangeResult{Start: rg.Start, End: rg.End}
	h := sha256.New()
	defer func() { h.Sum(res.SHA256[:0]) }()
	switch {
	case lw.err != nil:
		res.Err = lw.err
		return res
	case rg.End < rg.Start:
		res.Err = fmt.Errorf("lime: range %v ends before it starts", rg)
		return res
	case lw.full || (lw.written > 0 && rg.Start < lw.next):
		res.Err = fmt.Errorf("lime: range %v: %w", rg, ErrLiMEOrder)
		return res
	}
	chunk := uint64(len(lw.buf))
	for pa := rg.Start; ; {
		want := chunk
		if rg.End-pa < chunk-1 {
			want = rg.End - pa + 1
		}
		n, rerr := io.ReadFull(r, lw.buf[:want])
		if n > 0 {
			last := pa + uint64(n) - 1
			if err := lw.record(pa, last, lw.buf[:n]); err != nil {
				res.Err = err
				return res
			}
			h.Write(lw.buf[:n])
			res.Bytes += uint64(n)
			lw.next, lw.full = last+1, last == math.MaxUint64
			if last == rg.End {
				return res
			}
			pa = last + 1
		}
		switch {
		case errors.Is(rerr, io.EOF), errors.Is(rerr, io.ErrUnexpectedEOF):
			res.Err = fmt.Errorf("lime: the source ended at %#x, before %#x: %w", pa, rg.End, io.ErrUnexpectedEOF)
			return res
		case rerr != nil:
			res.Err = fmt.Errorf("lime: read at %#x: %w", pa, rerr)
			return res
		}
	}
}

// record writes one record: its header, then b.
func (lw *LiMEWriter) record(start, end uint64, b []byte) error {
	binary.LittleEndian.PutUint32(lw.hdr[0:], LiMEMagic)
	binary.LittleEndian.PutUint32(lw.hdr[4:], LiMEVersion)
	binary.LittleEndian.PutUint64(lw.hdr[8:], start)
	binary.LittleEndian.PutUint64(lw.hdr[16:], end)
	binary.LittleEndian.PutUint64(lw.hdr[24:], 0)
	for _, p := range [][]byte{lw.hdr[:], b} {
		n, err := lw.w.Write(p)
		lw.written += int64(n)
		if err == nil && n < len(p) {
			err = io.ErrShortWrite
		}
		if err != nil {
			lw.err = fmt.Errorf("lime: write: %w", err)
			return lw.err
		}
	}
	return nil
}

// ReadLiME reads a LiME stream record by record and calls fn with each
// header and a reader of exactly that record's bytes. What fn leaves
// unread is skipped. It returns nil at the end of the stream, after a
// whole record; fn's error, which stops it; or a *LiMEError that locates
// a bad header (ErrLiMEFormat: magic, version, reserved field, a range
// that ends before it starts or does not come after the previous one) or
// a cut (ErrLiMETruncated). The reader fn gets returns ErrLiMETruncated,
// not io.EOF, when the stream ends inside the record. fn may be nil, to
// check the stream only.
func ReadLiME(r io.Reader, fn func(h Header, body io.Reader) error) error {
	var hb [LiMEHeaderSize]byte
	var off int64
	var prevEnd uint64
	for first := true; ; first = false {
		n, err := io.ReadFull(r, hb[:])
		switch {
		case err == io.EOF:
			return nil
		case err == io.ErrUnexpectedEOF:
			return &LiMEError{Offset: off, Err: fmt.Errorf("header cut after %d of %d bytes: %w", n, LiMEHeaderSize, ErrLiMETruncated)}
		case err != nil:
			return &LiMEError{Offset: off, Err: err}
		}
		h, err := parseHeader(hb[:], off)
		if err == nil && !first && h.Start <= prevEnd {
			err = fmt.Errorf("range %#x-%#x not after the previous one, ending at %#x: %w", h.Start, h.End, prevEnd, ErrLiMEFormat)
		}
		if err != nil {
			return &LiMEError{Offset: off, Err: err}
		}
		body := &bodyReader{r: r, h: h, left: int64(h.Size())}
		if fn != nil {
			if err := fn(h, body); err != nil {
				if body.err != nil {
					return body.err
				}
				return err
			}
		}
		if _, err := io.Copy(io.Discard, body); err != nil {
			return err
		}
		off += LiMEHeaderSize + int64(h.Size())
		prevEnd = h.End
	}
}

func parseHeader(b []byte, off int64) (Header, error) {
	magic, version := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
	h := Header{Start: binary.LittleEndian.Uint64(b[8:]), End: binary.LittleEndian.Uint64(b[16:]), Offset: off}
	reserved := binary.LittleEndian.Uint64(b[24:])
	switch {
	case magic != LiMEMagic:
		return h, fmt.Errorf("magic %#08x, not %#08x: %w", magic, LiMEMagic, ErrLiMEFormat)
	case version != LiMEVersion:
		return h, fmt.Errorf("version %d, not %d: %w", version, LiMEVersion, ErrLiMEFormat)
	case reserved != 0:
		return h, fmt.Errorf("reserved field %#x, not 0: %w", reserved, ErrLiMEFormat)
	case h.End < h.Start:
		return h, fmt.Errorf("range %#x-%#x ends before it starts: %w", h.Start, h.End, ErrLiMEFormat)
	case h.End-h.Start >= math.MaxInt64-LiMEHeaderSize || off > math.MaxInt64-LiMEHeaderSize-int64(h.End-h.Start+1):
		return h, fmt.Errorf("range %#x-%#x larger than a file can hold: %w", h.Start, h.End, ErrLiMEFormat)
	}
	return h, nil
}

// bodyReader yields exactly one record's bytes, and ErrLiMETruncated
// (located) when the stream ends before them.
type bodyReader struct {
	r    io.Reader
	h    Header
	left int64
	err  error // the first error of r, located
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	switch {
	case err == io.EOF && b.left > 0:
		got := int64(b.h.Size()) - b.left
		b.err = &LiMEError{Offset: b.h.Offset, Err: fmt.Errorf("record %#x-%#x cut after %d of %d bytes: %w",
			b.h.Start, b.h.End, got, b.h.Size(), ErrLiMETruncated)}
	case err != nil && err != io.EOF:
		b.err = &LiMEError{Offset: b.h.Offset, Err: err}
	}
	if b.err != nil {
		return n, b.err
	}
	if b.left == 0 {
		return n, io.EOF
	}
	return n, nil
}
