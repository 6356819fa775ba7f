package memory

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func FuzzIomem(f *testing.F) {
	files, err := filepath.Glob("testdata/iomem/*.txt")
	if err != nil || len(files) == 0 {
		f.Fatal("no seeds", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("1000-1fff : System RAM\n  2000-1000 : nested\n"))
	f.Add([]byte("ffffffffffffffff-ffffffffffffffff : System RAM\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ram, err := ParseIomem(bytes.NewReader(b))
		if err != nil {
			if len(ram) != 0 {
				t.Fatalf("ranges with an error: %v", ram)
			}
			return
		}
		for i, r := range ram {
			if r.End < r.Start || (i > 0 && r.Start <= ram[i-1].End) {
				t.Fatalf("ranges out of order or overlapping: %v", ram)
			}
		}
		// Written back as the kernel writes them, they parse the same.
		var w strings.Builder
		for _, r := range ram {
			fmt.Fprintf(&w, "%08x-%08x : System RAM\n  %08x-%08x : Kernel code\n", r.Start, r.End, r.Start, r.Start)
		}
		again, err := ParseIomem(strings.NewReader(w.String()))
		if err != nil || !reflect.DeepEqual(again, ram) {
			t.Fatalf("round trip: %v, %v; want %v", again, err, ram)
		}
	})
}

func FuzzKcore(f *testing.F) {
	for _, bo := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		// The layout of a kernel's kcore, with small segments: the fuzzer
		// mutates small inputs better.
		k := x86Kcore(bo)
		for i := range k.loads {
			if k.loads[i].PAddr != noPAddr {
				k.loads[i].FileSize = 0x40
			}
		}
		b, _ := k.build()
		f.Add(b)
		k.notes = nil
		b, _ = k.build()
		f.Add(b)
	}
	k := fakeKcore{loads: []Segment{{PAddr: 0x1000, FileSize: 0x10}, {PAddr: 0x1008, FileSize: 0x10}}}
	b, _ := k.build()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParseKcore(bytes.NewReader(b))
		if err != nil {
			return
		}
		if len(k.VMCOREINFO) > maxNoteBytes {
			t.Fatalf("a note of %d bytes", len(k.VMCOREINFO))
		}
		phys := k.Physical()
		for i, s := range phys {
			if !s.Physical() || (i > 0 && s.PAddr < phys[i-1].PAddr) {
				t.Fatalf("physical segments: %+v", phys)
			}
		}
		// debug/elf reads the same program headers, when it reads the file.
		if ef, err := elf.NewFile(bytes.NewReader(b)); err == nil {
			var loads []Segment
			for _, p := range ef.Progs {
				if p.Type == elf.PT_LOAD {
					loads = append(loads, Segment{Offset: p.Off, VAddr: p.Vaddr, PAddr: p.Paddr, FileSize: p.Filesz, MemSize: p.Memsz})
				}
			}
			if len(loads)+len(k.Loads) > 0 && !reflect.DeepEqual(loads, k.Loads) {
				t.Fatalf("debug/elf reads other segments:\n elf %+v\nours %+v", loads, k.Loads)
			}
		}
		ext, gaps := Plan(qemuRAM, k.Loads, 4096)
		checkTiling(t, qemuRAM, k.Loads, ext, gaps)
	})
}

func FuzzLiME(f *testing.F) {
	var img bytes.Buffer
	lw := NewLiMEWriterSize(&img, 0x20)
	for _, rg := range []Range{{0, 0x2f}, {0x1000, 0x1000}, {0x2000, 0x2007}} {
		lw.WriteRange(rg, &physReader{rg.Start})
	}
	f.Add(img.Bytes())
	f.Add(img.Bytes()[:img.Len()-3])
	f.Add(img.Bytes()[:50])
	f.Add(header(LiMEMagic, 1, 0, 0xffffffff, 0))
	f.Add(header(LiMEMagic, 1, 5, 4, 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		var recs []record
		err := ReadLiME(bytes.NewReader(b), func(h Header, body io.Reader) error {
			data, err := io.ReadAll(body)
			recs = append(recs, record{h, data, err})
			return nil
		})
		var le *LiMEError
		if err != nil && !errors.As(err, &le) {
			t.Fatalf("an error that does not locate itself: %v", err)
		}
		// The whole records, written again, are the bytes they came from.
		var out bytes.Buffer
		chunk := 1
		for _, r := range recs {
			chunk = max(chunk, len(r.body))
		}
		lw := NewLiMEWriterSize(&out, chunk)
		for _, r := range recs {
			if r.err != nil {
				if err == nil || le.Offset != r.Offset {
					t.Fatalf("record at %d cut (%v) but ReadLiME says %v", r.Offset, r.err, err)
				}
				break
			}
			if r.Offset != int64(out.Len()) {
				t.Fatalf("record at %d, expected at %d", r.Offset, out.Len())
			}
			if res := lw.WriteRange(r.range_(), bytes.NewReader(r.body)); !res.Complete() {
				t.Fatalf("record %v not written again: %v", r.range_(), res.Err)
			}
		}
		if !bytes.HasPrefix(b, out.Bytes()) || (err == nil && out.Len() != len(b)) {
			t.Fatalf("records written again differ from the input (%d of %d bytes)", out.Len(), len(b))
		}
	})
}
