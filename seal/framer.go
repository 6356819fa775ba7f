package seal

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
)

// frameInput is the most tar-stream bytes one zstd frame holds. Every
// entry starts a new frame; a larger entry spans several. Frames are
// independent, so they compress in parallel and a cut archive decodes up
// to its last whole frame.
const frameInput = 1 << 20

// The frames between the caller and the file are bounded by their
// buffers, and so is the writer's memory: a frame takes an input and an
// output buffer from a pool when it is cut and gives them back once
// written, and the caller waits when a pool is empty. Small entries (most
// files of a triage) take small buffers, so that many can be in flight
// while a large one is compressed, without a megabyte each: a bound by
// the number of frames (three, as before) left the compressors idle a
// third of the time on the full bench corpus (3,616 files), waiting for
// frames the caller could not send. The pools were 12 and 64 buffers
// until 2026-12-06; 8 and 32 seal the bench corpora as fast (interleaved
// runs, medians of 8 and 6) and leave 6 MiB more of the 40 MiB heap to
// the collectors (TestFramerHeldMemory).
const (
	// bigBuffers of bufSize: four frames of frameInput in flight.
	bigBuffers = 8
	// smallBuffers of smallBufSize, for frames of at most smallFrame.
	smallBuffers = 32
	smallFrame   = 64 << 10
	// bufSize leaves room for a frame's header, block headers and
	// checksum when its input does not compress.
	bufSize      = frameInput + 4<<10
	smallBufSize = smallFrame + 4<<10
	// frameQueue holds every frame the buffers allow.
	frameQueue = (bigBuffers + smallBuffers) / 2
)

// clockFrame is the least compressed frame whose write the sleep clock
// times. Reading it costs two reads of /proc (16 µs), more than writing
// a small frame, and 8 % of the CPU time of sealing 20,000 files of 3 KB;
// a write that short seldom waits for a CPU, so its whole time is the
// medium's.
const clockFrame = 16 << 10

// adaptLevels are the levels an adaptive framer moves between, lightest
// first: klauspost's SpeedFastest, SpeedDefault and SpeedBetterCompression
// (about zstd -1, -3 and -7). SpeedBestCompression costs ten times the CPU
// of SpeedDefault for a few per cent, more than any medium repays.
var adaptLevels = [...]zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBetterCompression}

// framer cuts the tar stream into zstd frames, compresses them on every
// core and writes them in order. Write, beginEntry and endEntry are for
// one goroutine; the workers and the writing goroutine are its own.
type framer struct {
	encMu   sync.Mutex
	encs    map[zstd.EncoderLevel]*zstd.Encoder // made at first use (encoder); EncodeAll only
	workers int
	out     *countWriter // written by the writing goroutine only
	jobs    chan *segment
	order   chan *segment
	cur     *segment
	entry   *entryDone
	first   bool
	wg      sync.WaitGroup
	busy    sync.WaitGroup // entries sent, not yet written
	closed  bool
	big     *bufPool
	small   *bufPool
	// smallEntry: the current entry fits in a small frame.
	smallEntry bool
	zeros      sync.Map // level -> the frame of frameInput zero bytes at that level

	// level is the index in adaptLevels (adaptive) or the fixed level,
	// read when a frame is cut, moved by the writing goroutine.
	level atomic.Int32
	adapt *adapter // nil: the level is fixed
	// probes is how many of the next frames cut are also compressed at
	// the level above theirs, to learn what it would save (see adapter).
	probes atomic.Int32
	// frozen stops the adapter: from sealing on, no level line may be
	// added to the journal (its copy in the archive is read then).
	frozen atomic.Bool
	// onLevel, if set, runs in the writing goroutine before the first
	// frame whose level differs from the frame before it (and before the
	// first frame), with that frame's archive offset.
	onLevel func(level zstd.EncoderLevel, offset int64)

	mu  sync.Mutex
	err error
}

