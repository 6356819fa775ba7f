package verdict

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/scelle/scelle/seal"
)

// TestCheckFS: a bag read through an fs.FS gets the verdict it gets from
// its folder, custody log included, intact and with a changed record.
func TestCheckFS(t *testing.T) {
	dir, _ := sealBag(t, collector, "box\n")
	for _, name := range []string{"intact", "record changed"} {
		if name == "record changed" {
			if err := os.WriteFile(filepath.Join(dir, seal.RecordFile), []byte("{}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := Check(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := CheckFS(os.DirFS(dir), dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != want.Status || !reflect.DeepEqual(got.Checks, want.Checks) {
			t.Errorf("%s: through an fs.FS %s %+v\nfrom the folder %s %+v", name, got.Status, got.Checks, want.Status, want.Checks)
		}
		if (name == "intact") != (got.Status == Verified) {
			t.Errorf("%s: %s", name, got.Status)
		}
	}
}
