// Package bodyfmt writes the fields of a Sleuth Kit 3.x bodyfile line the
// way scelle writes them, for the collector that walks file systems and
// for the export of a bag's records alike.
package bodyfmt

import "bytes"

// TypeLetter is the file type letter of st_mode m, as fls prints it.
func TypeLetter(m uint32) byte {
	switch m & 0o170000 {
	case 0o100000:
		return 'r'
	case 0o040000:
		return 'd'
	case 0o120000:
		return 'l'
	case 0o010000:
		return 'p'
	case 0o020000:
		return 'c'
	case 0o060000:
		return 'b'
	case 0o140000:
		return 's'
	}
	return '-'
}

// Mode is the bodyfile's mode field for st_mode m: "r/rrwxr-xr-x".
func Mode(m uint32) string {
	t := TypeLetter(m)
	b := []byte{t, '/', t, '-', '-', '-', '-', '-', '-', '-', '-', '-'}
	const rwx = "rwxrwxrwx"
	for i := 0; i < 9; i++ {
		if m&(1<<(8-i)) != 0 {
			b[3+i] = rwx[i]
		}
	}
	special := func(bit uint32, i int, set, unset byte) {
		if m&bit == 0 {
			return
		}
		if b[i] == 'x' {
			b[i] = set
		} else {
			b[i] = unset
		}
	}
	special(0o4000, 5, 's', 'S')
	special(0o2000, 8, 's', 'S')
	special(0o1000, 11, 't', 'T')
	return string(b)
}

// EscapeName writes a name or link target escaped for the bodyfile: '%',
// '|' and the '>' of "->" as %HH, which mactime decodes; control bytes as
// \ooo and '\' as \\, which mactime shows as they are (it drops lines whose
// decoded name holds a newline).
func EscapeName(buf *bytes.Buffer, s string) {
	if !needsEscape(s) {
		buf.WriteString(s)
		return
	}
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%' || c == '|' || (c == '>' && i > 0 && s[i-1] == '-'):
			buf.WriteByte('%')
			buf.WriteByte(hex[c>>4])
			buf.WriteByte(hex[c&0xf])
		case c < 0x20 || c == 0x7f:
			buf.WriteByte('\\')
			buf.WriteByte('0' + c>>6)
			buf.WriteByte('0' + c>>3&7)
			buf.WriteByte('0' + c&7)
		case c == '\\':
			buf.WriteString(`\\`)
		default:
			buf.WriteByte(c)
		}
	}
}

// needsEscape says whether EscapeName changes s.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%' || c == '|' || c == '\\' || c < 0x20 || c == 0x7f:
			return true
		case c == '>' && i > 0 && s[i-1] == '-':
			return true
		}
	}
	return false
}
