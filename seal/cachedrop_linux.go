package seal

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// dropCache writes the range [off, off+n) of f to the medium and waits
// for it (sync_file_range; fsync where the file system lacks it), then
// drops it from the page cache (posix_fadvise DONTNEED, which leaves
// dirty pages alone: hence the write first).
func dropCache(f cacheFile, off, n int64) error {
	fd := int(f.Fd())
	err := unix.SyncFileRange(fd, off, n, unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
	if err != nil {
		if err = f.Sync(); err != nil {
			return fmt.Errorf("sync the archive: %w", err)
		}
	}
	// Advice only: a kernel that ignores it loses nothing but the footprint.
	_ = unix.Fadvise(fd, off, n, unix.FADV_DONTNEED)
	return nil
}

// startWriteback has the kernel start writing n bytes at off to the
// medium, without waiting. Advice only: dropCache waits for them later.
func startWriteback(f cacheFile, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
