package memory

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

var qemuRAM = []Range{{0x1000, 0x9fbff}, {0x100000, 0x3ffdefff}}

func TestPlanKcore(t *testing.T) {
	b, _ := x86Kcore(binary.LittleEndian).build()
	k, err := ParseKcore(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	phys := k.Physical()
	ext, gaps := Plan(qemuRAM, k.Loads, 4096)
	wantExt := []Extent{
		{Range{0x1000, 0x9efff}, int64(phys[0].Offset)},
		{Range{0x100000, 0x107fff}, int64(phys[1].Offset)},
	}
	wantGaps := []Gap{
		{Range{0x9f000, 0x9fbff}, ReasonPartialPage},
		{Range{0x108000, 0x3ffdefff}, ReasonUnmapped},
	}
	if !reflect.DeepEqual(ext, wantExt) {
		t.Errorf("extents:\n got %+v\nwant %+v", ext, wantExt)
	}
	if !reflect.DeepEqual(gaps, wantGaps) {
		t.Errorf("gaps:\n got %+v\nwant %+v", gaps, wantGaps)
	}
	// Each extent reads the bytes of its physical addresses.
	for _, e := range ext {
		for _, pa := range []uint64{e.Start, e.Start + 4095, e.End} {
			if got := b[e.Offset+int64(pa-e.Start)]; got != patternAt(pa) {
				t.Errorf("%#x: byte %#x, want %#x", pa, got, patternAt(pa))
			}
		}
	}
}

func TestPlanCases(t *testing.T) {
	seg := func(pa, size, off uint64) Segment {
		return Segment{PAddr: pa, FileSize: size, MemSize: size, Offset: off}
	}
	for _, tc := range []struct {
		name string
		ram  []Range
		segs []Segment
		ext  []Extent
		gaps []Gap
	}{{
		name: "text segment reaching past a RAM segment",
		ram:  []Range{{0x100000, 0x10ffff}},
		segs: []Segment{seg(0x100000, 0x2000, 0x10000), seg(0x101000, 0x4000, 0x90000), seg(0x105000, 0xb000, 0x15000)},
		ext: []Extent{
			{Range{0x100000, 0x101fff}, 0x10000},
			{Range{0x102000, 0x104fff}, 0x91000},
			{Range{0x105000, 0x10ffff}, 0x15000},
		},
	}, {
		name: "segments contiguous in memory and in the file are one extent",
		ram:  []Range{{0x0, 0x3fff}},
		segs: []Segment{seg(0x2000, 0x2000, 0x3000), seg(0x0, 0x2000, 0x1000)},
		ext:  []Extent{{Range{0x0, 0x3fff}, 0x1000}},
	}, {
		name: "range starting and ending inside pages",
		ram:  []Range{{0x1800, 0x4bff}},
		segs: []Segment{seg(0x2000, 0x2000, 0x1000)},
		ext:  []Extent{{Range{0x2000, 0x3fff}, 0x1000}},
		gaps: []Gap{{Range{0x1800, 0x1fff}, ReasonPartialPage}, {Range{0x4000, 0x4bff}, ReasonPartialPage}},
	}, {
		name: "range inside one page, unmapped",
		ram:  []Range{{0x1010, 0x10ff}},
		gaps: []Gap{{Range{0x1010, 0x10ff}, ReasonPartialPage}},
	}, {
		name: "a hole of a page and more, and segments outside RAM",
		ram:  []Range{{0x0, 0xffff}, {0x20000, 0x20fff}},
		segs: []Segment{seg(0x0, 0x4000, 0x1000), seg(0x9000, 0x7000, 0x9000), seg(0x11000, 0x4000, 0x40000),
			{PAddr: noPAddr, FileSize: 0x1000, Offset: 0x5000}, seg(0x20000, 0x1000, math.MaxInt64)},
		ext:  []Extent{{Range{0x0, 0x3fff}, 0x1000}, {Range{0x9000, 0xffff}, 0x9000}},
		gaps: []Gap{{Range{0x4000, 0x8fff}, ReasonUnmapped}, {Range{0x20000, 0x20fff}, ReasonUnmapped}},
	}, {
		name: "a hole shorter than a page inside the range",
		ram:  []Range{{0x0, 0x2fff}},
		segs: []Segment{seg(0x0, 0x1000, 0x1000), seg(0x1800, 0x1800, 0x3000)},
		ext:  []Extent{{Range{0x0, 0xfff}, 0x1000}, {Range{0x1800, 0x2fff}, 0x3000}},
		gaps: []Gap{{Range{0x1000, 0x17ff}, ReasonUnmapped}},
	}, {
		name: "the top of the address space",
		ram:  []Range{{math.MaxUint64 - 0x1fff, math.MaxUint64}},
		segs: []Segment{seg(math.MaxUint64-0xfff, 0x1000, 0x1000)},
		ext:  []Extent{{Range{math.MaxUint64 - 0xfff, math.MaxUint64}, 0x1000}},
		gaps: []Gap{{Range{math.MaxUint64 - 0x1fff, math.MaxUint64 - 0x1000}, ReasonUnmapped}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ext, gaps := Plan(tc.ram, tc.segs, 4096)
			if !reflect.DeepEqual(ext, tc.ext) {
				t.Errorf("extents:\n got %+v\nwant %+v", ext, tc.ext)
			}
			if !reflect.DeepEqual(gaps, tc.gaps) {
				t.Errorf("gaps:\n got %+v\nwant %+v", gaps, tc.gaps)
			}
			checkTiling(t, tc.ram, tc.segs, ext, gaps)
		})
	}
}

// checkTiling checks that extents and gaps tile ram exactly, that each
// extent is read where a segment maps it, and that no gap is mapped.
func checkTiling(t *testing.T, ram []Range, segs []Segment, ext []Extent, gaps []Gap) {
	t.Helper()
	var parts []Range
	for _, e := range ext {
		parts = append(parts, e.Range)
		for _, pa := range []uint64{e.Start, e.End} {
			ok := false
			for _, s := range segs {
				if s.Physical() && pa >= s.PAddr && pa <= s.Phys().End && e.Offset+int64(pa-e.Start) == int64(s.Offset+(pa-s.PAddr)) {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("extent %+v: %#x is not read where a segment maps it", e, pa)
			}
		}
	}
	for _, g := range gaps {
		parts = append(parts, g.Range)
		for _, s := range segs {
			if s.Physical() && s.PAddr <= g.End && s.Phys().End >= g.Start {
				t.Fatalf("gap %+v is mapped by %+v", g, s)
			}
		}
	}
	slices.SortFunc(parts, func(a, b Range) int { return cmpUint(a.Start, b.Start) })
	ram = slices.Clone(ram)
	slices.SortFunc(ram, func(a, b Range) int { return cmpUint(a.Start, b.Start) })
	i := 0
	for _, r := range ram {
		pa := r.Start
		for i < len(parts) && parts[i].Start <= r.End {
			if parts[i].Start != pa || parts[i].End > r.End {
				t.Fatalf("part %v does not continue %v at %#x", parts[i], r, pa)
			}
			if parts[i].End == r.End {
				pa = 0
				i++
				goto next
			}
			pa = parts[i].End + 1
			i++
		}
		t.Fatalf("range %v not covered from %#x", r, pa)
	next:
	}
	if i != len(parts) {
		t.Fatalf("parts outside RAM: %v", parts[i:])
	}
}

func TestPlanRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var ram []Range
		pa := uint64(rng.IntN(0x3000))
		for range rng.IntN(5) + 1 {
			size := uint64(rng.IntN(0x8000) + 1)
			ram = append(ram, Range{pa, pa + size - 1})
			pa += size + uint64(rng.IntN(3)*rng.IntN(0x3000))
		}
		var segs []Segment
		for range rng.IntN(8) {
			s := Segment{PAddr: uint64(rng.IntN(0x20000)) &^ 0xfff, FileSize: uint64(rng.IntN(8)+1) * 0x1000, Offset: uint64(rng.IntN(1 << 30))}
			if rng.IntN(6) == 0 {
				s.PAddr = noPAddr
			}
			segs = append(segs, s)
		}
		ext, gaps := Plan(ram, segs, 4096)
		checkTiling(t, ram, segs, ext, gaps)
	}
}

