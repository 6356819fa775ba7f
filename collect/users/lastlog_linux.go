package users

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// dataFinder finds the data ranges of the first size bytes of f with
// lseek(SEEK_DATA, SEEK_HOLE), so that the holes of a sparse file are
// skipped, not read. Where the file system does not support it, the whole
// file is data. It moves f's offset: read f with ReadAt only.
func dataFinder(f *os.File, size int64) DataFinder {
	whole := WholeFile(size)
	sc, err := f.SyscallConn()
	if err != nil {
		return whole
	}
	seek := func(off int64, whence int) (int64, error) {
		var pos int64
		var serr error
		if err := sc.Control(func(fd uintptr) { pos, serr = unix.Seek(int(fd), off, whence) }); err != nil {
			return 0, err
		}
		return pos, serr
	}
	return func(off int64) (int64, int64, bool, error) {
		if off >= size {
			return 0, 0, false, nil
		}
		start, err := seek(off, unix.SEEK_DATA)
		switch {
		case errors.Is(err, unix.ENXIO):
			return 0, 0, false, nil // only a hole follows off
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.EOPNOTSUPP):
			return whole(off)
		case err != nil:
			return 0, 0, false, err
		}
		if start >= size {
			return 0, 0, false, nil
		}
		end, err := seek(start, unix.SEEK_HOLE)
		if err != nil || end > size || end <= start {
			end = size
		}
		return start, end, true, nil
	}
}
