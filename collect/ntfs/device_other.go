//go:build !windows

package ntfs

import (
	"errors"
	"io"
	"syscall"

	"github.com/scelle/scelle/collect"
)

// deviceFile is an open image or block device.
type deviceFile interface {
	io.ReaderAt
	io.Closer
}

// openDevice opens an image file or a block device read only and returns
// its size in bytes.
func openDevice(p string) (deviceFile, int64, error) {
	// O_NONBLOCK: should p become a FIFO after the check, opening it
	// does not wait for a writer.
	f, size, err := openImage(p, syscall.O_NONBLOCK)
	if err != nil {
		return nil, 0, err // not a nil *os.File in a non-nil deviceFile
	}
	return f, size, nil
}

var errNoOS = errors.New("files are opened through the operating system on a live Windows host only")

// openOS opens a file through the operating system: Windows only.
func openOS(string) (io.ReadCloser, int64, error) { return nil, 0, errNoOS }

// locked reports whether err from openOS means the file is held by the
// system, so that it is read raw instead.
func locked(err error) bool { return errors.Is(err, errNoOS) }

// LiveVolumes lists the NTFS volumes of a live Windows host: none here.
func LiveVolumes() []collect.WindowsVolume { return nil }
