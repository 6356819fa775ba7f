package ntfs

import (
	"errors"
	"io"
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

// openImage opens an image file or a block device read only, with flag
// added to O_RDONLY, and returns its size in bytes. Its kind is checked
// before it is opened and again once open, on what was opened.
func openImage(p string, flag int) (*os.File, int64, error) {
	if err := imageKind(p); err != nil {
		return nil, 0, err
	}
	f, err := os.OpenFile(p, os.O_RDONLY|flag, 0)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = kindOf(fi)
	}
	var size int64
	if err == nil {
		// Seek works for block devices, whose Stat size is 0.
		size, err = f.Seek(0, io.SeekEnd)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, size, nil
}
