package seal

import (
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// frameInput is the most tar-stream bytes one zstd frame holds. Every
// entry starts a new frame; a larger entry spans several. Frames are
// independent, so they compress in parallel and a cut archive decodes up
// to its last whole frame.
const frameInput = 1 << 20

// inFlight bounds the frames between the caller and the file, and so the
// writer's memory: about inFlight+1 times 2 x frameInput.
const inFlight = 6

// framer cuts the tar stream into zstd frames, compresses them on every
// core and writes them in order. Write, beginEntry and endEntry are for
// one goroutine; the workers and the writing goroutine are its own.
type framer struct {
	enc    *zstd.Encoder // EncodeAll only, safe for concurrent use
	out    *countWriter  // written by the writing goroutine only
	jobs   chan *segment
	order  chan *segment
	cur    *segment
	entry  *entryDone
	first  bool
	wg     sync.WaitGroup
	busy   sync.WaitGroup // entries sent, not yet written
	closed bool
	bufs   sync.Pool

	mu  sync.Mutex
	err error
}

type segment struct {
	in, out     []byte
	done        chan struct{}
	entry       *entryDone
	first, last bool
}

// entryDone tells the caller where an entry's frames landed.
type entryDone struct {
	start, end int64
	done       chan struct{}
	// onWritten, if set, runs in the writing goroutine once every frame
	// of the entry is written, in archive order.
	onWritten func(start, end int64)
}

func newFramer(out *countWriter, level zstd.EncoderLevel) (*framer, error) {
	workers := max(1, min(runtime.GOMAXPROCS(0), 4))
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderCRC(true),
		zstd.WithEncoderConcurrency(workers), zstd.WithWindowSize(frameInput))
	if err != nil {
		return nil, err
	}
	f := &framer{enc: enc, out: out, jobs: make(chan *segment, inFlight), order: make(chan *segment, inFlight)}
	f.bufs.New = func() any { b := make([]byte, 0, frameInput); return &b }
	for range workers {
		f.wg.Add(1)
		go f.compress(f.jobs)
	}
	f.wg.Add(1)
	go f.write(f.order)
	return f, nil
}

func (f *framer) compress(jobs <-chan *segment) {
	defer f.wg.Done()
	for s := range jobs {
		out := f.bufs.Get().(*[]byte)
		s.out = f.enc.EncodeAll(s.in, (*out)[:0])
		close(s.done)
	}
}

func (f *framer) write(order <-chan *segment) {
	defer f.wg.Done()
	for s := range order {
		<-s.done
		if s.first {
			s.entry.start = f.out.n
		}
		if f.failed() == nil {
			if _, err := f.out.Write(s.out); err != nil {
				f.fail(err)
			}
		}
		if s.last {
			s.entry.end = f.out.n
			if s.entry.onWritten != nil && f.failed() == nil {
				s.entry.onWritten(s.entry.start, s.entry.end)
			}
			close(s.entry.done)
			f.busy.Done()
		}
		in, out := s.in[:0], s.out[:0]
		f.bufs.Put(&in)
		f.bufs.Put(&out)
	}
}

func (f *framer) fail(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}

func (f *framer) failed() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// beginEntry starts a new entry in a new frame.
func (f *framer) beginEntry() *entryDone {
	f.entry = &entryDone{done: make(chan struct{})}
	f.first = true
	return f.entry
}

// Write takes tar-stream bytes of the current entry.
func (f *framer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if f.cur == nil {
			f.cur = &segment{in: (*f.bufs.Get().(*[]byte))[:0], done: make(chan struct{})}
		}
		k := min(len(p), frameInput-len(f.cur.in))
		f.cur.in = append(f.cur.in, p[:k]...)
		p = p[k:]
		if len(f.cur.in) == frameInput {
			f.dispatch(false)
		}
	}
	return n, nil
}

// endEntry sends the entry's last frame and waits until every frame of
// the entry is written; it returns the archive range they occupy.
func (f *framer) endEntry() (start, end int64, err error) {
	if f.cur == nil {
		f.cur = &segment{in: (*f.bufs.Get().(*[]byte))[:0], done: make(chan struct{})}
	}
	e := f.entry
	f.dispatch(true)
	<-e.done
	return e.start, e.end, f.failed()
}

// finishEntry sends the entry's last frame without waiting: onWritten
// runs once the entry's frames are written, so the next entry is read and
// hashed while this one is compressed.
func (f *framer) finishEntry(onWritten func(start, end int64)) {
	if f.cur == nil {
		f.cur = &segment{in: (*f.bufs.Get().(*[]byte))[:0], done: make(chan struct{})}
	}
	f.entry.onWritten = onWritten
	f.dispatch(true)
}

// idle waits until every entry sent is written (and journaled).
func (f *framer) idle() { f.busy.Wait() }

func (f *framer) dispatch(last bool) {
	if last {
		f.busy.Add(1)
	}
	s := f.cur
	f.cur = nil
	s.entry, s.first, s.last = f.entry, f.first, last
	f.first = false
	f.order <- s
	f.jobs <- s
}

// close stops the workers once the frames sent are written.
func (f *framer) close() {
	if f.closed {
		return
	}
	f.closed = true
	close(f.order)
	close(f.jobs)
	f.wg.Wait()
	f.enc.Close()
}
