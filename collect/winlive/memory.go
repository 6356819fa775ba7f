package winlive

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"
)

// Memory is an address space the decoders read by address: a buffer
// the Windows API returned in scelle's own process, another process's
// memory (ReadProcessMemory), or a fixture in tests. Read returns exactly
// n bytes at addr or an error.
type Memory interface {
	Read(addr uint64, n int) ([]byte, error)
}

// Segment is Memory made of one buffer that starts at address Base. A
// read outside it fails: decoders given a Segment never leave it.
type Segment struct {
	Base  uint64
	Bytes []byte
}

var errOutside = errors.New("address outside the buffer")

// Read implements Memory.
func (s Segment) Read(addr uint64, n int) ([]byte, error) {
	if n < 0 || addr < s.Base || addr-s.Base > uint64(len(s.Bytes)) || uint64(n) > uint64(len(s.Bytes))-(addr-s.Base) {
		return nil, fmt.Errorf("read %d bytes at %#x: %w", n, addr, errOutside)
	}
	off := addr - s.Base
	return s.Bytes[off : off+uint64(n)], nil
}

// Segments is Memory made of several segments (a fixture of a linked
// list whose entries the API allocated apart).
type Segments []Segment

// Read implements Memory.
func (ss Segments) Read(addr uint64, n int) ([]byte, error) {
	for _, s := range ss {
		if b, err := s.Read(addr, n); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("read %d bytes at %#x: %w", n, addr, errOutside)
}

// utf16String decodes little-endian UTF-16 bytes (an odd last byte is
// dropped); unpaired surrogates become U+FFFD.
func utf16String(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// utf16Z decodes b up to its first NUL character.
func utf16Z(b []byte) string {
	for i := 0; i+1 < len(b); i += 2 {
		if b[i] == 0 && b[i+1] == 0 {
			return utf16String(b[:i])
		}
	}
	return utf16String(b)
}

// readUTF16Z reads a NUL-terminated UTF-16 string at addr, of at most
// max characters. It reads in small steps, so that a string near the end
// of a segment is still read; truncated is set when no NUL came within
// max characters.
func readUTF16Z(m Memory, addr uint64, max int) (s string, truncated bool, err error) {
	if addr == 0 {
		return "", false, errors.New("null string pointer")
	}
	var u []uint16
	for len(u) < max {
		b, err := m.Read(addr+uint64(2*len(u)), 2)
		if err != nil {
			return string(utf16.Decode(u)), false, err
		}
		c := binary.LittleEndian.Uint16(b)
		if c == 0 {
			return string(utf16.Decode(u)), false, nil
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u)), true, nil
}

// unicodeString is a UNICODE_STRING as 64-bit Windows lays it out:
// Length and MaximumLength in bytes, then (at offset 8) the buffer's
// address.
type unicodeString struct {
	Length, MaximumLength uint16
	Buffer                uint64
}

const unicodeStringSize = 16

func decodeUnicodeString(b []byte) unicodeString {
	return unicodeString{Length: binary.LittleEndian.Uint16(b), MaximumLength: binary.LittleEndian.Uint16(b[2:]),
		Buffer: binary.LittleEndian.Uint64(b[8:])}
}

// read reads the string's text from m, at most max bytes; truncated says
// the string was longer.
func (u unicodeString) read(m Memory, max int) (s string, truncated bool, err error) {
	n := int(u.Length)
	if n == 0 {
		return "", false, nil
	}
	if u.Buffer == 0 {
		return "", false, fmt.Errorf("string of %d bytes at a null address", n)
	}
	if n%2 != 0 {
		n--
	}
	if n > max {
		n, truncated = max&^1, true
	}
	b, err := m.Read(u.Buffer, n)
	if err != nil {
		return "", false, err
	}
	return utf16String(b), truncated, nil
}
