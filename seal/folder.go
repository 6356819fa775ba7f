package seal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/scelle/scelle/internal/fileio"
)

// folder is where the files of an output folder are read from: a local
// folder (fsys nil), or an fs.FS, such as a bag read straight from an S3
// store (VerifyFS, OpenBagFS). The checks are the same either way.
type folder struct {
	path string // the local folder; with fsys, the name the bag is shown by
	fsys fs.FS
}

func localFolder(path string) folder { return folder{path: path} }

// none: an archive read alone, without the files beside it.
func (d folder) none() bool { return d.path == "" && d.fsys == nil }

func (d folder) local(name string) string { return filepath.Join(d.path, name) }

func (d folder) open(name string) (fs.File, error) {
	if d.fsys == nil {
		return os.Open(d.local(name))
	}
	return d.fsys.Open(name)
}

func (d folder) lstat(name string) (fs.FileInfo, error) {
	if d.fsys == nil {
		return os.Lstat(d.local(name))
	}
	return fs.Lstat(d.fsys, name)
}

func (d folder) regular(name string) bool {
	fi, err := d.lstat(name)
	return err == nil && fi.Mode().IsRegular()
}

// readSmall reads a small file beside the archive, refusing a larger one.
func (d folder) readSmall(name string) ([]byte, error) {
	if d.fsys == nil {
		return readSmall(d.local(name))
	}
	if !d.regular(name) {
		if _, err := d.lstat(name); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", name, fileio.ErrNotRegular)
	}
	f, err := d.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSmallFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSmallFile {
		return nil, fmt.Errorf("%s: %w", name, errTooLarge)
	}
	return b, nil
}

var errTooLarge = errors.New("larger than a file beside the archive can be")

func (d folder) hashFile(name string) ([32]byte, error) {
	if d.fsys == nil {
		return hashFile(d.local(name))
	}
	f, err := d.fsys.Open(name)
	if err != nil {
		return [32]byte{}, err
	}
	defer f.Close()
	return hashOf(f)
}
