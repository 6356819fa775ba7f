package bodyfile

import (
	"bytes"
	"github.com/scelle/scelle/internal/bodyfmt"
	"strconv"
	"strings"
	"testing"
)

func TestModeString(t *testing.T) {
	for _, c := range []struct {
		mode uint32
		want string
	}{
		{sIFREG | 0o644, "r/rrw-r--r--"},
		{sIFREG | 0o4755, "r/rrwsr-xr-x"},
		{sIFREG | 0o4644, "r/rrwSr--r--"},
		{sIFREG | 0o2711, "r/rrwx--s--x"},
		{sIFDIR | 0o1777, "d/drwxrwxrwt"},
		{sIFDIR | 0o1770, "d/drwxrwx--T"},
		{sIFLNK | 0o777, "l/lrwxrwxrwx"},
		{sIFIFO | 0o600, "p/prw-------"},
		{sIFSOCK | 0o755, "s/srwxr-xr-x"},
		{sIFCHR | 0o620, "c/crw--w----"},
		{sIFBLK | 0o660, "b/brw-rw----"},
		{0o644, "-/-rw-r--r--"},
	} {
		if got := bodyfmt.Mode(c.mode); got != c.want {
			t.Errorf("modeString(%o) = %q, want %q", c.mode, got, c.want)
		}
	}
}

func TestEscapeName(t *testing.T) {
	for in, want := range map[string]string{
		"/etc/passwd":       "/etc/passwd",
		"/tmp/a|b\nc":       `/tmp/a%7Cb\012c`,
		`/tmp/back\slash`:   `/tmp/back\\slash`,
		`/tmp/\012`:         `/tmp/\\012`,
		"/tmp/100%":         "/tmp/100%25",
		"/tmp/x -> y":       "/tmp/x -%3E y",
		"/tmp/>x":           "/tmp/>x",
		"/tmp/\x7f\x00\x1f": `/tmp/\177\000\037`,
		"/tmp/é\xff":        "/tmp/é\xff",
	} {
		var b bytes.Buffer
		bodyfmt.EscapeName(&b, in)
		if b.String() != want {
			t.Errorf("bodyfmt.EscapeName(%q) = %q, want %q", in, b.String(), want)
		}
		if got := unescapeName(b.String()); got != in {
			t.Errorf("unescape(escape(%q)) = %q", in, got)
		}
	}
}

// unescapeName reverses escapeName.
func unescapeName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '%' && i+2 < len(s):
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == '\\':
			b.WriteByte('\\')
			i++
			continue
		case s[i] == '\\' && i+3 < len(s):
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func FuzzEscapeName(f *testing.F) {
	for _, s := range []string{"", "/a|b", "%41", "a -> b", "->", "\n\r\t", "\xff\xfe", "%%7C"} {
		f.Add(s)
	}
	f.Add(`\\\012%25`)
	f.Fuzz(func(t *testing.T, s string) {
		var b bytes.Buffer
		bodyfmt.EscapeName(&b, s)
		out := b.String()
		if strings.ContainsAny(out, "|\n\r\x00\x7f") || strings.Contains(out, "->") {
			t.Fatalf("bodyfmt.EscapeName(%q) = %q holds a separator", s, out)
		}
		if got := unescapeName(out); got != s {
			t.Fatalf("round trip of %q gave %q", s, got)
		}
	})
}

func TestParsePasswd(t *testing.T) {
	in := "root:x:0:0:root:/root:/bin/bash\n" +
		"# comment:x:5:5::/c:/bin/sh\n" +
		"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n" +
		"alice:x:1000:1000:Alice,,,:/home/alice/:/bin/zsh\n" +
		"svc:x:998:998::/:/bin/sh\n" +
		"rel:x:997:997::home/rel:/bin/sh\n" +
		"bad:x:notanumber:1::/home/bad:/bin/sh\n" +
		"short:x:12\n" +
		"sync:x:4:65534:sync:/bin:/bin/false\n"
	uids, homes, err := parsePasswd(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []uint32{0, 1, 1000, 998, 997, 4} {
		if !uids[u] {
			t.Errorf("uid %d missing", u)
		}
	}
	if len(uids) != 6 {
		t.Errorf("uids = %v, want 6", uids)
	}
	if strings.Join(homes, " ") != "/root /home/alice" {
		t.Errorf("homes = %q", homes)
	}
}

func TestParseGroup(t *testing.T) {
	gids, err := parseGroup(strings.NewReader("root:x:0:\nadm:x:4:syslog,alice\nbad:x:y:\n#x:x:9:\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(gids) != 2 || !gids[0] || !gids[4] {
		t.Errorf("gids = %v", gids)
	}
}

func FuzzParseAccounts(f *testing.F) {
	f.Add([]byte("root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n"))
	f.Add([]byte("a:b:c\n::::::\n:x:4294967295:0::/:/\n:x:4294967296:0::/x:/sh"))
	f.Add([]byte("\x00\xff:\n\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		uids, homes, err := parsePasswd(bytes.NewReader(b))
		if err == nil {
			for _, h := range homes {
				if !strings.HasPrefix(h, "/") || h == "/" {
					t.Fatalf("home %q is not an absolute folder below /", h)
				}
			}
			if len(homes) > 0 && len(uids) == 0 {
				t.Fatalf("homes without uids")
			}
		}
		_, _ = parseGroup(bytes.NewReader(b))
	})
}

func TestCleanRoots(t *testing.T) {
	got := cleanRoots([]string{"/var/tmp", "/tmp/", "/tmp/x", "var/tmp", "/etc/cron.d", "/etc", "/tmpx"})
	want := "/etc /tmp /tmpx /var/tmp"
	if strings.Join(got, " ") != want {
		t.Errorf("cleanRoots = %q, want %q", got, want)
	}
	if got := cleanRoots([]string{"/tmp", "/"}); strings.Join(got, " ") != "/" {
		t.Errorf("cleanRoots with / = %q", got)
	}
}

func TestOnlyDots(t *testing.T) {
	for name, want := range map[string]bool{".": false, "..": false, "...": true, ". ": true, ".. ": true,
		".x": false, "": false, " .": false} {
		if onlyDots(name) != want {
			t.Errorf("onlyDots(%q) = %v", name, !want)
		}
	}
}
