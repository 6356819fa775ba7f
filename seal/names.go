package seal

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/scelle/scelle/internal/visible"
)

// escapeByte marks an encoded byte in an archive path: "^" followed by
// two upper-case hex digits.
const escapeByte = '^'

// EncodeName turns a payload name of any bytes into a path that a BagIt
// manifest (RFC 8493) and GNU sha256sum both read literally, and that a
// terminal shows as it is: valid UTF-8 with no control character, no
// character that does not show as itself (visible.Hidden), no backslash,
// no percent sign, and "^" only as an escape. Every other byte is written
// "^XX" (upper-case hex).
// A space that begins or ends a component is escaped too, since manifest
// readers may trim white space. Empty components are dropped; "." and ".."
// components are escaped ("^2E", "^2E^2E") so that no name leaves the
// bag. DecodeName reverses it.
func EncodeName(name string) string {
	var b strings.Builder
	first := true
	for _, comp := range strings.Split(name, "/") {
		if comp == "" {
			continue
		}
		if !first {
			b.WriteByte('/')
		}
		first = false
		if comp == "." || comp == ".." {
			b.WriteString(strings.Repeat("^2E", len(comp)))
			continue
		}
		b.WriteString(encodeComponent(comp))
	}
	return b.String()
}

// MaxComponent is the longest encoded path component: what file systems
// accept as one name (NAME_MAX), so that tar can extract every entry.
const MaxComponent = 255

// encodeComponent encodes one component; one longer than MaxComponent
// once encoded is cut at a character boundary and ended with "^7E" and 16
// hex digits of the SHA-256 of the raw component. "^7E" never comes out
// of the encoding itself ('~' is left as it is), so the shortened name
// cannot collide with another; the record keeps the original name.
func encodeComponent(comp string) string {
	var b strings.Builder
	for i := 0; i < len(comp); {
		r, size := utf8.DecodeRuneInString(comp[i:])
		edge := r == ' ' && (i == 0 || i == len(comp)-1)
		if (r == utf8.RuneError && size == 1) || needsEscape(r) || visible.Hidden(r) || edge {
			for j := 0; j < size; j++ {
				fmt.Fprintf(&b, "^%02X", comp[i+j])
			}
		} else {
			b.WriteString(comp[i : i+size])
		}
		i += size
	}
	if b.Len() <= MaxComponent {
		return b.String()
	}
	enc := b.String()
	cut := MaxComponent - len("^7E") - 16
	for cut > 0 {
		// Not inside a ^XX escape, nor inside a UTF-8 sequence.
		if enc[cut-1] != '^' && (cut < 2 || enc[cut-2] != '^') && utf8.RuneStart(enc[cut]) {
			break
		}
		cut--
	}
	sum := sha256.Sum256([]byte(comp))
	return enc[:cut] + "^7E" + hex.EncodeToString(sum[:8])
}

// needsEscape reports whether r is a character a manifest cannot carry
// as it is: ValidName refuses it raw. EncodeName also escapes what does
// not show as itself on a screen (visible.Hidden: bidirectional controls,
// zero-width characters, spaces other than U+0020 ...), which ValidName
// accepts raw, as bags written before it was escaped hold it.
func needsEscape(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == '\\', r == '%', r == escapeByte:
		return true
	case r == 0x2028, r == 0x2029, r == 0xfeff:
		return true
	}
	return false
}

// DecodeName reverses EncodeName.
func DecodeName(enc string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		if c != escapeByte {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(enc) || !isUpperHex(enc[i+1]) || !isUpperHex(enc[i+2]) {
			return "", fmt.Errorf("bad escape at byte %d of %q", i, enc)
		}
		b.WriteByte(unhex(enc[i+1])<<4 | unhex(enc[i+2]))
		i += 2
	}
	return b.String(), nil
}

// ValidName reports whether enc is a path EncodeName can produce: relative,
// clean, and free of bytes the manifests cannot carry.
func ValidName(enc string) bool {
	if enc == "" || !utf8.ValidString(enc) {
		return false
	}
	for _, comp := range strings.Split(enc, "/") {
		if comp == "" || comp == "." || comp == ".." || comp[0] == ' ' || comp[len(comp)-1] == ' ' {
			return false
		}
	}
	for i, r := range enc {
		if r == escapeByte {
			if i+2 >= len(enc) || !isUpperHex(enc[i+1]) || !isUpperHex(enc[i+2]) {
				return false
			}
			continue
		}
		if needsEscape(r) {
			return false
		}
	}
	return true
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'A' + 10
}
