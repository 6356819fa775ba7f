package seal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// slowWriter takes delay for every write, and perByte for every byte,
// like a slow medium.
type slowWriter struct {
	bytes.Buffer
	delay, perByte time.Duration
}

func (s *slowWriter) Write(p []byte) (int, error) {
	mediumWait(s.delay + time.Duration(len(p))*s.perByte)
	return s.Buffer.Write(p)
}

// framerOutput writes the entries through a framer and returns what it
// wrote and the level changes it reported.
func framerOutput(t *testing.T, dst io.Writer, level zstd.EncoderLevel, adaptive bool, entries [][]byte) (levels []zstd.EncoderLevel, offsets []int64) {
	t.Helper()
	cw := &countWriter{w: dst, h: sha256.New()}
	f, err := newFramer(cw, level, adaptive)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	f.onLevel = func(l zstd.EncoderLevel, off int64) {
		mu.Lock()
		defer mu.Unlock()
		levels, offsets = append(levels, l), append(offsets, off)
	}
	feedFramer(t, f, entries, nil)
	return levels, offsets
}

// feedFramer writes the entries through f, each announced with its
// size in sizes (nil: its length), as the writer sends content (the next
// entry is cut while this one is compressed and written), and waits for
// them to be written.
func feedFramer(t *testing.T, f *framer, entries [][]byte, sizes []int64) {
	t.Helper()
	for i, e := range entries {
		size := int64(len(e))
		if sizes != nil {
			size = sizes[i]
		}
		f.beginEntry(size)
		for p := e; len(p) > 0; {
			// Half the writes in place, half copied, as the tar writer's
			// headers and the content read into buffer are.
			b := f.buffer(len(p))
			n := copy(b, p)
			if len(p)%2 == 0 {
				f.Write(b[:n])
			} else {
				f.Write(p[:n])
			}
			p = p[n:]
		}
		f.finishEntry(nil)
	}
	f.idle()
	f.close()
	if err := f.failed(); err != nil {
		t.Fatal(err)
	}
}

func decodeAll(t *testing.T, b []byte) []byte {
	t.Helper()
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	out, err := dec.DecodeAll(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFramerSmallEntries: small entries take small buffers, many in
// flight at once; an entry longer than its size foretold moves to a large
// buffer; small incompressible entries fit their buffers. Against a slow
// medium the buffers run out and the caller waits for them, without a
// deadlock, and the stream decodes to what went in, in order.
func TestFramerSmallEntries(t *testing.T) {
	src := rand.NewChaCha8([32]byte{7})
	rnd := rand.New(src)
	var entries [][]byte
	var sizes []int64
	for i := range 3 * smallBuffers {
		n := rnd.IntN(smallFrame - 8<<10)
		size := int64(n)
		if i%7 == 3 {
			n, size = 3*smallFrame+i, 1 // foretold small, three times larger
		}
		e := benchText(n)
		if i%2 == 0 {
			src.Read(e) // incompressible
		}
		entries, sizes = append(entries, e), append(sizes, size)
	}
	var out slowWriter
	out.delay = time.Millisecond
	f, err := newFramer(&countWriter{w: &out, h: sha256.New()}, zstd.SpeedFastest, false)
	if err != nil {
		t.Fatal(err)
	}
	feedFramer(t, f, entries, sizes)
	if f.small.made == 0 || f.big.made == 0 {
		t.Errorf("buffers made: %d small, %d large; want both kinds", f.small.made, f.big.made)
	}
	if want := bytes.Join(entries, nil); !bytes.Equal(decodeAll(t, out.Bytes()), want) {
		t.Fatal("the frames do not decode to the entries, in order")
	}
}

// TestFramerZeroPages: frames of zero bytes, whole or in part (a RAM
// capture), take the short ways and decode to what went in, with zstd's
// own tool too.
func TestFramerZeroPages(t *testing.T) {
	text := benchText(3 << 20)
	mixed := make([]byte, 3<<20)
	for i := 0; i < len(mixed); i += 2 * zeroPage {
		copy(mixed[i:i+zeroPage], text[i:])
	}
	entries := [][]byte{make([]byte, 5<<20+123), mixed, text[:100000], make([]byte, frameInput)}
	var out bytes.Buffer
	framerOutput(t, &out, zstd.SpeedFastest, false, entries)
	want := bytes.Join(entries, nil)
	if got := decodeAll(t, out.Bytes()); !bytes.Equal(got, want) {
		t.Fatalf("decoded %d bytes differ from the %d written", len(got), len(want))
	}
	// 6 MiB of zeros take a few hundred bytes.
	if out.Len() > 1<<20 {
		t.Fatalf("archive of %d bytes for %d bytes, mostly zeros", out.Len(), len(want))
	}
	if _, err := exec.LookPath("zstd"); err != nil {
		t.Skip("zstd not installed (make deps)")
	}
	cmd := exec.Command("zstd", "-dc")
	cmd.Stdin = bytes.NewReader(out.Bytes())
	got, err := cmd.Output()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("zstd -dc: %v, %d bytes, equal %v", err, len(got), bytes.Equal(got, want))
	}
}

// TestFramerAdapts: on a slow output the level rises, frame by frame
// boundaries reported in archive order, and the archive decodes whole.
func TestFramerAdapts(t *testing.T) {
	// The level rises only after a window that asks for probes and one
	// that judges them (8 frames each, a dozen more cut ahead): about 35
	// frames, and 48 give room; two to an entry, the second a few bytes (the medium takes
	// a time by the byte: they cost next to nothing).
	one := benchText(frameInput)
	perByte := slowMedium(t, one)
	var entries [][]byte
	for range 24 {
		entries = append(entries, one)
	}
	text := bytes.Join(entries, nil)
	out := &slowWriter{perByte: perByte}
	levels, offsets := framerOutput(t, out, zstd.SpeedFastest, true, entries)
	delay := perByte * time.Duration(out.Len()/len(entries))
	t.Logf("a frame's write takes %v", delay)
	if got := decodeAll(t, out.Bytes()); !bytes.Equal(got, text) {
		t.Fatal("decoded bytes differ from those written")
	}
	if len(levels) < 2 || levels[0] != zstd.SpeedFastest || offsets[0] != 0 {
		t.Fatalf("level changes %v at %v: want fastest at 0, then higher", levels, offsets)
	}
	for i := 1; i < len(offsets); i++ {
		if offsets[i] <= offsets[i-1] || offsets[i] > int64(out.Len()) {
			t.Fatalf("level changes at %v: not increasing within the %d bytes", offsets, out.Len())
		}
	}
	higher := false
	for _, l := range levels {
		higher = higher || l > zstd.SpeedFastest
	}
	if !higher {
		t.Fatalf("levels %v on an output that takes %v a frame: never above fastest", levels, delay)
	}
	// Each range decodes on its own from its offset: ranges fall on frame
	// boundaries.
	t.Logf("levels %v at %v", levels, offsets)
	for _, off := range offsets[1:] {
		if got := decodeAll(t, out.Bytes()[off:]); !bytes.HasSuffix(text, got) {
			t.Fatalf("the frames from offset %d do not decode to the end of the input", off)
		}
	}
}

// slowMedium returns a write time by the byte such that writing frame,
// compressed, takes three times as long as compressing it at the two
// levels a probed frame takes, here and now, on one core. The race detector makes compression
// about ten times slower, and a machine loaded with other tests slower
// again; on a medium only a few times slower the adapter rightly sees
// the CPU as the limit (the writer waiting for compression more than a
// tenth of the time), and the level stays.
func slowMedium(t *testing.T, frame []byte) time.Duration {
	var cost time.Duration
	size := 0
	for _, l := range adaptLevels[:2] {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(l), zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(frameInput))
		if err != nil {
			t.Fatal(err)
		}
		var took time.Duration
		for range 2 {
			start := time.Now()
			size = max(size, len(enc.EncodeAll(frame, nil)))
			took = max(took, time.Since(start))
		}
		cost += took
	}
	write := min(max(3*cost, 100*time.Millisecond), time.Second)
	return write / time.Duration(size)
}

