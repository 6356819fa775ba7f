package extract

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scelle/scelle/seal"
	"github.com/scelle/scelle/seal/sealtest"
)

// A sealed bag extracts whole: every file proven, nothing failed, and
// what only scelle verify checks is said.
func TestRun(t *testing.T) {
	bag := sealtest.SealFiles(t, [][2]string{{"fs/a", "alpha\n"}, {"fs/b", "beta\n"}})
	dest := filepath.Join(t.TempDir(), "x")
	res, err := Run(bag, dest, Options{})
	if err != nil {
		t.Fatalf("%v: %+v", err, res)
	}
	if !res.Complete || res.Stopped != 0 || len(res.Findings) != 0 || res.Top != filepath.Join(dest, seal.BagDir) {
		t.Errorf("%+v", res)
	}
	if res.Files < 2 {
		t.Errorf("%d files extracted", res.Files)
	}
	if res.NameMap != "" || res.MappedManifest != "" || res.Renamed != 0 {
		t.Errorf("names mapped: %+v", res)
	}
	if n := len(res.NotChecked); n == 0 || !strings.Contains(res.NotChecked[n-1], "scelle verify checks them") {
		t.Errorf("not checked: %q", res.NotChecked)
	}
	for p, c := range map[string]string{"data/fs/a": "alpha\n", "data/fs/b": "beta\n"} {
		if b, err := os.ReadFile(filepath.Join(res.Top, filepath.FromSlash(p))); err != nil || string(b) != c {
			t.Errorf("%s: %q, %v", p, b, err)
		}
	}
}

// DEST must be empty: nothing is written into a folder that holds
// something.
func TestRunNotEmpty(t *testing.T) {
	bag := sealtest.SealFiles(t, [][2]string{{"fs/a", "alpha\n"}})
	dest := t.TempDir()
	if err := os.WriteFile(filepath.Join(dest, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(bag, dest, Options{})
	if !errors.Is(err, ErrNotEmpty) || errors.Is(err, ErrFailed) || res != nil || err.Error() != dest+" is not empty" {
		t.Fatalf("%v, %+v", err, res)
	}
	if _, err := os.Stat(filepath.Join(dest, seal.BagDir)); !os.IsNotExist(err) {
		t.Errorf("%s written: %v", seal.BagDir, err)
	}
}

// A root that does not hold leaves no tag file in DEST: each is removed
// and named, and the error wraps ErrFailed. The payload files, which
// their journal lines prove, are kept.
func TestRunRootChanged(t *testing.T) {
	bag := sealtest.SealFiles(t, [][2]string{{"fs/a", "alpha\n"}})
	if err := os.WriteFile(filepath.Join(bag, seal.RootFile), []byte(strings.Repeat("0", 64)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(bag, filepath.Join(t.TempDir(), "x"), Options{})
	if !errors.Is(err, ErrFailed) || res == nil || !res.Complete || len(res.Findings) == 0 {
		t.Fatalf("%v, %+v", err, res)
	}
	if _, err := os.Stat(filepath.Join(res.Top, seal.TagManifestFile)); !os.IsNotExist(err) {
		t.Errorf("%s kept: %v\n%q", seal.TagManifestFile, err, res.Findings)
	}
	if b, err := os.ReadFile(filepath.Join(res.Top, "data", "fs", "a")); err != nil || string(b) != "alpha\n" {
		t.Errorf("data/fs/a: %q, %v", b, err)
	}
}

// With names for Windows, a name Windows cannot create is written under
// another, listed in the name map, and the mapped manifest is written.
func TestRunNamesForWindows(t *testing.T) {
	bag := sealtest.SealFiles(t, [][2]string{{"fs/CON", "con\n"}, {"fs/ok", "ok\n"}})
	dest := filepath.Join(t.TempDir(), "x")
	res, err := Run(bag, dest, Options{NamesFor: "windows"})
	if err != nil {
		t.Fatalf("%v: %+v", err, res)
	}
	if res.Renamed != 1 || res.NameMap != filepath.Join(dest, NameMapFile) ||
		res.MappedManifest != filepath.Join(dest, MappedManifestFile) || res.MappedManifestErr != nil {
		t.Fatalf("%+v", res)
	}
	list, err := os.ReadFile(res.NameMap)
	if err != nil || string(list) != "archive_path\twritten_path\ndata/fs/CON\tdata/fs/CO%4E\n" {
		t.Errorf("%s: %q, %v", NameMapFile, list, err)
	}
	if _, err := os.Stat(res.MappedManifest); err != nil {
		t.Error(err)
	}
}
