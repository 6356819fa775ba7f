package mft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf16"
)

// Attribute types this package reads.
const (
	attrStandardInformation = 0x10
	attrAttributeList       = 0x20
	attrFileName            = 0x30
	attrData                = 0x80
	attrEnd                 = 0xffffffff
)

// Record header flags.
const (
	flagInUse     = 0x0001
	flagDirectory = 0x0002
)

// Attribute flags.
const (
	attrFlagCompressed = 0x0001
	attrFlagEncrypted  = 0x4000
	attrFlagSparse     = 0x8000
)

// File name namespaces of $FILE_NAME.
const (
	NamespacePOSIX    = 0
	NamespaceWin32    = 1
	NamespaceDOS      = 2
	NamespaceWin32DOS = 3
)

// Errors of ParseRecord; each is wrapped with the record's details.
var (
	// ErrEmpty is a record that was never written (all zero): no entry.
	ErrEmpty = errors.New("empty record")
	// ErrBadMagic is a record that starts neither with FILE nor with zeros
	// (BAAD marks a record that failed its multi-sector check on disk).
	ErrBadMagic = errors.New("not a FILE record")
	// ErrFixup is a record whose update sequence array is out of bounds
	// or whose sectors do not end with the update sequence number: a torn
	// or corrupt write.
	ErrFixup = errors.New("bad fixup")
	// ErrAttribute is an attribute whose header or value lies outside the
	// record or contradicts itself.
	ErrAttribute = errors.New("bad attribute")
)

// Ref is an MFT reference: an entry number (48 bits) and a sequence
// number (16 bits).
type Ref uint64

// Entry is the entry number of the reference.
func (r Ref) Entry() uint64 { return uint64(r) & 0xffffffffffff }

// Sequence is the sequence number of the reference.
func (r Ref) Sequence() uint16 { return uint16(r >> 48) }

// Times are the four times of $STANDARD_INFORMATION or $FILE_NAME
// (MACB): content modified, accessed, MFT entry changed, created (born).
// A zero FILETIME is the zero time.
type Times struct {
	Modified, Accessed, Changed, Created time.Time
}

// FileName is one $FILE_NAME attribute.
type FileName struct {
	Parent    Ref
	Name      string // decoded from UTF-16 (unpaired surrogates become U+FFFD)
	Namespace uint8
	Times     Times
	Size      int64 // the real size the name's entry last recorded
	Allocated int64
	Flags     uint32 // file attribute flags as of the name's last update
	ID        uint16 // the attribute's instance number
}

// Stream is a $DATA attribute: the unnamed one (Name "") or a named
// (alternate) data stream.
type Stream struct {
	Name       string
	Size       int64 // real size
	Allocated  int64 // 0 for a resident stream
	Resident   bool
	Sparse     bool
	Compressed bool
	Encrypted  bool
	ID         uint16
	// Runs is the number of data runs of a non-resident stream in this
	// record (fragments; a sparse hole counts as a run).
	Runs int
}

// ListEntry is one entry of an $ATTRIBUTE_LIST: an attribute of type
// Type, starting at VCN StartVCN, stored in record Record.
type ListEntry struct {
	Type     uint32
	Name     string
	StartVCN uint64
	Record   Ref
}

// Record is one parsed FILE record.
type Record struct {
	Entry     uint64 // the record's number (its index in $MFT)
	Sequence  uint16
	LinkCount uint16
	InUse     bool
	Dir       bool
	Base      Ref    // the base record of an extension record; 0 for a base record
	LSN       uint64 // $LogFile sequence number of the last change
	// SI is $STANDARD_INFORMATION's times; HasSI is false when the record
	// has none (an extension record, or a damaged one).
	SI         Times
	HasSI      bool
	Attributes uint32 // file attribute flags of $STANDARD_INFORMATION
	Names      []FileName
	Streams    []Stream
	// List is the $ATTRIBUTE_LIST when it is resident; ListNonResident
	// says there is one this package cannot read from $MFT alone.
	List            []ListEntry
	ListNonResident bool
}

