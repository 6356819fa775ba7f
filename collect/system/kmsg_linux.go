package system

import (
	"context"
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

var errNotKmsg = errors.New("not the kernel log device (character device 1:11) nor a regular file; not opened")

// isKmsg accepts the kernel log device, or a regular file (a test's
// fixture, which is harmless to open).
func isKmsg(st *unix.Stat_t) bool {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		return unix.Major(st.Rdev) == 1 && unix.Minor(st.Rdev) == 11
	case unix.S_IFREG:
		return true
	}
	return false
}

// readKmsg reads every record the kernel log buffer holds from p, from the
// oldest, stopping when the kernel has no more (EAGAIN: it never blocks),
// at end of file, or before limit bytes.
func readKmsg(ctx context.Context, p string, limit int) (kmsgResult, error) {
	var res kmsgResult
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return res, &os.PathError{Op: "lstat", Path: p, Err: err}
	}
	if !isKmsg(&st) {
		return res, &os.PathError{Op: "open", Path: p, Err: errNotKmsg}
	}
	var fd int
	var err error
	for {
		fd, err = unix.Open(p, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NOCTTY, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return res, &os.PathError{Op: "open", Path: p, Err: err}
	}
	defer unix.Close(fd)
	var st2 unix.Stat_t
	if err := unix.Fstat(fd, &st2); err != nil {
		return res, &os.PathError{Op: "fstat", Path: p, Err: err}
	}
	if !isKmsg(&st2) || st2.Dev != st.Dev || st2.Ino != st.Ino {
		return res, &os.PathError{Op: "open", Path: p, Err: errNotKmsg}
	}
	// A read returns one whole record and fails with EINVAL if the buffer
	// cannot hold it; records are at most about 8 KiB with their dictionary.
	buf := make([]byte, 32<<10)
	epipes := 0
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		n, err := unix.Read(fd, buf)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return res, nil
		case err == unix.EPIPE:
			// The next record was overwritten; the kernel moves on to the
			// oldest one it still holds.
			res.lost++
			if epipes++; epipes > 1000 {
				return res, &os.PathError{Op: "read", Path: p, Err: err}
			}
			continue
		case err != nil:
			return res, &os.PathError{Op: "read", Path: p, Err: err}
		case n == 0:
			return res, nil
		}
		epipes = 0
		if len(res.raw)+n > limit {
			res.capped = true
			return res, nil
		}
		res.raw = append(res.raw, buf[:n]...)
	}
}
