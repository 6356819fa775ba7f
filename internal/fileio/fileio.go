package fileio

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/minio/sha256-simd"
)

// PartialSuffix is appended to a file's name while it is written.
const PartialSuffix = ".partial"

// ErrNotRegular is returned, inside an *fs.PathError, by ReadSmall and
// SHA256File for a path that names a FIFO, socket, device or folder.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is matched (errors.Is) by the error ReadSmall returns for a
// file over its limit.
var ErrTooLarge = errors.New("file too large")

type tooLargeError struct {
	path string
	max  int64
}

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("%s: larger than %d bytes", e.path, e.max)
}

func (e *tooLargeError) Is(target error) bool { return target == ErrTooLarge }

// WriteFileAtomic writes path with write, replacing any file of that name
// only once the new one is whole: write fills path+".partial", which is
// then flushed, closed and renamed to path, and the folder is flushed
// (SyncDir). On any error the partial file is removed and path is left
// as it was. perm is used when the partial file is created (before the
// umask). If path+".partial" exists already, WriteFileAtomic fails with an
// error that wraps fs.ErrExist and leaves that file alone.
func WriteFileAtomic(path string, write func(io.Writer) error, perm fs.FileMode) error {
	return writePartial(path, write, perm, true)
}

// WriteNewFile is WriteFileAtomic for a file that must not exist: it fails
// with an error that wraps fs.ErrExist, and writes nothing under path, if
// path exists. The check is made just before the rename; a writer that
// creates path directly in between is not detected (one that goes
// through WriteNewFile or WriteFileAtomic is, at the partial file).
func WriteNewFile(path string, write func(io.Writer) error, perm fs.FileMode) error {
	return writePartial(path, write, perm, false)
}

func writePartial(path string, write func(io.Writer) error, perm fs.FileMode, replace bool) (err error) {
	part := path + PartialSuffix
	if !replace {
		if _, err := os.Lstat(path); err == nil {
			return &fs.PathError{Op: "open", Path: path, Err: errExist}
		}
	}
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w (another writer, or left by an interrupted one: remove it if none is running)", err)
		}
		return err
	}
	defer func() {
		if err != nil {
			f.Close() // second Close after a failed one is harmless
			os.Remove(part)
		}
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if !replace {
		if _, err := os.Lstat(path); err == nil {
			return &fs.PathError{Op: "open", Path: path, Err: errExist}
		}
	}
	if err := os.Rename(part, path); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// ReadSmall reads the whole regular file at path, which must hold at most
// max bytes; a larger file is refused with an error that matches
// ErrTooLarge, after reading no more than max+1 bytes. A path that names
// a FIFO, socket, device or folder (after following symbolic links) is
// refused with ErrNotRegular without being opened, so that reading never
// blocks on a FIFO nor wakes a device.
func ReadSmall(path string, max int64) ([]byte, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, path, max)
}

// readLimited reads r whole, or fails with a tooLargeError naming name
// when it holds more than max bytes.
func readLimited(r io.Reader, name string, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, &tooLargeError{path: name, max: max}
	}
	return b, nil
}

// SHA256File returns the SHA-256 of the regular file at path, in lower
// case hex. Like ReadSmall, it refuses anything but a regular file with
// ErrNotRegular, without opening it.
func SHA256File(path string) (string, error) {
	f, err := openRegular(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// openRegular opens path for reading if it is a regular file, checking
// before the open (so that a FIFO or device is never opened) and after it
// (so that a file swapped in between is refused).
func openRegular(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "open", Path: path, Err: ErrNotRegular}
	}
	f, err := openNonBlocking(path)
	if err != nil {
		return nil, err
	}
	fi2, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi2.Mode().IsRegular() || !os.SameFile(fi, fi2) {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: ErrNotRegular}
	}
	return f, nil
}