// Limits of a record, against hostile input.
const (
	minRecordSize = 256
	maxRecordSize = 64 << 10
	sectorSize    = 512
	maxAttributes = 512 // attributes walked per record (a 1 KiB record holds at most ~60)
	maxRuns       = 1 << 16
)

// ParseRecord parses one FILE record of entry number entry. It applies
// the fixups to b in place (b must be the whole record, as read from
// $MFT) and checks them. A record whose header, fixups or attributes do
// not hold gets an error wrapping ErrEmpty, ErrBadMagic, ErrFixup or
// ErrAttribute; when the error is about one attribute, the record parsed
// so far is returned with it. ParseRecord never reads outside b and never
// panics.
func ParseRecord(b []byte, entry uint64) (*Record, error) {
	if len(b) < minRecordSize || len(b) > maxRecordSize || len(b)%sectorSize != 0 {
		return nil, fmt.Errorf("entry %d: record size %d: %w", entry, len(b), ErrBadMagic)
	}
	switch string(b[:4]) {
	case "FILE":
	case "\x00\x00\x00\x00":
		if allZero(b) {
			return nil, fmt.Errorf("entry %d: %w", entry, ErrEmpty)
		}
		return nil, fmt.Errorf("entry %d: magic %q: %w", entry, b[:4], ErrBadMagic)
	default:
		return nil, fmt.Errorf("entry %d: magic %q: %w", entry, b[:4], ErrBadMagic)
	}
	if err := applyFixups(b); err != nil {
		return nil, fmt.Errorf("entry %d: %w", entry, err)
	}
	r := &Record{
		Entry:     entry,
		LSN:       le64(b[0x08:]),
		Sequence:  le16(b[0x10:]),
		LinkCount: le16(b[0x12:]),
		Base:      Ref(le64(b[0x20:])),
	}
	flags := le16(b[0x16:])
	r.InUse = flags&flagInUse != 0
	r.Dir = flags&flagDirectory != 0
	used := int(le32(b[0x18:]))
	if used > len(b) || used < 0x30 {
		used = len(b) // a bad "bytes in use" is not trusted: the record's end bounds the walk
	}
	off := int(le16(b[0x14:]))
	for n := 0; ; n++ {
		if n == maxAttributes {
			return r, fmt.Errorf("entry %d: more than %d attributes: %w", entry, maxAttributes, ErrAttribute)
		}
		if off < 0x18 || off+4 > used {
			return r, fmt.Errorf("entry %d: attribute at %d outside the record (%d bytes in use): %w", entry, off, used, ErrAttribute)
		}
		typ := le32(b[off:])
		if typ == attrEnd {
			return r, nil
		}
		if off+16 > used {
			return r, fmt.Errorf("entry %d: attribute 0x%x at %d: header outside the record: %w", entry, typ, off, ErrAttribute)
		}
		length := int(le32(b[off+4:]))
		if length < 16 || length%8 != 0 || length > used-off {
			return r, fmt.Errorf("entry %d: attribute 0x%x at %d: length %d: %w", entry, typ, off, length, ErrAttribute)
		}
		if err := r.attribute(b[off:off+length], typ); err != nil {
			return r, fmt.Errorf("entry %d: attribute 0x%x at %d: %w", entry, typ, off, err)
		}
		off += length
	}
}

// applyFixups checks that every sector of b ends with the update
// sequence number and puts back the bytes the array saved.
func applyFixups(b []byte) error {
	off, count := int(le16(b[0x04:])), int(le16(b[0x06:]))
	sectors := len(b) / sectorSize
	if count != sectors+1 {
		return fmt.Errorf("%w: update sequence of %d entries for %d sectors", ErrFixup, count, sectors)
	}
	if off < 0x28 || off%2 != 0 || off+2*count > sectorSize-2 {
		return fmt.Errorf("%w: update sequence at %d", ErrFixup, off)
	}
	usn := b[off : off+2]
	for i := 0; i < sectors; i++ {
		end := (i+1)*sectorSize - 2
		if b[end] != usn[0] || b[end+1] != usn[1] {
			return fmt.Errorf("%w: sector %d does not end with the update sequence number", ErrFixup, i)
		}
	}
	for i := 0; i < sectors; i++ {
		end := (i+1)*sectorSize - 2
		copy(b[end:end+2], b[off+2+2*i:])
	}
	return nil
}

