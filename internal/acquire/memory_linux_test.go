package acquire

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	sha256 "github.com/minio/sha256-simd"

	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/memory"
	"github.com/scelle/scelle/collect/memory/memorytest"
	"github.com/scelle/scelle/seal"
)

// fakeRAM fills the fake RAM: a counter in the first 8 bytes of every
// page, so that every page differs and a misplaced byte shows.
func fakeRAM(pa uint64, p []byte) {
	for i := 0; i+8 <= len(p); i += 4096 {
		binary.LittleEndian.PutUint64(p[i:], pa+uint64(i)+1)
	}
}

// captureBag runs memory.ram on a fake kernel tree of size bytes into a
// new bag, the way a collection does (Runner, bagSink), and returns its
// writer, still open, and the fake tree.
func captureBag(t *testing.T, size int64, chunk uint64) (*seal.Writer, memory.Paths) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("physical memory is captured on Linux")
	}
	p, err := memorytest.Tree(t.TempDir(), size, fakeRAM)
	if err != nil {
		t.Fatal(err)
	}
	w, err := seal.Create(filepath.Join(t.TempDir(), "case_host_20261205T000000Z"), seal.Options{Collection: "mem", Tool: "scelle test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	env := collect.LinuxEnv("/")
	var outs []collect.Outcome
	r := collect.Runner{Env: env, Sink: &bagSink{w: w, cancel: cancel}, OnOutcome: func(o collect.Outcome) {
		outs = append(outs, o)
		if o.Path == "" || o.Status != collect.Collected {
			w.Event(o)
		}
	}}
	if err := r.Run(ctx, []collect.Collector{&memory.RAM{Paths: p, Chunk: chunk}}); err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if o.Status != collect.Collected {
			t.Errorf("%s: %s: %s", o.Source, o.Status, o.Reason)
		}
	}
	return w, p
}

// bagEntries reads every payload entry of a sealed bag.
func bagEntries(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	r, err := seal.OpenBag(dir, seal.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	files := map[string][]byte{}
	for r.Next() {
		e := r.Entry()
		if strings.HasPrefix(e.Path, "data/") {
			b, err := io.ReadAll(e)
			if err != nil {
				t.Fatal(err)
			}
			files[e.Path] = b
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return files
}

// TestCaptureIntoBag: the whole collector, end to end into a sealed bag
// that verifies; the chunks, concatenated in name order, are one LiME
// image of the fake RAM whose ranges hash to their lines.
func TestCaptureIntoBag(t *testing.T) {
	const size = 6<<20 + 4096
	w, _ := captureBag(t, size, 1<<20)
	sealed, err := w.Seal([]byte(`{"record":true}`+"\n"), seal.BagInfo{})
	if err != nil {
		t.Fatal(err)
	}
	// The bag's own checks (no collection record or custody log here).
	rep, err := seal.Verify(sealed.Dir)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %+v %v", rep.Failed(), err)
	}
	files := bagEntries(t, sealed.Dir)
	var names []string
	for n := range files {
		if strings.HasPrefix(n, "data/"+memory.ImageDir+"/") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var img []byte
	for _, n := range names {
		img = append(img, files[n]...)
	}
	// The experts' way (memory.md, guide-expert.md), with standard tools.
	concat(t, files, names, img)
	want := make([]byte, size)
	fakeRAM(memorytest.RAMStart, want)
	var got []byte
	err = memory.ReadLiME(bytes.NewReader(img), func(h memory.Header, body io.Reader) error {
		if h.Start != memorytest.RAMStart+uint64(len(got)) {
			t.Errorf("record at %#x, after %#x bytes", h.Start, len(got))
		}
		b, err := io.ReadAll(body)
		got = append(got, b...)
		return err
	})
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("image of %d bytes (want %d): %v", len(got), len(want), err)
	}
	var lines []memory.RangeLine
	for _, l := range strings.Split(strings.TrimSpace(string(files["data/"+memory.RangesEntry])), "\n") {
		var r memory.RangeLine
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, r)
	}
	chunks := 0
	for _, l := range lines {
		if l.Status == memory.LineGap {
			continue
		}
		start, _ := strconv.ParseUint(strings.TrimPrefix(l.Start, "0x"), 16, 64)
		b := files[l.Entry]
		if len(b) < memory.LiMEHeaderSize || uint64(len(b)-memory.LiMEHeaderSize) != l.Bytes {
			t.Fatalf("%s: %d bytes for line %+v", l.Entry, len(b), l)
		}
		sum := sha256.Sum256(b[memory.LiMEHeaderSize:])
		if l.Status != memory.LineCollected || hex.EncodeToString(sum[:]) != l.SHA256 ||
			!bytes.Equal(b[memory.LiMEHeaderSize:], want[start-memorytest.RAMStart:][:l.Bytes]) {
			t.Errorf("line %+v", l)
		}
		chunks++
	}
	if chunks != len(names) || chunks != 7 || lines[len(lines)-1].Status != memory.LineGap {
		t.Errorf("%d chunk lines, %d chunks: %+v", chunks, len(names), lines)
	}
	var info memory.SourceInfo
	if err := json.Unmarshal(files["data/"+memory.SourceEntry], &info); err != nil {
		t.Fatal(err)
	}
	if k := info.Kernel; k.Banner != memorytest.Banner || k.OSRelease != memorytest.Release || k.VMCOREINFOOSRelease != memorytest.Release ||
		k.VMCOREINFOAddress != "0x102000" || len(info.Chunks) != 7 || info.Planned != size {
		t.Errorf("source.json: %s", files["data/"+memory.SourceEntry])
	}
}

// concatLiME is how the expert's guide and memory.md join the chunks:
// printf is built into the shell, so no argument list is too long for a
// host with a large RAM (130,000 chunks a TiB), which cat physical/*.lime
// would exceed.
const concatLiME = `printf '%s\0' physical/*.lime | xargs -0 cat > physical.lime`

// concat writes the chunk entries named into physical/, joins them with
// concatLiME under sh, and checks the result is want; and that the
// documents give that command.
func concat(t *testing.T, files map[string][]byte, names []string, want []byte) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "physical"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, "physical", path.Base(n)), files[n], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("sh", "-c", concatLiME)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", concatLiME, err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "physical.lime"))
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("%s made %d bytes, want the %d of the chunks in name order (%v)", concatLiME, len(got), len(want), err)
	}
	for _, doc := range []string{"memory.md", "guide-expert.md"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "docs", doc))
		if err != nil || !bytes.Contains(b, []byte(concatLiME)) {
			t.Errorf("docs/%s does not give %s (%v)", doc, concatLiME, err)
		}
	}
}