type segment struct {
	in, out []byte
	pool    *bufPool // the pool of in, and of out
	// probe: also compress the frame at the level above, for its size
	// alone (probeOut, -1 when not probed).
	probe       bool
	probeOut    int
	done        chan struct{}
	entry       *entryDone
	level       zstd.EncoderLevel
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

// newFramer makes a framer writing to out at a fixed level, or, with
// adaptive, at the level of adaptLevels that the output's pace calls for,
// starting at level.
func newFramer(out *countWriter, level zstd.EncoderLevel, adaptive bool) (*framer, error) {
	workers := max(1, min(runtime.GOMAXPROCS(0), 4))
	f := &framer{encs: map[zstd.EncoderLevel]*zstd.Encoder{}, out: out, workers: workers,
		jobs: make(chan *segment, frameQueue), order: make(chan *segment, frameQueue),
		big: newBufPool(bufSize, bigBuffers), small: newBufPool(smallBufSize, smallBuffers)}
	// The first level's encoder now, so that options it refuses fail here.
	if _, err := f.encoder(level); err != nil {
		return nil, err
	}
	f.level.Store(int32(level))
	if adaptive {
		f.adapt = &adapter{}
		f.level.Store(int32(max(0, levelIndex(level))))
	}
	for range workers {
		f.wg.Add(1)
		go f.compress(f.jobs)
	}
	f.wg.Add(1)
	go f.write(f.order)
	return f, nil
}

// bufPool hands out the frames' buffers of one size: at most max at once,
// each made once and kept. Not a sync.Pool: the garbage collector empties
// a pool at every cycle, which under the writer's heap limit is often,
// and each new megabyte costs page faults (a fifth of the CPU time of
// sealing, measured with perf). Only the goroutine that cuts frames
// gets; the writing goroutine puts.
type bufPool struct {
	free chan []byte
	size int
	made int
}

func newBufPool(size, max int) *bufPool {
	return &bufPool{free: make(chan []byte, max), size: size}
}

// get returns an empty buffer, waiting for one to be put back when all
// are out.
func (p *bufPool) get() []byte {
	select {
	case b := <-p.free:
		return b[:0]
	default:
	}
	if p.made < cap(p.free) {
		p.made++
		return make([]byte, 0, p.size)
	}
	return (<-p.free)[:0]
}

// put gives back a buffer that get returned (or that grew from one).
func (p *bufPool) put(b []byte) { p.free <- b }

// drain drops the buffers kept, for the garbage collector.
func (p *bufPool) drain() {
	for len(p.free) > 0 {
		<-p.free
	}
}

// levelIndex returns l's index in adaptLevels, or -1.
func levelIndex(l zstd.EncoderLevel) int {
	for i, a := range adaptLevels {
		if a == l {
			return i
		}
	}
	return -1
}

// encoder returns the encoder of level, made at its first frame: an
// adaptive framer on a fast medium never uses SpeedBetterCompression.
// SpeedDefault is also the zero-heavy frames' encoder (see encode).
func (f *framer) encoder(level zstd.EncoderLevel) (*zstd.Encoder, error) {
	f.encMu.Lock()
	defer f.encMu.Unlock()
	if enc := f.encs[level]; enc != nil {
		return enc, nil
	}
	// One state of SpeedBetterCompression only: each holds 6 MiB of tables
	// and history, against 0.7 MiB for SpeedFastest and 3 MiB for
	// SpeedDefault. The workers then take turns at that level: it is
	// chosen when the medium, not the CPU, is the limit.
	states := f.workers
	if level == zstd.SpeedBetterCompression {
		states = 1
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderCRC(true),
		zstd.WithEncoderConcurrency(states), zstd.WithWindowSize(frameInput), zstd.WithLowerEncoderMem(true))
	if err != nil {
		return nil, err
	}
	f.encs[level] = enc
	return enc, nil
}

// currentLevel is the level the next frame is cut at.
func (f *framer) currentLevel() zstd.EncoderLevel {
	if f.adapt == nil {
		return zstd.EncoderLevel(f.level.Load())
	}
	return adaptLevels[f.level.Load()]
}

func (f *framer) compress(jobs <-chan *segment) {
	defer f.wg.Done()
	var scratch []byte // a probe's output, made at the first probe
	for s := range jobs {
		s.probeOut = -1
		if i := levelIndex(s.level); s.probe && i >= 0 && i+1 < len(adaptLevels) {
			if scratch == nil {
				scratch = make([]byte, 0, bufSize)
			}
			scratch = f.encode(s.in, adaptLevels[i+1], scratch[:0])
			s.probeOut = len(scratch)
		}
		s.out = f.encode(s.in, s.level, s.out)
		// The input is done with: its buffer serves the next frames
		// while this one waits to be written.
		s.pool.put(s.in)
		s.in = nil
		close(s.done)
	}
}

// encode compresses one frame at level into out. Two kinds of input take
// a shorter way, measured on the benchmark corpora (docs/performance.md):
// a frame of zero bytes only (RAM captures hold gigabytes of zero pages)
// is the same frame every time, made once; a frame a quarter or more of
// whose 4 KiB pages are zero goes to SpeedDefault, which runs over zeros
// twenty times faster than SpeedFastest and makes them smaller.
func (f *framer) encode(in []byte, level zstd.EncoderLevel, out []byte) []byte {
	switch zeros := zeroPages(in); {
	case len(in) == frameInput && zeros == frameInput/zeroPage:
		if z, ok := f.zeros.Load(level); ok {
			return append(out, z.([]byte)...)
		}
		enc := f.encoderOrFail(level)
		if enc == nil {
			return out
		}
		z := enc.EncodeAll(in, nil)
		f.zeros.Store(level, z)
		return append(out, z...)
	case level == zstd.SpeedFastest && zeros*4 >= len(in)/zeroPage && zeros > 0:
		level = zstd.SpeedDefault
	}
	enc := f.encoderOrFail(level)
	if enc == nil {
		return out
	}
	return enc.EncodeAll(in, out)
}

// encoderOrFail returns level's encoder, or nil once the framer has
// failed for want of one (NewWriter refuses only options, and these are
// those newFramer's first encoder took: not expected).
func (f *framer) encoderOrFail(level zstd.EncoderLevel) *zstd.Encoder {
	enc, err := f.encoder(level)
	if err != nil {
		f.fail(fmt.Errorf("zstd encoder at %v: %w", level, err))
	}
	return enc
}

// zeroPage is the unit zeroPages counts in: a memory page.
const zeroPage = 4096

// zeroPages counts the whole zeroPage-sized, zeroPage-aligned runs of
// zero bytes in b.
func zeroPages(b []byte) int {
	n := 0
	for len(b) >= zeroPage {
		if isZero(b[:zeroPage]) {
			n++
		}
		b = b[zeroPage:]
	}
	return n
}

func isZero(b []byte) bool {
	// Most pages that are not zero differ in their first bytes.
	for len(b) >= 8 {
		if b[0]|b[1]|b[2]|b[3]|b[4]|b[5]|b[6]|b[7] != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func (f *framer) write(order <-chan *segment) {
	defer f.wg.Done()
	var clock *sleepClock
	if f.adapt != nil {
		if clock = newSleepClock(); clock != nil {
			defer clock.close()
		}
	}
	var last zstd.EncoderLevel = -1
	for {
		t0 := time.Now()
		s, ok := <-order
		if !ok {
			return
		}
		t1 := time.Now()
		<-s.done
		t2 := time.Now()
		if s.first {
			s.entry.start = f.out.n
		}
		if s.level != last && f.onLevel != nil && f.failed() == nil {
			f.onLevel(s.level, f.out.n)
		}
		last = s.level
		var tid int
		var busy0 time.Duration
		if clock != nil && len(s.out) >= clockFrame && !f.frozen.Load() {
			tid, busy0, _ = clock.busy()
		}
		if f.failed() == nil {
			if _, err := f.out.Write(s.out); err != nil {
				f.fail(err)
			}
		}
		t3 := time.Now()
		if f.adapt != nil && !f.frozen.Load() {
			// The medium's share of the write: the time the writing
			// thread slept in it, not the time it ran or waited for a
			// CPU (see sleepClock); for a frame under clockFrame, the
			// write's time.
			writing := t3.Sub(t2)
			if tid != 0 {
				if busy1, ok := clock.busyOf(tid); ok {
					writing = max(0, writing-(busy1-busy0))
				}
			}
			level, probes := f.adapt.observe(int(f.level.Load()), frameSeen{level: levelIndex(s.level),
				out: len(s.out), probeOut: s.probeOut,
				idle: t1.Sub(t0), compressing: t2.Sub(t1), writing: writing})
			f.level.Store(int32(level))
			if probes > 0 {
				f.probes.Store(int32(probes))
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
		s.pool.put(s.out)
	}
}

// adapter moves the level, as zstd --adapt does, from where the writing
// goroutine spends its time: writing (the output medium is the limit:
// compress harder, there is CPU to spare while the medium works) or
// waiting for a frame to be compressed (the CPU is the limit: compress
// lighter). Time spent waiting for the next frame to be cut (reading and
// hashing the input) counts as neither.
//
// A harder level must also pay. When the medium is the limit, the next
// adaptFrames frames are also compressed at the level above theirs (the
// CPU has room then, by definition), and the level rises only if that
// saved adaptGain of the bytes or more, on the same frames. What a probe
// found is kept adaptMemory. On the logs bench corpus through a 100 MB/s
// medium the harder levels saved 0.6 % of the output, and an adapter
// without this rule rose into them and took a fifth more time than
// --level 1.
type adapter struct {
	window
	gain [len(adaptLevels)]levelGain // by the index of the level below
}

// window is what the adapter adds up between two judgements.
type window struct {
	since                      time.Time
	idle, compressing, writing time.Duration
	frames                     int
	// Probed frames, by their level's index: bytes out at their level
	// and at the level above.
	base, probed [len(adaptLevels)]int64
}

// levelGain is the share of the bytes the level above saved, and when
// the probe that found it was judged.
type levelGain struct {
	saved float64
	at    time.Time
}

// adaptWindow is the least time and adaptFrames the least frames over
// which the adapter judges before it moves the level by one. A probe
// counts from adaptProbeBytes of output; what it found is kept
// adaptMemory; the level above must save adaptGain.
const (
	adaptWindow     = 200 * time.Millisecond
	adaptFrames     = 8
	adaptProbeBytes = 64 << 10
	adaptMemory     = 10 * time.Second
	adaptGain       = 0.03
)

// frameSeen is one written frame as the adapter sees it: its level (index
// in adaptLevels), its bytes out (and out at the level above when probed,
// else -1), and the writing goroutine's waits for it.
type frameSeen struct {
	level                      int
	out, probeOut              int
	idle, compressing, writing time.Duration
}

// observe adds one frame and returns the level index for the frames cut
// from now on (level is the current one), and how many of them to probe.
func (a *adapter) observe(level int, fr frameSeen) (int, int) {
	now := time.Now()
	if a.since.IsZero() {
		a.since = now
	}
	a.idle += fr.idle
	a.compressing += fr.compressing
	a.writing += fr.writing
	a.frames++
	if fr.probeOut >= 0 && fr.level >= 0 && fr.level < len(a.base) {
		a.base[fr.level] += int64(fr.out)
		a.probed[fr.level] += int64(fr.probeOut)
	}
	span := now.Sub(a.since)
	if span < adaptWindow || a.frames < adaptFrames {
		return level, 0
	}
	w, c := a.writing.Seconds()/span.Seconds(), a.compressing.Seconds()/span.Seconds()
	for l, b := range a.base {
		if b >= adaptProbeBytes {
			a.gain[l] = levelGain{saved: 1 - float64(a.probed[l])/float64(b), at: now}
		}
	}
	a.window = window{since: now}
	switch {
	case w > 0.8 && c < 0.1 && level+1 < len(adaptLevels):
		// The medium is the limit: up, if the level above pays.
		switch g := a.gain[level]; {
		case g.at.IsZero() || now.Sub(g.at) > adaptMemory:
			return level, adaptFrames // not known: probe first
		case g.saved >= adaptGain:
			return level + 1, 0
		}
	case (c > 0.2 || w < 0.5) && level > 0:
		return level - 1, 0 // the CPU is, or the medium has room
	}
	return level, 0
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

// beginEntry starts a new entry in a new frame; size is the length of
// its content (the tar stream adds headers and padding).
func (f *framer) beginEntry(size int64) *entryDone {
	f.smallEntry = size >= 0 && size <= smallFrame-8<<10
	f.entry = &entryDone{done: make(chan struct{})}
	f.first = true
	return f.entry
}

// Write takes tar-stream bytes of the current entry. Bytes already in
// place, read into buffer's slice, are taken without a copy.
func (f *framer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if f.cur == nil {
			f.cur = f.newSegment()
		}
		k := min(len(p), frameInput-len(f.cur.in))
		if len(f.cur.in)+k > cap(f.cur.in) {
			f.grow()
		}
		if free := f.cur.in[len(f.cur.in):cap(f.cur.in)]; len(free) > 0 && &free[0] == &p[0] {
			f.cur.in = f.cur.in[:len(f.cur.in)+k]
		} else {
			f.cur.in = append(f.cur.in, p[:k]...)
		}
		p = p[k:]
		if len(f.cur.in) == frameInput {
			f.dispatch(false)
		}
	}
	return n, nil
}

// buffer returns the free room of the frame being filled (at most max
// bytes): bytes read into it and then passed to Write, through the tar
// writer, are not copied again.
func (f *framer) buffer(max int) []byte {
	if f.cur == nil {
		f.cur = f.newSegment()
	}
	if len(f.cur.in) == cap(f.cur.in) {
		f.grow()
	}
	free := f.cur.in[len(f.cur.in):min(cap(f.cur.in), frameInput)]
	if len(free) > max {
		free = free[:max]
	}
	return free
}

func (f *framer) newSegment() *segment {
	p := f.big
	if f.smallEntry {
		p = f.small
	}
	return &segment{in: p.get(), pool: p, done: make(chan struct{})}
}

// grow moves the frame being filled from a small buffer to a large one:
// the entry's tar stream came out longer than its size foretold.
func (f *framer) grow() {
	s := f.cur
	if s.pool == f.big {
		return // never: a large buffer holds a whole frame
	}
	b := append(f.big.get(), s.in...)
	s.pool.put(s.in)
	s.in, s.pool = b, f.big
}

// endEntry sends the entry's last frame and waits until every frame of
// the entry is written; it returns the archive range they occupy.
func (f *framer) endEntry() (start, end int64, err error) {
	if f.cur == nil {
		f.cur = f.newSegment()
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
		f.cur = f.newSegment()
	}
	f.entry.onWritten = onWritten
	f.dispatch(true)
}

// idle waits until every entry sent is written (and journaled).
func (f *framer) idle() { f.busy.Wait() }

// freeze keeps the level of the frames sent so far for every frame from
// now on, once they are written: the frames that follow add no level
// line to the journal.
func (f *framer) freeze() {
	f.idle()
	f.frozen.Store(true)
}

func (f *framer) dispatch(last bool) {
	if last {
		f.busy.Add(1)
	}
	s := f.cur
	f.cur = nil
	s.entry, s.first, s.last = f.entry, f.first, last
	s.level = f.currentLevel()
	if f.adapt != nil && f.probes.Load() > 0 {
		s.probe = f.probes.Add(-1) >= 0
	}
	// The output buffer is taken here, not by the worker: a worker that
	// waited for one could wait for the frames it has not compressed.
	s.out = s.pool.get()
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
	f.encMu.Lock()
	for _, enc := range f.encs {
		enc.Close()
	}
	f.encMu.Unlock()
	// The buffers kept go back to the garbage collector: the writer
	// lives on while the bag is read back and reported.
	f.big.drain()
	f.small.drain()
	f.zeros.Clear()
}
