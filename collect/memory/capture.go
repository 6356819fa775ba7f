package memory

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	sha256 "github.com/minio/sha256-simd"

	"github.com/scelle/scelle/collect"
)

// The bag entries of the physical memory (names below data/).
const (
	// SourceEntry is written first: the source, the sources refused, the
	// kernel's identity and the plan of the chunks.
	SourceEntry = "live/memory/source.json"
	// IomemEntry is /proc/iomem as read.
	IomemEntry = "live/memory/iomem"
	// ImageDir holds the image: one complete LiME file per chunk, named by
	// its first physical address (ChunkName), so that the files
	// concatenated in name order are the single LiME image.
	ImageDir = "live/memory/physical"
	// RangesEntry is written last: one RangeLine per chunk and per gap.
	RangesEntry = "live/memory/ranges.jsonl"
)

// EntryChunk is the most bytes of memory one chunk entry holds. A chunk is
// read whole into memory before it is stored, so that its LiME header
// never claims a byte that was not read; it bounds what a killed run or a
// full medium loses (the chunk in progress) and the collector's memory.
// 8 MiB, not 16 MiB as before 2026-12-06: a 16 MiB buffer beside the
// writer's frames left the heap 3 MiB under its 40 MiB limit, and the
// garbage collector ran 500 times a GiB captured (measured: 2.9 s of wall
// time and 4.3 s of CPU a GiB, against 1.6 s and 2.8 s with 8 MiB).
const EntryChunk = 8 << 20

// CollectorName is the native collector of the host's physical memory.
const CollectorName = "memory.ram"

// ItemSource is the source of the item recorded when the whole capture is
// skipped.
const ItemSource = "physical memory"

// minRate is the slowest capture the collector's time limit allows for:
// a USB 2 stick.
const minRate = 8 << 20

// CaptureLimit is the time a capture of ram bytes is allowed, given the
// Runner's timeout: the timeout plus the RAM read at minRate. Linux's
// capture and WinPmem's both take it.
func CaptureLimit(timeout time.Duration, ram uint64) time.Duration {
	return timeout + time.Duration(ram/minRate+1)*time.Second
}

// ChunkName is the entry name of the chunk whose first physical address
// is start: 16 hex digits, so that name order is address order.
func ChunkName(start uint64) string { return fmt.Sprintf("%s/%016x.lime", ImageDir, start) }

// The status of a RangeLine.
const (
	LineCollected = "collected" // every byte of the chunk is in its entry
	LinePartial   = "partial"   // the entry holds the chunk's first Bytes bytes: a read error stopped it
	LineFailed    = "failed"    // nothing of the chunk is stored (read error, output refused)
	LineSkipped   = "skipped"   // not stored on purpose (output budget, interrupted)
	LineGap       = "gap"       // System RAM the source cannot read (Gap)
)

