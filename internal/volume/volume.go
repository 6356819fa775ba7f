package volume

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Info is what Of learnt of a folder's file system.
type Info struct {
	// FS names the file system: "vfat", "exfat", "ext4" ... on Linux,
	// "FAT32", "exFAT", "NTFS" ... on Windows, "" when unknown.
	FS string
	// MaxFile is the size of the largest file it can hold, in bytes; 0
	// when it sets no limit that matters here (or the limit is unknown).
	MaxFile int64
}

// FATMaxFile is the largest file FAT12, FAT16 and FAT32 can hold: their
// directory entries give a file's size in 32 bits.
const FATMaxFile = 1<<32 - 1

// Of returns the file system of dir, or of its nearest existing parent
// when dir does not exist yet.
func Of(dir string) (Info, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return Info{}, err
	}
	for {
		_, err := os.Stat(dir)
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return of(dir)
}
