package acquire

import (
	"path/filepath"

	"golang.org/x/sys/unix"
)

// freeSpace returns the bytes an unprivileged writer can still write to
// the file system of dir (or of its nearest existing parent), -1 when
// unknown.
func freeSpace(dir string) int64 {
	for {
		var st unix.Statfs_t
		err := unix.Statfs(dir, &st)
		if err == nil {
			return int64(st.Bavail) * st.Bsize
		}
		parent := filepath.Dir(dir)
		if err != unix.ENOENT || parent == dir {
			return -1
		}
		dir = parent
	}
}