// journalItems returns the item lines of a journal.
func journalItems(t *testing.T, path string) []seal.JournalEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []seal.JournalEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e seal.JournalEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if e.Type == seal.JournalItem {
			out = append(out, e)
		}
	}
	return out
}

// TestCaptureCut: a run killed during the RAM leaves a bag whose archive
// ends inside a chunk. verify names the chunks proven, exactly those whose
// frames are whole before the cut, and the first chunk planned that is
// not.
func TestCaptureCut(t *testing.T) {
	w, _ := captureBag(t, 12<<20, 1<<20)
	if err := w.Abort("killed (test)"); err != nil {
		t.Fatal(err)
	}
	whole := w.PartialDir()
	items := journalItems(t, filepath.Join(whole, seal.JournalFile))
	var chunks []seal.JournalEntry
	for _, e := range items {
		if strings.HasPrefix(e.Path, "data/"+memory.ImageDir+"/") {
			chunks = append(chunks, e)
		}
	}
	if len(chunks) != 12 {
		t.Fatalf("%d chunks journaled", len(chunks))
	}
	archive, err := os.ReadFile(filepath.Join(whole, seal.ArchiveFile))
	if err != nil {
		t.Fatal(err)
	}
	journal, err := os.ReadFile(filepath.Join(whole, seal.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, uint64(len(archive))))
	first, last := *chunks[0].Offset, *chunks[len(chunks)-1].End
	for i := range 12 {
		cut := first + rng.Int64N(last-first)
		if i == 0 {
			cut = *chunks[3].End // on a frame boundary: chunk 3 whole
		}
		dir := filepath.Join(t.TempDir(), "case_host_20261205T000000Z"+seal.PartialSuffix)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, seal.ArchiveFile), archive[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, seal.JournalFile), journal, 0o644); err != nil {
			t.Fatal(err)
		}
		v, err := verdict.Check(dir, verdict.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		next := ""
		for _, c := range chunks {
			if *c.End <= cut {
				want = append(want, c.Path)
			} else if next == "" {
				next = c.Path
			}
		}
		if v.Status != verdict.NotSealed || v.RAM == nil || strings.Join(v.RAM.Proven, " ") != strings.Join(want, " ") ||
			v.RAM.FirstUnproven != next || v.RAM.Planned != 12 || v.RAM.FirstUnprovenRange == "" {
			t.Errorf("cut at %d: %s %+v; want proven %v, then %s", cut, v.Status, v.RAM, want, next)
		}
	}
}

// TestPlanRAM: the plan says the size, the source and the room, and
// skips the RAM with the reason when the output cannot take it.
func TestPlanRAM(t *testing.T) {
	p, err := memorytest.Tree(t.TempDir(), 64<<20, fakeRAM)
	if err != nil {
		t.Fatal(err)
	}
	env := collect.LinuxEnv("/")
	out := t.TempDir()
	for _, tc := range []struct {
		name   string
		c      *memory.RAM
		budget int64
		skip   string
	}{
		{"room", &memory.RAM{Paths: p}, 0, ""},
		{"no room", &memory.RAM{Paths: p}, 256 << 20, "no room: the output can take 256.0 MiB, the physical memory needs 578.0 MiB (64.0 MiB of RAM plus margin)"},
		{"--no-ram", &memory.RAM{Paths: p, Skip: ReasonNoRAM}, 0, ReasonNoRAM},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := planRAM(tc.c, &env, out, tc.budget)
			if !got.Planned || got.Skip != tc.skip {
				t.Fatalf("%+v", got)
			}
			if tc.c.Skip == "" && (got.Source != memory.SourceKcore || got.Bytes != 64<<20 || got.Room <= 0 || got.Estimate <= 0) {
				t.Errorf("%+v", got)
			}
		})
	}
	if got := planRAM(nil, &env, out, 0); got.Planned {
		t.Errorf("no collector: %+v", got)
	}
	dead := collect.LinuxEnv(t.TempDir())
	if got := planRAM(&memory.RAM{Paths: p}, &dead, out, 0); got.Planned {
		t.Errorf("dead-box: %+v", got)
	}
	none := &memory.RAM{Paths: memory.Paths{Proc: t.TempDir(), Sys: t.TempDir(), Dev: t.TempDir()}}
	if got := planRAM(none, &env, out, 0); !got.Planned || got.Source != "" || got.Refused == "" || got.Skip != "" {
		t.Errorf("no source: %+v", got)
	}
}
