package memory

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"

	sha256 "github.com/minio/sha256-simd"
)

// physReader yields the synthetic memory (patternAt) from pa on.
type physReader struct{ pa uint64 }

func (r *physReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = patternAt(r.pa)
		r.pa++
	}
	return len(p), nil
}

func physBytes(rg Range) []byte {
	b := make([]byte, rg.Size())
	for i := range b {
		b[i] = patternAt(rg.Start + uint64(i))
	}
	return b
}

// record is one record ReadLiME gave.
type record struct {
	Header
	body []byte
	err  error
}

func readAll(t *testing.T, b []byte) ([]record, error) {
	t.Helper()
	var recs []record
	err := ReadLiME(bytes.NewReader(b), func(h Header, body io.Reader) error {
		data, err := io.ReadAll(body)
		recs = append(recs, record{h, data, err})
		return nil
	})
	return recs, err
}

func TestLiMEHeaderBytes(t *testing.T) {
	var buf bytes.Buffer
	lw := NewLiMEWriter(&buf)
	res := lw.WriteRange(Range{0x1000, 0x100f}, &physReader{0x1000})
	if !res.Complete() || res.Bytes != 16 {
		t.Fatalf("%+v", res)
	}
	want := "454d694c" + "01000000" + "0010000000000000" + "0f10000000000000" + "0000000000000000"
	if got := hex.EncodeToString(buf.Bytes()[:32]); got != want {
		t.Errorf("header\n got %s\nwant %s", got, want)
	}
	if !bytes.Equal(buf.Bytes()[32:], physBytes(Range{0x1000, 0x100f})) || lw.Written() != 48 {
		t.Errorf("body or count wrong: %d bytes", lw.Written())
	}
}

func TestLiMERoundTrip(t *testing.T) {
	ranges := []Range{{0x1000, 0x9efff}, {0x100000, 0x107fff}, {0x108000, 0x108000}, {0x200000, 0x2012ff}}
	var buf bytes.Buffer
	lw := NewLiMEWriterSize(&buf, 0x10000)
	var results []RangeResult
	for _, rg := range ranges {
		res := lw.WriteRange(rg, &physReader{rg.Start})
		if !res.Complete() {
			t.Fatalf("%v: %+v", rg, res)
		}
		if want := sha256.Sum256(physBytes(rg)); res.SHA256 != want {
			t.Errorf("%v: hash %x, want %x", rg, res.SHA256, want)
		}
		results = append(results, res)
	}
	recs, err := readAll(t, buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	// 0x9e000 bytes in 0x10000 chunks: 10 records; then 1, 1, 1.
	if len(recs) != 13 {
		t.Fatalf("%d records", len(recs))
	}
	var off int64
	for i, r := range recs {
		if r.err != nil || r.Offset != off || uint64(len(r.body)) != r.Size() || r.Size() > 0x10000 {
			t.Fatalf("record %d: %+v (offset %d, want %d)", i, r.Header, r.Offset, off)
		}
		if !bytes.Equal(r.body, physBytes(r.Header.range_())) {
			t.Fatalf("record %d: body differs", i)
		}
		off += LiMEHeaderSize + int64(r.Size())
	}
	if off != int64(buf.Len()) || lw.Written() != off {
		t.Errorf("records end at %d, the stream at %d, written %d", off, buf.Len(), lw.Written())
	}
}

func (h Header) range_() Range { return Range{h.Start, h.End} }

// failAfter yields n bytes of the synthetic memory from pa, then err.
func failAfter(pa uint64, n int64, err error) io.Reader {
	return io.MultiReader(io.LimitReader(&physReader{pa}, n), iotest.ErrReader(err))
}

func TestLiMEReadErrorEndsTheRangeExactly(t *testing.T) {
	errBad := errors.New("bad page")
	var buf bytes.Buffer
	lw := NewLiMEWriterSize(&buf, 0x1000)
	res := lw.WriteRange(Range{0x10000, 0x1ffff}, failAfter(0x10000, 0x2345, errBad))
	if res.Complete() || !errors.Is(res.Err, errBad) || res.Bytes != 0x2345 {
		t.Fatalf("%+v", res)
	}
	if !strings.Contains(res.Err.Error(), "read at 0x12345") {
		t.Errorf("the error does not say where: %v", res.Err)
	}
	if want := sha256.Sum256(physBytes(Range{0x10000, 0x12344})); res.SHA256 != want {
		t.Errorf("the hash is not the hash of the bytes read")
	}
	// The next range is written as usual, after the bytes written.
	if res := lw.WriteRange(Range{0x12345, 0x12400}, &physReader{0x12345}); !res.Complete() {
		t.Fatalf("next range: %+v", res)
	}
	recs, err := readAll(t, buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var got []Range
	for _, r := range recs {
		got = append(got, r.range_())
	}
	want := []Range{{0x10000, 0x10fff}, {0x11000, 0x11fff}, {0x12000, 0x12344}, {0x12345, 0x12400}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("records %v, want %v", got, want)
	}
}

func TestLiMESourceEndsEarly(t *testing.T) {
	var buf bytes.Buffer
	lw := NewLiMEWriterSize(&buf, 0x1000)
	for _, n := range []int64{0, 0x1000, 0x1800} {
		rg := Range{0x100000 * uint64(n+1), 0x100000*uint64(n+1) + 0x2fff}
		res := lw.WriteRange(rg, io.LimitReader(&physReader{rg.Start}, n))
		if !errors.Is(res.Err, io.ErrUnexpectedEOF) || res.Bytes != uint64(n) {
			t.Errorf("%d bytes: %+v", n, res)
		}
	}
	recs, err := readAll(t, buf.Bytes())
	if err != nil || len(recs) != 3 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
}

func TestLiMEOrder(t *testing.T) {
	var buf bytes.Buffer
	lw := NewLiMEWriter(&buf)
	if res := lw.WriteRange(Range{0x2000, 0x2fff}, &physReader{0x2000}); !res.Complete() {
		t.Fatal(res.Err)
	}
	n := buf.Len()
	for _, rg := range []Range{{0x2fff, 0x3fff}, {0x1000, 0x1fff}, {0x5000, 0x4fff}} {
		if res := lw.WriteRange(rg, &physReader{rg.Start}); res.Err == nil || res.Bytes != 0 {
			t.Errorf("%v accepted: %+v", rg, res)
		}
	}
	if res := lw.WriteRange(Range{0x3000, 0x3fff}, &physReader{0x3000}); !res.Complete() {
		t.Errorf("the range just after: %v", res.Err)
	}
	if buf.Len() != n+32+0x1000 {
		t.Errorf("refused ranges wrote bytes")
	}
	// Nothing can follow the last byte of the address space.
	lw = NewLiMEWriter(io.Discard)
	if res := lw.WriteRange(Range{math.MaxUint64 - 9, math.MaxUint64}, &physReader{}); !res.Complete() {
		t.Fatal(res.Err)
	}
	if res := lw.WriteRange(Range{0, 0}, &physReader{}); !errors.Is(res.Err, ErrLiMEOrder) {
		t.Errorf("after the top: %v", res.Err)
	}
	// The whole address space, from a short source: no endless loop.
	lw = NewLiMEWriterSize(io.Discard, 7)
	if res := lw.WriteRange(Range{0, math.MaxUint64}, io.LimitReader(&physReader{}, 100)); res.Bytes != 100 || res.Complete() {
		t.Errorf("%+v", res)
	}
}

// failingWriter accepts n bytes, then fails.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) <= w.n {
		w.n -= len(p)
		return len(p), nil
	}
	n := w.n
	w.n = 0
	return n, errors.New("disk full")
}

