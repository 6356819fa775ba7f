package seal

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// writerHeld is the most heap the framer may hold (23.6 MiB measured with
// every level used): its pools full, the encoders of every level it used,
// the adapter's probe buffers. It is the writer's part of cmd/scelle's 40 MiB heap limit; the collectors need
// the rest (a RAM chunk of 8 MiB, a bodyfile chunk of 4 MiB). When the
// framer held 28 MiB, a bodyfile's 8 MiB chunk took the heap to its limit
// and the garbage collector ran 9,000 times in one triage of a host of
// 500,000 files (docs/performance.md).
const writerHeld = 25 << 20

// TestFramerHeldMemory: behind a slow medium, with large and small frames
// in flight, at each fixed level and adaptive (on its own, then made to
// use every level), the framer holds at most writerHeld.
func TestFramerHeldMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's shadow memory is no measure") // and it takes 18 s under it
	}
	if testing.Short() {
		t.Skip("writes 40 MiB through a slow medium")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	var entries [][]byte
	for range 8 {
		entries = append(entries, benchText(3<<20), random(1<<20))
	}
	for range 400 {
		entries = append(entries, benchText(20<<10))
	}
	zeros := make([]byte, 2<<20)
	copy(zeros[100<<10:], random(4<<10)) // a zero-heavy frame: SpeedDefault's encoder
	entries = append(entries, zeros)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	held := uint64(0)
	type run struct {
		name     string
		level    zstd.EncoderLevel
		adaptive bool
	}
	runs := []run{{"adaptive", zstd.SpeedFastest, true}, {"adaptive, every level", zstd.SpeedFastest, true}}
	for _, l := range adaptLevels {
		runs = append(runs, run{l.String(), l, false})
	}
	for _, r := range runs {
		out := &slowWriter{delay: time.Millisecond}
		f, err := newFramer(&countWriter{w: out, h: sha256.New()}, r.level, r.adaptive)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range entries {
			if r.name == "adaptive, every level" {
				// A third of the entries at each level, whatever the
				// medium (the adapter may move it between).
				f.level.Store(int32(i * len(adaptLevels) / len(entries)))
			}
			f.beginEntry(int64(len(e)))
			for p := e; len(p) > 0; {
				n := copy(f.buffer(len(p)), p)
				f.Write(p[:n])
				p = p[n:]
			}
			f.finishEntry(nil)
		}
		f.idle()
		if err := f.failed(); err != nil {
			t.Fatal(err)
		}
		// The framer still open: its pools and encoders are held. The
		// buffers its pools have not made yet (the timing decides) are
		// counted as if they were.
		out.Buffer = bytes.Buffer{} // what was written is not the framer's
		runtime.GC()
		runtime.ReadMemStats(&after)
		h := after.HeapAlloc - min(after.HeapAlloc, before.HeapAlloc) +
			uint64((bigBuffers-f.big.made)*bufSize+(smallBuffers-f.small.made)*smallBufSize)
		held = max(held, h)
		t.Logf("%s: %.1f MiB held at most (%d of %d large and %d of %d small buffers made), encoders %v",
			r.name, float64(h)/(1<<20), f.big.made, bigBuffers, f.small.made, smallBuffers, encoderLevels(f))
		f.close()
		runtime.KeepAlive(entries)
	}
	if held > writerHeld {
		t.Errorf("the framer holds %.1f MiB, more than its %d MiB", float64(held)/(1<<20), writerHeld>>20)
	}
}

// encoderLevels lists the levels whose encoders f has made.
func encoderLevels(f *framer) []zstd.EncoderLevel {
	f.encMu.Lock()
	defer f.encMu.Unlock()
	var ls []zstd.EncoderLevel
	for _, l := range adaptLevels {
		if f.encs[l] != nil {
			ls = append(ls, l)
		}
	}
	return ls
}
