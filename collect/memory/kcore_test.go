package memory

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// patternAt is the byte the synthetic memory holds at physical address pa:
// every page differs, so a read at a wrong offset shows.
func patternAt(pa uint64) byte { return byte((pa * 0x9E3779B97F4A7C15) >> 56) }

// byteOrder reads and appends.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// note encodes one ELF note as Linux writes them in core files.
func note(bo byteOrder, name string, typ uint32, desc []byte) []byte {
	var b []byte
	b = bo.AppendUint32(b, uint32(len(name)+1))
	b = bo.AppendUint32(b, uint32(len(desc)))
	b = bo.AppendUint32(b, typ)
	b = append(b, name...)
	b = append(b, 0)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	b = append(b, desc...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// fakeKcore describes a synthetic /proc/kcore.
type fakeKcore struct {
	order   byteOrder
	machine elf.Machine
	notes   []byte
	// loads are the PT_LOAD segments. A segment with a physical address
	// and Offset 0 gets its bytes (patternAt) laid out in the file; other
	// segments keep their Offset and have no bytes.
	loads []Segment
}

// build returns the file and the load segments with their offsets.
func (k fakeKcore) build() ([]byte, []Segment) {
	bo := k.order
	if bo == nil {
		bo = binary.LittleEndian
	}
	mach := k.machine
	if mach == 0 {
		mach = elf.EM_X86_64
	}
	nph := len(k.loads)
	if k.notes != nil {
		nph++
	}
	dataOff := uint64(ehdrSize + nph*phdrSize + len(k.notes))
	loads := append([]Segment(nil), k.loads...)
	var data []byte
	for i := range loads {
		s := &loads[i]
		if s.PAddr == noPAddr || s.Offset != 0 {
			continue
		}
		s.Offset = dataOff + uint64(len(data))
		for pa := s.PAddr; pa < s.PAddr+s.FileSize; pa++ {
			data = append(data, patternAt(pa))
		}
	}
	var b []byte
	b = append(b, elf.ELFMAG...)
	b = append(b, byte(elf.ELFCLASS64))
	if bo == binary.LittleEndian {
		b = append(b, byte(elf.ELFDATA2LSB))
	} else {
		b = append(b, byte(elf.ELFDATA2MSB))
	}
	b = append(b, byte(elf.EV_CURRENT), 0)
	b = append(b, make([]byte, 8)...)
	b = bo.AppendUint16(b, uint16(elf.ET_CORE))
	b = bo.AppendUint16(b, uint16(mach))
	b = bo.AppendUint32(b, uint32(elf.EV_CURRENT))
	b = bo.AppendUint64(b, 0)        // entry
	b = bo.AppendUint64(b, ehdrSize) // phoff
	b = bo.AppendUint64(b, 0)        // shoff
	b = bo.AppendUint32(b, 0)        // flags
	b = bo.AppendUint16(b, ehdrSize)
	b = bo.AppendUint16(b, phdrSize)
	b = bo.AppendUint16(b, uint16(nph))
	b = bo.AppendUint16(b, 0) // shentsize
	b = bo.AppendUint16(b, 0) // shnum
	b = bo.AppendUint16(b, 0) // shstrndx
	phdr := func(typ elf.ProgType, s Segment) {
		b = bo.AppendUint32(b, uint32(typ))
		b = bo.AppendUint32(b, uint32(elf.PF_R|elf.PF_W|elf.PF_X))
		b = bo.AppendUint64(b, s.Offset)
		b = bo.AppendUint64(b, s.VAddr)
		b = bo.AppendUint64(b, s.PAddr)
		b = bo.AppendUint64(b, s.FileSize)
		b = bo.AppendUint64(b, s.MemSize)
		b = bo.AppendUint64(b, 4096)
	}
	if k.notes != nil {
		phdr(elf.PT_NOTE, Segment{Offset: uint64(ehdrSize + nph*phdrSize), FileSize: uint64(len(k.notes))})
	}
	for i := range loads {
		if loads[i].MemSize == 0 {
			loads[i].MemSize = loads[i].FileSize
		}
		phdr(elf.PT_LOAD, loads[i])
	}
	b = append(b, k.notes...)
	b = append(b, data...)
	return b, loads
}

const vmcoreinfoText = "OSRELEASE=6.12.0-test-amd64\nBUILD-ID=0123456789abcdef\nPAGESIZE=4096\nSYMBOL(init_uts_ns)=ffffffff9e012340\n"

// x86Kcore is laid out as an x86-64 kernel's /proc/kcore over the RAM of
// qemu-1g.txt: the direct map of RAM, page granular, so the first range,
// which ends mid-page, loses its last partial page; only the first 32 KiB
// of the second range (a hole after it); the kernel text, also inside
// RAM; and vmalloc, modules and vmemmap, without a physical address.
func x86Kcore(bo byteOrder) fakeKcore {
	const pageOffset = 0xffff888000000000
	var notes []byte
	notes = append(notes, note(bo, "CORE", uint32(elf.NT_PRSTATUS), make([]byte, 336))...)
	notes = append(notes, note(bo, "CORE", uint32(elf.NT_PRPSINFO), make([]byte, 136))...)
	notes = append(notes, note(bo, "VMCOREINFO", 0, []byte(vmcoreinfoText))...)
	return fakeKcore{order: bo, notes: notes, loads: []Segment{
		{VAddr: 0xffffffff81000000, PAddr: 0x101000, FileSize: 0x3000},                            // kernel text
		{VAddr: 0xffffc90000000000, PAddr: noPAddr, FileSize: 0x1000000, Offset: 0x7fff00000000},  // vmalloc
		{VAddr: 0xffffffffa0000000, PAddr: noPAddr, FileSize: 0x5f000000, Offset: 0x7fff80000000}, // modules
		{VAddr: pageOffset + 0x1000, PAddr: 0x1000, FileSize: 0x9e000},                            // RAM to 0x9efff; iomem says 0x9fbff
		{VAddr: pageOffset + 0x100000, PAddr: 0x100000, FileSize: 0x8000},                         // RAM, the start of the second range
		{VAddr: 0xffffea0000000000, PAddr: noPAddr, FileSize: 0x200000, Offset: 0x7fffa0000000},   // vmemmap
	}}
}

func TestParseKcore(t *testing.T) {
	for _, bo := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(bo.String(), func(t *testing.T) {
			b, loads := x86Kcore(bo).build()
			k, err := ParseKcore(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if k.Order != bo || k.Machine != elf.EM_X86_64 {
				t.Errorf("order %v machine %v", k.Order, k.Machine)
			}
			if !reflect.DeepEqual(k.Loads, loads) {
				t.Errorf("loads:\n got %+v\nwant %+v", k.Loads, loads)
			}
			crossCheckELF(t, b, k)
			phys := k.Physical()
			if len(phys) != 3 || phys[0].PAddr != 0x1000 || phys[1].PAddr != 0x100000 || phys[2].PAddr != 0x101000 {
				t.Errorf("physical segments: %+v", phys)
			}
			if string(k.VMCOREINFO) != vmcoreinfoText || k.NoteErr != nil {
				t.Errorf("VMCOREINFO %q, %v", k.VMCOREINFO, k.NoteErr)
			}
			if got := ParseVMCOREINFO(k.VMCOREINFO)["OSRELEASE"]; got != "6.12.0-test-amd64" {
				t.Errorf("OSRELEASE %q", got)
			}
		})
	}
}

// crossCheckELF checks ParseKcore's program headers against debug/elf's.
func crossCheckELF(t *testing.T, b []byte, k *Kcore) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("debug/elf refuses the file: %v", err)
	}
	var loads []Segment
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			loads = append(loads, Segment{Offset: p.Off, VAddr: p.Vaddr, PAddr: p.Paddr, FileSize: p.Filesz, MemSize: p.Memsz})
		}
	}
	if !reflect.DeepEqual(loads, k.Loads) && !(len(loads) == 0 && len(k.Loads) == 0) {
		t.Fatalf("debug/elf reads other PT_LOAD segments:\n elf %+v\nours %+v", loads, k.Loads)
	}
	if f.Type != elf.ET_CORE || f.Class != elf.ELFCLASS64 || f.Machine != k.Machine {
		t.Fatalf("debug/elf: type %v class %v machine %v", f.Type, f.Class, f.Machine)
	}
}

