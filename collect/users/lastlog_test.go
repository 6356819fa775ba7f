package users

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// sparseLastlog writes a sparse lastlog of layout l in dir with one
// record, at uid, and an apparent size of records uids.
func sparseLastlog(t *testing.T, l Layout, uid, records int64) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "lastlog"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	rs := int64(l.LastlogSize())
	if err := f.Truncate(records * rs); err != nil {
		t.Skipf("cannot make a sparse file of %d bytes here: %v", records*rs, err)
	}
	if _, err := f.WriteAt(encodeLastlog(l, at("2024-03-04T05:06:07Z"), "pts/4", "192.0.2.44"), uid*rs); err != nil {
		t.Fatal(err)
	}
	return f
}

func scanAll(t *testing.T, r io.ReaderAt, size int64, l Layout, next DataFinder) ([]LastlogRecord, error) {
	t.Helper()
	var out []LastlogRecord
	err := ScanLastlog(r, size, l, next, func(rec LastlogRecord) error {
		out = append(out, rec)
		return nil
	})
	return out, err
}

func TestLastlogSparse(t *testing.T) {
	for _, l := range []Layout{Layout32, Layout64} {
		t.Run(l.String(), func(t *testing.T) {
			f := sparseLastlog(t, l, 1000, 1001)
			size := int64(1001 * l.LastlogSize())
			next := dataFinder(f, size)
			if got := DetectLastlogLayout(f, size, next); got != l {
				t.Fatalf("DetectLastlogLayout = %v, want %v", got, l)
			}
			recs, err := scanAll(t, f, size, l, next)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 {
				t.Fatalf("got %d records, want only uid 1000's: %+v", len(recs), recs)
			}
			r := recs[0]
			if r.UID != 1000 || r.Offset != int64(1000*l.LastlogSize()) || r.Time != "2024-03-04T05:06:07Z" ||
				r.Line != "pts/4" || r.Host != "192.0.2.44" || r.LineRaw != nil || r.HostRaw != nil || r.Notes != nil {
				t.Errorf("record = %+v", r)
			}
		})
	}
}

// TestLastlogHoles checks that the holes of a huge sparse lastlog are
// skipped, not read: uid 4,000,000,000 sits 1.17 TB into the file.
func TestLastlogHoles(t *testing.T) {
	const uid = 4_000_000_000
	f := sparseLastlog(t, Layout32, uid, uid+1)
	size := int64(uid+1) * 292
	next := dataFinder(f, size)
	if start, _, found, err := next(0); err != nil || !found || start == 0 {
		t.Skipf("no SEEK_DATA on this file system (first data at %d, %v, %v)", start, found, err)
	}
	cr := &countingReaderAt{r: f}
	recs, err := scanAll(t, cr, size, Layout32, next)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].UID != uid || recs[0].Host != "192.0.2.44" {
		t.Fatalf("records = %+v", recs)
	}
	if n := cr.n.Load(); n > 1<<20 {
		t.Errorf("read %d bytes of a file with one record", n)
	}
}

func TestLastlogWholeFileAndPartial(t *testing.T) {
	// Without a data finder, zero records are read and skipped; bytes
	// after the last whole record are returned as a partial record.
	var b []byte
	b = append(b, make([]byte, 3*292)...)
	b = append(b, encodeLastlog(Layout32, at("2001-02-03T04:05:06Z"), "tty\xfe", "host")...)
	b = append(b, 1, 2, 3)
	recs, err := scanAll(t, bytes.NewReader(b), int64(len(b)), Layout32, WholeFile(int64(len(b))))
	var pe *PartialRecordError
	if !errors.As(err, &pe) || pe.Offset != 4*292 || !bytes.Equal(pe.Data, []byte{1, 2, 3}) {
		t.Fatalf("error = %v, want the 3 trailing bytes at offset %d", err, 4*292)
	}
	if len(recs) != 1 || recs[0].UID != 3 || recs[0].Line != `tty\xfe` || string(recs[0].LineRaw) != "tty\xfe" {
		t.Fatalf("records = %+v", recs)
	}
}

func TestLastlogBadFinder(t *testing.T) {
	b := make([]byte, 292*4)
	bad := func(off int64) (int64, int64, bool, error) { return 0, 0, true, nil }
	if err := ScanLastlog(bytes.NewReader(b), int64(len(b)), Layout32, bad, func(LastlogRecord) error { return nil }); err == nil {
		t.Fatal("a data finder that makes no progress was not refused")
	}
}
