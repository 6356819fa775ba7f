package seal

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// One damaged byte in the middle of the archive costs the item whose
// frame holds it, not the items after it: each of those is read from its
// own frames, at the byte range its signed journal line gives, and proven.
func TestDamagedFrameProvesTheRest(t *testing.T) {
	for _, sealed := range []bool{true, false} {
		t.Run(fmt.Sprintf("sealed=%v", sealed), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "bag")
			w, err := Create(dir, Options{Collection: "test", Tool: "scelle test", Now: fixedNow()})
			if err != nil {
				t.Fatal(err)
			}
			const n = 20
			for i := range n {
				data := randBytes(int64(i), 50000)
				if _, err := w.Put(context.Background(), Entry{Name: fmt.Sprintf("fs/f%02d", i), Size: int64(len(data)), ModTime: time.Unix(1e9, 0)}, bytes.NewReader(data)); err != nil {
					t.Fatal(err)
				}
			}
			if sealed {
				if _, err := w.Seal([]byte("{}\n"), BagInfo{}); err != nil {
					t.Fatal(err)
				}
			} else {
				t.Cleanup(func() { w.Abort("test over") })
				w.fr.idle()
				w.sync()
				dir += PartialSuffix
			}
			jc, err := checkJournalFile(localFolder(dir), JournalFile, nil, true)
			if err != nil || jc.Err != nil {
				t.Fatal(err, jc.Err)
			}
			// The middle of item 7's frames.
			var damaged JournalEntry
			for _, e := range jc.Entries {
				if e.Path == "data/fs/f07" {
					damaged = e
				}
			}
			at := (*damaged.Offset + *damaged.End) / 2
			archive := filepath.Join(dir, ArchiveFile)
			b, err := os.ReadFile(archive)
			if err != nil {
				t.Fatal(err)
			}
			b[at] ^= 0x40
			if err := os.WriteFile(archive, b, 0o644); err != nil {
				t.Fatal(err)
			}

			rep, err := Verify(dir)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatal("a damaged archive verifies")
			}
			for _, it := range rep.Items {
				if !strings.HasPrefix(it.Path, "data/") {
					continue
				}
				if got, want := it.Proven, it.Path != damaged.Path; got != want {
					t.Errorf("%s: proven %v, want %v (%s)", it.Path, got, want, it.Why)
				}
				if it.Path == damaged.Path && (!strings.Contains(it.Why, "do not decode: problem at archive byte") || strings.Contains(it.Why, "offset 0")) {
					t.Errorf("%s: why %q", it.Path, it.Why)
				}
			}
			if rep.Proven != n-1 || rep.ProvenPastDamage != n-8 || rep.Unproven != 1 {
				t.Fatalf("proven %d (%d past the damage), unproven %d; want %d (%d), 1", rep.Proven, rep.ProvenPastDamage, rep.Unproven, n-1, n-8)
			}
		})
	}
}
