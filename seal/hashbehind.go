package seal

import (
	"hash"
	"io"
)

// behind hashes, on a goroutine of its own, the bytes written to it: while
// one core decodes the archive, others make its SHA-256 and its entries'
// (verify ran on one core, a third of its time in SHA-256). Writes are
// copied into one of a few buffers, so memory stays bounded and the
// writer waits only when the hashing is that far behind.
type behind struct {
	work, free chan behindJob
	done       chan struct{}
	cur        behindJob // being filled
	stopped    bool
}

// behindJob is bytes to add to a hash, or, with sum set, a request for
// the hash of everything written before it.
type behindJob struct {
	h   hash.Hash
	p   []byte
	sum chan []byte
}

// behindBuffers of behindSize bytes are in flight at most.
const (
	behindBuffers = 4
	behindSize    = 256 << 10
)

func newBehind() *behind {
	b := &behind{work: make(chan behindJob, behindBuffers), free: make(chan behindJob, behindBuffers), done: make(chan struct{})}
	for range behindBuffers - 1 {
		b.free <- behindJob{p: make([]byte, 0, behindSize)}
	}
	b.cur = behindJob{p: make([]byte, 0, behindSize)}
	go func() {
		defer close(b.done)
		for j := range b.work {
			if j.sum != nil {
				j.sum <- j.h.Sum(nil)
				continue
			}
			j.h.Write(j.p)
			b.free <- behindJob{p: j.p[:0]}
		}
	}()
	return b
}

// write adds a copy of p to h, later.
func (b *behind) write(h hash.Hash, p []byte) {
	for len(p) > 0 {
		if b.cur.h != h && len(b.cur.p) > 0 || len(b.cur.p) == cap(b.cur.p) {
			b.flush()
		}
		b.cur.h = h
		k := min(len(p), cap(b.cur.p)-len(b.cur.p))
		b.cur.p = append(b.cur.p, p[:k]...)
		p = p[k:]
	}
}

func (b *behind) flush() {
	if len(b.cur.p) == 0 {
		return
	}
	b.work <- b.cur
	b.cur = <-b.free
}

// sum returns h's sum once every byte written to it is hashed.
func (b *behind) sum(h hash.Hash) []byte {
	b.flush()
	c := make(chan []byte, 1)
	b.work <- behindJob{h: h, sum: c}
	return <-c
}

// stop ends the goroutine; nothing may be written after.
func (b *behind) stop() {
	if !b.stopped {
		b.stopped = true
		close(b.work)
		<-b.done
	}
}

// hashBehind is a reader whose bytes are hashed behind it.
type hashBehind struct {
	r io.Reader
	h hash.Hash
	b *behind
}

func newHashBehind(r io.Reader, h hash.Hash) *hashBehind {
	return &hashBehind{r: r, h: h, b: newBehind()}
}

func (r *hashBehind) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.b.write(r.h, p[:n])
	return n, err
}

// Sum returns the hash of every byte read.
func (r *hashBehind) Sum() []byte { return r.b.sum(r.h) }

// Stop ends the hashing goroutine: no Read may follow.
func (r *hashBehind) Stop() { r.b.stop() }
