package acquire

import (
	"errors"
	"strings"
	"testing"

	"github.com/scelle/scelle/internal/hint"
	"github.com/scelle/scelle/internal/volume"
)

// TestVolumeRefusal: FAT refuses an output the budget does not bound
// under 4 GiB, with the flag to give; other file systems never refuse.
func TestVolumeRefusal(t *testing.T) {
	fat := volume.Info{FS: "FAT32", MaxFile: volume.FATMaxFile}
	for _, tc := range []struct {
		v      volume.Info
		budget int64
		refuse string
	}{
		{fat, 0, `output folder E:\evidence is on FAT32, which holds no file of 4.0 GiB or more: the archive could outgrow it`},
		{fat, 4 << 30, "and --max-output 4.0 GiB allows it"},
		{fat, 4000 << 20, ""},
		{fat, volume.FATMaxFile, ""},
		{volume.Info{FS: "exFAT"}, 0, ""},
		{volume.Info{FS: "ext4"}, 1 << 40, ""},
	} {
		err := volumeRefusal(`E:\evidence`, tc.v, tc.budget)
		if tc.refuse == "" {
			if err != nil {
				t.Errorf("%s, budget %d: %v", tc.v.FS, tc.budget, err)
			}
			continue
		}
		var oe *OptionError
		if !errors.As(err, &oe) || !strings.Contains(err.Error(), tc.refuse) || !strings.Contains(hint.Of(err), "--max-output 4000MiB") {
			t.Errorf("%s, budget %d: %v (hint %q), want an OptionError with %q", tc.v.FS, tc.budget, err, hint.Of(err), tc.refuse)
		}
	}
}
