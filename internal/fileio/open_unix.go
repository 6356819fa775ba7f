//go:build unix

package fileio

import (
	"os"
	"syscall"
)

// openNonBlocking opens path read-only; should a FIFO be swapped in after
// the check, the open does not wait for a writer, and a terminal does not
// become the controlling one.
func openNonBlocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
}

// errExist is what an exclusive open of an existing file fails with.
var errExist error = syscall.EEXIST
