package memory

import (
	"math"
	"slices"
)

// Extent is a physical range the source can read, and where: the byte at
// physical address Start is at Offset in the source file.
type Extent struct {
	Range
	Offset int64
}

// Gap is a span of System RAM that is not captured, and why. A gap is
// never filled: the image has no bytes for it.
type Gap struct {
	Range
	Reason string
}

// The reasons a Gap gives.
const (
	ReasonUnmapped    = "System RAM that /proc/kcore does not map"
	ReasonPartialPage = "part of a page at the edge of System RAM: the source maps whole pages only"
	ReasonBeyond      = "System RAM beyond the offsets the device can address"
)

// Plan intersects the System RAM ranges of /proc/iomem with the physical
// segments of a /proc/kcore (Kcore.Physical) and says where each
// intersection is read: at p_offset + (pa - p_paddr). The parts of System
// RAM that no segment maps are returned as gaps, with a reason:
// ReasonPartialPage where a range starts or ends inside a page (iomem can,
// kcore maps whole pages), ReasonUnmapped for the rest. Segments outside
// System RAM are ignored. Where segments overlap (the kernel text is
// mapped twice), the one that reaches farthest is read.
//
// Extents and gaps come out in address order and, together, tile the RAM
// ranges exactly. ram must not overlap itself (ParseIomem ensures it).
func Plan(ram []Range, segs []Segment, pageSize uint64) ([]Extent, []Gap) {
	ram = slices.Clone(ram)
	slices.SortFunc(ram, func(a, b Range) int { return cmpUint(a.Start, b.Start) })
	var phys []Segment
	for _, s := range segs {
		if s.Physical() {
			phys = append(phys, s)
		}
	}
	slices.SortStableFunc(phys, func(a, b Segment) int { return cmpUint(a.PAddr, b.PAddr) })

	var ext []Extent
	var gaps []Gap
	// j counts the segments that start at or before pa; best is, among
	// them, the one that reaches farthest. pa only grows, so both only
	// move forward.
	j, best := 0, -1
	for _, r := range ram {
		pa, first := r.Start, len(ext)
		for {
			for j < len(phys) && phys[j].PAddr <= pa {
				if best < 0 || phys[j].Phys().End > phys[best].Phys().End {
					best = j
				}
				j++
			}
			var end uint64
			if best >= 0 && phys[best].Phys().End >= pa {
				s := phys[best]
				end = min(s.Phys().End, r.End)
				e := Extent{Range: Range{pa, end}, Offset: int64(s.Offset + (pa - s.PAddr))}
				if len(ext) > first && continues(ext[len(ext)-1], e) {
					ext[len(ext)-1].End = end
				} else {
					ext = append(ext, e)
				}
			} else {
				end = r.End
				if j < len(phys) && phys[j].PAddr-1 < end {
					end = phys[j].PAddr - 1
				}
				g := Range{pa, end}
				gaps = append(gaps, Gap{Range: g, Reason: gapReason(r, g, pageSize)})
			}
			if end == r.End {
				break
			}
			pa = end + 1
		}
	}
	return ext, gaps
}

// maxOffset is the last offset a reader can address: a read of its byte
// ends at math.MaxInt64.
const maxOffset = math.MaxInt64 - 1

// planDevice plans the reading of a physical memory device, where the
// offset is the physical address. With whole set (/dev/crash reads one
// aligned page at a time) each range is cut to whole pages.
func planDevice(ram []Range, pageSize uint64, whole bool) ([]Extent, []Gap) {
	pageSize = max(pageSize, 1)
	var ext []Extent
	var gaps []Gap
	for _, r := range ram {
		if r.Start > maxOffset {
			gaps = append(gaps, Gap{Range: r, Reason: ReasonBeyond})
			continue
		}
		var beyond []Gap
		if r.End > maxOffset {
			beyond = []Gap{{Range: Range{maxOffset + 1, r.End}, Reason: ReasonBeyond}}
			r.End = maxOffset
		}
		switch first, stop := (r.Start+pageSize-1)/pageSize*pageSize, (r.End+1)/pageSize*pageSize; {
		case !whole:
			ext = append(ext, Extent{Range: r, Offset: int64(r.Start)})
		case stop <= first:
			gaps = append(gaps, Gap{Range: r, Reason: ReasonPartialPage})
		default:
			if first > r.Start {
				gaps = append(gaps, Gap{Range: Range{r.Start, first - 1}, Reason: ReasonPartialPage})
			}
			ext = append(ext, Extent{Range: Range{first, stop - 1}, Offset: int64(first)})
			if stop-1 < r.End {
				gaps = append(gaps, Gap{Range: Range{stop, r.End}, Reason: ReasonPartialPage})
			}
		}
		gaps = append(gaps, beyond...)
	}
	return ext, gaps
}

// gapReason says why g, a part of the RAM range r, is not mapped.
func gapReason(r, g Range, pageSize uint64) string {
	if pageSize == 0 || g.Size() == 0 || g.Size() >= pageSize {
		return ReasonUnmapped
	}
	// The tail of a range that ends inside a page, from the page start.
	if g.End == r.End && g.Start%pageSize == 0 && (g.End+1)%pageSize != 0 {
		return ReasonPartialPage
	}
	// The head of a range that starts inside a page, to the page end.
	if g.Start == r.Start && g.Start%pageSize != 0 && (g.End+1)%pageSize == 0 {
		return ReasonPartialPage
	}
	// A range shorter than a page, inside one page.
	if g == r && g.Start/pageSize == g.End/pageSize {
		return ReasonPartialPage
	}
	return ReasonUnmapped
}

// continues reports whether e continues l both in physical addresses and
// in the source.
func continues(l, e Extent) bool {
	return l.End+1 == e.Start && l.Offset+int64(l.Size()) == e.Offset
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
