//go:build !unix && !windows

package fileio

import (
	"fmt"
	"os"
)

// SyncDir flushes the folder dir where the system allows it.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
