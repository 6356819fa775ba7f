package collect

import (
	"bytes"
	"context"
	"fmt"
)

// Chunks stores a generated text output (a bodyfile, a timeline) as
// entries of at most limit bytes, named prefix.000.ext, prefix.001.ext and
// so on, each cut after a newline; concatenated in number order they are
// the whole output. A line longer than limit is cut where the limit falls.
// Close stores what is left, and chunk 000 even when nothing was written,
// so that an empty output means "none found", not "not looked for".
//
// Its buffer grows to limit bytes at most and is reused from one chunk to
// the next. A bytes.Buffer doubled past the limit (to 12 MiB and more for
// chunks of 8 MiB) and kept for the whole walk: beside the bag writer's
// frames, that took the heap over its 40 MiB limit, and the garbage
// collector ran 9,000 times in a triage of a host of 500,000 files.
type Chunks struct {
	ctx                 context.Context
	s                   *Session
	prefix, ext, source string
	limit               int
	n                   int
	buf                 []byte
}

// ChunkSize is the chunk size of the generated outputs (bodyfile, $MFT
// timeline): 4 MiB, 8 MiB before 2026-12-06. The buffer is the chunk, and
// with the bag writer's part (seal's TestFramerHeldMemory: 25 MiB at
// most) and a RAM chunk of 8 MiB it must fit the 40 MiB heap limit.
const ChunkSize = 4 << 20

// chunksStart is the first size of a Chunks buffer: most lists (set-user-ID
// files, hidden ones) stay this small.
const chunksStart = 64 << 10

// NewChunks returns the chunked output prefix.NNN.ext of s, whose items
// have source as their source.
func NewChunks(ctx context.Context, s *Session, prefix, ext, source string, limit int) *Chunks {
	return &Chunks{ctx: ctx, s: s, prefix: prefix, ext: ext, source: source, limit: max(1, limit)}
}

// Name returns the bag name of chunk i.
func (c *Chunks) Name(i int) string { return fmt.Sprintf("%s.%03d.%s", c.prefix, i, c.ext) }

// Write adds p to the output, storing each chunk as it fills. It returns
// the context's error once the context is done.
func (c *Chunks) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		c.grow(len(p))
		room := c.limit - len(c.buf)
		if len(p) <= room {
			c.buf = append(c.buf, p...)
			break
		}
		c.buf = append(c.buf, p[:room]...)
		p = p[room:]
		cut := bytes.LastIndexByte(c.buf, '\n') + 1
		if cut == 0 {
			cut = len(c.buf)
		}
		c.put(c.buf[:cut])
		c.buf = c.buf[:copy(c.buf, c.buf[cut:])]
	}
	return n, c.ctx.Err()
}

// grow makes room for n more bytes, never past limit.
func (c *Chunks) grow(n int) {
	if len(c.buf)+n <= cap(c.buf) || cap(c.buf) >= c.limit {
		return
	}
	b := make([]byte, len(c.buf), min(c.limit, max(chunksStart, 2*cap(c.buf), len(c.buf)+n)))
	copy(b, c.buf)
	c.buf = b
}

func (c *Chunks) put(b []byte) {
	c.s.PutBytes(c.ctx, c.Name(c.n), c.source, b)
	c.n++
}

// Close stores what is left, and chunk 000 when nothing was stored,
// under ctx: a walk cut short by its time limit still stores what it
// listed, under a context that outlives it.
func (c *Chunks) Close(ctx context.Context) {
	c.ctx = ctx
	if len(c.buf) > 0 || c.n == 0 {
		c.put(c.buf)
	}
	c.buf = nil
}
