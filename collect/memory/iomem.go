package memory

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// Range is a span of physical addresses; End is the address of its last
// byte (inclusive, as in /proc/iomem and LiME headers).
type Range struct {
	Start, End uint64
}

// Size returns the number of bytes in r, or 0 for the full 2^64-byte
// range (which no host has).
func (r Range) Size() uint64 { return r.End - r.Start + 1 }

func (r Range) String() string { return fmt.Sprintf("%#x-%#x", r.Start, r.End) }

// ErrIomemHidden is returned by ParseIomem when every "System RAM" line
// shows the address 0: the kernel hides physical addresses from readers
// without CAP_SYS_ADMIN.
var ErrIomemHidden = errors.New("/proc/iomem shows zero addresses: reading the physical memory map needs root (CAP_SYS_ADMIN)")

// iomem bounds: far above any host (a machine has tens to a few thousand
// top-level resources), low enough that hostile input stays cheap.
const (
	maxIomemLine   = 4096
	maxIomemRanges = 1 << 16
)

// ParseIomem returns the top-level "System RAM" ranges of /proc/iomem, in
// address order. Nested lines (indented: "Kernel code", "Crash kernel"
// ...) are ignored; every top-level line must be well formed
// ("<hex start>-<hex end> : <name>") or ParseIomem fails with the line
// number. Top-level System RAM ranges that overlap are refused; ranges
// that touch are kept apart, as the kernel lists them.
func ParseIomem(r io.Reader) ([]Range, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxIomemLine)
	var ram []Range
	hidden, lines := 0, 0
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		if lines++; lines > maxIomemRanges {
			return nil, fmt.Errorf("iomem: more than %d top-level lines", maxIomemRanges)
		}
		rg, name, err := parseIomemLine(line)
		if err != nil {
			return nil, fmt.Errorf("iomem line %d: %w", n, err)
		}
		if name != "System RAM" {
			continue
		}
		if rg.Start == 0 && rg.End == 0 {
			hidden++
		}
		ram = append(ram, rg)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("iomem: a line longer than %d bytes", maxIomemLine)
		}
		return nil, fmt.Errorf("iomem: %w", err)
	}
	switch {
	case len(ram) == 0:
		return nil, errors.New("iomem: no System RAM line")
	case hidden == len(ram):
		return nil, ErrIomemHidden
	case hidden > 0:
		return nil, errors.New("iomem: a System RAM line at address 0-0 among real addresses")
	}
	slices.SortFunc(ram, func(a, b Range) int {
		switch {
		case a.Start < b.Start:
			return -1
		case a.Start > b.Start:
			return 1
		}
		return 0
	})
	for i := 1; i < len(ram); i++ {
		if ram[i].Start <= ram[i-1].End {
			return nil, fmt.Errorf("iomem: System RAM %v overlaps %v", ram[i], ram[i-1])
		}
	}
	return ram, nil
}

// parseIomemLine parses "<hex>-<hex> : name"; the name is everything after
// the first " : " and may itself hold " : ".
func parseIomemLine(line []byte) (Range, string, error) {
	span, name, ok := bytes.Cut(line, []byte(" : "))
	if !ok {
		return Range{}, "", fmt.Errorf("no \" : \" in %q", line)
	}
	a, b, ok := bytes.Cut(span, []byte("-"))
	if !ok {
		return Range{}, "", fmt.Errorf("no \"-\" in the range %q", span)
	}
	start, err := parseHex(a)
	if err != nil {
		return Range{}, "", fmt.Errorf("start of %q: %w", span, err)
	}
	end, err := parseHex(b)
	if err != nil {
		return Range{}, "", fmt.Errorf("end of %q: %w", span, err)
	}
	if end < start {
		return Range{}, "", fmt.Errorf("range %q ends before it starts", span)
	}
	return Range{Start: start, End: end}, string(name), nil
}

// parseHex parses the kernel's unprefixed lower- or upper-case hex.
func parseHex(b []byte) (uint64, error) {
	if len(b) == 0 || len(b) > 32 {
		return 0, fmt.Errorf("bad hex number %q", b)
	}
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return 0, fmt.Errorf("bad hex number %q", b)
		}
	}
	v, err := strconv.ParseUint(string(b), 16, 64)
	if err != nil {
		return 0, fmt.Errorf("bad hex number %q: %w", b, errors.Unwrap(err))
	}
	return v, nil
}
