// Package memorytest makes fake kernel trees for tests and benchmarks of
// the capture of physical memory: a /proc/kcore that is a regular file
// with one physical segment, the /proc/iomem that names it, and the
// kernel's identity files.
package memorytest

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"github.com/scelle/scelle/collect/memory"
)

// RAMStart is where the fake RAM starts in physical memory. Below it,
// /proc/iomem lists a range of System RAM that the kcore does not map: a
// gap.
const RAMStart = 0x100000

// Release is the kernel release of the fake tree.
const Release = "6.12.0-fake-amd64"

// Banner is its /proc/version.
const Banner = "Linux version " + Release + " (memorytest) #1 SMP PREEMPT_DYNAMIC"

// dataOffset is where the segment's bytes start in the kcore file.
const dataOffset = 0x10000

// Tree makes under dir a fake /proc, /sys and /dev, whose kcore maps size
// bytes of RAM at RAMStart. fill writes the bytes of the 1 MiB (or
// shorter, at the end) block at physical address pa into p, zeroed
// before; blocks left all zero are not written (the file is sparse).
func Tree(dir string, size int64, fill func(pa uint64, p []byte)) (memory.Paths, error) {
	p := memory.Paths{Proc: filepath.Join(dir, "proc"), Sys: filepath.Join(dir, "sys"), Dev: filepath.Join(dir, "dev")}
	for _, d := range []string{filepath.Join(p.Proc, "sys/kernel"), filepath.Join(p.Sys, "kernel"), p.Dev} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return p, err
		}
	}
	end := uint64(RAMStart + size - 1)
	files := map[string]string{
		filepath.Join(p.Proc, "iomem"): fmt.Sprintf("00000000-00000fff : Reserved\n00001000-0009fbff : System RAM\n"+
			"000a0000-000fffff : Reserved\n%08x-%08x : System RAM\n  %08x-%08x : Kernel code\n", RAMStart, end, RAMStart, RAMStart+0xfff),
		filepath.Join(p.Proc, "version"):              Banner + "\n",
		filepath.Join(p.Proc, "sys/kernel/osrelease"): Release + "\n",
		filepath.Join(p.Sys, "kernel/vmcoreinfo"):     fmt.Sprintf("%x %x\n", RAMStart+0x2000, 0x1000),
	}
	for name, content := range files {
		if err := os.WriteFile(name, []byte(content), 0o444); err != nil {
			return p, err
		}
	}
	return p, writeKcore(filepath.Join(p.Proc, "kcore"), size, fill)
}

func writeKcore(path string, size int64, fill func(pa uint64, p []byte)) error {
	bo := binary.LittleEndian
	vmcoreinfo := []byte("OSRELEASE=" + Release + "\nPAGESIZE=4096\n")
	var note []byte
	note = bo.AppendUint32(note, uint32(len("VMCOREINFO")+1))
	note = bo.AppendUint32(note, uint32(len(vmcoreinfo)))
	note = bo.AppendUint32(note, 0)
	note = append(note, "VMCOREINFO\x00\x00"...)
	note = append(note, vmcoreinfo...)
	for len(note)%4 != 0 {
		note = append(note, 0)
	}
	var b []byte
	b = append(b, elf.ELFMAG...)
	b = append(b, byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT), 0)
	b = append(b, make([]byte, 8)...)
	b = bo.AppendUint16(b, uint16(elf.ET_CORE))
	b = bo.AppendUint16(b, uint16(elf.EM_X86_64))
	b = bo.AppendUint32(b, uint32(elf.EV_CURRENT))
	b = bo.AppendUint64(b, 0)  // entry
	b = bo.AppendUint64(b, 64) // phoff
	b = bo.AppendUint64(b, 0)  // shoff
	b = bo.AppendUint32(b, 0)  // flags
	b = bo.AppendUint16(b, 64)
	b = bo.AppendUint16(b, 56)
	b = bo.AppendUint16(b, 2)
	b = append(b, make([]byte, 6)...)
	phdr := func(typ elf.ProgType, off, vaddr, paddr, n uint64) {
		b = bo.AppendUint32(b, uint32(typ))
		b = bo.AppendUint32(b, uint32(elf.PF_R|elf.PF_W|elf.PF_X))
		b = bo.AppendUint64(b, off)
		b = bo.AppendUint64(b, vaddr)
		b = bo.AppendUint64(b, paddr)
		b = bo.AppendUint64(b, n)
		b = bo.AppendUint64(b, n)
		b = bo.AppendUint64(b, 4096)
	}
	phdr(elf.PT_NOTE, 64+2*56, 0, 0, uint64(len(note)))
	phdr(elf.PT_LOAD, dataOffset, 0xffff888000000000+RAMStart, RAMStart, uint64(size))
	b = append(b, note...)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	buf := make([]byte, 1<<20)
	zero := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(buf)) {
		p := buf[:min(int64(len(buf)), size-off)]
		clear(p)
		fill(RAMStart+uint64(off), p)
		if bytes.Equal(p, zero[:len(p)]) {
			continue
		}
		if _, err := f.WriteAt(p, dataOffset+off); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Truncate(dataOffset + size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
