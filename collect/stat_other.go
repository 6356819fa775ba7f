//go:build !linux

package collect

import (
	"io/fs"
	"os"
	"path/filepath"
)

// Fstat returns the metadata of an open file.
func Fstat(f *os.File) (*FileStat, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return fromFileInfo(fi), nil
}

// Lstat returns the metadata of path, not following a final link.
func Lstat(path string) (*FileStat, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	return fromFileInfo(fi), nil
}

func fromFileInfo(fi fs.FileInfo) *FileStat {
	return &FileStat{
		Mode:  fi.Mode().String(),
		Perm:  uint32(fi.Mode().Perm()),
		Size:  fi.Size(),
		Mtime: fi.ModTime().UTC(),
	}
}

// LstatIn returns the metadata of p under root, and a link's target.
func LstatIn(root, p string) (*FileStat, string, error) {
	full := p
	if root != "" && root != "/" {
		full = root + p
	}
	st, err := Lstat(full)
	if err != nil {
		return nil, "", err
	}
	target, _ := os.Readlink(full)
	return st, target, nil
}

// LstatAt returns the metadata of name in the open folder dir, and a
// link's target.
func LstatAt(dir *os.File, name string) (*FileStat, string, error) {
	full := filepath.Join(dir.Name(), name)
	st, err := Lstat(full)
	if err != nil {
		return nil, "", err
	}
	target, _ := os.Readlink(full)
	return st, target, nil
}
