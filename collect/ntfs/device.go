package ntfs

import (
	"errors"
	"io/fs"
	"os"
)

// ErrNotImage is returned for a path that is neither a regular file nor
// a block device.
var ErrNotImage = errors.New("not a disk image, partition image or block device")

// imageKind checks that p is a regular file or a block device before it
// is opened: a FIFO, a socket or a character device is never opened.
func imageKind(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	return kindOf(fi)
}

func kindOf(fi fs.FileInfo) error {
	m := fi.Mode()
	if m.IsRegular() || (m&fs.ModeDevice != 0 && m&fs.ModeCharDevice == 0) {
		return nil
	}
	if m.IsDir() {
		return errors.New("a folder: " + ErrNotImage.Error())
	}
	return ErrNotImage
}
