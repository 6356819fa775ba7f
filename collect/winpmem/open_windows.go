package winpmem

import (
	"os"
	"unsafe"

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

// memoryStatusEx is GlobalMemoryStatusEx's MEMORYSTATUSEX.
type memoryStatusEx struct {
	Length, MemoryLoad                   uint32
	TotalPhys, AvailPhys                 uint64
	TotalPageFile, AvailPageFile         uint64
	TotalVirtual, AvailVirtual, AvailExt uint64
}

var procGlobalMemoryStatusEx = windows.NewLazySystemDLL("kernel32.dll").NewProc("GlobalMemoryStatusEx")

// physicalMemory returns the bytes of physical memory Windows uses
// (GlobalMemoryStatusEx's ullTotalPhys).
func physicalMemory() (uint64, error) {
	if err := procGlobalMemoryStatusEx.Find(); err != nil {
		return 0, err
	}
	m := memoryStatusEx{Length: uint32(unsafe.Sizeof(memoryStatusEx{}))}
	if r, _, err := procGlobalMemoryStatusEx.Call(uintptr(unsafe.Pointer(&m))); r == 0 {
		return 0, err
	}
	return m.TotalPhys, nil
}