func TestLiMEWriteErrorIsFinal(t *testing.T) {
	for _, budget := range []int{0, 20, 32, 32 + 0x800, 2 * (32 + 0x1000)} {
		lw := NewLiMEWriterSize(&failingWriter{budget}, 0x1000)
		res := lw.WriteRange(Range{0, 0x2fff}, &physReader{})
		if res.Err == nil || !strings.Contains(res.Err.Error(), "disk full") {
			t.Fatalf("budget %d: %+v", budget, res)
		}
		// Only records written whole are counted and hashed.
		whole := uint64(budget / (32 + 0x1000) * 0x1000)
		if res.Bytes != whole || res.SHA256 != sha256.Sum256(physBytes(Range{0, 0x2fff})[:whole]) {
			t.Errorf("budget %d: %d bytes counted, want %d", budget, res.Bytes, whole)
		}
		if lw.Written() != int64(budget) {
			t.Errorf("budget %d: Written %d", budget, lw.Written())
		}
		if res2 := lw.WriteRange(Range{0x10000, 0x10fff}, &physReader{0x10000}); res2.Err != res.Err && !errors.Is(res2.Err, errors.Unwrap(res.Err)) {
			t.Errorf("budget %d: after the error: %v", budget, res2.Err)
		}
	}
	// A writer that claims less than it was given, without an error.
	lw := NewLiMEWriter(shortWriter{})
	if res := lw.WriteRange(Range{0, 9}, &physReader{}); !errors.Is(res.Err, io.ErrShortWrite) {
		t.Errorf("short write: %v", res.Err)
	}
}

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

// header encodes a LiME header.
func header(magic, version uint32, start, end, reserved uint64) []byte {
	b := binary.LittleEndian.AppendUint32(nil, magic)
	b = binary.LittleEndian.AppendUint32(b, version)
	b = binary.LittleEndian.AppendUint64(b, start)
	b = binary.LittleEndian.AppendUint64(b, end)
	return binary.LittleEndian.AppendUint64(b, reserved)
}

