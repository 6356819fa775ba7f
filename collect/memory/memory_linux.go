package memory

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/scelle/scelle/internal/safeopen"
)

// maxKernelFile bounds the small kernel files Open reads (iomem, misc,
// lockdown, vmcoreinfo).
const maxKernelFile = 4 << 20

// Open reads the System RAM ranges of /proc/iomem and opens the first
// source of physical memory that works: /proc/kcore, then /dev/crash,
// then /dev/mem. Each is checked before it is chosen: what it is (a
// regular file for kcore, the exact character device for the others),
// that its plan covers some RAM, and that a page of its first range reads.
// The refused ones are listed in Source.Refused, or in the
// *NoSourceError returned when none works. An error reading /proc/iomem
// (ErrIomemHidden for a reader without root) is returned as is.
func Open(p Paths) (*Source, error) {
	b, err := readSmall(filepath.Join(p.Proc, "iomem"))
	if err != nil {
		return nil, err
	}
	ram, err := ParseIomem(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	lockdown := ""
	if b, err := readSmall(filepath.Join(p.Sys, "kernel/security/lockdown")); err == nil {
		lockdown = ParseLockdown(b)
	}
	page := uint64(os.Getpagesize())
	var refused []Refusal
	for _, o := range []struct {
		name, path string
		open       func(path string, p Paths, ram []Range, page uint64) (*Source, error)
	}{
		{SourceKcore, filepath.Join(p.Proc, "kcore"), openKcore},
		{SourceCrash, filepath.Join(p.Dev, "crash"), openCrash},
		{SourceMem, filepath.Join(p.Dev, "mem"), openMem},
	} {
		s, err := o.open(o.path, p, ram, page)
		if err != nil {
			refused = append(refused, refusal(o.name, o.path, err, lockdown))
			continue
		}
		s.Name, s.Path, s.RAM, s.PageSize, s.Lockdown, s.Refused = o.name, o.path, ram, page, lockdown, refused
		s.loadVMCOREINFO(p)
		return s, nil
	}
	return nil, &NoSourceError{Refused: refused}
}

// openKcore opens /proc/kcore, a regular file of procfs: no device.
func openKcore(path string, _ Paths, ram []Range, page uint64) (*Source, error) {
	f, err := safeopen.Open(path)
	if err != nil {
		if errors.Is(err, safeopen.ErrNotRegular) {
			return nil, &refusedError{reason: RefusedNotRegular}
		}
		return nil, err
	}
	k, err := ParseKcore(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	s := &Source{r: f, closer: f, VMCOREINFO: k.VMCOREINFO, VMCOREINFOErr: k.NoteErr}
	s.Extents, s.Gaps = Plan(ram, k.Physical(), page)
	if err := s.check(page); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// openCrash opens /dev/crash, the misc device of the crash utility's
// driver, which reads one page-aligned page at a time.
func openCrash(path string, p Paths, ram []Range, page uint64) (*Source, error) {
	if _, err := os.Lstat(path); err != nil {
		return nil, err
	}
	minor, err := miscMinor(filepath.Join(p.Proc, "misc"), "crash")
	if err != nil {
		return nil, &refusedError{reason: RefusedNotDevice, err: err}
	}
	f, err := openMemoryDevice(path, 10, minor)
	if err != nil {
		return nil, err
	}
	s := &Source{r: f, closer: f, pageReads: true, PageSize: page}
	s.Extents, s.Gaps = planDevice(ram, page, true)
	if err := s.check(page); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// openMem opens /dev/mem, character device 1:1. With STRICT_DEVMEM
// (the default of most distributions) the kernel refuses System RAM
// beyond the first MiB and, on x86, shows the RAM of the first MiB as
// zeros: such a /dev/mem is refused whole rather than read as zeros.
func openMem(path string, _ Paths, ram []Range, page uint64) (*Source, error) {
	f, err := openMemoryDevice(path, 1, 1)
	if err != nil {
		return nil, err
	}
	s := &Source{r: f, closer: f, PageSize: page}
	s.Extents, s.Gaps = planDevice(ram, page, false)
	if err := probeStrictDevmem(f, s.Extents, page); err != nil {
		f.Close()
		return nil, err
	}
	if err := s.check(page); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// openMemoryDevice opens the character device major:minor at path, read
// only.
//
// scelle never opens a device while it collects files (it records them);
// physical memory is the one deliberate exception, and this function is
// the only place it happens. The path is checked before and after the
// open to be exactly the expected character device, so a planted node,
// a link or a different device is refused unopened.
func openMemoryDevice(path string, major, minor uint32) (*os.File, error) {
	want := func(st *unix.Stat_t) bool {
		return st.Mode&unix.S_IFMT == unix.S_IFCHR && unix.Major(st.Rdev) == major && unix.Minor(st.Rdev) == minor
	}
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return nil, &os.PathError{Op: "lstat", Path: path, Err: err}
	}
	if !want(&st) {
		return nil, &refusedError{reason: RefusedNotDevice,
			err: fmt.Errorf("%s is not character device %d:%d", path, major, minor)}
	}
	var fd int
	var err error
	for {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NOCTTY, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st2 unix.Stat_t
	if err := unix.Fstat(fd, &st2); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	if !want(&st2) || st2.Dev != st.Dev || st2.Ino != st.Ino {
		unix.Close(fd)
		return nil, &refusedError{reason: RefusedNotDevice, err: fmt.Errorf("%s changed while it was opened", path)}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// miscMinor returns the minor number /proc/misc gives the misc device
// name ("<minor> <name>" lines).
func miscMinor(path, name string) (uint32, error) {
	b, err := readSmall(path)
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[1] == name {
			n, err := strconv.ParseUint(f[0], 10, 32)
			if err != nil {
				return 0, fmt.Errorf("%s: bad minor %q", path, f[0])
			}
			return uint32(n), nil
		}
	}
	return 0, fmt.Errorf("%s lists no %q device", path, name)
}

// readSmall reads a small kernel file, refusing anything but a regular
// file.
func readSmall(path string) ([]byte, error) {
	f, err := safeopen.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKernelFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxKernelFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxKernelFile)
	}
	return b, nil
}

// loadVMCOREINFO locates the VMCOREINFO note through /sys/kernel/vmcoreinfo
// and, when the source gave no note, reads it from physical memory.
func (s *Source) loadVMCOREINFO(p Paths) {
	b, err := readSmall(filepath.Join(p.Sys, "kernel/vmcoreinfo"))
	if err == nil {
		s.VMCOREINFOAddr, s.VMCOREINFOSize, err = ParseVMCOREINFOLocation(b)
	}
	if s.VMCOREINFO != nil {
		return
	}
	if err != nil {
		if s.VMCOREINFOErr == nil {
			s.VMCOREINFOErr = err
		}
		return
	}
	s.VMCOREINFO, err = s.readNote(s.VMCOREINFOAddr, s.VMCOREINFOSize)
	if err != nil {
		s.VMCOREINFOErr = err
	} else if s.VMCOREINFO == nil {
		s.VMCOREINFOErr = fmt.Errorf("no VMCOREINFO note at %#x", s.VMCOREINFOAddr)
	} else {
		s.VMCOREINFOErr = nil
	}
}

// readNote reads the ELF notes at physical address addr and returns the
// VMCOREINFO one.
func (s *Source) readNote(addr, size uint64) ([]byte, error) {
	if size > maxNoteBytes {
		return nil, fmt.Errorf("vmcoreinfo: note of %d bytes", size)
	}
	for _, e := range s.Extents {
		if addr < e.Start || addr > e.End || size-1 > e.End-addr {
			continue
		}
		b := make([]byte, size)
		if _, err := io.ReadFull(s.Reader(Extent{Range: Range{addr, addr + size - 1}, Offset: e.Offset + int64(addr-e.Start)}), b); err != nil {
			return nil, fmt.Errorf("vmcoreinfo: read at %#x: %w", addr, err)
		}
		desc, err := findNote(b, binary.NativeEndian, "VMCOREINFO")
		if err != nil {
			return nil, fmt.Errorf("vmcoreinfo at %#x: %w", addr, err)
		}
		return desc, nil
	}
	return nil, fmt.Errorf("vmcoreinfo: %#x+%#x is not in a captured range", addr, size)
}

// check refuses a source whose plan holds no RAM or whose first range
// cannot be read.
func (s *Source) check(page uint64) error {
	if len(s.Extents) == 0 {
		return &refusedError{reason: RefusedNoRAM}
	}
	e := s.Extents[0]
	n := min(e.Size()-1, page-1) + 1
	e.End = e.Start + n - 1
	if _, err := io.ReadFull(s.Reader(e), make([]byte, n)); err != nil {
		return &refusedError{reason: RefusedRead, err: err}
	}
	return nil
}

// probeStrictDevmem reads the first page of System RAM at or above 1 MiB:
// STRICT_DEVMEM refuses it with EPERM.
func probeStrictDevmem(r io.ReaderAt, ext []Extent, page uint64) error {
	for _, e := range ext {
		if e.End < 1<<20 {
			continue
		}
		at := max(e.Start, 1<<20)
		n := min(e.End-at, page-1) + 1
		_, err := r.ReadAt(make([]byte, n), int64(at))
		if errors.Is(err, unix.EPERM) {
			return &refusedError{reason: RefusedStrict, err: err}
		}
		return nil
	}
	return nil
}
