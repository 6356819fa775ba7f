package chain

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/internal/evidence"
)

// The spool's record is byte for byte the one Marshal makes of the same
// record with its items in memory, with and without extra members after
// the items, with no item, and with items whose strings hold what could
// look like the items member.
func TestItemSpoolWriteRecordMatchesMarshal(t *testing.T) {
	tricky := evidence.Item{Collector: "files", Class: "config", Source: "/etc/\n \"items\": []\n", Kind: "file", Status: "failed",
		Reason: "permission denied <&>", Before: &evidence.Stat{Mode: "\n \"items\": [\n"}}
	cases := map[string]func(*Record){
		"full":     func(r *Record) {},
		"no extra": func(r *Record) { r.Extra = nil },
		"no items": func(r *Record) { r.Items = nil },
		"many": func(r *Record) {
			for i := range 1000 {
				it := tricky
				it.Source = fmt.Sprintf("%s%d", it.Source, i)
				it.Status = evidence.Statuses()[i%4]
				r.Items = append(r.Items, it)
			}
		},
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			rec := fullRecord()
			change(rec)
			if rec.Items == nil {
				rec.Items = []evidence.Item{}
			}
			rec.Summarize()
			want, err := rec.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			s, err := NewItemSpool(filepath.Join(t.TempDir(), ItemSpoolFile))
			if err != nil {
				t.Fatal(err)
			}
			for i := range rec.Items {
				if err := s.Add(&rec.Items[i]); err != nil {
					t.Fatal(err)
				}
			}
			head := *rec
			head.Items, head.Summary = nil, nil
			var got bytes.Buffer
			if err := s.WriteRecord(&got, head); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("spooled record differs from Marshal's:\n got %d bytes\nwant %d bytes\n%s", got.Len(), len(want), firstDiff(got.Bytes(), want))
			}
			if _, err := ReadRecord(bytes.NewReader(got.Bytes())); err != nil {
				t.Fatal(err)
			}
			fails, n := s.Failures()
			wantFailed := rec.Summary["failed"]
			if n != wantFailed || len(fails) != min(wantFailed, maxFailuresKept) {
				t.Fatalf("failures: %d kept, %d counted; want %d counted", len(fails), n, wantFailed)
			}
			if err := s.Remove(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A spool of 200,000 items keeps the heap small while it is filled and
// while the record is written out, and its file is a fraction of the
// record's size.
func TestItemSpoolBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("200,000 items")
	}
	dir := t.TempDir()
	s, err := NewItemSpool(filepath.Join(dir, ItemSpoolFile))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var peak uint64
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	runtime.GC()
	const n = 200000
	for i := range n {
		it := evidence.Item{Collector: "files", Class: "config", Source: fmt.Sprintf("/srv/tree/%07d/file-%d.conf", i/100, i),
			Path: fmt.Sprintf("data/fs/srv/tree/%07d/file-%d.conf", i/100, i), Kind: "file", Status: "collected",
			Size: int64(i), SHA256: strings.Repeat("ab", 32), Before: &evidence.Stat{Mode: "-rw-r--r--", Perm: 33188, Size: 1},
			After: &evidence.Stat{Mode: "-rw-r--r--", Perm: 33188, Size: 1}, Started: t0, Ended: t0}
		if err := s.Add(&it); err != nil {
			t.Fatal(err)
		}
		if i%10000 == 0 {
			sample()
		}
	}
	out, err := os.Create(filepath.Join(dir, "record.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	rec := fullRecord()
	rec.Items = nil
	if err := s.WriteRecord(&sampling{w: out, sample: sample}, *rec); err != nil {
		t.Fatal(err)
	}
	spool, _ := os.Stat(filepath.Join(dir, ItemSpoolFile))
	whole, _ := out.Stat()
	t.Logf("200,000 items: heap peak %.1f MiB, spool %.1f MiB, record %.1f MiB", float64(peak)/(1<<20),
		float64(spool.Size())/(1<<20), float64(whole.Size())/(1<<20))
	if peak > 24<<20 {
		t.Fatalf("heap peaked at %.1f MiB for 200,000 spooled items", float64(peak)/(1<<20))
	}
	if spool.Size()*4 > whole.Size() {
		t.Fatalf("spool %d bytes for a record of %d", spool.Size(), whole.Size())
	}
}

type sampling struct {
	w      *os.File
	sample func()
	n      int
}

func (s *sampling) Write(p []byte) (int, error) {
	if s.n++; s.n%100 == 0 {
		s.sample()
	}
	return s.w.Write(p)
}

// firstDiff says where two texts first differ, line by line.
func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\ngot:  " + x + "\nwant: " + y
		}
	}
	return ""
}
