package collect

import (
	"context"
	"io"
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

// ctxReadChunk is the most one Read reads: a read is copied once, from
// the reader's chunk to the caller's buffer, and a chunk this size stays
// in the processor's cache between the two.
const ctxReadChunk = 256 << 10

// chunks keeps the readers' chunks for the next readers: a reader per
// file would otherwise allocate (and fault in, and clear) a chunk per
// file. Not a sync.Pool: the garbage collector empties a pool at every
// cycle, and under the heap limit a collection runs a cycle every few
// milliseconds (measured: 130 MB of new chunks for a 1 GiB corpus). A
// chunk left with a read that never returned is never put back.
var chunks = make(chunkList, 4)

type chunkList chan []byte

func (l chunkList) get() []byte {
	select {
	case b := <-l:
		return b
	default:
		return make([]byte, ctxReadChunk)
	}
}

func (l chunkList) put(b []byte) {
	select {
	case l <- b:
	default:
	}
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if c.pending == nil {
		if len(p) > ctxReadChunk {
			p = p[:ctxReadChunk]
		}
		c.buf = chunks.get()
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
		// No read of ours is running: the chunk goes back at once, not
		// at the end of the file, which a reader of a known length
		// (io.ReadFull of a RAM chunk) never reads to. A chunk kept until
		// then was lost to the garbage collector for every such reader.
		chunks.put(c.buf)
		c.buf = nil
		return n, res.err
	case <-c.ctx.Done():
		// The background read keeps its chunk; drop ours so a late
		// completion never writes into memory we reuse.
		c.buf = nil
		return 0, c.ctx.Err()
	}
}
