package visible

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// Hidden reports whether r, a valid character, does not show as itself
// and is written as an escape by String. Tab, line feed and carriage
// return are hidden too (String writes them \t, \n, \r).
func Hidden(r rune) bool {
	switch {
	case r < 0x7f:
		return r < 0x20
	case r == 0x7f:
		return true
	case r < 0xa0:
		return true // C1 controls
	case r == 0xa0:
		return true // no-break space
	}
	if !unicode.IsGraphic(r) {
		return true // Cc, Cf, Zl, Zp, Co, Cn
	}
	return unicode.In(r, unicode.Zs, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}

// String returns s with every byte that is not UTF-8, every character
// that does not show as itself (Hidden) and every backslash written as an
// escape (see the package documentation). A string that needs none is
// returned as it is.
func String(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c == '\\' || c < 0x20 || c == 0x7f {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || Hidden(r) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\\':
				b.WriteString(`\\`)
			case c == '\t':
				b.WriteString(`\t`)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c < 0x20 || c == 0x7f:
				writeHex(&b, `\x`, uint32(c), 2)
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			writeHex(&b, `\x`, uint32(c), 2)
		case !Hidden(r):
			b.WriteString(s[i : i+n])
		case r <= 0xffff:
			writeHex(&b, `\u`, uint32(r), 4)
		default:
			writeHex(&b, `\U`, uint32(r), 8)
		}
		i += n
	}
	return b.String()
}

// writeHex writes prefix and the n lower-case hex digits of v.
func writeHex(b *strings.Builder, prefix string, v uint32, n int) {
	b.WriteString(prefix)
	for shift := 4 * (n - 1); shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[v>>uint(shift)&0xf])
	}
}

// JSON returns the valid JSON text j with DEL and every other character
// that String would escape and JSON keeps raw written as a JSON \u escape
// (a surrogate pair above U+FFFF), and every byte that is not UTF-8 as
// \ufffd: a JSON reader decodes the same values (encoding/json reads such
// a byte as U+FFFD too). Such characters only occur inside JSON strings,
// so the structure is kept; C0 controls, which valid JSON holds only as
// white space between tokens, are left. JSON text that needs none is
// returned as it is.
func JSON(j []byte) []byte {
	var out []byte
	last := 0
	for i := 0; i < len(j); {
		c := j[i]
		if c < utf8.RuneSelf {
			// Valid JSON holds C0 controls only as white space between
			// tokens; DEL only inside strings, where encoding/json
			// leaves it.
			if c == 0x7f {
				out = appendJSONEscape(append(out, j[last:i]...), rune(c))
				last = i + 1
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(j[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			out = appendJSONEscape(append(out, j[last:i]...), utf8.RuneError)
		case Hidden(r):
			out = appendJSONEscape(append(out, j[last:i]...), r)
		default:
			i += n
			continue
		}
		i += n
		last = i
	}
	if out == nil {
		return j
	}
	return append(out, j[last:]...)
}

// appendJSONEscape appends r as a JSON \u escape, or two for a surrogate
// pair.
func appendJSONEscape(b []byte, r rune) []byte {
	if r > 0xffff {
		r -= 0x10000
		b = appendU(b, 0xd800+(r>>10))
		return appendU(b, 0xdc00+(r&0x3ff))
	}
	return appendU(b, r)
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}
