package verdict

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/scelle/scelle/chain/chaintest"
)

// sealNamed seals, as sealBag does, a bag of one file a name.
func sealNamed(t *testing.T, names ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "C-1_box_20261122T100000Z")
	var files []chaintest.File
	for _, n := range names {
		files = append(files, chaintest.File{Source: "/" + n, Size: int64(len(n)), Body: strings.NewReader(n)})
	}
	chaintest.SealBag(t, dir, collector, files...)
	return dir
}

// The payload names Windows or macOS cannot create as they are are
// noted, per system; the bag still verifies.
func TestUnportable(t *testing.T) {
	for _, tc := range []struct {
		names []string
		want  []Unportable
	}{
		{[]string{"etc/hostname", "etc/Hosts"}, nil},
		{[]string{"etc/ok", "etc/CON", "dev/aux.txt", "x/a.", "x:y/z", "x:y/w", "A.txt", "a.txt"}, []Unportable{
			{OS: "windows", Names: 5, Reasons: "reserved name, character, trailing dot or space, case collision", First: "data/fs/etc/CON"},
			{OS: "darwin", Names: 2, Reasons: "character, case collision", First: "data/fs/x:y"},
		}},
	} {
		v, err := Check(sealNamed(t, tc.names...), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != Verified || !reflect.DeepEqual(v.Unportable, tc.want) {
			t.Errorf("%q: %s, %+v; want %+v", tc.names, v.Status, v.Unportable, tc.want)
		}
	}
}
