package safeopen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

const (
	baseFlags = unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOCTTY
	dirFlags  = unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_DIRECTORY | unix.O_NONBLOCK
)

func openIn(root, path string) (*File, error) {
	noatime := true
	fd, err := open(root, path, baseFlags|unix.O_NOATIME)
	if errors.Is(err, unix.EPERM) {
		// O_NOATIME needs file ownership or CAP_FOWNER.
		noatime = false
		fd, err = open(root, path, baseFlags)
	}
	name := path
	if root != "" {
		name = filepath.Join(root, path)
	}
	return regular(fd, err, name, noatime)
}

// regular returns the file of fd, opened as name with error err, when it
// is a regular file; it closes any other.
func regular(fd int, err error, name string, noatime bool) (*File, error) {
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENXIO) {
			return nil, &os.PathError{Op: "open", Path: name, Err: ErrNotRegular}
		}
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "fstat", Path: name, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, &os.PathError{Op: "open", Path: name, Err: ErrNotRegular}
	}
	return &File{File: os.NewFile(uintptr(fd), name), NoATime: noatime}, nil
}

func openAt(dir *os.File, name string) (*File, error) {
	full := filepath.Join(dir.Name(), name)
	if !oneName(name) {
		return nil, &os.PathError{Op: "open", Path: full, Err: ErrNotName}
	}
	dirfd := int(dir.Fd())
	defer runtime.KeepAlive(dir)
	// What is not a regular file now is never opened; what replaces a
	// regular file before the open is refused by regular, unblocked.
	var st unix.Stat_t
	if err := retry(func() error { return unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) }); err != nil {
		return nil, &os.PathError{Op: "fstatat", Path: full, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, &os.PathError{Op: "open", Path: full, Err: ErrNotRegular}
	}
	noatime := true
	fd, err := openat(dirfd, name, baseFlags|unix.O_NOATIME)
	if errors.Is(err, unix.EPERM) {
		noatime = false
		fd, err = openat(dirfd, name, baseFlags)
	}
	return regular(fd, err, full, noatime)
}

func openDirAt(dir *os.File, name string) (*os.File, error) {
	full := filepath.Join(dir.Name(), name)
	if !oneName(name) {
		return nil, &os.PathError{Op: "opendir", Path: full, Err: ErrNotName}
	}
	dirfd := int(dir.Fd())
	defer runtime.KeepAlive(dir)
	fd, err := openat(dirfd, name, dirFlags|unix.O_NOATIME)
	if errors.Is(err, unix.EPERM) {
		fd, err = openat(dirfd, name, dirFlags)
	}
	if err != nil {
		return nil, &os.PathError{Op: "opendir", Path: full, Err: err}
	}
	return os.NewFile(uintptr(fd), full), nil
}

// openat opens name, one component, in dirfd.
func openat(dirfd int, name string, flags int) (int, error) {
	var fd int
	err := retry(func() (err error) {
		fd, err = unix.Openat(dirfd, name, flags, 0)
		return err
	})
	return fd, err
}

// retry calls f until it fails with another error than EINTR.
func retry(f func() error) error {
	for {
		if err := f(); err != unix.EINTR {
			return err
		}
	}
}

// open opens path with flags; under root it resolves the path with
// RESOLVE_IN_ROOT so that no component escapes root.
func open(root, path string, flags int) (int, error) {
	if root == "" {
		for {
			fd, err := unix.Open(path, flags, 0)
			if err == unix.EINTR {
				continue
			}
			return fd, err
		}
	}
	dir, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("root %s: %w", root, err)
	}
	defer unix.Close(dir)
	rel := strings.TrimLeft(path, "/")
	if rel == "" {
		rel = "."
	}
	how := &unix.OpenHow{Flags: uint64(flags), Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	for {
		fd, err := unix.Openat2(dir, rel, how)
		switch err {
		case unix.EINTR, unix.EAGAIN:
			continue
		case unix.ENOSYS:
			return openBeneath(root, rel, flags)
		}
		return fd, err
	}
}

// openBeneath is the fallback for kernels before 5.6: it resolves links
// itself and refuses any result outside root.
func openBeneath(root, rel string, flags int) (int, error) {
	full, err := filepath.EvalSymlinks(filepath.Join(root, filepath.Dir(rel)))
	if err != nil {
		return -1, err
	}
	r, err := filepath.EvalSymlinks(root)
	if err != nil {
		return -1, err
	}
	if full != r && !strings.HasPrefix(full, r+string(filepath.Separator)) {
		return -1, unix.EXDEV
	}
	return unix.Open(filepath.Join(full, filepath.Base(rel)), flags, 0)
}

func openDir(root, rel string) (*os.File, error) {
	if root == "/" {
		root = ""
	}
	fd, err := open(root, rel, dirFlags|unix.O_NOATIME)
	if errors.Is(err, unix.EPERM) {
		fd, err = open(root, rel, dirFlags)
	}
	name := filepath.Join(root, rel)
	if err != nil {
		return nil, &os.PathError{Op: "opendir", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

func openParent(root, rel string) (*os.File, string, error) {
	if root == "/" {
		root = ""
	}
	rel = strings.TrimRight(rel, "/")
	dir, base := filepath.Split(rel)
	if base == "" {
		base = "."
	}
	if dir == "" {
		dir = "/"
	}
	fd, err := open(root, dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return nil, "", &os.PathError{Op: "open", Path: filepath.Join(root, dir), Err: err}
	}
	return os.NewFile(uintptr(fd), filepath.Join(root, dir)), base, nil
}