// TestFramerAdaptsWhenItPays: on a slow output, frames that no level
// compresses (random bytes) are probed at the level above and stay at
// fastest: a harder level would cost CPU and save nothing.
func TestFramerAdaptsWhenItPays(t *testing.T) {
	one := make([]byte, frameInput)
	rand.NewChaCha8([32]byte{9}).Read(one)
	var entries [][]byte
	for range 3 * adaptFrames {
		entries = append(entries, one)
	}
	out := &slowWriter{delay: 100 * time.Millisecond}
	levels, _ := framerOutput(t, out, zstd.SpeedFastest, true, entries)
	if len(levels) != 1 || levels[0] != zstd.SpeedFastest {
		t.Fatalf("levels %v on random bytes: want fastest alone", levels)
	}
	if !bytes.Equal(decodeAll(t, out.Bytes()), bytes.Join(entries, nil)) {
		t.Fatal("decoded bytes differ from those written")
	}
}

func TestAdapterMoves(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	run := func(level int, idle, compressing, writing time.Duration) (int, int) {
		// The level above is known to save 10 %.
		a := &adapter{window: window{since: time.Now().Add(-2 * adaptWindow)}}
		for i := range a.gain {
			a.gain[i] = levelGain{saved: 0.1, at: time.Now()}
		}
		for range adaptFrames - 1 {
			a.observe(level, frameSeen{level: level, probeOut: -1})
		}
		a.since = time.Now().Add(-(idle + compressing + writing))
		return a.observe(level, frameSeen{level: level, probeOut: -1, idle: idle, compressing: compressing, writing: writing})
	}
	for _, tt := range []struct {
		name                       string
		level                      int
		idle, compressing, writing time.Duration
		want                       int
	}{
		{"medium is the limit", 0, ms(10), ms(5), ms(285), 1},
		{"medium is the limit at the top", 2, ms(10), ms(5), ms(285), 2},
		{"cpu is the limit", 2, ms(20), ms(200), ms(80), 1},
		{"fast medium", 1, ms(250), ms(10), ms(40), 0},
		{"fast medium at the bottom", 0, ms(250), ms(10), ms(40), 0},
		{"balanced", 1, ms(30), ms(30), ms(240), 1},
	} {
		if got, probes := run(tt.level, tt.idle, tt.compressing, tt.writing); got != tt.want || probes != 0 {
			t.Errorf("%s: level %d -> %d (%d probes), want %d", tt.name, tt.level, got, probes, tt.want)
		}
	}
	// Not before a window and a few frames have passed.
	a := &adapter{}
	if got, _ := a.observe(0, frameSeen{probeOut: -1, writing: time.Second}); got != 0 {
		t.Errorf("moved after one frame: %d", got)
	}
}

