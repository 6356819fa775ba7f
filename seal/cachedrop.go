package seal

import (
	"io"
	"sync/atomic"
)

// dropEvery is how many archive bytes the page cache may hold before they
// are written out and dropped from it (see dropCache).
const dropEvery = 32 << 20

// dropping is cleared by a benchmark only, to measure the footprint
// without the dropper.
var dropping atomic.Bool

func init() { dropping.Store(true) }

// cacheFile is the archive file as dropCache needs it.
type cacheFile interface {
	io.Writer
	Fd() uintptr
	Sync() error
}

// cacheDropper writes to the archive file and, every dropEvery bytes,
// has the kernel write the bytes since the last drop to the medium and
// drop them from the page cache (dropCache). The page cache is the
// host's memory, the very evidence a capture of RAM reads: the archive
// must not fill it. It is a thin wrapper around the file; the bytes and
// their order are those written.
type cacheDropper struct {
	f                cacheFile
	written, dropped int64
}

func newCacheDropper(f cacheFile) *cacheDropper { return &cacheDropper{f: f} }

func (d *cacheDropper) Write(p []byte) (int, error) {
	n, err := d.f.Write(p)
	d.written += int64(n)
	if err == nil && d.written-d.dropped >= dropEvery && dropping.Load() {
		if err := dropCache(d.f, d.dropped, d.written-d.dropped); err != nil {
			return n, err
		}
		d.dropped = d.written
	}
	return n, err
}
