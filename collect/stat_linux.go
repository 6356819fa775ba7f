package collect

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/scelle/scelle/internal/safeopen"

	"golang.org/x/sys/unix"
)

const statxMask = unix.STATX_BASIC_STATS | unix.STATX_BTIME

// Fstat returns the metadata of an open file, with birth time where known.
func Fstat(f *os.File) (*FileStat, error) {
	var sx unix.Statx_t
	if err := unix.Statx(int(f.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_STATX_DONT_SYNC, statxMask, &sx); err != nil {
		return nil, &os.PathError{Op: "statx", Path: f.Name(), Err: err}
	}
	return fromStatx(&sx), nil
}

// Lstat returns the metadata of path, not following a final link.
func Lstat(path string) (*FileStat, error) {
	var sx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, unix.AT_SYMLINK_NOFOLLOW|unix.AT_STATX_DONT_SYNC, statxMask, &sx); err != nil {
		return nil, &os.PathError{Op: "statx", Path: path, Err: err}
	}
	return fromStatx(&sx), nil
}

func ts(t unix.StatxTimestamp) time.Time { return time.Unix(t.Sec, int64(t.Nsec)).UTC() }

func fromStatx(sx *unix.Statx_t) *FileStat {
	st := &FileStat{
		Perm:  uint32(sx.Mode),
		UID:   sx.Uid,
		GID:   sx.Gid,
		Size:  int64(sx.Size),
		Inode: sx.Ino,
		Dev:   unix.Mkdev(sx.Dev_major, sx.Dev_minor),
		Nlink: uint64(sx.Nlink),
		Atime: ts(sx.Atime),
		Mtime: ts(sx.Mtime),
		Ctime: ts(sx.Ctime),
	}
	st.Mode = modeFromUnix(uint32(sx.Mode)).String()
	if sx.Mask&unix.STATX_BTIME != 0 && sx.Btime.Sec != 0 {
		b := ts(sx.Btime)
		st.Btime = &b
	}
	return st
}

// modeFromUnix converts st_mode to an fs.FileMode.
func modeFromUnix(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// LstatIn returns the metadata of p (absolute, slash-separated) under
// root without following a final link, resolving the folders on the way
// inside root only (an image's absolute links stay in the image); for a
// link it also returns the target.
func LstatIn(root, p string) (*FileStat, string, error) {
	if root == "" || root == "/" {
		st, err := Lstat(p)
		if err != nil || !strings.HasPrefix(st.Mode, "L") {
			return st, "", err
		}
		target, _ := os.Readlink(p)
		return st, target, nil
	}
	dir, base, err := safeopen.OpenParent(root, p)
	if err != nil {
		return nil, "", err
	}
	defer dir.Close()
	return lstatAt(dir, base, filepath.Join(root, p))
}

// LstatAt returns the metadata of name, one path component, in the open
// folder dir, without following a final link; for a link it also returns
// the target. Only name is resolved, so the depth of dir does not matter.
func LstatAt(dir *os.File, name string) (*FileStat, string, error) {
	return lstatAt(dir, name, filepath.Join(dir.Name(), name))
}

// lstatAt is LstatAt naming the file full in its errors.
func lstatAt(dir *os.File, name, full string) (*FileStat, string, error) {
	defer runtime.KeepAlive(dir)
	var sx unix.Statx_t
	if err := unix.Statx(int(dir.Fd()), name, unix.AT_SYMLINK_NOFOLLOW|unix.AT_STATX_DONT_SYNC, statxMask, &sx); err != nil {
		return nil, "", &os.PathError{Op: "statx", Path: full, Err: err}
	}
	st := fromStatx(&sx)
	if !strings.HasPrefix(st.Mode, "L") {
		return st, "", nil
	}
	buf := make([]byte, 4096)
	n, err := unix.Readlinkat(int(dir.Fd()), name, buf)
	if err != nil {
		return st, "", nil
	}
	return st, string(buf[:n]), nil
}
