package names

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// The systems whose names are mapped, as GOOS spells them.
const (
	Windows = "windows"
	Darwin  = "darwin"
)

// Needs reports whether names are mapped for goos.
func Needs(goos string) bool { return goos == Windows || goos == Darwin }

// MaxName is the longest name written, in bytes: what NTFS (in UTF-16
// units, never more than bytes), APFS and HFS+ accept as one name.
const MaxName = 255

// Marks that no escaped name holds: each "%" that Component writes starts
// a "%XX" escape.
const (
	shortMark = "%~" // a name cut to MaxName
	tagMark   = "%=" // the second of two names a system takes for one
)

// digest is 16 hex digits of the SHA-256 of name.
func digest(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:8])
}

// Reason says why a name cannot be written as it is.
type Reason uint8

const (
	// Reserved: a Windows device name (CON, PRN, AUX, NUL, COM0-COM9,
	// LPT0-LPT9, CONIN$, CONOUT$), alone or before an extension.
	Reserved Reason = 1 << iota
	// Character: a character the system refuses or reads otherwise
	// (<>:"/\|?*, control characters on Windows; ":" on macOS), or a byte
	// that is not UTF-8.
	Character
	// Trailing: a trailing dot or space, which Windows removes.
	Trailing
	// TooLong: more than MaxName bytes once escaped.
	TooLong
	// Collision: another name in the same folder is the same file there
	// (it differs only in case, or in Unicode form on macOS).
	Collision
)

var reasonWords = []string{"reserved name", "character", "trailing dot or space", "too long", "case collision"}

// String lists the reasons in words, comma-separated.
func (r Reason) String() string {
	var out []string
	for i, w := range reasonWords {
		if r&(1<<i) != 0 {
			out = append(out, w)
		}
	}
	return strings.Join(out, ", ")
}

// Component returns name, one component of an archive path, as it can be
// created on goos, and why it differs (0 when it is name itself). Case
// collisions are not its concern (Mapper). Different names give different
// results.
func Component(goos, name string) (string, Reason) {
	if !Needs(goos) {
		return name, 0
	}
	s, why := escape(goos, name)
	if len(s) > MaxName {
		s, why = cut(s, MaxName-len(shortMark)-16)+shortMark+digest(name), why|TooLong
	}
	return s, why
}

// escape writes with percent escapes what goos cannot hold in a name.
func escape(goos, name string) (string, Reason) {
	var why Reason
	var b strings.Builder
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		if (r == utf8.RuneError && size == 1) || refused(goos, r) {
			why |= Character
			escapeBytes(&b, name[i:i+size])
		} else {
			b.WriteString(name[i : i+size])
		}
		i += size
	}
	s := b.String()
	if goos != Windows {
		return s, why
	}
	if n := len(s); n > 0 && (s[n-1] == '.' || s[n-1] == ' ') {
		why |= Trailing
		s = s[:n-1] + fmt.Sprintf("%%%02X", s[n-1])
	}
	if n := reservedBase(s); n > 0 {
		// The device name's last character, escaped, makes it another.
		_, size := utf8.DecodeLastRuneInString(s[:n])
		var b strings.Builder
		b.WriteString(s[:n-size])
		escapeBytes(&b, s[n-size:n])
		b.WriteString(s[n:])
		why |= Reserved
		s = b.String()
	}
	return s, why
}

func escapeBytes(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(b, "%%%02X", s[i])
	}
}

// refused reports whether goos cannot hold r in a name, or reads it
// otherwise; "%" is refused everywhere, since it starts the escapes.
func refused(goos string, r rune) bool {
	switch {
	case r == '%', r == '/', r == 0:
		return true
	case goos == Darwin:
		return r == ':'
	}
	return r < 0x20 || r == 0x7f || strings.ContainsRune(`<>:"\|?*`, r)
}

// reservedBase returns, when name is a Windows device name (CON, or
// "con .txt": the part before the first dot, trailing spaces left out),
// the length of that name; else 0.
func reservedBase(name string) int {
	base := name
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	base = strings.TrimRight(base, " ")
	switch strings.ToUpper(base) {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return len(base)
	}
	if len(base) < 4 {
		return 0
	}
	switch strings.ToUpper(base[:3]) {
	case "COM", "LPT":
		switch base[3:] {
		case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "\u00b9", "\u00b2", "\u00b3":
			return len(base)
		}
	}
	return 0
}

// cut returns the longest prefix of the escaped name s of at most n bytes
// that ends neither inside a character nor inside a "%XX" escape.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (!utf8.RuneStart(s[n]) || s[n-1] == '%' || (n > 1 && s[n-2] == '%')) {
		n--
	}
	return s[:n]
}

// maxExt is the longest extension a tagged name keeps after its mark.
const maxExt = 16

// tagged is name as the second of two names of a folder that goos takes
// for one: escaped, with tagMark and its digest before the extension.
func tagged(goos, name string) string {
	s, _ := escape(goos, name)
	base, ext := s, ""
	if i := strings.LastIndexByte(s, '.'); i > 0 && len(s)-i <= maxExt && !strings.Contains(s[i:], "%") {
		base, ext = s[:i], s[i:]
	}
	mark := tagMark + digest(name)
	return cut(base, MaxName-len(mark)-len(ext)) + mark + ext
}

// Key returns the form under which goos's default file system compares
// name with the other names of its folder: two names with the same Key
// are one file there. It errs on the side of equality (full case folding
// and upper case; on macOS, in Unicode's decomposed form too).
func Key(goos, name string) string {
	if Needs(goos) && ascii(name) {
		return strings.ToUpper(name)
	}
	switch goos {
	case Windows:
		return strings.Map(unicode.ToUpper, cases.Fold().String(name))
	case Darwin:
		folded := cases.Fold().String(norm.NFD.String(name))
		return norm.NFD.String(strings.Map(unicode.ToUpper, folded))
	}
	return name
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
