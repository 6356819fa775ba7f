//go:build linux

package main

import (
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func tinySpec() corpusSpec {
	return corpusSpec{Version: corpusVersion, Name: "tiny", Seed: 42, Text: 1 << 20, Binary: 1 << 20,
		BigText: []int64{256 << 10}, BigBinary: []int64{256 << 10, 200 << 10}, MinSmall: 1 << 10, MaxSmall: 64 << 10}
}

// treeSums maps each file of a tree to its SHA-256.
func treeSums(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	sums := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		sums[rel] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func TestCorpusDeterministic(t *testing.T) {
	spec := tinySpec()
	logf := func(string, ...any) {}
	a, err := ensureCorpus(t.TempDir(), spec, logf)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ensureCorpus(t.TempDir(), spec, logf)
	if err != nil {
		t.Fatal(err)
	}
	sa, sb := treeSums(t, a.Dir), treeSums(t, b.Dir)
	if len(sa) != a.Stamp.Files || len(sa) != len(sb) {
		t.Fatalf("%d and %d files, plan has %d", len(sa), len(sb), a.Stamp.Files)
	}
	for p, s := range sa {
		if sb[p] != s {
			t.Errorf("%s differs between two generations", p)
		}
	}
	if a.Stamp.Bytes < spec.Text+spec.Binary {
		t.Errorf("%d bytes, want at least %d", a.Stamp.Bytes, spec.Text+spec.Binary)
	}
}

func TestCorpusCached(t *testing.T) {
	base := t.TempDir()
	spec := tinySpec()
	if _, err := ensureCorpus(base, spec, func(string, ...any) {}); err != nil {
		t.Fatal(err)
	}
	made := false
	if _, err := ensureCorpus(base, spec, func(f string, _ ...any) { made = made || strings.HasPrefix(f, "corpus: making ") }); err != nil {
		t.Fatal(err)
	}
	if made {
		t.Fatal("a complete corpus was made again")
	}
}

func TestGenerateExactSize(t *testing.T) {
	for k := kindSyslog; k <= kindELF; k++ {
		for _, n := range []int64{1, 1000, 65537, 300001} {
			var w countWriter
			if err := generate(&w, corpusFile{Size: n, Kind: k, Seed: 9}); err != nil {
				t.Fatalf("%s %d: %v", k, n, err)
			}
			if w.n != n {
				t.Errorf("%s: wrote %d bytes, want %d", k, w.n, n)
			}
		}
	}
}