func TestPlanDevice(t *testing.T) {
	ram := []Range{{0x1000, 0x9fbff}, {0x100800, 0x1007ff + 0x3000}, {0x200010, 0x2000ff}, {math.MaxInt64 - 0x1fff, math.MaxInt64 + 0x1000}, {1<<63 + 0x10000, 1<<63 + 0x1ffff}}
	ext, gaps := planDevice(ram, 4096, true)
	wantExt := []Extent{
		{Range{0x1000, 0x9efff}, 0x1000},
		{Range{0x101000, 0x102fff}, 0x101000},
		{Range{math.MaxInt64 - 0x1fff, math.MaxInt64 - 0x1000}, math.MaxInt64 - 0x1fff},
	}
	wantGaps := []Gap{
		{Range{0x9f000, 0x9fbff}, ReasonPartialPage},
		{Range{0x100800, 0x100fff}, ReasonPartialPage},
		{Range{0x103000, 0x1037ff}, ReasonPartialPage},
		{Range{0x200010, 0x2000ff}, ReasonPartialPage},
		{Range{math.MaxInt64 - 0xfff, math.MaxInt64 - 1}, ReasonPartialPage},
		{Range{math.MaxInt64, math.MaxInt64 + 0x1000}, ReasonBeyond},
		{Range{1<<63 + 0x10000, 1<<63 + 0x1ffff}, ReasonBeyond},
	}
	if !reflect.DeepEqual(ext, wantExt) || !reflect.DeepEqual(gaps, wantGaps) {
		t.Errorf("whole pages:\n got %+v\n     %+v\nwant %+v\n     %+v", ext, gaps, wantExt, wantGaps)
	}
	checkTiling(t, ram, identity(ext), ext, gaps)
	ext, gaps = planDevice(ram[:3], 4096, false)
	if len(gaps) != 0 || len(ext) != 3 || ext[0] != (Extent{ram[0], 0x1000}) || ext[2] != (Extent{ram[2], 0x200010}) {
		t.Errorf("any bytes: %+v %+v", ext, gaps)
	}
}

// identity returns the segments of a device whose offset is the physical
// address.
func identity(ext []Extent) []Segment {
	var s []Segment
	for _, e := range ext {
		s = append(s, Segment{PAddr: e.Start, FileSize: e.Size(), Offset: e.Start})
	}
	return s
}