func TestReadLiMEErrors(t *testing.T) {
	rec := func(start, end uint64) []byte {
		return append(header(LiMEMagic, 1, start, end, 0), physBytes(Range{start, end})...)
	}
	two := append(rec(0x1000, 0x100f), rec(0x2000, 0x2007)...)
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, tc := range []struct {
		name string
		in   []byte
		off  int64
		err  error
		want string
	}{
		{"magic", cat(rec(0, 1), header(0x4C694D46, 1, 5, 6, 0)), 34, ErrLiMEFormat, "magic"},
		{"version", header(LiMEMagic, 2, 0, 1, 0), 0, ErrLiMEFormat, "version 2"},
		{"reserved", header(LiMEMagic, 1, 0, 1, 1), 0, ErrLiMEFormat, "reserved"},
		{"reversed", header(LiMEMagic, 1, 9, 8, 0), 0, ErrLiMEFormat, "ends before"},
		{"huge", header(LiMEMagic, 1, 0, math.MaxUint64, 0), 0, ErrLiMEFormat, "larger than"},
		{"order", cat(rec(0x1000, 0x100f), rec(0x100f, 0x1010)), 48, ErrLiMEFormat, "not after"},
		{"backwards", cat(rec(0x1000, 0x100f), rec(0x10, 0x11)), 48, ErrLiMEFormat, "not after"},
		{"cut header", two[:48+20], 48, ErrLiMETruncated, "header cut after 20"},
		{"cut body", two[:48+32+3], 48, ErrLiMETruncated, "cut after 3 of 8"},
		{"cut first body", two[:32], 0, ErrLiMETruncated, "cut after 0 of 16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll(t, tc.in)
			var le *LiMEError
			if !errors.As(err, &le) || le.Offset != tc.off || !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a LiMEError at %d wrapping %v with %q", err, tc.off, tc.err, tc.want)
			}
		})
	}
	// fn's error stops the reading and comes back as is.
	stop := errors.New("stop")
	calls := 0
	err := ReadLiME(bytes.NewReader(two), func(Header, io.Reader) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("fn's error: %v after %d calls", err, calls)
	}
	// A body cut short: fn sees ErrLiMETruncated, not io.EOF, and
	// ReadLiME returns the located error even if fn returns its own.
	err = ReadLiME(bytes.NewReader(two[:40]), func(h Header, body io.Reader) error {
		_, err := io.ReadAll(body)
		if !errors.Is(err, ErrLiMETruncated) {
			t.Errorf("the body's error: %v", err)
		}
		return fmt.Errorf("mine: %w", err)
	})
	if le := (*LiMEError)(nil); !errors.As(err, &le) || strings.HasPrefix(err.Error(), "mine") {
		t.Errorf("got %v", err)
	}
	// A read error of the stream is located.
	errDisk := errors.New("disk")
	err = ReadLiME(io.MultiReader(bytes.NewReader(two[:40]), iotest.ErrReader(errDisk)), nil)
	if le := (*LiMEError)(nil); !errors.As(err, &le) || !errors.Is(err, errDisk) || le.Offset != 0 {
		t.Errorf("got %v", err)
	}
	// nil fn checks; the empty stream is a valid, empty image.
	if err := ReadLiME(bytes.NewReader(two), nil); err != nil {
		t.Error(err)
	}
	if err := ReadLiME(bytes.NewReader(nil), nil); err != nil {
		t.Error(err)
	}
}

// TestLiMETruncatedAnywhere cuts an image at every byte: ReadLiME gives
// exactly the whole records before the cut, and says the stream is cut
// unless the cut falls between records.
func TestLiMETruncatedAnywhere(t *testing.T) {
	var buf bytes.Buffer
	lw := NewLiMEWriterSize(&buf, 0x40)
	var bounds []int64
	for _, rg := range []Range{{0x0, 0x9f}, {0x100, 0x100}, {0x1000, 0x103f}} {
		for pa := rg.Start; pa <= rg.End; pa += 0x40 {
			lw.WriteRange(Range{pa, min(pa+0x3f, rg.End)}, &physReader{pa})
			bounds = append(bounds, lw.Written())
		}
	}
	img := buf.Bytes()
	for cut := 0; cut <= len(img); cut++ {
		recs, err := readAll(t, img[:cut])
		whole := 0
		for _, b := range bounds {
			if b <= int64(cut) {
				whole++
			}
		}
		atBound := cut == 0 || int64(cut) == bounds[max(whole-1, 0)]
		if atBound != (err == nil) || (err != nil && !errors.Is(err, ErrLiMETruncated)) {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		complete := 0
		for _, r := range recs {
			if r.err == nil {
				complete++
				if !bytes.Equal(r.body, physBytes(r.range_())) {
					t.Fatalf("cut at %d: record %v differs", cut, r.range_())
				}
			}
		}
		if complete != whole {
			t.Fatalf("cut at %d: %d whole records, want %d", cut, complete, whole)
		}
	}
}