// TestAdapterProbes: a slow medium calls for a harder level only once
// probes of the same frames at that level show it saves adaptGain of the
// bytes; unknown or stale, it is probed first.
func TestAdapterProbes(t *testing.T) {
	// window judges one window of frames at level on a medium that is
	// the limit; each frame's output is out bytes, probeOut at the level
	// above (-1: not probed).
	window := func(a *adapter, level, out, probeOut int) (int, int) {
		a.since = time.Now().Add(-2 * adaptWindow)
		for range adaptFrames - 1 {
			a.observe(level, frameSeen{level: level, out: out, probeOut: probeOut})
		}
		a.since = time.Now().Add(-300 * time.Millisecond)
		return a.observe(level, frameSeen{level: level, out: out, probeOut: probeOut,
			idle: 10 * time.Millisecond, compressing: 5 * time.Millisecond, writing: 285 * time.Millisecond})
	}
	for _, tt := range []struct {
		name     string
		probeOut int // bytes at the level above, for 300,000 at level 0
		want     int
	}{
		{"saves 0.6 %: stays", 298_200, 0},
		{"saves 10 %: rises", 270_000, 1},
	} {
		a := &adapter{}
		if got, probes := window(a, 0, 300_000, -1); got != 0 || probes != adaptFrames {
			t.Fatalf("%s: nothing known: level 0 -> %d with %d probes, want 0 with %d", tt.name, got, probes, adaptFrames)
		}
		if got, probes := window(a, 0, 300_000, tt.probeOut); got != tt.want || probes != 0 {
			t.Errorf("%s: probed: level 0 -> %d with %d probes, want %d with none", tt.name, got, probes, tt.want)
		}
		// Stale after adaptMemory: probed again.
		a.gain[0].at = a.gain[0].at.Add(-adaptMemory - time.Second)
		if got, probes := window(a, 0, 300_000, -1); got != 0 || probes != adaptFrames {
			t.Errorf("%s: after adaptMemory: level 0 -> %d with %d probes, want 0 with %d", tt.name, got, probes, adaptFrames)
		}
	}
}

// TestAdaptiveBag: an adaptive Writer's level lines are event lines that
// verify, and name the offset of a frame.
func TestAdaptiveBag(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bag")
	w, err := Create(dir, Options{Collection: "test", Tool: "scelle test", Adaptive: true})
	if err != nil {
		t.Fatal(err)
	}
	text := benchText(3 << 20)
	if _, err := w.Put(context.Background(), Entry{Name: "log", Size: int64(len(text))}, bytes.NewReader(text)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Seal([]byte("{}\n"), BagInfo{}); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(dir)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep.Failed())
	}
	j, err := os.ReadFile(filepath.Join(dir, JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	var events []LevelEvent
	for _, line := range strings.Split(strings.TrimSpace(string(j)), "\n") {
		e, err := ParseJournalLine([]byte(line), w.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		var le LevelEvent
		if e.Type == JournalEvent && json.Unmarshal(e.Detail, &le) == nil && le.Compression.Level != "" {
			events = append(events, le)
		}
	}
	if len(events) == 0 || events[0].Compression.From != 0 || events[0].Compression.Level != "fastest" || events[0].Compression.ZstdLevel != 1 {
		t.Fatalf("level events %+v: want fastest from offset 0 first", events)
	}
}

// TestFramerFrozen: once frozen (at sealing, when the journal is copied
// into the archive), the level no longer moves, even on an output that
// would raise it, so no level line follows the journal's copy.
func TestFramerFrozen(t *testing.T) {
	cw := &countWriter{w: &slowWriter{delay: 40 * time.Millisecond}, h: sha256.New()}
	f, err := newFramer(cw, zstd.SpeedFastest, true)
	if err != nil {
		t.Fatal(err)
	}
	var levels []zstd.EncoderLevel
	f.onLevel = func(l zstd.EncoderLevel, off int64) { levels = append(levels, l) }
	f.beginEntry(-1)
	f.Write([]byte("first"))
	f.endEntry()
	f.freeze()
	one := benchText(frameInput)
	for range 32 {
		f.beginEntry(-1)
		f.Write(one)
		if _, _, err := f.endEntry(); err != nil {
			t.Fatal(err)
		}
	}
	f.close()
	if len(levels) != 1 || levels[0] != zstd.SpeedFastest {
		t.Fatalf("levels %v after freezing: want fastest alone", levels)
	}
}
