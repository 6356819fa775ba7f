package seal

import (
	"io"
	"sync/atomic"
)

// dropEvery is the most archive bytes the page cache holds: the bytes
// are handed to the medium in halves, each half's writeback started as
// soon as it is written and waited for (then dropped) once the next half
// is written too, so the medium works while the next half is compressed.
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

// cacheDropper writes to the archive file and keeps its bytes from
// filling the page cache: every dropEvery/2 bytes it starts their
// writeback (startWriteback, which does not wait), then waits for the
// half before them to reach the medium and drops it from the cache
// (dropCache). The page cache is the host's memory, the very evidence a
// capture of RAM reads: the archive must not fill it. Waiting for each
// half at once, as a first version did, left the compressors idle while
// the disk worked (a fifth of the sealing time on this machine's disk).
// It is a thin wrapper around the file; the bytes and their order are
// those written.
type cacheDropper struct {
	f cacheFile
	// written bytes in all; the writeback of [dropped, started) is under
	// way; [0, dropped) is on the medium and out of the cache.
	written, started, dropped int64
}

func newCacheDropper(f cacheFile) *cacheDropper { return &cacheDropper{f: f} }

func (d *cacheDropper) Write(p []byte) (int, error) {
	n, err := d.f.Write(p)
	d.written += int64(n)
	if err == nil && d.written-d.started >= dropEvery/2 && dropping.Load() {
		startWriteback(d.f, d.started, d.written-d.started)
		if d.started > d.dropped {
			if err := dropCache(d.f, d.dropped, d.started-d.dropped); err != nil {
				return n, err
			}
		}
		d.dropped, d.started = d.started, d.written
	}
	return n, err
}
