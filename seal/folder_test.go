package seal

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestVerifyFS: a bag read through an fs.FS gets the checks it gets from
// its folder, intact and with a changed archive.
func TestVerifyFS(t *testing.T) {
	dir, _ := makeBag(t)
	same := func(name string) {
		t.Helper()
		want, err := VerifyWith(dir, VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := VerifyFS(os.DirFS(dir), dir, VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Checks, want.Checks) || got.OK() != want.OK() || got.Root != want.Root {
			t.Errorf("%s: through an fs.FS %+v\nfrom the folder %+v", name, got.Checks, want.Checks)
		}
		if name == "intact" && !got.OK() {
			t.Errorf("intact bag fails through an fs.FS: %+v", got.Failed())
		}
		if name != "intact" && got.OK() {
			t.Errorf("%s: verifies through an fs.FS", name)
		}
	}
	same("intact")
	b, err := os.ReadFile(filepath.Join(dir, ArchiveFile))
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(filepath.Join(dir, ArchiveFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	same("archive changed")
}
