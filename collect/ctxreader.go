package collect

import (
	"context"
	"io"
	"sync"
)

// NewContextReader returns a reader whose Read returns ctx's error once ctx
// is done, even while a read of r is blocked in the kernel (a stale network
// mount, a file system that never answers). The blocked read is left
// behind in its goroutine; the caller moves on.
func NewContextReader(ctx context.Context, r io.Reader) io.Reader {
	return &ctxReader{ctx: ctx, r: r}
}

type ctxReader struct {
	ctx     context.Context
	r       io.Reader
	pending chan readResult // a read still running in the background
	buf     []byte
}

type readResult struct {
	n   int
	err error
}

const ctxReadChunk = 1 << 20

// chunks recycles the readers' buffers: one reader per file would
// otherwise allocate a chunk per file.
var chunks = sync.Pool{New: func() any { b := make([]byte, ctxReadChunk); return &b }}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if c.pending == nil {
		if len(p) > ctxReadChunk {
			p = p[:ctxReadChunk]
		}
		if c.buf == nil {
			c.buf = *chunks.Get().(*[]byte)
		}
		buf := c.buf[:len(p)]
		ch := make(chan readResult, 1)
		go func() {
			n, err := c.r.Read(buf)
			ch <- readResult{n, err}
		}()
		c.pending = ch
	}
	select {
	case res := <-c.pending:
		c.pending = nil
		n := copy(p, c.buf[:res.n])
		if res.err != nil {
			// The end: no read of ours is running, the buffer is free.
			b := c.buf
			c.buf = nil
			chunks.Put(&b)
		}
		return n, res.err
	case <-c.ctx.Done():
		// The background read keeps its buffer; drop ours so a late
		// completion never writes into memory we reuse.
		c.buf = nil
		return 0, c.ctx.Err()
	}
}