// attribute reads one attribute a (its whole length) into r.
func (r *Record) attribute(a []byte, typ uint32) error {
	nonResident := a[8] != 0
	nameLen, nameOff := int(a[9]), int(le16(a[10:]))
	flags := le16(a[12:])
	id := le16(a[14:])
	var name string
	if nameLen > 0 {
		if nameOff+2*nameLen > len(a) {
			return fmt.Errorf("%w: name outside the attribute", ErrAttribute)
		}
		name = utf16String(a[nameOff : nameOff+2*nameLen])
	}
	var value []byte
	if !nonResident {
		if len(a) < 0x18 {
			return fmt.Errorf("%w: resident header of %d bytes", ErrAttribute, len(a))
		}
		vlen, voff := int(le32(a[0x10:])), int(le16(a[0x14:]))
		if voff > len(a) || vlen > len(a)-voff {
			return fmt.Errorf("%w: value of %d bytes at %d outside the attribute", ErrAttribute, vlen, voff)
		}
		value = a[voff : voff+vlen]
	} else if len(a) < 0x40 {
		return fmt.Errorf("%w: non-resident header of %d bytes", ErrAttribute, len(a))
	}
	switch typ {
	case attrStandardInformation:
		if nonResident || len(value) < 0x24 {
			return fmt.Errorf("%w: $STANDARD_INFORMATION of %d bytes", ErrAttribute, len(value))
		}
		r.SI = times(value[0x08:], value[0x18:], value[0x10:], value[0x00:])
		r.HasSI = true
		r.Attributes = le32(value[0x20:])
	case attrFileName:
		if nonResident || len(value) < 0x42 {
			return fmt.Errorf("%w: $FILE_NAME of %d bytes", ErrAttribute, len(value))
		}
		n := int(value[0x40])
		if 0x42+2*n > len(value) {
			return fmt.Errorf("%w: $FILE_NAME name of %d characters in %d bytes", ErrAttribute, n, len(value))
		}
		r.Names = append(r.Names, FileName{
			Parent:    Ref(le64(value)),
			Times:     times(value[0x10:], value[0x20:], value[0x18:], value[0x08:]),
			Allocated: int64(le64(value[0x28:]) & (1<<63 - 1)),
			Size:      int64(le64(value[0x30:]) & (1<<63 - 1)),
			Flags:     le32(value[0x38:]),
			Namespace: value[0x41],
			Name:      utf16String(value[0x42 : 0x42+2*n]),
			ID:        id,
		})
	case attrData:
		s := Stream{Name: name, ID: id, Resident: !nonResident,
			Sparse: flags&attrFlagSparse != 0, Compressed: flags&attrFlagCompressed != 0, Encrypted: flags&attrFlagEncrypted != 0}
		if nonResident {
			if le64(a[0x10:]) != 0 {
				return nil // a later piece of a stream whose first piece is in another record
			}
			s.Allocated = int64(le64(a[0x28:]) & (1<<63 - 1))
			s.Size = int64(le64(a[0x30:]) & (1<<63 - 1))
			runOff := int(le16(a[0x20:]))
			if runOff < 0x40 || runOff > len(a) {
				return fmt.Errorf("%w: data runs at %d", ErrAttribute, runOff)
			}
			n, err := countRuns(a[runOff:])
			if err != nil {
				return err
			}
			s.Runs = n
		} else {
			s.Size = int64(len(value))
		}
		r.Streams = append(r.Streams, s)
	case attrAttributeList:
		if nonResident {
			r.ListNonResident = true
			return nil
		}
		return r.attributeList(value)
	}
	return nil
}

