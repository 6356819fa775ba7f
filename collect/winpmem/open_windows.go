package winpmem

import (
	"os"

	"golang.org/x/sys/windows"
)

// openHeld opens path for reading, shared for reading only: while it is
// open no one can write, rename or delete the file, so the file that is
// hashed is the file that runs.
func openHeld(path string) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ, windows.FILE_SHARE_READ, nil,
		windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}
