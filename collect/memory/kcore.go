package memory

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// ErrNotKcore wraps every reason ParseKcore refuses its input.
var ErrNotKcore = errors.New("not an ELF64 core file")

// Bounds on what ParseKcore reads: a kcore has one PT_LOAD per System RAM
// range, vmemmap block and a few kernel areas, and a few KiB of notes.
const (
	maxPhnum     = 0xfffe // PN_XNUM (0xffff), the escape to a section header count, is refused
	maxNoteBytes = 1 << 20
	phdrSize     = 56
	ehdrSize     = 64
	noPAddr      = math.MaxUint64 // the p_paddr of segments that have none
)

// Segment is one PT_LOAD program header of a core file.
type Segment struct {
	Offset   uint64 // p_offset: where the segment's bytes start in the file
	VAddr    uint64 // p_vaddr: the kernel virtual address of its first byte
	PAddr    uint64 // p_paddr: its physical address, all ones when it has none
	FileSize uint64 // p_filesz: the bytes the file holds for it
	MemSize  uint64 // p_memsz
}

// Physical reports whether the segment maps physical memory that can be
// read from the file: it has a physical address and bytes in the file
// whose offsets a reader can address (below 2^63).
func (s Segment) Physical() bool {
	return s.PAddr != noPAddr && s.FileSize > 0 && s.FileSize <= math.MaxInt64 && s.Offset <= math.MaxInt64-s.FileSize
}

// Phys returns the physical range s maps; it is meaningful only when
// s.Physical() and s.FileSize > 0.
func (s Segment) Phys() Range { return Range{Start: s.PAddr, End: s.PAddr + s.FileSize - 1} }

// Kcore is what ParseKcore reads of a /proc/kcore: its program headers and
// the VMCOREINFO note.
type Kcore struct {
	Machine elf.Machine
	// Order is the byte order of the file (the kernel's).
	Order binary.ByteOrder
	// Loads holds every PT_LOAD segment, in file order; Physical returns
	// those that map physical memory.
	Loads []Segment
	// VMCOREINFO is the text of the VMCOREINFO note ("OSRELEASE=...\n..."),
	// nil if the file has none (kernels before 4.19).
	VMCOREINFO []byte
	// NoteErr says why the notes could not be read; the segments are
	// usable all the same.
	NoteErr error
}

// Physical returns the PT_LOAD segments that map physical memory, in
// physical address order. Segments with p_paddr all ones (vmalloc, modules,
// vmemmap) or without bytes in the file are left out. Segments may
// overlap: the kernel text is mapped both by its own segment and by the
// direct map of the RAM that holds it.
func (k *Kcore) Physical() []Segment {
	var out []Segment
	for _, s := range k.Loads {
		if s.Physical() {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b Segment) int {
		switch {
		case a.PAddr < b.PAddr:
			return -1
		case a.PAddr > b.PAddr:
			return 1
		}
		return 0
	})
	return out
}

