//go:build unix

package fileio

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// SyncDir flushes the folder dir, so that the names created, renamed or
// removed in it survive a crash. A file system that cannot flush a folder
// (EINVAL or ENOTSUP, as some network and FUSE file systems answer) is not
// an error: there is nothing more the caller could do. On Windows SyncDir
// does nothing (syncdir_windows.go).
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
