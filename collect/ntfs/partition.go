package ntfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"
)

// Partition is one entry of a disk's partition table, or the whole image
// when it holds a file system without a table.
type Partition struct {
	// Index is the partition's number: 1 to 4 for MBR primary partitions,
	// 5 and up for logical ones in order, the entry's number from 1 for
	// GPT; 0 for an image without a partition table.
	Index int `json:"index"`
	// Scheme is "mbr", "gpt" or "none".
	Scheme string `json:"scheme"`
	// Type is the MBR type byte ("0x07") or the GPT type GUID.
	Type string `json:"type"`
	// Name is the GPT partition name; empty for MBR.
	Name   string `json:"name,omitempty"`
	Offset int64  `json:"offset"`
	Size   int64  `json:"size"`
	// NTFS is set when the partition's first sector is an NTFS boot sector.
	NTFS bool `json:"ntfs"`
	// Error says why the entry cannot be read (it points outside the
	// disk); such an entry is listed and never read.
	Error string `json:"error,omitempty"`
}

// Limits on what a partition table may ask for.
const (
	maxLogical   = 128 // logical partitions followed in an extended one
	maxGPTParts  = 1024
	sectorSize   = 512
	gptEntrySize = 128
)

// ErrNoPartitions is returned for an image that holds neither a partition
// table nor a file system's boot sector.
var ErrNoPartitions = errors.New("no partition table and no NTFS boot sector")

// Partitions lists the partitions of a disk image of size bytes: the
// entries of its MBR (logical partitions included) or GPT, or the image
// itself when its first sector is an NTFS boot sector. Entries that point
// outside the disk are listed with Error. NTFS marks the partitions whose
// first sector has NTFS's OEM id. A table that cannot be read whole (a
// chain of logical partitions that loops) gives the partitions read
// before the error, and the error.
func Partitions(r io.ReaderAt, size int64) ([]Partition, error) {
	s0 := make([]byte, sectorSize)
	if err := readFull(r, s0, 0, size); err != nil {
		return nil, fmt.Errorf("read first sector: %w", err)
	}
	if IsNTFS(s0) {
		return []Partition{{Scheme: "none", Type: "ntfs", Offset: 0, Size: size, NTFS: true}}, nil
	}
	if s0[510] != 0x55 || s0[511] != 0xAA {
		return nil, ErrNoPartitions
	}
	var parts []Partition
	var err error
	if isProtective(s0) {
		parts, err = gpt(r, size)
	} else {
		parts, err = mbr(r, s0, size)
	}
	for i := range parts {
		p := &parts[i]
		if p.Error != "" {
			continue
		}
		b := make([]byte, sectorSize)
		if readFull(r, b, p.Offset, size) == nil {
			p.NTFS = IsNTFS(b)
		}
	}
	return parts, err
}

func isProtective(s0 []byte) bool {
	for i := 0; i < 4; i++ {
		if s0[446+16*i+4] == 0xEE {
			return true
		}
	}
	return false
}

// check sets p.Error when p does not lie inside a disk of size bytes.
func (p *Partition) check(size int64) {
	switch {
	case p.Size <= 0:
		p.Error = "empty partition"
	case p.Offset < 0 || p.Offset >= size || p.Size > size-p.Offset:
		p.Error = fmt.Sprintf("points outside the disk (%d bytes at offset %d, disk of %d bytes)", p.Size, p.Offset, size)
	}
}

