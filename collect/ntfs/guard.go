package ntfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Bounds on one call into go-ntfs. go-ntfs trusts the bytes it reads:
// a corrupt record can make it loop or read without end. Every read it
// makes goes through a guard, which refuses reads outside the volume and
// aborts the call (by a panic that Volume.do recovers into an error)
// after maxReads reads or when the call's context is done.
const maxReads = 1 << 20

// ErrCorrupt wraps every error that comes from the volume's structures
// rather than from the device: a record go-ntfs could not parse, a
// panic in it, a call that read too much.
var ErrCorrupt = errors.New("corrupt NTFS structure")

// abort is the panic value of a call aborted by the guard.
type abort struct{ err error }

// guard is the io.ReaderAt go-ntfs reads the volume through: offsets
// are the volume's, bounded by size.
type guard struct {
	r    io.ReaderAt
	base int64
	size int64

	mu    sync.Mutex
	ctx   context.Context
	reads int
}

func (g *guard) ReadAt(b []byte, off int64) (int, error) {
	g.mu.Lock()
	g.reads++
	n, ctx := g.reads, g.ctx
	g.mu.Unlock()
	if ctx != nil && ctx.Err() != nil {
		panic(abort{ctx.Err()})
	}
	if n > maxReads {
		panic(abort{fmt.Errorf("%w: more than %d reads in one operation", ErrCorrupt, maxReads)})
	}
	if off < 0 || off >= g.size {
		return 0, io.EOF
	}
	short := false
	if int64(len(b)) > g.size-off {
		b, short = b[:g.size-off], true
	}
	m, err := g.r.ReadAt(b, g.base+off)
	if err == nil && short {
		err = io.EOF
	}
	return m, err
}

// begin starts a guarded operation under ctx.
func (g *guard) begin(ctx context.Context) {
	g.mu.Lock()
	g.ctx, g.reads = ctx, 0
	g.mu.Unlock()
}

// protect runs f, one call into go-ntfs, turning a panic (go-ntfs's own,
// or the guard's abort) into an error.
func protect(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if a, ok := r.(abort); ok {
				err = a.err
				return
			}
			err = fmt.Errorf("%w: parser panic: %v", ErrCorrupt, r)
		}
	}()
	return f()
}
