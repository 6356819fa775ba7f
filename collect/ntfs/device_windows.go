package ntfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/windows"

	"github.com/scelle/scelle/collect"
)

// deviceFile is an open image, block device or raw volume.
type deviceFile interface {
	io.ReaderAt
	io.Closer
}

// openDevice opens an image file read only, or a raw volume (\\.\C:),
// whose reads it aligns to sectors as Windows requires, and returns its
// size in bytes (1<<62 for a volume: the boot sector tells its size).
func openDevice(p string) (deviceFile, int64, error) {
	if !strings.HasPrefix(p, `\\.\`) {
		f, size, err := openImage(p, 0)
		if err != nil {
			return nil, 0, err // not a nil *os.File in a non-nil deviceFile
		}
		return f, size, nil
	}
	enableBackup()
	name, err := windows.UTF16PtrFromString(p)
	if err != nil {
		return nil, 0, err
	}
	h, err := windows.CreateFile(name, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("open the raw volume (run as Administrator): %w", err)
	}
	return &alignedReader{f: os.NewFile(uintptr(h), p)}, 1 << 62, nil
}

// alignedReader reads a raw volume in whole sectors.
type alignedReader struct {
	mu sync.Mutex
	f  *os.File
}

const align = 4096 // a multiple of every sector size

func (a *alignedReader) ReadAt(b []byte, off int64) (int, error) {
	start := off &^ (align - 1)
	end := (off + int64(len(b)) + align - 1) &^ (align - 1)
	buf := make([]byte, end-start)
	a.mu.Lock()
	n, err := a.f.ReadAt(buf, start)
	a.mu.Unlock()
	skip := int(off - start)
	if n <= skip {
		if err == nil {
			err = io.EOF
		}
		return 0, err
	}
	m := copy(b, buf[skip:n])
	if m == len(b) {
		return m, nil
	}
	if err == nil {
		err = io.EOF
	}
	return m, err
}

func (a *alignedReader) Close() error { return a.f.Close() }

var backupOnce sync.Once

// enableBackup enables SeBackupPrivilege in the process token, where the
// account holds it (Administrators do): files are then opened whatever
// their ACL, with backup semantics.
func enableBackup() {
	backupOnce.Do(func() {
		var tok windows.Token
		if err := windows.OpenProcessToken(windows.CurrentProcess(), windows.TOKEN_ADJUST_PRIVILEGES|windows.TOKEN_QUERY, &tok); err != nil {
			return
		}
		defer tok.Close()
		var luid windows.LUID
		name, _ := windows.UTF16PtrFromString("SeBackupPrivilege")
		if err := windows.LookupPrivilegeValue(nil, name, &luid); err != nil {
			return
		}
		tp := windows.Tokenprivileges{PrivilegeCount: 1}
		tp.Privileges[0] = windows.LUIDAndAttributes{Luid: luid, Attributes: windows.SE_PRIVILEGE_ENABLED}
		_ = windows.AdjustTokenPrivileges(tok, false, &tp, 0, nil, nil)
	})
}

// openOS opens a file (or "file:stream") through Windows, with backup
// semantics, sharing read, write and delete so that no program of the
// host is disturbed, and returns its size.
func openOS(p string) (io.ReadCloser, int64, error) {
	enableBackup()
	name, err := windows.UTF16PtrFromString(`\\?\` + p)
	if err != nil {
		return nil, 0, err
	}
	h, err := windows.CreateFile(name, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		windows.OPEN_EXISTING, windows.FILE_FLAG_BACKUP_SEMANTICS|windows.FILE_FLAG_SEQUENTIAL_SCAN, 0)
	if err != nil {
		return nil, 0, err
	}
	f := os.NewFile(uintptr(h), p)
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if fi.IsDir() {
		f.Close()
		return nil, 0, errors.New("a folder")
	}
	return f, fi.Size(), nil
}

// locked reports whether err from openOS means that the system holds
// the file (a sharing or lock violation, or access refused even with
// backup semantics): it is then read raw.
func locked(err error) bool {
	return errors.Is(err, windows.ERROR_SHARING_VIOLATION) || errors.Is(err, windows.ERROR_LOCK_VIOLATION) ||
		errors.Is(err, windows.ERROR_ACCESS_DENIED)
}

// LiveVolumes lists the fixed NTFS volumes of this Windows host, by
// drive letter: C: is read as \\.\C:, and its files opened under C:\
// first.
func LiveVolumes() []collect.WindowsVolume {
	var out []collect.WindowsVolume
	mask, err := windows.GetLogicalDrives()
	if err != nil {
		return nil
	}
	for i := 0; i < 26; i++ {
		if mask&(1<<i) == 0 {
			continue
		}
		letter := string(rune('A' + i))
		root := letter + `:\`
		rp, _ := windows.UTF16PtrFromString(root)
		if windows.GetDriveType(rp) != windows.DRIVE_FIXED {
			continue
		}
		var serial, maxLen, flags uint32
		label := make([]uint16, windows.MAX_PATH+1)
		fsName := make([]uint16, windows.MAX_PATH+1)
		if windows.GetVolumeInformation(rp, &label[0], uint32(len(label)), &serial, &maxLen, &flags, &fsName[0], uint32(len(fsName))) != nil {
			continue
		}
		if windows.UTF16ToString(fsName) != "NTFS" {
			continue
		}
		out = append(out, collect.WindowsVolume{Name: letter + ":", Device: `\\.\` + letter + ":", Drive: root,
			Serial: uint64(serial), Label: windows.UTF16ToString(label)})
	}
	return out
}
