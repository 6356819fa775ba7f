package visible

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"/var/log/auth.log", "/var/log/auth.log"},
		{"/home/иван/секрет.txt", "/home/иван/секрет.txt"},
		{"été € 日本 👍", "été € 日本 👍"},
		{"e\u0301", "e\u0301"}, // combining acute: shows on its letter
		{"\x1b[2K\x1b[1A read back: VERIFIED", `\x1b[2K\x1b[1A read back: VERIFIED`},
		{"a\nb\rc\td", `a\nb\rc\td`},
		{"\x00\x07\x08\x7f", `\x00\x07\x08\x7f`},
		{`C:\Windows`, `C:\\Windows`},
		{`\x1b`, `\\x1b`}, // a name that spells an escape
		{"\xff\xfe.bin", `\xff\xfe.bin`},
		{"\xe9t\xe9", `\xe9t\xe9`},                 // Latin-1, not UTF-8
		{"\u0085\u009b2J", `\u0085\u009b2J`},       // C1 controls (NEL, CSI)
		{"\xc2\x9b", `\u009b`},                     // the same CSI, as bytes
		{"\xc2", `\xc2`},                           // a cut sequence
		{"evil\u202egpj.exe", `evil\u202egpj.exe`}, // right-to-left override
		{"\u202a\u202b\u202c\u202d", `\u202a\u202b\u202c\u202d`},
		{"\u2066\u2067\u2068\u2069", `\u2066\u2067\u2068\u2069`},
		{"\u200e\u200f\u061c", `\u200e\u200f\u061c`},
		{"a\u200bb\u200cc\u200dd\u2060e\ufeff", `a\u200bb\u200cc\u200dd\u2060e\ufeff`},
		{"\u00ad\u034f\u115f\u3164\ufe0f", `\u00ad\u034f\u115f\u3164\ufe0f`},
		{"a\u00a0b\u2003c\u3000d", `a\u00a0b\u2003c\u3000d`},
		{"\u2028\u2029", `\u2028\u2029`},
		{"\ue000\U000f0000", `\ue000\U000f0000`},         // private use
		{"\U000e0041\U000e007f", `\U000e0041\U000e007f`}, // tag characters
		{"\U000e0100", `\U000e0100`},                     // variation selector 17
		{"\ufffd", "\ufffd"},                             // the character itself shows
		{"\ud7ff", `\ud7ff`},                             // unassigned
	} {
		if got := String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStringKeepsCleanStrings(t *testing.T) {
	s := strings.Repeat("/srv/www/é/", 100)
	if got := String(s); got != s {
		t.Fatal("a clean string changed")
	}
	if n := testing.AllocsPerRun(100, func() { String(s) }); n != 0 {
		t.Errorf("%v allocations for a clean string", n)
	}
}

// unescape reverses String: the proof that it is injective.
func unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", fmt.Errorf("lone backslash at the end")
		}
		i++
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[s[i]]
			if i+n >= len(s) {
				return "", fmt.Errorf("short escape at %d", i)
			}
			v, err := strconv.ParseUint(s[i+1:i+1+n], 16, 32)
			if err != nil {
				return "", err
			}
			if s[i] == 'x' {
				b.WriteByte(byte(v))
			} else {
				b.WriteRune(rune(v))
			}
			i += n
		default:
			return "", fmt.Errorf("unknown escape \\%c", s[i])
		}
	}
	return b.String(), nil
}

// checkShown requires out, String's output for in, to be UTF-8 with no
// hidden character, and to give in back.
func checkShown(t *testing.T, in, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("String(%q) = %q: not UTF-8", in, out)
	}
	for _, r := range out {
		if Hidden(r) {
			t.Fatalf("String(%q) = %q holds %U", in, out, r)
		}
	}
	back, err := unescape(out)
	if err != nil || back != in {
		t.Fatalf("String(%q) = %q, which reads back as %q (%v)", in, out, back, err)
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[2K\x1b[1A VERIFIED", `\x1b`, "\\\\x", "\xff\u202e\u200b",
		"\U000e0041", "a\u00a0b", "\xc2\x9b", "\xf0\x9f", "\r\n\t", "é\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkShown(t, s, String(s))
	})
}

// Every character up to U+10FFFF, alone and between others.
func TestStringEveryRune(t *testing.T) {
	var b strings.Builder
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if 0xd800 <= r && r < 0xe000 {
			continue
		}
		b.WriteString("a" + string(r) + "\\")
		if r%4096 == 4095 || r == utf8.MaxRune {
			checkShown(t, b.String(), String(b.String()))
			b.Reset()
		}
	}
	for c := 0x80; c < 0x100; c++ {
		s := "a" + string([]byte{byte(c)}) + "b"
		checkShown(t, s, String(s))
	}
}

func TestHiddenNamedCharacters(t *testing.T) {
	for _, r := range []rune{0, '\t', '\n', '\r', 0x1b, 0x7f, 0x85, 0x9b, 0xa0, 0xad, 0x61c, 0x180e, 0x200b, 0x200c, 0x200d,
		0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202e, 0x2060, 0x2066, 0x2069, 0xfeff, 0xfff9, 0xe0001, 0xe0020} {
		if !Hidden(r) {
			t.Errorf("%U is not hidden", r)
		}
	}
	for _, r := range []rune{' ', 'a', '~', 0xe9, 0x416, 0x5d0, 0x627, 0x65e5, 0x1f44d, 0xfffd, 0x301} {
		if Hidden(r) {
			t.Errorf("%U is hidden", r)
		}
	}
}

func TestJSON(t *testing.T) {
	v := map[string]any{"path": "a\u202eb\x1b\x7f\u0085\u200b\xff\U000e0041\\\"<&>", "n": 1.5, "list": []string{"x\ty", "\u2028"}}
	raw, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	j := JSON(raw)
	for _, r := range string(j) {
		if Hidden(r) && r != '\n' {
			t.Fatalf("JSON kept %U:\n%s", r, j)
		}
	}
	var a, b any
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(j, &b); err != nil {
		t.Fatalf("%v:\n%s", err, j)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("JSON changed the values:\n%s\n%s", raw, j)
	}
	for _, want := range []string{`\u202e`, `\u007f`, `\u0085`, `\u200b`, `\udb40\udc41`} {
		if !bytes.Contains(j, []byte(want)) {
			t.Errorf("JSON lacks %s:\n%s", want, j)
		}
	}
	clean := []byte(`{"a": "b"}`)
	if got := JSON(clean); &got[0] != &clean[0] {
		t.Error("clean JSON was copied")
	}
}

func FuzzJSON(f *testing.F) {
	f.Add("a\u202eb\x1b\x7f\xff")
	f.Fuzz(func(t *testing.T, s string) {
		raw, err := json.Marshal([]string{s, String(s)})
		if err != nil {
			t.Skip()
		}
		j := JSON(raw)
		for _, r := range string(j) {
			if Hidden(r) {
				t.Fatalf("JSON(%s) = %s holds %U", raw, j, r)
			}
		}
		var a, b []string
		if json.Unmarshal(raw, &a) != nil || json.Unmarshal(j, &b) != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("JSON(%s) = %s: values differ", raw, j)
		}
	})
}

func ExampleString() {
	fmt.Println(String("/tmp/\x1b[2K\x1b[1Aread back: VERIFIED"))
	fmt.Println(String("invoice\u202efdp.exe"))
	fmt.Println(String(`C:\Temp` + "\xff"))
	// Output:
	// /tmp/\x1b[2K\x1b[1Aread back: VERIFIED
	// invoice\u202efdp.exe
	// C:\\Temp\xff
}
