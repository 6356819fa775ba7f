package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/internal/evidence"
)

// fullRecord fills every field of a record.
func fullRecord() *chain.Record {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)
	r := &chain.Record{
		Format: chain.RecordFormat, Collection: "c-1", Case: "affaire 2026/42", Examiner: "É. Durand",
		People: &chain.People{Operator: &chain.Person{Name: "A", Organisation: "CERT", Role: "responder", Reference: "PV 12"},
			Witnesses: []chain.Person{{Name: "B"}}, Mandator: "Société X"},
		Tool: chain.Tool{Name: "scelle", Version: "v1.2.3", Revision: "abc", SHA256: strings.Repeat("ab", 32),
			Path: "/media/usb/scelle", GoOS: "linux", GoArch: "amd64"},
		Argv: []string{"scelle", "collect", "--out", "/media/usb"}, Profile: "default", Root: "/", Live: true,
		Started: t0, Ended: t0.Add(time.Minute),
		Reference:  &chain.Reference{Operator: t0, Host: t0.Add(-3 * time.Second).In(time.FixedZone("", 3600)), SkewSeconds: -3.25},
		Host:       json.RawMessage(`{"hostname":"victim","ifaces":[1,2.5e3,null,true,"\u2028<&>"]}`),
		ClockStart: json.RawMessage(`{"ntp":"synchronised"}`), ClockEnd: json.RawMessage(`"x"`),
		Key:         chain.Key{Fingerprint: strings.Repeat("cd", 32), PublicKey: "-----BEGIN PUBLIC KEY-----\n...", Ephemeral: true},
		Interrupted: "SIGINT",
		Items: []evidence.Item{{Collector: "files", Class: "logs", Source: "/var/log/auth.log", SourceRaw: []byte{0xff, 0},
			Path: "data/fs/var/log/auth.log", Kind: "file", Status: "collected", Size: 42, SHA256: strings.Repeat("00", 32),
			LinkTarget: "x", NoATime: true, Before: &evidence.Stat{Mode: "-rw-r--r--", Perm: 0o100644}, After: &evidence.Stat{},
			Started: t0, Ended: t0}},
		Extra: map[string]json.RawMessage{"tpm": json.RawMessage(`{"quote":"AAAA"}`)},
	}
	r.Summarize()
	return r
}

// bigItemStat is a file's stat as statx gives it.
var bigItemStat = func() *evidence.Stat {
	mtime := time.Date(2026, 10, 1, 12, 0, 0, 5e8, time.UTC)
	return &evidence.Stat{Mode: "-rw-r--r--", Perm: 33188, UID: 33, GID: 33, Size: 48213, Inode: 1835021, Nlink: 1, Dev: 2049,
		Atime: time.Date(2026, 11, 22, 9, 58, 1, 123456789, time.UTC), Mtime: mtime, Ctime: mtime, Btime: &mtime}
}()

// bigItem is an item of about 1 KB as JSON, like a collected file's.
func bigItem(i int) evidence.Item {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	it := evidence.Item{Collector: fmt.Sprintf("files.c%02d", i%40), Class: classOrder[i%len(classOrder)],
		Source: fmt.Sprintf("/srv/www/site-%04d/htdocs/assets/images/thumbnails/large/file-%07d.jpeg", i/100, i),
		Path:   fmt.Sprintf("data/fs/srv/www/site-%04d/htdocs/assets/images/thumbnails/large/file-%07d.jpeg", i/100, i),
		Kind:   "file", Status: evidence.Statuses()[i%4], Size: int64(i) * 1000, SHA256: strings.Repeat("ab", 32),
		Before: bigItemStat, After: bigItemStat, NoATime: true, Started: t0, Ended: t0.Add(time.Millisecond)}
	if it.Status != "collected" {
		it.Path, it.SHA256 = "", ""
		it.Reason = fmt.Sprintf("open %s: permission denied (%d)", it.Source, i%700)
	}
	return it
}

// writeBigRecord writes to path the record rec with n items made by
// bigItem, through an item spool: one item in memory at a time.
func writeBigRecord(path string, rec chain.Record, n int) error {
	s, err := chain.NewItemSpool(path + ".spool")
	if err != nil {
		return err
	}
	defer s.Remove()
	for i := range n {
		it := bigItem(i)
		if err := s.Add(&it); err != nil {
			return err
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := s.WriteRecord(f, rec); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// chain.ScanRecord reads the items one at a time: the heap stays small while
// it reads 200,000 items (about 200 MB) into an ItemDigest, as
// Build does, and the report built from the file sums them up the
// same.
func TestScanRecordBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("200,000 items")
	}
	const n = 200000
	dir := filepath.Join(t.TempDir(), "case")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "record.json")
	head := *fullRecord()
	head.Items = nil
	if err := writeBigRecord(path, head, n); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	var d ItemDigest
	var before, ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	peak := before.HeapInuse
	i := 0
	rec, err := chain.ScanRecord(f, func(it *evidence.Item) error {
		if want := bigItem(i); it.Source != want.Source || it.Status != want.Status || it.Reason != want.Reason || it.Size != want.Size {
			return fmt.Errorf("item %d: %s %s, want %s %s", i, it.Source, it.Status, want.Source, want.Status)
		}
		d.Add(it)
		if i++; i%1000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&ms)
	fi, _ := f.Stat()
	t.Logf("%d items, %.0f MiB of JSON: heap in use %.1f MiB before, peak %.1f MiB; %.0f MiB allocated in all",
		n, float64(fi.Size())/(1<<20), float64(before.HeapInuse)/(1<<20), float64(peak)/(1<<20),
		float64(ms.TotalAlloc-before.TotalAlloc)/(1<<20))
	if peak > 32<<20 {
		t.Errorf("heap in use peaked at %.1f MiB", float64(peak)/(1<<20))
	}
	if i != n || d.Total != n || rec.Items != nil || rec.Collection != head.Collection {
		t.Fatalf("%d items read, %d counted", i, d.Total)
	}
	for _, s := range evidence.Statuses() {
		if d.Count(s) != n/len(evidence.Statuses()) {
			t.Errorf("%s: %d", s, d.Count(s))
		}
	}
	if listed, all := d.failedAndPartial(); len(listed) != maxListed || all != n/2 {
		t.Errorf("%d failed and partial items listed of %d", len(listed), all)
	}
	if len(d.reasons) != maxListed || d.otherReasons == 0 {
		t.Errorf("%d reasons, %d skipped items with other reasons", len(d.reasons), d.otherReasons)
	}

	r, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Items, d) || r.Record.Items != nil {
		t.Fatal("Build's digest differs from chain.ScanRecord's")
	}
}
