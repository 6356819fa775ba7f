package acquire

import (
	"fmt"

	"github.com/scelle/scelle/internal/hint"
	"github.com/scelle/scelle/internal/units"
	"github.com/scelle/scelle/internal/volume"
)

// fatBudget is the --max-output the hint proposes on FAT: under
// volume.FATMaxFile, and a round figure.
const fatBudget = "4000MiB"

// checkVolume refuses, at start, an output folder on a file system whose
// largest file is smaller than the archive may grow: a FAT32 stick holds
// no file of 4 GiB or more, and the archive is one file. A --max-output
// that fits (the budget bounds the whole folder, so the archive too)
// lifts the refusal. The archive is not split: that would change the bag
// format, and every tool that reads a bag (tar, zstd, sha256sum) would
// need the parts joined first; an exFAT or NTFS stick has no such limit.
func checkVolume(out string, budget int64) error {
	v, err := volume.Of(out)
	if err != nil {
		return nil // unknown: nothing is claimed
	}
	return volumeRefusal(out, v, budget)
}

// volumeRefusal is checkVolume's answer for an output folder out on v.
func volumeRefusal(out string, v volume.Info, budget int64) error {
	if v.MaxFile == 0 || budget > 0 && budget <= v.MaxFile {
		return nil // no limit, or bounded below it
	}
	why := fmt.Errorf("output folder %s is on %s, which holds no file of %s or more: the archive could outgrow it", out, v.FS, units.Bytes(v.MaxFile+1))
	if budget > 0 {
		why = fmt.Errorf("%w, and --max-output %s allows it", why, units.Bytes(budget))
	}
	return &OptionError{hint.Wrap(why, "give --max-output %s (items that would pass it are skipped, largest first, and recorded), or write to an exFAT or NTFS volume (format the stick as exFAT)", fatBudget)}
}
