package seal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A sealed bag that verifies gives the same checks, details and counts in
// the lean pass as in the pass that keeps every entry; only the entries
// are left out.
func TestLeanVerifyMatchesFull(t *testing.T) {
	dir, _ := makeBag(t)
	lean, err := Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	full, err := VerifyWith(dir, VerifyOptions{Items: true})
	if err != nil {
		t.Fatal(err)
	}
	if !lean.OK() || !full.OK() {
		t.Fatalf("lean %+v\nfull %+v", lean.Failed(), full.Failed())
	}
	if !reflect.DeepEqual(lean.Checks, full.Checks) {
		t.Fatalf("checks differ:\nlean %+v\nfull %+v", lean.Checks, full.Checks)
	}
	if lean.Proven != full.Proven || lean.Root != full.Root || lean.Key != full.Key || lean.Payload != full.Payload {
		t.Fatalf("lean proven %d root %s key %s; full proven %d root %s key %s; payload digests equal: %v",
			lean.Proven, lean.Root, lean.Key, full.Proven, full.Root, full.Key, lean.Payload == full.Payload)
	}
	if lean.Items != nil || len(full.Items) != len(testItems)+6 {
		t.Fatalf("lean lists %d items, full %d", len(lean.Items), len(full.Items))
	}
	var d SetDigest
	for _, it := range full.Items {
		if strings.HasPrefix(it.Path, PayloadDir+"/") {
			d.Add(it.Path, it.SHA256)
		}
	}
	if d != lean.Payload || d.Len() != len(testItems) {
		t.Fatalf("the payload digest is not the digest of the payload's (path, SHA-256) pairs")
	}
}

// A changed byte makes the lean pass fail, and the full pass then names
// what differs, as it always did: the lean pass never hides a finding.
func TestLeanVerifyFallsBack(t *testing.T) {
	base, _ := makeBag(t)
	cases := map[string]func(dir string){
		// One byte of an item line's path: its signature fails, and the
		// full pass names the line.
		"journal item line": func(dir string) {
			p := filepath.Join(dir, JournalFile)
			b, _ := os.ReadFile(p)
			i := bytes.Index(b, []byte(`"path":"data/fs/etc/passwd"`))
			b[i+len(`"path":"data/fs/etc/`)] = 'P'
			os.WriteFile(p, b, 0o644)
		},
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "bag")
			copyDir(t, base, dir)
			change(dir)
			rep, err := Verify(dir)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatal("verified")
			}
			if rep.Items == nil {
				t.Fatal("a bag that fails is reported without its entries")
			}
			var where []string
			for _, c := range rep.Failed() {
				where = append(where, c.Name+" ["+c.Where+"]")
			}
			if !strings.Contains(strings.Join(where, " "), JournalFile+" line") {
				t.Fatalf("the changed journal line is not named: %v", where)
			}
		})
	}
}

// Seal makes the manifest from the journal read back: a journal changed
// on the medium between Put and Seal makes sealing fail, never a manifest
// that lists what was not stored.
func TestSealRejectsChangedJournal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bag")
	w, err := Create(dir, Options{Collection: "test", Tool: "scelle test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range testItems {
		if _, err := w.Put(context.Background(), Entry{Name: it.name, Size: int64(len(it.data))}, bytes.NewReader(it.data)); err != nil {
			t.Fatal(err)
		}
	}
	w.fr.idle()
	p := filepath.Join(w.PartialDir(), JournalFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(`"path":"data/fs/empty"`))
	b[i+len(`"path":"data/fs/`)] = 'E'
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = w.Seal([]byte("{}\n"), BagInfo{})
	if err == nil || !strings.Contains(err.Error(), "do not make the manifest") {
		t.Fatalf("Seal with a changed journal: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("a sealed folder exists: %v", err)
	}
	// A failed Seal leaves the Writer to Abort, which closes the files
	// (Windows removes no open file: TempDir's cleanup fails there if one
	// stays open). The output failed, so no abort line is appended.
	if err := w.Abort("seal failed (test)"); err != nil {
		t.Fatalf("Abort after a failed Seal: %v", err)
	}
	for name, f := range map[string]*os.File{ArchiveFile: w.archive, JournalFile: w.journal} {
		if err := f.Close(); !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s after Abort: close gives %v, want it closed already", name, err)
		}
	}
}

func TestNameSet(t *testing.T) {
	var s nameSet
	for i := range 100000 {
		if n := s.add(fmt.Sprintf("data/fs/d/%d", i)); n != 1 {
			t.Fatalf("name %d counted %d times", i, n)
		}
	}
	for want := 2; want <= 4; want++ {
		if n := s.add("data/fs/d/42"); n != want {
			t.Fatalf("a name added again: %d uses, want %d", n, want)
		}
	}
	if len(s.slots) > 1<<18 {
		t.Fatalf("%d slots for 100,000 names", len(s.slots))
	}
}

// The writer keeps a few bytes an item, whatever their number: the names'
// hashes (8 bytes, at most twice over while the table grows), no manifest,
// no journal lines.
func TestWriterMemoryPerItem(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's shadow memory is no measure")
	}
	dir := filepath.Join(t.TempDir(), "bag")
	w, err := Create(dir, Options{Collection: "test", Tool: "scelle test", Now: fixedNow()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort("test over")
	heap := func() uint64 {
		w.fr.idle()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	put := func(from, to int) {
		for i := from; i < to; i++ {
			name := fmt.Sprintf("fs/srv/a-rather-long-folder-name/%08d/some-file-name.conf", i)
			if _, err := w.Put(context.Background(), Entry{Name: name, Size: 1, ModTime: time.Unix(1e9, 0)}, strings.NewReader("x")); err != nil {
				t.Fatal(err)
			}
		}
	}
	put(0, 5000)
	before := heap()
	put(5000, 45000)
	after := heap()
	per := (float64(after) - float64(before)) / 40000
	t.Logf("heap %d KiB after 5,000 items, %d KiB after 45,000: %.1f bytes an item", before>>10, after>>10, per)
	if per > 40 {
		t.Fatalf("the writer keeps %.0f bytes an item", per)
	}
}
