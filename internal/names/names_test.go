package names

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestComponent(t *testing.T) {
	long := strings.Repeat("x", 250) + ":" // 254 bytes once escaped... plus 2
	for _, tc := range []struct {
		goos, name, want string
		why              Reason
	}{
		{Windows, "file.txt", "file.txt", 0},
		{Windows, "CON", "CO%4E", Reserved},
		{Windows, "con", "co%6E", Reserved},
		{Windows, "aux.txt", "au%78.txt", Reserved},
		{Windows, "Nul.tar.gz", "Nu%6C.tar.gz", Reserved},
		{Windows, "CON .txt", "CO%4E .txt", Reserved},
		{Windows, "COM1", "COM%31", Reserved},
		{Windows, "lpt0.log", "lpt%30.log", Reserved},
		{Windows, "COM\u00b9", "COM%C2%B9", Reserved},
		{Windows, "CONIN$", "CONIN%24", Reserved},
		{Windows, "COM10", "COM10", 0},
		{Windows, "CONSOLE", "CONSOLE", 0},
		{Windows, "xCON", "xCON", 0},
		{Windows, "a.", "a%2E", Trailing},
		{Windows, "a..", "a.%2E", Trailing},
		{Windows, "b ", "b%20", Trailing},
		{Windows, "CON.", "CON%2E", Trailing},
		{Windows, "CON:x", "CON%3Ax", Character},
		{Windows, "x:y", "x%3Ay", Character},
		{Windows, `a<b>c"d|e?f*g\h`, "a%3Cb%3Ec%22d%7Ce%3Ff%2Ag%5Ch", Character},
		{Windows, "tab\there", "tab%09here", Character},
		{Windows, "100%", "100%25", Character},
		{Windows, "\xff.bin", "%FF.bin", Character},
		{Windows, "été^0A", "été^0A", 0},
		{Windows, long, strings.Repeat("x", 250) + "%3A", Character},
		{Darwin, "x:y", "x%3Ay", Character},
		{Darwin, "CON", "CON", 0},
		{Darwin, "a.", "a.", 0},
		{Darwin, "a<b>?", "a<b>?", 0},
		{Darwin, "\xfe", "%FE", Character},
		{"linux", "x:y", "x:y", 0},
		{"linux", "CON", "CON", 0},
	} {
		got, why := Component(tc.goos, tc.name)
		if got != tc.want || why != tc.why {
			t.Errorf("Component(%s, %q) = %q, %q; want %q, %q", tc.goos, tc.name, got, why, tc.want, tc.why)
		}
	}
}

// A name longer than MaxName once escaped is cut and marked, and two such
// names that differ only past the cut stay apart.
func TestComponentTooLong(t *testing.T) {
	a := strings.Repeat("é", 100) + strings.Repeat(":", 20) + "a"
	b := a[:len(a)-1] + "b"
	ma, why := Component(Windows, a)
	mb, _ := Component(Windows, b)
	if why != Character|TooLong || len(ma) > MaxName || !utf8.ValidString(ma) || ma == mb {
		t.Fatalf("%q (%d bytes, %s) and %q", ma, len(ma), why, mb)
	}
	if i := strings.Index(ma, shortMark); i < 0 || strings.HasSuffix(ma[:i], "%") || strings.HasSuffix(ma[:i-1], "%") {
		t.Errorf("cut inside an escape: %q", ma)
	}
}

func TestKey(t *testing.T) {
	for _, tc := range []struct {
		goos, a, b string
		same       bool
	}{
		{Windows, "A.txt", "a.txt", true},
		{Windows, "ÉTÉ", "été", true},
		{Windows, "Straße", "STRASSE", true}, // errs on the side of equality
		{Windows, "été", "e\u0301te\u0301", false},
		{Windows, "a", "b", false},
		{Darwin, "A.txt", "a.txt", true},
		{Darwin, "été", "e\u0301te\u0301", true},
		{Darwin, "Été", "e\u0301te\u0301", true},
		{Darwin, "\u212b", "\u00e5", true}, // angstrom sign, a with ring
		{"linux", "A", "a", false},
	} {
		if got := Key(tc.goos, tc.a) == Key(tc.goos, tc.b); got != tc.same {
			t.Errorf("%s: %q and %q the same: %v, want %v", tc.goos, tc.a, tc.b, got, tc.same)
		}
	}
}