func TestParseKcoreWithoutNote(t *testing.T) {
	k := x86Kcore(binary.LittleEndian)
	k.notes = note(binary.LittleEndian, "CORE", uint32(elf.NT_PRSTATUS), make([]byte, 336))
	b, _ := k.build()
	kc, err := ParseKcore(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if kc.VMCOREINFO != nil || kc.NoteErr != nil {
		t.Errorf("VMCOREINFO %q, %v", kc.VMCOREINFO, kc.NoteErr)
	}
	k.notes = nil
	b, _ = k.build()
	if kc, err = ParseKcore(bytes.NewReader(b)); err != nil || kc.VMCOREINFO != nil || len(kc.Loads) != 6 {
		t.Errorf("without PT_NOTE: %+v, %v", kc, err)
	}
}

func TestParseKcoreBadNotes(t *testing.T) {
	bo := binary.LittleEndian
	for name, notes := range map[string][]byte{
		"cut header":  {1, 0, 0, 0, 2, 0},
		"desc beyond": append(bo.AppendUint32(bo.AppendUint32(bo.AppendUint32(nil, 4), 0xffffff00), 0), "CORE"...),
		"name beyond": bo.AppendUint32(bo.AppendUint32(bo.AppendUint32(nil, 0xffffffff), 0), 0),
	} {
		t.Run(name, func(t *testing.T) {
			k := x86Kcore(bo)
			k.notes = notes
			b, _ := k.build()
			kc, err := ParseKcore(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if kc.NoteErr == nil || kc.VMCOREINFO != nil || len(kc.Physical()) != 3 {
				t.Errorf("a bad note: NoteErr %v, %d physical segments", kc.NoteErr, len(kc.Physical()))
			}
		})
	}
	// A terminating empty note ends the list; what follows is not read.
	k := x86Kcore(bo)
	k.notes = append(make([]byte, 12), note(bo, "VMCOREINFO", 0, []byte("OSRELEASE=x\n"))...)
	b, _ := k.build()
	if kc, err := ParseKcore(bytes.NewReader(b)); err != nil || kc.VMCOREINFO != nil || kc.NoteErr != nil {
		t.Errorf("after the empty note: %q %v %v", kc.VMCOREINFO, kc.NoteErr, err)
	}
}

func TestParseKcoreRefuses(t *testing.T) {
	good, _ := x86Kcore(binary.LittleEndian).build()
	le := binary.LittleEndian
	set := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	firstLoad := ehdrSize + phdrSize // after the PT_NOTE header
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "read the ELF header"},
		{"short", good[:40], "read the ELF header"},
		{"not ELF", set(func(b []byte) { b[0] = 0 }), "no ELF magic"},
		{"ELF32", set(func(b []byte) { b[elf.EI_CLASS] = byte(elf.ELFCLASS32) }), "ELF class"},
		{"data", set(func(b []byte) { b[elf.EI_DATA] = 3 }), "data encoding"},
		{"version", set(func(b []byte) { b[elf.EI_VERSION] = 2 }), "ELF version"},
		{"executable", set(func(b []byte) { le.PutUint16(b[16:], uint16(elf.ET_EXEC)) }), "ELF type"},
		{"phentsize", set(func(b []byte) { le.PutUint16(b[54:], 32) }), "program header size"},
		{"no phdr", set(func(b []byte) { le.PutUint16(b[56:], 0) }), "no program headers"},
		{"PN_XNUM", set(func(b []byte) { le.PutUint16(b[56:], 0xffff) }), "PN_XNUM"},
		{"many phdr", set(func(b []byte) { le.PutUint16(b[56:], 0xfffe) }), "read program header"},
		{"phoff", set(func(b []byte) { le.PutUint64(b[32:], math.MaxUint64-10) }), "out of bounds"},
		{"phoff beyond", set(func(b []byte) { le.PutUint64(b[32:], 1<<40) }), "read program header"},
		{"cut phdrs", good[:ehdrSize+3*phdrSize+10], "read program header"},
		{"offset overflow", set(func(b []byte) {
			le.PutUint64(b[firstLoad+8:], math.MaxUint64-4)
		}), "offset"},
		{"paddr overflow", set(func(b []byte) {
			le.PutUint64(b[firstLoad+24:], math.MaxUint64-0x1000)
		}), "physical address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseKcore(bytes.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %+v, %v; want an error with %q", k, err, tc.want)
			}
			if strings.Contains(tc.want, "read") {
				return
			}
			if !errors.Is(err, ErrNotKcore) {
				t.Errorf("%v does not wrap ErrNotKcore", err)
			}
		})
	}
}

