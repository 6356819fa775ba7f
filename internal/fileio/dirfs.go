package fileio

import (
	"io/fs"
	"os"
	"path/filepath"
)

// DirFS is the local folder dir as an fs.FS (with ReadDir, Stat and
// Lstat), for code that reads a bag's files either from a folder or from
// another store. Unlike os.DirFS, its errors name the full path, as the
// os functions it calls do, and a name may be absolute: code that reads a
// folder or an fs.FS the same way then keeps its messages.
type DirFS string

func (d DirFS) join(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(string(d), filepath.FromSlash(name))
}

func (d DirFS) Open(name string) (fs.File, error)          { return os.Open(d.join(name)) }
func (d DirFS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(d.join(name)) }
func (d DirFS) Stat(name string) (fs.FileInfo, error)      { return os.Stat(d.join(name)) }
func (d DirFS) Lstat(name string) (fs.FileInfo, error)     { return os.Lstat(d.join(name)) }
func (d DirFS) ReadLink(name string) (string, error)       { return os.Readlink(d.join(name)) }
func (d DirFS) ReadFile(name string) ([]byte, error)       { return os.ReadFile(d.join(name)) }

// ReadSmallFS is ReadSmall on a file of fsys: a DirFS reads as ReadSmall
// does; another FS refuses what is not a regular file, or is larger than
// max.
func ReadSmallFS(fsys fs.FS, name string, max int64) ([]byte, error) {
	if d, ok := fsys.(DirFS); ok {
		return ReadSmall(d.join(name), max)
	}
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "open", Path: name, Err: ErrNotRegular}
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, name, max)
}
