package memory

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	sha256 "github.com/minio/sha256-simd"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/collecttest"
)

// runRAM runs the collector on the fixture p and returns the sink and the
// outcomes.
func runRAM(t *testing.T, c *RAM, live bool) (*collecttest.Sink, *collecttest.Outcomes) {
	t.Helper()
	env := collect.LinuxEnv("/")
	env.Live = live
	sink, outs := &collecttest.Sink{}, &collecttest.Outcomes{}
	if err := c.Collect(context.Background(), collect.NewSession(&env, c, sink, outs.Add)); err != nil {
		t.Fatal(err)
	}
	return sink, outs
}

// image concatenates the chunk entries in name order, as cat does.
func image(sink *collecttest.Sink) ([]byte, []string) {
	var names []string
	for n := range sink.Files {
		if strings.HasPrefix(n, ImageDir+"/") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var img []byte
	for _, n := range names {
		img = append(img, sink.Files[n]...)
	}
	return img, names
}

func rangeLines(t *testing.T, sink *collecttest.Sink) []RangeLine {
	t.Helper()
	var out []RangeLine
	for _, l := range strings.Split(strings.TrimSpace(string(sink.Files[RangesEntry])), "\n") {
		var r RangeLine
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out = append(out, r)
	}
	return out
}

func hexU(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCaptureKcore(t *testing.T) {
	kc, _ := x86Kcore(binary.LittleEndian).build()
	p := fixtureRoot(t, map[string]string{
		"proc/kcore":                string(kc),
		"proc/version":              "Linux version 6.12.0-test-amd64 (debian-kernel@lists.debian.org)\n",
		"proc/sys/kernel/osrelease": "6.12.0-test-amd64\n",
		"sys/kernel/vmcoreinfo":     "0x0000000000101800 1024\n",
	})
	sink, outs := runRAM(t, &RAM{Paths: p, Chunk: 0x4000}, true)

	// Entries, in the order stored: the plan, iomem, the chunks, the lines.
	if sink.Order[0] != SourceEntry || sink.Order[1] != IomemEntry || sink.Order[len(sink.Order)-1] != RangesEntry {
		t.Fatalf("order %v", sink.Order)
	}
	var info SourceInfo
	if err := json.Unmarshal(sink.Files[SourceEntry], &info); err != nil {
		t.Fatal(err)
	}
	k := info.Kernel
	if info.Source != SourceKcore || k.OSRelease != "6.12.0-test-amd64" || k.VMCOREINFOOSRelease != "6.12.0-test-amd64" ||
		k.VMCOREINFOAddress != "0x101800" || !strings.HasPrefix(k.Banner, "Linux version 6.12.0") || info.Chunk != 0x4000 {
		t.Errorf("source.json: %s", sink.Files[SourceEntry])
	}

	img, names := image(sink)
	if len(names) != len(info.Chunks) {
		t.Fatalf("%d chunks stored, %d planned", len(names), len(info.Chunks))
	}
	// The chunks, concatenated, are one LiME image of the synthetic memory.
	var recs []Header
	err := ReadLiME(bytes.NewReader(img), func(h Header, body io.Reader) error {
		b, err := io.ReadAll(body)
		if err != nil {
			return err
		}
		if !bytes.Equal(b, physBytes(h.range_())) {
			return fmt.Errorf("record %#x-%#x differs", h.Start, h.End)
		}
		recs = append(recs, h)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Every chunk line hashes to its bytes; the gaps follow.
	lines := rangeLines(t, sink)
	var chunks, gaps int
	for _, l := range lines {
		start, end := hexU(t, l.Start), hexU(t, l.End)
		switch l.Status {
		case LineCollected:
			sum := sha256.Sum256(physBytes(Range{start, end}))
			if l.SHA256 != hex.EncodeToString(sum[:]) || l.Bytes != end-start+1 || l.Source != SourceKcore ||
				l.Entry != "data/"+ChunkName(start) || recs[chunks].Start != start || recs[chunks].End != end {
				t.Errorf("line %+v", l)
			}
			if end-start+1 > 0x4000 || (start/0x4000 != end/0x4000) {
				t.Errorf("chunk %+v crosses a chunk boundary", l)
			}
			chunks++
		case LineGap:
			if l.Entry != "" || l.Bytes != 0 || l.Reason == "" {
				t.Errorf("gap %+v", l)
			}
			gaps++
		default:
			t.Errorf("line %+v", l)
		}
	}
	if chunks != len(recs) || chunks != len(names) || gaps != len(info.Gaps) || gaps == 0 {
		t.Errorf("%d chunk lines, %d records, %d gaps", chunks, len(recs), gaps)
	}
	for _, o := range outs.All {
		if o.Status != collect.Collected || o.Collector != CollectorName {
			t.Errorf("outcome %+v", o)
		}
	}
	if len(outs.All) != len(names)+3 {
		t.Errorf("%d outcomes for %d chunks", len(outs.All), len(names))
	}
}

// A read error inside a chunk: the chunk keeps the bytes read, is
// partial, and says where real bytes stop; the next chunks are read.
func TestCaptureReadError(t *testing.T) {
	k := x86Kcore(binary.LittleEndian)
	kc, loads := k.build()
	// The file ends 0x1800 bytes into the direct map of the first range:
	// every later read fails.
	cut := loads[3].Offset + 0x1800
	p := fixtureRoot(t, map[string]string{"proc/kcore": string(kc[:cut])})
	sink, outs := runRAM(t, &RAM{Paths: p, Chunk: 0x1000}, true)
	lines := rangeLines(t, sink)
	var partial *RangeLine
	failed := 0
	for i, l := range lines {
		switch l.Status {
		case LinePartial:
			partial = &lines[i]
		case LineFailed:
			failed++
		}
	}
	if partial == nil || partial.Start != "0x2000" || partial.Bytes != 0x800 || !strings.Contains(partial.Reason, "real bytes stop there") ||
		!strings.Contains(partial.Reason, "0x2800") {
		t.Fatalf("partial line %+v in %+v", partial, lines)
	}
	if failed == 0 {
		t.Error("no failed chunk after the cut")
	}
	img, _ := image(sink)
	var last Header
	if err := ReadLiME(bytes.NewReader(img), func(h Header, body io.Reader) error { last = h; return nil }); err != nil {
		t.Fatal(err)
	}
	if last.Start != 0x2000 || last.End != 0x27ff {
		t.Errorf("last record %#x-%#x", last.Start, last.End)
	}
	var sawPartial bool
	for _, o := range outs.All {
		if o.Status == collect.Partial {
			sawPartial = strings.Contains(o.Reason, "real bytes stop there")
		}
	}
	if !sawPartial {
		t.Error("no partial outcome")
	}
}

func TestCaptureSkipped(t *testing.T) {
	for _, tc := range []struct {
		name   string
		c      *RAM
		live   bool
		reason string
	}{
		{"no source (this machine)", &RAM{}, true, "no physical memory source: /proc/kcore: absent; /dev/crash: absent; /dev/mem: absent"},
		{"--no-ram", &RAM{Skip: "--no-ram"}, true, "--no-ram"},
		{"dead-box", &RAM{}, false, "dead-box collection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.Paths = fixtureRoot(t, nil)
			sink, outs := runRAM(t, tc.c, tc.live)
			if len(outs.All) == 0 {
				t.Fatal("no outcome")
			}
			o := outs.All[len(outs.All)-1]
			if o.Status != collect.Skipped || o.Source != ItemSource || !strings.HasPrefix(o.Reason, tc.reason) {
				t.Errorf("outcome %+v", o)
			}
			if _, ok := sink.Files[SourceEntry]; ok != (tc.c.Skip == "" && tc.live) {
				t.Errorf("source.json stored: %v", ok)
			}
		})
	}
}

func TestPlanChunks(t *testing.T) {
	ext := []Extent{{Range: Range{0x1000, 0x9efff}, Offset: 0x500}, {Range: Range{0x100000, 0x3fffffff}, Offset: 0x10000}}
	ch := planChunks(ext, 16<<20)
	if len(ch) != 1+1+63 || ch[0].Range != ext[0].Range || ch[1].Start != 0x100000 || ch[1].End != 0xffffff ||
		ch[2].Start != 0x1000000 || ch[2].Offset != 0x10000+0x1000000-0x100000 || ch[len(ch)-1].End != 0x3fffffff {
		t.Errorf("%d chunks: %v ... %v", len(ch), ch[:3], ch[len(ch)-1])
	}
	// The top of the address space does not wrap.
	top := planChunks([]Extent{{Range: Range{1<<64 - 0x2000, 1<<64 - 1}}}, 0x1000)
	if len(top) != 2 || top[1].End != 1<<64-1 {
		t.Errorf("%v", top)
	}
}

func TestCaptureTimeLimit(t *testing.T) {
	p := fixtureRoot(t, nil)
	got := (&RAM{Paths: p}).TimeLimit(60e9)
	if got <= 60e9 || got > 60e9+200e9 {
		t.Errorf("time limit %v for 1 GiB", got)
	}
	if err := os.Remove(filepath.Join(p.Proc, "iomem")); err != nil {
		t.Fatal(err)
	}
	if got := (&RAM{Paths: p}).TimeLimit(60e9); got != 60e9 {
		t.Errorf("without iomem: %v", got)
	}
}