func TestSegmentPhysical(t *testing.T) {
	for _, tc := range []struct {
		s    Segment
		want bool
	}{
		{Segment{PAddr: 0x1000, FileSize: 0x1000, Offset: 0x2000}, true},
		{Segment{PAddr: noPAddr, FileSize: 0x1000, Offset: 0x2000}, false},
		{Segment{PAddr: 0x1000, FileSize: 0, Offset: 0x2000, MemSize: 0x1000}, false},
		{Segment{PAddr: 0x1000, FileSize: 0x1000, Offset: math.MaxInt64 - 0x1000}, true},
		{Segment{PAddr: 0x1000, FileSize: 0x1000, Offset: math.MaxInt64 - 0xfff}, false},
		{Segment{PAddr: 0, FileSize: math.MaxInt64 + 1, Offset: 0}, false},
	} {
		if got := tc.s.Physical(); got != tc.want {
			t.Errorf("%+v: Physical() = %v", tc.s, got)
		}
	}
}

func TestParseVMCOREINFO(t *testing.T) {
	m := ParseVMCOREINFO([]byte("OSRELEASE=6.1.0\nno equals\n=empty key\nPAGESIZE=4096\nOSRELEASE=second\nSYMBOL(x)=ff\n\x00\x00"))
	want := map[string]string{"OSRELEASE": "6.1.0", "PAGESIZE": "4096", "SYMBOL(x)": "ff"}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %v", m)
	}
}

func TestParseVMCOREINFOLocation(t *testing.T) {
	for _, tc := range []struct {
		in         string
		addr, size uint64
		err        bool
	}{
		{"0x000000013fe1c000 1024\n", 0x13fe1c000, 0x1024, false},
		{"13fe1c000 1024\n", 0x13fe1c000, 0x1024, false},
		{"13fe1c000\n", 0, 0, true},
		{"13fe1c000 1024 9\n", 0, 0, true},
		{"zz 1024\n", 0, 0, true},
		{"1000 0\n", 0, 0, true},
		{"ffffffffffffffff 2\n", 0, 0, true},
		{"1000 0xzz\n", 0, 0, true},
	} {
		addr, size, err := ParseVMCOREINFOLocation([]byte(tc.in))
		if (err != nil) != tc.err || addr != tc.addr || size != tc.size {
			t.Errorf("%q: %#x %#x %v", tc.in, addr, size, err)
		}
	}
}