// RangeLine is one line of RangesEntry.
type RangeLine struct {
	Start string `json:"start"` // hex, "0x..."
	End   string `json:"end"`   // hex, inclusive: the range planned
	// Bytes counts the bytes of the range in the image, from Start.
	Bytes uint64 `json:"bytes"`
	// SHA256 is the hash of those bytes (the LiME record's body).
	SHA256 string `json:"sha256,omitempty"`
	Source string `json:"source"`
	// Entry is the chunk's path in the bag ("data/live/memory/physical/...").
	Entry  string `json:"entry,omitempty"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// Kernel identifies the running kernel, so that an expert can check that
// the image is of this kernel.
type Kernel struct {
	Banner    string `json:"banner,omitempty"`    // /proc/version
	OSRelease string `json:"osrelease,omitempty"` // /proc/sys/kernel/osrelease (uname -r)
	// VMCOREINFOAddress and VMCOREINFOSize locate the VMCOREINFO note in
	// physical memory (/sys/kernel/vmcoreinfo); VMCOREINFOOSRelease is
	// the note's OSRELEASE.
	VMCOREINFOAddress   string `json:"vmcoreinfo_address,omitempty"`
	VMCOREINFOSize      uint64 `json:"vmcoreinfo_size,omitempty"`
	VMCOREINFOOSRelease string `json:"vmcoreinfo_osrelease,omitempty"`
	VMCOREINFOError     string `json:"vmcoreinfo_error,omitempty"`
}

// SourceInfo is the content of SourceEntry.
type SourceInfo struct {
	// Source is the source read (SourceKcore ...) and Path where; empty
	// when none works.
	Source  string       `json:"source,omitempty"`
	Path    string       `json:"path,omitempty"`
	Refused []RefusedRow `json:"refused,omitempty"`
	// Skipped says why nothing is captured.
	Skipped   string     `json:"skipped,omitempty"`
	PageSize  uint64     `json:"page_size,omitempty"`
	Lockdown  string     `json:"lockdown,omitempty"`
	SystemRAM []RangeRow `json:"system_ram,omitempty"`
	// Planned is the bytes of the chunks planned, Chunk the most bytes of
	// one chunk; Chunks lists them in order, Gaps what is not read.
	Planned uint64     `json:"planned_bytes"`
	Chunk   uint64     `json:"chunk_size"`
	Chunks  []RangeRow `json:"chunks,omitempty"`
	Gaps    []RangeRow `json:"gaps,omitempty"`
	Kernel  Kernel     `json:"kernel"`
}

// RangeRow is a physical range in SourceEntry.
type RangeRow struct {
	Start string `json:"start"`
	End   string `json:"end"`
	// Entry is a planned chunk's path in the bag ("data/live/memory/physical/...").
	Entry  string `json:"entry,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// RefusedRow is a Refusal in SourceEntry.
type RefusedRow struct {
	Source string `json:"source"`
	Path   string `json:"path"`
	Reason string `json:"reason"`
	Error  string `json:"error,omitempty"`
}

func hexAddr(a uint64) string { return fmt.Sprintf("%#x", a) }

func row(r Range) RangeRow { return RangeRow{Start: hexAddr(r.Start), End: hexAddr(r.End)} }

// RAM is the collector of the host's physical memory (CollectorName). It
// stores SourceEntry, IomemEntry, the chunks of ImageDir in address order
// and RangesEntry, and records one item for each. A capture that cannot
// run (dead-box, Skip set, no source) is one skipped item, source
// ItemSource, with the reason.
type RAM struct {
	// Paths locates /proc, /sys and /dev; zero: the Env's Linux paths
	// and /dev.
	Paths Paths
	// Skip, when set, is why the memory is not captured.
	Skip string
	// Chunk is the most bytes of one chunk; zero: EntryChunk.
	Chunk uint64
}

func (*RAM) Name() string         { return CollectorName }
func (*RAM) Class() collect.Class { return collect.ClassSystem }

func (c *RAM) paths(env *collect.Env) Paths {
	if c.Paths != (Paths{}) {
		return c.Paths
	}
	return Paths{Proc: env.Linux.Proc, Sys: env.Linux.Sys, Dev: "/dev"}
}

// TimeLimit implements collect.Lengthy: the Runner's timeout plus the
// System RAM read at 8 MiB/s.
func (c *RAM) TimeLimit(timeout time.Duration) time.Duration {
	p := c.Paths
	if p == (Paths{}) {
		p = HostPaths
	}
	ram, err := SystemRAM(p)
	if err != nil {
		return timeout
	}
	var total uint64
	for _, r := range ram {
		total += r.Size()
	}
	return CaptureLimit(timeout, total)
}

// SystemRAM returns the System RAM ranges of p's /proc/iomem.
func SystemRAM(p Paths) ([]Range, error) {
	b, err := collect.ReadFile(context.Background(), filepath.Join(p.Proc, "iomem"), maxIomem)
	if err != nil {
		return nil, err
	}
	return ParseIomem(bytes.NewReader(b))
}

const maxIomem = 4 << 20

// Collect implements collect.Collector.
func (c *RAM) Collect(ctx context.Context, s *collect.Session) error {
	if !s.Env.Live {
		s.Skip(ItemSource, collect.KindKernel, "dead-box collection: volatile state not available")
		return nil
	}
	if c.Skip != "" {
		s.Skip(ItemSource, collect.KindKernel, c.Skip)
		return nil
	}
	p := c.paths(s.Env)
	chunk := c.Chunk
	if chunk == 0 {
		chunk = EntryChunk
	}
	info := SourceInfo{Chunk: chunk, Kernel: kernelIdentity(ctx, p)}
	src, err := Open(p)
	if err != nil {
		info.Skipped = err.Error()
		var ns *NoSourceError
		if errors.As(err, &ns) {
			info.Refused = refusedRows(ns.Refused)
		} else {
			info.Skipped = "no physical memory source: " + err.Error()
		}
		s.PutBytes(ctx, SourceEntry, p.Proc, mustJSON(info))
		s.Skip(ItemSource, collect.KindKernel, info.Skipped)
		return nil
	}
	defer src.Close()
	info.Source, info.Path, info.Refused = src.Name, src.Path, refusedRows(src.Refused)
	info.PageSize, info.Lockdown = src.PageSize, src.Lockdown
	identifyNote(&info.Kernel, src)
	for _, r := range src.RAM {
		info.SystemRAM = append(info.SystemRAM, row(r))
	}
	chunks := planChunks(src.Extents, chunk)
	for _, ch := range chunks {
		info.Planned += ch.Size()
		r := row(ch.Range)
		r.Entry = "data/" + ChunkName(ch.Start)
		info.Chunks = append(info.Chunks, r)
	}
	for _, g := range src.Gaps {
		r := row(g.Range)
		r.Reason = g.Reason
		info.Gaps = append(info.Gaps, r)
	}
	s.PutBytes(ctx, SourceEntry, src.Path, mustJSON(info))
	s.CopyKernel(ctx, IomemEntry, filepath.Join(p.Proc, "iomem"), maxIomem)

	var lines bytes.Buffer
	var most uint64
	for _, ch := range chunks {
		most = max(most, ch.Size())
	}
	buf := make([]byte, LiMEHeaderSize+int(most))
	for _, ch := range chunks {
		line := c.captureChunk(ctx, s, src, ch, buf)
		lines.Write(mustJSON(line))
		lines.WriteByte('\n')
	}
	for _, g := range src.Gaps {
		lines.Write(mustJSON(RangeLine{Start: hexAddr(g.Start), End: hexAddr(g.End), Source: src.Name, Status: LineGap, Reason: g.Reason}))
		lines.WriteByte('\n')
	}
	s.PutBytes(ctx, RangesEntry, src.Path, lines.Bytes())
	return ctx.Err()
}

// captureChunk reads one chunk whole into buf (after room for the LiME
// header) and stores it as a complete LiME file of one record: the bytes
// really read. A read error stops the chunk there: the entry holds the
// bytes before it and the item is partial; the next chunk is read as
// usual.
func (c *RAM) captureChunk(ctx context.Context, s *collect.Session, src *Source, ch Extent, buf []byte) RangeLine {
	name := ChunkName(ch.Start)
	item := fmt.Sprintf("%s [%#x-%#x]", src.Path, ch.Start, ch.End)
	line := RangeLine{Start: hexAddr(ch.Start), End: hexAddr(ch.End), Source: src.Name}
	if ctx.Err() != nil {
		s.Skip(item, collect.KindKernel, "interrupted before this range was read")
		line.Status, line.Reason = LineSkipped, "interrupted before this range was read"
		return line
	}
	size := ch.Size()
	body := buf[LiMEHeaderSize : LiMEHeaderSize+int(size)]
	n, rerr := io.ReadFull(collect.NewContextReader(ctx, src.Reader(ch)), body)
	if rerr != nil {
		if errors.Is(rerr, io.ErrUnexpectedEOF) || errors.Is(rerr, io.EOF) {
			rerr = fmt.Errorf("the source ended at %#x: %w", ch.Start+uint64(n), io.ErrUnexpectedEOF)
		}
		rerr = fmt.Errorf("read error at %#x, real bytes stop there (%d of %d bytes of the range): %w",
			ch.Start+uint64(n), n, size, rerr)
	}
	if n == 0 {
		s.Fail(item, collect.KindKernel, rerr)
		line.Status, line.Reason = LineFailed, rerr.Error()
		return line
	}
	binary.LittleEndian.PutUint32(buf[0:], LiMEMagic)
	binary.LittleEndian.PutUint32(buf[4:], LiMEVersion)
	binary.LittleEndian.PutUint64(buf[8:], ch.Start)
	binary.LittleEndian.PutUint64(buf[16:], ch.Start+uint64(n)-1)
	binary.LittleEndian.PutUint64(buf[24:], 0)
	// The range's hash is made while the sink stores the chunk (both only
	// read buf).
	sumc := make(chan [32]byte, 1)
	go func() { sumc <- sha256.Sum256(body[:n]) }()
	o := s.PutRead(ctx, name, item, collect.KindKernel, buf[:LiMEHeaderSize+n], rerr)
	sum := <-sumc
	line.Entry, line.Status, line.Reason = o.Path, string(o.Status), o.Reason
	if o.Status.Stored() {
		line.Bytes, line.SHA256 = uint64(n), hex.EncodeToString(sum[:])
	}
	return line
}

// planChunks cuts the extents into chunks of at most chunk bytes, whose
// boundaries are multiples of chunk in physical addresses.
func planChunks(ext []Extent, chunk uint64) []Extent {
	var out []Extent
	for _, e := range ext {
		for pa := e.Start; ; {
			end := e.End
			if next := (pa/chunk + 1) * chunk; next != 0 && next-1 < end {
				end = next - 1
			}
			out = append(out, Extent{Range: Range{pa, end}, Offset: e.Offset + int64(pa-e.Start)})
			if end == e.End {
				break
			}
			pa = end + 1
		}
	}
	return out
}

// kernelIdentity reads the kernel banner, its release and where the
// VMCOREINFO note is.
func kernelIdentity(ctx context.Context, p Paths) Kernel {
	var k Kernel
	if b, err := collect.ReadFile(ctx, filepath.Join(p.Proc, "version"), 4096); err == nil {
		k.Banner = strings.TrimRight(string(b), "\n")
	}
	if b, err := collect.ReadFile(ctx, filepath.Join(p.Proc, "sys/kernel/osrelease"), 4096); err == nil {
		k.OSRelease = strings.TrimSpace(string(b))
	}
	if b, err := collect.ReadFile(ctx, filepath.Join(p.Sys, "kernel/vmcoreinfo"), 4096); err == nil {
		if addr, size, err := ParseVMCOREINFOLocation(b); err == nil {
			k.VMCOREINFOAddress, k.VMCOREINFOSize = hexAddr(addr), size
		}
	}
	return k
}

// identifyNote adds what the source says of the VMCOREINFO note.
func identifyNote(k *Kernel, src *Source) {
	if src.VMCOREINFOSize > 0 {
		k.VMCOREINFOAddress, k.VMCOREINFOSize = hexAddr(src.VMCOREINFOAddr), src.VMCOREINFOSize
	}
	if src.VMCOREINFO != nil {
		k.VMCOREINFOOSRelease = ParseVMCOREINFO(src.VMCOREINFO)["OSRELEASE"]
	}
	if src.VMCOREINFOErr != nil {
		k.VMCOREINFOError = src.VMCOREINFOErr.Error()
	}
}

func refusedRows(rs []Refusal) []RefusedRow {
	var out []RefusedRow
	for _, r := range rs {
		row := RefusedRow{Source: r.Source, Path: r.Path, Reason: r.Reason}
		if r.Err != nil {
			row.Error = r.Err.Error()
		}
		out = append(out, row)
	}
	return out
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs of strings and numbers
	}
	return b
}
