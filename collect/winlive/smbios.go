package winlive

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// SMBIOS is what scelle decodes of the firmware's SMBIOS tables
// (GetSystemFirmwareTable 'RSMB'): the identifiers of the machine, its
// board and chassis, and the list of every structure.
type SMBIOS struct {
	Version    string            `json:"version"` // major.minor of the tables
	BIOS       map[string]string `json:"bios,omitempty"`
	System     map[string]string `json:"system,omitempty"`
	Baseboard  map[string]string `json:"baseboard,omitempty"`
	Chassis    map[string]string `json:"chassis,omitempty"`
	Structures []SMBIOSStructure `json:"structures"`
	Errors     []string          `json:"errors,omitempty"`
}

// SMBIOSStructure is one structure's header.
type SMBIOSStructure struct {
	Type    uint8  `json:"type"`
	Length  uint8  `json:"length"`
	Handle  uint16 `json:"handle"`
	Strings int    `json:"strings"`
}

// maxSMBIOSStructures bounds the structures decoded.
const maxSMBIOSStructures = 1 << 16

// smbiosFields name the string fields (by offset in the formatted area)
// of the structure types decoded.
var smbiosFields = map[uint8][]struct {
	off  int
	name string
}{
	0: {{4, "vendor"}, {5, "version"}, {8, "release_date"}},
	1: {{4, "manufacturer"}, {5, "product"}, {6, "version"}, {7, "serial"}, {0x19, "sku"}, {0x1a, "family"}},
	2: {{4, "manufacturer"}, {5, "product"}, {6, "version"}, {7, "serial"}, {8, "asset_tag"}},
	3: {{4, "manufacturer"}, {6, "version"}, {7, "serial"}, {8, "asset_tag"}},
}

// ParseSMBIOS decodes a RawSMBIOSData buffer: an 8-byte header (calling
// method, major and minor version, DMI revision, length) and the table.
// The first structure of types 0 to 3 fills BIOS, System, Baseboard and
// Chassis. It never fails: what cannot be decoded is in Errors.
func ParseSMBIOS(buf []byte) SMBIOS {
	s := SMBIOS{Structures: []SMBIOSStructure{}}
	if len(buf) < 8 {
		s.Errors = append(s.Errors, fmt.Sprintf("%d bytes: no RawSMBIOSData header", len(buf)))
		return s
	}
	s.Version = fmt.Sprintf("%d.%d", buf[1], buf[2])
	table := buf[8:]
	if n := binary.LittleEndian.Uint32(buf[4:]); uint64(n) < uint64(len(table)) {
		table = table[:n]
	} else if uint64(n) > uint64(len(table)) {
		s.Errors = append(s.Errors, fmt.Sprintf("header says %d bytes of tables, %d present", n, len(table)))
	}
	for off := 0; off < len(table); {
		if len(s.Structures) >= maxSMBIOSStructures {
			s.Errors = append(s.Errors, fmt.Sprintf("more than %d structures", maxSMBIOSStructures))
			break
		}
		if len(table)-off < 4 {
			s.Errors = append(s.Errors, fmt.Sprintf("offset %d: %d bytes left, no structure header", off, len(table)-off))
			break
		}
		typ, length := table[off], int(table[off+1])
		if length < 4 || off+length > len(table) {
			s.Errors = append(s.Errors, fmt.Sprintf("offset %d: structure type %d of length %d does not fit", off, typ, length))
			break
		}
		formatted := table[off : off+length]
		// The string set ends with two NULs (two also when it is empty).
		end := bytes.Index(table[off+length:], []byte{0, 0})
		if end < 0 {
			s.Errors = append(s.Errors, fmt.Sprintf("offset %d: structure type %d: strings not terminated", off, typ))
			break
		}
		var strs []string
		if end > 0 {
			for _, f := range bytes.Split(table[off+length:off+length+end], []byte{0}) {
				strs = append(strs, printable(f))
			}
		}
		s.Structures = append(s.Structures, SMBIOSStructure{Type: typ, Length: uint8(length),
			Handle: binary.LittleEndian.Uint16(table[off+2:]), Strings: len(strs)})
		s.decode(typ, formatted, strs)
		off += length + end + 2
		if typ == 127 { // end of table
			break
		}
	}
	return s
}

func (s *SMBIOS) decode(typ uint8, f []byte, strs []string) {
	fields, ok := smbiosFields[typ]
	if !ok {
		return
	}
	target := map[uint8]*map[string]string{0: &s.BIOS, 1: &s.System, 2: &s.Baseboard, 3: &s.Chassis}[typ]
	if *target != nil {
		return // the first structure of its type only
	}
	m := map[string]string{}
	for _, fd := range fields {
		if fd.off < len(f) && f[fd.off] != 0 && int(f[fd.off]) <= len(strs) {
			m[fd.name] = strs[f[fd.off]-1]
		}
	}
	if typ == 1 && len(f) >= 0x18 {
		m["uuid"] = smbiosUUID(f[8:24])
	}
	*target = m
}

// smbiosUUID formats a system UUID, whose first three fields SMBIOS 2.6
// and later store little-endian.
func smbiosUUID(b []byte) string {
	le := binary.LittleEndian
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x", le.Uint32(b), le.Uint16(b[4:]), le.Uint16(b[6:]), b[8:10], b[10:16])
}

// printable returns b as text, each byte outside printable ASCII written
// as \xNN (SMBIOS strings are ASCII, but firmware is not always right).
func printable(b []byte) string {
	var sb bytes.Buffer
	for _, c := range b {
		if c < 0x20 || c > 0x7e || c == '\\' {
			fmt.Fprintf(&sb, `\x%02x`, c)
		} else {
			sb.WriteByte(c)
		}
	}
	return sb.String()
}