func mbr(r io.ReaderAt, s0 []byte, size int64) ([]Partition, error) {
	le := binary.LittleEndian
	var parts []Partition
	var ext int64 = -1
	for i := 0; i < 4; i++ {
		e := s0[446+16*i : 446+16*(i+1)]
		typ := e[4]
		if typ == 0 {
			continue
		}
		start, n := int64(le.Uint32(e[8:12])), int64(le.Uint32(e[12:16]))
		if isExtended(typ) {
			if ext < 0 {
				ext = start
			}
			continue
		}
		p := Partition{Index: i + 1, Scheme: "mbr", Type: fmt.Sprintf("0x%02x", typ), Offset: start * sectorSize, Size: n * sectorSize}
		p.check(size)
		parts = append(parts, p)
	}
	if ext < 0 {
		return parts, nil
	}
	// The extended partition's chain of EBRs: each holds one logical
	// partition, relative to itself, and a link relative to ext.
	seen := map[int64]bool{}
	next := int64(0)
	for idx := 5; idx < 5+maxLogical; idx++ {
		at := (ext + next) * sectorSize
		if seen[at] {
			return parts, fmt.Errorf("extended partition: the chain of logical partitions loops at offset %d", at)
		}
		seen[at] = true
		b := make([]byte, sectorSize)
		if err := readFull(r, b, at, size); err != nil {
			return parts, fmt.Errorf("extended partition: read EBR at offset %d: %w", at, err)
		}
		if b[510] != 0x55 || b[511] != 0xAA {
			return parts, fmt.Errorf("extended partition: no EBR signature at offset %d", at)
		}
		e := b[446:462]
		if e[4] != 0 {
			start, n := int64(le.Uint32(e[8:12])), int64(le.Uint32(e[12:16]))
			p := Partition{Index: idx, Scheme: "mbr", Type: fmt.Sprintf("0x%02x", e[4]), Offset: at + start*sectorSize, Size: n * sectorSize}
			p.check(size)
			parts = append(parts, p)
		}
		l := b[462:478]
		if l[4] == 0 || !isExtended(l[4]) {
			return parts, nil
		}
		next = int64(le.Uint32(l[8:12]))
	}
	return parts, fmt.Errorf("extended partition: more than %d logical partitions", maxLogical)
}

func isExtended(t byte) bool { return t == 0x05 || t == 0x0F || t == 0x85 }

func gpt(r io.ReaderAt, size int64) ([]Partition, error) {
	le := binary.LittleEndian
	h := make([]byte, sectorSize)
	if err := readFull(r, h, sectorSize, size); err != nil {
		return nil, fmt.Errorf("read GPT header: %w", err)
	}
	if string(h[:8]) != "EFI PART" {
		return nil, errors.New("protective MBR without a GPT header at LBA 1")
	}
	lba, count, esize := le.Uint64(h[72:80]), le.Uint32(h[80:84]), le.Uint32(h[84:88])
	if esize < gptEntrySize || esize > 4096 || esize%8 != 0 {
		return nil, fmt.Errorf("GPT header: bad entry size %d", esize)
	}
	if count > maxGPTParts {
		return nil, fmt.Errorf("GPT header: %d entries, more than %d", count, maxGPTParts)
	}
	if lba > uint64(size/sectorSize) {
		return nil, fmt.Errorf("GPT header: entry table at LBA %d, outside the disk", lba)
	}
	var parts []Partition
	e := make([]byte, esize)
	for i := uint32(0); i < count; i++ {
		at := int64(lba)*sectorSize + int64(i)*int64(esize)
		if err := readFull(r, e, at, size); err != nil {
			return parts, fmt.Errorf("read GPT entry %d: %w", i+1, err)
		}
		if allZero(e[:16]) {
			continue
		}
		first, last := le.Uint64(e[32:40]), le.Uint64(e[40:48])
		p := Partition{Index: int(i) + 1, Scheme: "gpt", Type: guid(e[:16]), Name: utf16z(e[56:128])}
		if last < first || last >= 1<<54 {
			p.Error = fmt.Sprintf("bad extent: LBA %d to %d", first, last)
		} else {
			p.Offset, p.Size = int64(first)*sectorSize, int64(last-first+1)*sectorSize
			p.check(size)
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// guid formats a GPT GUID (mixed-endian) the usual way.
func guid(b []byte) string {
	le := binary.LittleEndian
	return fmt.Sprintf("%08X-%04X-%04X-%X-%X", le.Uint32(b[0:4]), le.Uint16(b[4:6]), le.Uint16(b[6:8]), b[8:10], b[10:16])
}

func utf16z(b []byte) string {
	var u []uint16
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// readFull reads len(b) bytes at off, refusing a read past size.
func readFull(r io.ReaderAt, b []byte, off, size int64) error {
	if off < 0 || off > size-int64(len(b)) {
		return fmt.Errorf("offset %d is outside the disk (%d bytes)", off, size)
	}
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}