// attributeList reads a resident $ATTRIBUTE_LIST.
func (r *Record) attributeList(v []byte) error {
	for off := 0; off < len(v); {
		if off+0x1a > len(v) {
			return fmt.Errorf("%w: attribute list entry at %d outside the list", ErrAttribute, off)
		}
		length := int(le16(v[off+4:]))
		if length < 0x1a || length > len(v)-off {
			return fmt.Errorf("%w: attribute list entry at %d: length %d", ErrAttribute, off, length)
		}
		e := ListEntry{Type: le32(v[off:]), StartVCN: le64(v[off+8:]), Record: Ref(le64(v[off+0x10:]))}
		if nl, no := int(v[off+6]), int(v[off+7]); nl > 0 {
			if no+2*nl > length {
				return fmt.Errorf("%w: attribute list entry at %d: name outside the entry", ErrAttribute, off)
			}
			e.Name = utf16String(v[off+no : off+no+2*nl])
		}
		r.List = append(r.List, e)
		if len(r.List) > maxAttributes {
			return fmt.Errorf("%w: attribute list of more than %d entries", ErrAttribute, maxAttributes)
		}
		off += length
	}
	return nil
}

// countRuns counts the runs of a mapping pairs array, checking that each
// run header fits.
func countRuns(b []byte) (int, error) {
	n := 0
	for off := 0; off < len(b); {
		h := b[off]
		if h == 0 {
			return n, nil
		}
		lenSize, offSize := int(h&0x0f), int(h>>4)
		if lenSize == 0 || lenSize > 8 || offSize > 8 {
			return n, fmt.Errorf("%w: data run header 0x%02x", ErrAttribute, h)
		}
		off += 1 + lenSize + offSize
		if off > len(b) {
			return n, fmt.Errorf("%w: data run past the attribute's end", ErrAttribute)
		}
		if n++; n > maxRuns {
			return n, fmt.Errorf("%w: more than %d data runs", ErrAttribute, maxRuns)
		}
	}
	return n, fmt.Errorf("%w: data runs without an end", ErrAttribute)
}

// Name returns the record's preferred name: Win32 (or Win32 and DOS)
// first, then POSIX, then DOS; the zero FileName and false when it has
// none.
func (r *Record) Name() (FileName, bool) {
	best, rank := -1, 99
	for i, n := range r.Names {
		if k := nameRank(n.Namespace); k < rank {
			best, rank = i, k
		}
	}
	if best < 0 {
		return FileName{}, false
	}
	return r.Names[best], true
}

func nameRank(ns uint8) int {
	switch ns {
	case NamespaceWin32DOS, NamespaceWin32:
		return 0
	case NamespacePOSIX:
		return 1
	case NamespaceDOS:
		return 2
	}
	return 3
}

// Data returns the unnamed $DATA stream, or false.
func (r *Record) Data() (Stream, bool) {
	for _, s := range r.Streams {
		if s.Name == "" {
			return s, true
		}
	}
	return Stream{}, false
}

func times(m, a, c, b []byte) Times {
	return Times{Modified: filetime(le64(m)), Accessed: filetime(le64(a)), Changed: filetime(le64(c)), Created: filetime(le64(b))}
}

// filetime converts an NTFS time (100 ns since 1601-01-01 UTC) to a UTC
// time; 0 is the zero time, and a value past year 9999 is clamped there
// rather than wrapped.
func filetime(v uint64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	const epochDelta = 116444736000000000 // 1601 to 1970 in 100 ns
	const max = 2650467743999999999       // 9999-12-31T23:59:59.9999999Z
	if v > max {
		v = max
	}
	d := int64(v) - epochDelta
	return time.Unix(d/1e7, d%1e7*100).UTC()
}

func utf16String(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = le16(b[2*i:])
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

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
