package system

import (
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func addSeeds(f *testing.F, files ...string) {
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// octal escapes what the kernel escapes in mountinfo and swaps paths.
func octal(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\\':
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func FuzzParseMountinfo(f *testing.F) {
	addSeeds(f, "testdata/host/proc/self/mountinfo")
	f.Add([]byte("1 0 0:1 / /a\\040b rw - ext4 \\134 rw\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, m := range ParseMountinfo(b) {
			if m.Error != "" {
				if m.Line == "" {
					t.Fatalf("error record without its line: %+v", m)
				}
				continue
			}
			// Written back as the kernel would, the mount parses the same.
			fields := []string{fmt.Sprint(m.MountID), fmt.Sprint(m.ParentID), fmt.Sprintf("%d:%d", m.Major, m.Minor),
				octal(m.Root), octal(m.MountPoint), m.MountOptions}
			fields = append(fields, m.Optional...)
			fields = append(fields, "-", octal(m.FSType), octal(m.Source), m.SuperOptions)
			again := ParseMountinfo([]byte(strings.Join(fields, " ")))
			if len(again) != 1 || !reflect.DeepEqual(again[0], m) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", again, m)
			}
		}
	})
}

func FuzzParseModules(f *testing.F) {
	addSeeds(f, "testdata/host/proc/modules")
	f.Add([]byte("m 1 - [permanent],a, Live 0x0 (OE)\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, m := range ParseModules(b) {
			if m.Error != "" {
				if m.Line == "" {
					t.Fatalf("error record without its line: %+v", m)
				}
				continue
			}
			if m.Name == "" || strings.ContainsAny(m.Name, " \n") || m.UsedBy == nil {
				t.Fatalf("bad record %+v", m)
			}
		}
	})
}

// escapeKmsg escapes s as the kernel does in /dev/kmsg records.
func escapeKmsg(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c >= 0x7f || c == '\\' {
			fmt.Fprintf(&b, "\\x%02x", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func FuzzParseKmsg(f *testing.F) {
	addSeeds(f, "testdata/kmsg")
	f.Add([]byte("6,1,2,-;a\\x0ab\\x5\n KEY=\\x20v\n"))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, r := range ParseKmsg(b, base) {
			if r.Error != "" {
				if r.Line == "" {
					t.Fatalf("error record without its line: %+v", r)
				}
				continue
			}
			if r.Level != r.Priority&7 || r.Facility != r.Priority>>3 || r.LevelName == "" || r.FacilityName == "" {
				t.Fatalf("bad priority decoding: %+v", r)
			}
			if want := base.Add(time.Duration(r.UptimeUS) * time.Microsecond); r.UptimeUS <= 1<<62/1000 && !r.Time.Equal(want) {
				t.Fatalf("time %v, want %v", r.Time, want)
			}
			// Escaped as the kernel does, the message decodes to itself.
			if got := unescapeKmsg(escapeKmsg(r.Message)); got != r.Message {
				t.Fatalf("escape round trip: %q != %q", got, r.Message)
			}
		}
	})
}

func FuzzParseOSRelease(f *testing.F) {
	addSeeds(f, "testdata/host/root/usr/lib/os-release", "/usr/lib/os-release")
	f.Add([]byte("A=\"x\\\"y\" # c\nB='z'\\ w\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		vars, _ := ParseOSRelease(b)
		// Written back quoted, the variables parse the same.
		keys := make([]string, 0, len(vars))
		for k := range vars {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out strings.Builder
		for _, k := range keys {
			if strings.ContainsAny(vars[k], "\n") {
				t.Fatalf("value of %s holds a newline", k)
			}
			fmt.Fprintf(&out, "%s=%s\n", k, quoteOSRelease(vars[k]))
		}
		again, problems := ParseOSRelease([]byte(out.String()))
		if len(problems) != 0 || !reflect.DeepEqual(again, vars) {
			t.Fatalf("round trip of %q: %q %q, want %q", out.String(), again, problems, vars)
		}
	})
}

func FuzzSmallParsers(f *testing.F) {
	addSeeds(f, "testdata/host/proc/swaps", "testdata/host/proc/sys/fs/binfmt_misc/qemu-aarch64", "testdata/host/proc/stat")
	f.Add([]byte("12289\n"))
	f.Add([]byte("TZif2\x00\nCET-1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range ParseSwaps(b) {
			if s.Error != "" && s.Line == "" {
				t.Fatalf("error record without its line: %+v", s)
			}
		}
		ParseBinfmt("x", b)
		ParseBootTime(b)
		ParseUptime(b)
		TZifFooter(b)
		if tt := DecodeTaint(b); tt.Error == "" && len(tt.Flags) != len(tt.Letters) {
			t.Fatalf("taint %+v: letters and flags differ", tt)
		}
	})
}