func TestMapper(t *testing.T) {
	m := NewMapper(Windows)
	for _, tc := range []struct{ path, want string }{
		{"data/fs/A.txt", "data/fs/A.txt"},
		{"data/fs/a.txt", "data/fs/a%=" + digest("a.txt") + ".txt"},
		{"data/fs/A.txt", "data/fs/A.txt"},
		{"data/fs/CON", "data/fs/CO%4E"},
		{"data/fs/con", "data/fs/co%6E"},
		{"data/FS/x", "data/FS%=" + digest("FS") + "/x"},
		{"data/FS/y", "data/FS%=" + digest("FS") + "/y"},
		{"data/fs/x:y/a.", "data/fs/x%3Ay/a%2E"},
		{"data/fs/CO%4E", "data/fs/CO%254E"},
		{"data/fs/co%6E", "data/fs/co%256E"},
	} {
		if got := m.Map(tc.path); got != tc.want {
			t.Errorf("Map(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
	if got := (*Mapper)(nil).Map("data/CON"); got != "data/CON" {
		t.Errorf("a nil Mapper: %q", got)
	}
	if NewMapper("linux") != nil {
		t.Error("a Mapper for linux")
	}
}

func TestCensus(t *testing.T) {
	c := NewCensus()
	for _, p := range []string{"data/fs/a", "data/fs/A", "data/CON/x", "data/CON/y", "data/ok/b.", "bagit.txt", "data/x:y/z", "data/x:y/w"} {
		c.Add(p)
	}
	if w := c.Windows; w.Names != 4 || w.Reasons != Collision|Reserved|Trailing|Character || w.First != "data/fs/A" {
		t.Errorf("windows: %+v (%s)", w, w.Reasons)
	}
	if d := c.Darwin; d.Names != 2 || d.Reasons != Collision|Character || d.First != "data/fs/A" {
		t.Errorf("darwin: %+v (%s)", d, d.Reasons)
	}
}

// decode reverses the percent escapes of a name Component did not cut.
func decode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b.WriteByte(byte(v))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// checkWritable fails when w is not a name goos can create as it is.
func checkWritable(t *testing.T, goos, w string) {
	t.Helper()
	if w == "" || len(w) > MaxName || !utf8.ValidString(w) {
		t.Fatalf("%s: %q: empty, too long or not UTF-8", goos, w)
	}
	bad := "/\x00"
	if goos == Darwin {
		bad += ":"
	}
	if goos == Windows {
		bad += `<>:"\|?*`
		if last := w[len(w)-1]; last == '.' || last == ' ' {
			t.Fatalf("%q ends with a dot or space", w)
		}
		if reservedBase(w) > 0 {
			t.Fatalf("%q is reserved", w)
		}
		for _, r := range w {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("%q holds a control character", w)
			}
		}
	}
	if strings.ContainsAny(w, bad) {
		t.Fatalf("%s: %q holds one of %q", goos, w, bad)
	}
}

// FuzzComponent: the written name can be created, is the name when the
// name needs no change, reads back to the name (unless cut), and differs
// from another name's.
func FuzzComponent(f *testing.F) {
	for _, s := range []string{"CON", "aux.txt", "a.", "b ", "x:y", "A.txt", "%", "CO%4E", strings.Repeat("ü:", 90)} {
		f.Add(s, s+"x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if a == "" || a == "." || a == ".." || strings.Contains(a, "/") {
			return
		}
		for _, goos := range []string{Windows, Darwin} {
			w, why := Component(goos, a)
			checkWritable(t, goos, w)
			if (why == 0) != (w == a) {
				t.Fatalf("%s: %q -> %q, reason %q", goos, a, w, why)
			}
			if why&TooLong == 0 && decode(w) != a {
				t.Fatalf("%s: %q -> %q reads back %q", goos, a, w, decode(w))
			}
			if wb, _ := Component(goos, b); a != b && wb == w {
				t.Fatalf("%s: %q and %q both -> %q", goos, a, b, w)
			}
			checkWritable(t, goos, tagged(goos, a))
		}
	})
}

// FuzzMapper: the paths of a set map to paths that the system takes for
// different files (compared by Key, component by component), the same
// every time, and a Census counts the names that changed.
func FuzzMapper(f *testing.F) {
	f.Add("data/CON\ndata/con\ndata/A.txt\ndata/a.txt\ndata/x:y\ndata/a.\ndata/b \ndata/a%=0\ndata/Dir/x\ndata/dir/x")
	f.Add("a/é\na/e\u0301\na/\u212b\na/\u00c5\na/\u00e5")
	f.Fuzz(func(t *testing.T, list string) {
		var paths []string
		seen := map[string]bool{}
	next:
		for _, p := range strings.Split(list, "\n") {
			for _, c := range strings.Split(p, "/") {
				if c == "" || c == "." || c == ".." {
					continue next
				}
			}
			if !seen[p] {
				seen[p] = true
				paths = append(paths, p)
			}
		}
		// A file and a folder of one name are not a set tar can make.
		for _, p := range paths {
			for i := range len(p) {
				if p[i] == '/' && seen[p[:i]] {
					return
				}
			}
		}
		census := NewCensus()
		for _, p := range paths {
			census.Add(p)
		}
		for _, goos := range []string{Windows, Darwin} {
			m, again := NewMapper(goos), NewMapper(goos)
			count := census.Windows
			if goos == Darwin {
				count = census.Darwin
			}
			files := map[string]string{} // path as goos compares it -> archive path
			changed := map[string]bool{} // archive folder or file paths whose name changed
			for _, p := range paths {
				w := m.Map(p)
				if w2 := again.Map(p); w2 != w {
					t.Fatalf("%s: %q -> %q, then %q", goos, p, w, w2)
				}
				comps, wcomps := strings.Split(p, "/"), strings.Split(w, "/")
				if len(comps) != len(wcomps) {
					t.Fatalf("%s: %q -> %q", goos, p, w)
				}
				for i := range comps {
					checkWritable(t, goos, wcomps[i])
					if comps[i] != wcomps[i] {
						changed[strings.Join(comps[:i+1], "/")] = true
					}
					wcomps[i] = Key(goos, wcomps[i])
				}
				k := strings.Join(wcomps, "/")
				if other, ok := files[k]; ok {
					t.Fatalf("%s: %q and %q are one file: %q", goos, other, p, w)
				}
				files[k] = p
			}
			if count.Names != len(changed) {
				t.Fatalf("%s: census counts %d names, the mapper changed %d", goos, count.Names, len(changed))
			}
		}
	})
}