// ParseKcore reads the ELF header, the program headers and the notes of a
// /proc/kcore (or any ELF64 core file) from r. It reads nothing else: the
// segments' bytes are read later, range by range. It refuses a file that
// is not an ELF64 core, whose header table is out of bounds, or whose
// segments' offsets or addresses overflow; it never panics on hostile
// input and reads at most the header, 0xfffe program headers and 1 MiB of
// notes.
func ParseKcore(r io.ReaderAt) (*Kcore, error) {
	var eh [ehdrSize]byte
	if _, err := r.ReadAt(eh[:], 0); err != nil {
		return nil, fmt.Errorf("kcore: read the ELF header: %w", err)
	}
	if string(eh[:4]) != elf.ELFMAG {
		return nil, fmt.Errorf("kcore: no ELF magic: %w", ErrNotKcore)
	}
	if elf.Class(eh[elf.EI_CLASS]) != elf.ELFCLASS64 {
		return nil, fmt.Errorf("kcore: ELF class %v: %w", elf.Class(eh[elf.EI_CLASS]), ErrNotKcore)
	}
	var bo binary.ByteOrder
	switch elf.Data(eh[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		bo = binary.LittleEndian
	case elf.ELFDATA2MSB:
		bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("kcore: ELF data encoding %v: %w", elf.Data(eh[elf.EI_DATA]), ErrNotKcore)
	}
	if elf.Version(eh[elf.EI_VERSION]) != elf.EV_CURRENT || elf.Version(bo.Uint32(eh[20:])) != elf.EV_CURRENT {
		return nil, fmt.Errorf("kcore: ELF version: %w", ErrNotKcore)
	}
	if t := elf.Type(bo.Uint16(eh[16:])); t != elf.ET_CORE {
		return nil, fmt.Errorf("kcore: ELF type %v: %w", t, ErrNotKcore)
	}
	k := &Kcore{Machine: elf.Machine(bo.Uint16(eh[18:])), Order: bo}
	phoff := bo.Uint64(eh[32:])
	phentsize := bo.Uint16(eh[54:])
	phnum := int(bo.Uint16(eh[56:]))
	switch {
	case phentsize != phdrSize:
		return nil, fmt.Errorf("kcore: program header size %d, not %d: %w", phentsize, phdrSize, ErrNotKcore)
	case phnum == 0:
		return nil, fmt.Errorf("kcore: no program headers: %w", ErrNotKcore)
	case phnum > maxPhnum:
		return nil, fmt.Errorf("kcore: %d program headers (PN_XNUM) refused: %w", phnum, ErrNotKcore)
	case phoff > math.MaxInt64-uint64(phnum*phdrSize):
		return nil, fmt.Errorf("kcore: program headers at %#x out of bounds: %w", phoff, ErrNotKcore)
	}
	var notes []Segment
	// Read the table in batches, so that a claimed count costs nothing
	// before the bytes are there.
	buf := make([]byte, 256*phdrSize)
	for i := 0; i < phnum; {
		n := min(phnum-i, 256)
		b := buf[:n*phdrSize]
		if _, err := r.ReadAt(b, int64(phoff)+int64(i*phdrSize)); err != nil {
			return nil, fmt.Errorf("kcore: read program header %d: %w", i, err)
		}
		for j := 0; j < n; j, i = j+1, i+1 {
			p := b[j*phdrSize:]
			s := Segment{Offset: bo.Uint64(p[8:]), VAddr: bo.Uint64(p[16:]), PAddr: bo.Uint64(p[24:]),
				FileSize: bo.Uint64(p[32:]), MemSize: bo.Uint64(p[40:])}
			switch elf.ProgType(bo.Uint32(p)) {
			case elf.PT_LOAD:
				if s.Offset > math.MaxUint64-s.FileSize {
					return nil, fmt.Errorf("kcore: segment %d: offset %#x + size %#x overflows: %w", i, s.Offset, s.FileSize, ErrNotKcore)
				}
				if s.PAddr != noPAddr && s.FileSize > 0 && s.PAddr > math.MaxUint64-(s.FileSize-1) {
					return nil, fmt.Errorf("kcore: segment %d: physical address %#x + size %#x overflows: %w", i, s.PAddr, s.FileSize, ErrNotKcore)
				}
				k.Loads = append(k.Loads, s)
			case elf.PT_NOTE:
				notes = append(notes, s)
			}
		}
	}
	k.VMCOREINFO, k.NoteErr = readVMCOREINFONote(r, bo, notes)
	return k, nil
}

// readVMCOREINFONote finds the VMCOREINFO note in the PT_NOTE segments.
func readVMCOREINFONote(r io.ReaderAt, bo binary.ByteOrder, notes []Segment) ([]byte, error) {
	total := uint64(0)
	for _, s := range notes {
		if s.FileSize > maxNoteBytes-total || s.Offset > math.MaxInt64-s.FileSize {
			return nil, fmt.Errorf("kcore: notes larger than %d bytes or out of bounds", maxNoteBytes)
		}
		total += s.FileSize
		b := make([]byte, s.FileSize)
		if _, err := r.ReadAt(b, int64(s.Offset)); err != nil {
			return nil, fmt.Errorf("kcore: read notes at %#x: %w", s.Offset, err)
		}
		desc, err := findNote(b, bo, "VMCOREINFO")
		if err != nil {
			return nil, fmt.Errorf("kcore: notes at %#x: %w", s.Offset, err)
		}
		if desc != nil {
			return desc, nil
		}
	}
	return nil, nil
}

// findNote returns the descriptor of the first ELF note named name in b,
// nil if there is none. Linux aligns names and descriptors to 4 bytes in
// its core files. A note whose type and sizes are all zero ends the list
// (the VMCOREINFO buffer in memory ends with one).
func findNote(b []byte, bo binary.ByteOrder, name string) ([]byte, error) {
	for len(b) > 0 {
		if len(b) < 12 {
			return nil, fmt.Errorf("note header cut after %d bytes", len(b))
		}
		namesz, descsz, typ := uint64(bo.Uint32(b)), uint64(bo.Uint32(b[4:])), bo.Uint32(b[8:])
		if namesz == 0 && descsz == 0 && typ == 0 {
			return nil, nil
		}
		b = b[12:]
		nlen, dlen := align4(namesz), align4(descsz)
		if nlen > uint64(len(b)) || dlen > uint64(len(b))-nlen {
			return nil, fmt.Errorf("note of %d+%d bytes beyond the %d left", namesz, descsz, len(b))
		}
		n := strings.TrimRight(string(b[:namesz]), "\x00")
		if n == name {
			return bytes.Clone(b[nlen : nlen+descsz]), nil
		}
		b = b[nlen+dlen:]
	}
	return nil, nil
}

func align4(n uint64) uint64 { return (n + 3) &^ 3 }

// ParseVMCOREINFO returns the KEY=VALUE lines of a VMCOREINFO note:
// "OSRELEASE" is the kernel release, "PAGESIZE" its page size,
// "SYMBOL(swapper_pg_dir)" an address... Lines without "=" are ignored;
// a key given twice keeps its first value.
func ParseVMCOREINFO(b []byte) map[string]string {
	m := make(map[string]string)
	for line := range strings.SplitSeq(strings.TrimRight(string(b), "\x00"), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" {
			continue
		}
		if _, dup := m[k]; !dup {
			m[k] = v
		}
	}
	return m
}

// ParseVMCOREINFOLocation parses /sys/kernel/vmcoreinfo: the physical
// address and the size of the VMCOREINFO note, in hex ("%pa %x", so with
// or without "0x").
func ParseVMCOREINFOLocation(b []byte) (addr, size uint64, err error) {
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("vmcoreinfo: want \"<hex address> <hex size>\", got %q", b)
	}
	addr, err = parseHex([]byte(strings.TrimPrefix(f[0], "0x")))
	if err != nil {
		return 0, 0, fmt.Errorf("vmcoreinfo address: %w", err)
	}
	size, err = parseHex([]byte(strings.TrimPrefix(f[1], "0x")))
	if err != nil {
		return 0, 0, fmt.Errorf("vmcoreinfo size: %w", err)
	}
	if size == 0 || addr > math.MaxUint64-(size-1) {
		return 0, 0, fmt.Errorf("vmcoreinfo: bad range %#x+%#x", addr, size)
	}
	return addr, size, nil
}
