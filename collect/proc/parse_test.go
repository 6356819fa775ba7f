package proc

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Stat
		wantErr string
	}{
		{
			name: "comm with spaces and parentheses",
			in:   "4242 (evil) (x y) S 1 4242 4242 34816 4242 4194560 100 0 0 0 7 3 0 0 20 -5 2 0 123456 10485760 512 18446744073709551615 1 1 0\n",
			want: Stat{PID: 4242, Comm: []byte("evil) (x y"), State: "S", PPID: 1, PGRP: 4242, Session: 4242, TTY: 34816,
				Flags: 4194560, UTime: 7, STime: 3, Nice: -5, NumThreads: 2, StartTime: 123456, VSize: 10485760, RSS: 512},
		},
		{
			name: "kernel thread",
			in:   "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 24 0 0 18446744073709551615",
			want: Stat{PID: 2, Comm: []byte("kthreadd"), State: "S", Flags: 2129984, NumThreads: 1, StartTime: 24},
		},
		{
			name: "comm with a newline and a non-UTF-8 byte",
			in:   "7 (a\n\xff)) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 0",
			want: Stat{PID: 7, Comm: []byte("a\n\xff)"), State: "Z", PPID: 1, PGRP: 7, Session: 7, NumThreads: 1, StartTime: 5},
		},
		{name: "empty", in: "", wantErr: "no command name"},
		{name: "no pid", in: "(x) S 1", wantErr: "no command name"},
		{name: "bad pid", in: "x1 (x) S 1", wantErr: "pid"},
		{name: "short", in: "1 (x) S 1 1 1", wantErr: "too few fields"},
		{name: "bad ppid", in: "1 (x) S one 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 0", wantErr: "field 4"},
		{name: "bad starttime", in: "1 (x) S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 x 0 0 0", wantErr: "field 22"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStat([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	b, err := os.ReadFile("testdata/proc/4242/status")
	if err != nil {
		t.Fatal(err)
	}
	st, err := ParseStatus(b)
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != "evil) (x y" || st.Tgid != 4242 || st.PID != 4242 || st.PPID != 1 || st.Threads != 2 {
		t.Errorf("identity: %+v", st)
	}
	if !reflect.DeepEqual(st.UID, []uint32{1000, 0, 0, 0}) || !reflect.DeepEqual(st.GID, []uint32{1000, 1000, 1000, 1000}) {
		t.Errorf("uid %v gid %v", st.UID, st.GID)
	}
	if !reflect.DeepEqual(st.Groups, []uint32{4, 24, 1000}) || !reflect.DeepEqual(st.NSPID, []int{4242}) {
		t.Errorf("groups %v nspid %v", st.Groups, st.NSPID)
	}
	if st.VM["VmRSS"] != 14988 || st.VM["VmSize"] != 45084 {
		t.Errorf("vm %v", st.VM)
	}
	if st.Caps == nil || st.Caps.Eff != "000001ffffffffff" || st.Seccomp == nil || *st.Seccomp != 0 {
		t.Errorf("caps %+v seccomp %v", st.Caps, st.Seccomp)
	}

	for _, bad := range []string{"Tgid:\tx\n", "Uid:\t0 -1\n", "VmRSS:\t12 MB\n", "VmRSS:\tx kB\n", "NSpid:\t1 a\n"} {
		if _, err := ParseStatus([]byte(bad)); err == nil {
			t.Errorf("ParseStatus(%q): no error", bad)
		}
	}
	// A kernel thread's empty Groups line and unknown keys are fine.
	st, err = ParseStatus([]byte("Groups:\t \nFuture:\tthing\nTgid:\t2\n"))
	if err != nil || st.Groups != nil || st.Tgid != 2 {
		t.Errorf("kernel thread status: %+v, %v", st, err)
	}
}

func TestSplitNUL(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"\x00", []string{""}},
		{"/sbin/init\x00splash\x00", []string{"/sbin/init", "splash"}},
		{"a\x00\x00b\x00", []string{"a", "", "b"}},
		{"rewritten title without nul", []string{"rewritten title without nul"}},
	}
	for _, tt := range tests {
		var got []string
		for _, e := range SplitNUL([]byte(tt.in)) {
			got = append(got, string(e))
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitNUL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		in, want string
		raw      bool
	}{
		{"plain", "plain", false},
		{"été", "été", false},
		{"\xff\xfeconf", `\xff\xfeconf`, true},
		{"a\xe9b", `a\xe9b`, true},
		{"", "", false},
	}
	for _, tt := range tests {
		got, raw := text([]byte(tt.in))
		if got != tt.want || (raw != nil) != tt.raw || (raw != nil && string(raw) != tt.in) {
			t.Errorf("text(%q) = %q, %q", tt.in, got, raw)
		}
	}
}

func TestParseCgroup(t *testing.T) {
	got, err := ParseCgroup([]byte("9:name=systemd:/\n1:cpu,cpuacct:/user.slice\n0::/a:b\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Cgroup{{9, "name=systemd", "/", nil}, {1, "cpu,cpuacct", "/user.slice", nil}, {0, "", "/a:b", nil}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	for _, bad := range []string{"0/x\n", "x::/\n"} {
		if _, err := ParseCgroup([]byte(bad)); err == nil {
			t.Errorf("ParseCgroup(%q): no error", bad)
		}
	}
}

func TestParseMaps(t *testing.T) {
	in := "00400000-00452000 r-xp 00000000 08:01 1311 /tmp/.x/evil (deleted)\n" +
		"7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n" +
		"7ffd1c0e0000-7ffd1c101000 rw-p 00000000 00:00 0                          [stack]\n" +
		"7f1000000000-7f1000002000 r--s 00001000 00:05 77   /dev/shm/a  b\n" +
		"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n"
	got, err := ParseMaps([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Mapping{
		{0x400000, 0x452000, "r-xp", 0, "08:01", 1311, []byte("/tmp/.x/evil (deleted)")},
		{0x7f0000000000, 0x7f0000001000, "rw-p", 0, "00:00", 0, nil},
		{0x7ffd1c0e0000, 0x7ffd1c101000, "rw-p", 0, "00:00", 0, []byte("[stack]")},
		{0x7f1000000000, 0x7f1000002000, "r--s", 0x1000, "00:05", 77, []byte("/dev/shm/a  b")},
		{0xffffffffff600000, 0xffffffffff601000, "--xp", 0, "00:00", 0, []byte("[vsyscall]")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	for _, bad := range []string{"00400000 r-xp 0 08:01 1\n", "2-1 r-xp 0 08:01 1\n", "1-2 rx 0 08:01 1\n", "1-2 r-xp 0 0801 1\n", "1-2 r-xp 0 08:01\n"} {
		if _, err := ParseMaps([]byte(bad)); err == nil {
			t.Errorf("ParseMaps(%q): no error", bad)
		}
	}
}

func TestParseLink(t *testing.T) {
	tests := []struct {
		in   string
		want Link
	}{
		{"/usr/bin/sleep", Link{Type: "path"}},
		{"/tmp/.x/evil (deleted)", Link{Type: "path", Deleted: true}},
		{"/memfd:payload (deleted)", Link{Type: "memfd", Memfd: true, Deleted: true}},
		{"socket:[12345]", Link{Type: "socket", Inode: 12345}},
		{"pipe:[77]", Link{Type: "pipe", Inode: 77}},
		{"mnt:[4026531841]", Link{Type: "mnt", Inode: 4026531841}},
		{"anon_inode:[eventfd]", Link{Type: "anon_inode"}},
		{"anon_inode:inotify", Link{Type: "anon_inode"}},
		{"socket:[x]", Link{Type: "other"}},
		{"weird", Link{Type: "other"}},
	}
	for _, tt := range tests {
		if got := ParseLink([]byte(tt.in)); got != tt.want {
			t.Errorf("ParseLink(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseBtime(t *testing.T) {
	b, err := os.ReadFile("testdata/proc/stat")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := parseBtime(b); err != nil || n != 1700000000 {
		t.Errorf("parseBtime = %d, %v", n, err)
	}
	if _, err := parseBtime([]byte("cpu 1\n")); err == nil {
		t.Error("no btime line: no error")
	}
	if _, err := parseID([]byte("4294967296")); err == nil {
		t.Error("parseID out of range: no error")
	}
	if n, err := parseID([]byte("4294967295")); err != nil || n != 4294967295 {
		t.Errorf("parseID unset = %d, %v", n, err)
	}
}

func FuzzParseStat(f *testing.F) {
	for _, s := range []string{
		"4242 (evil) (x y) S 1 4242 4242 34816 4242 4194560 100 0 0 0 7 3 0 0 20 0 2 0 123456 10485760 512 18446744073709551615 1 1 0\n",
		"2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 24 0 0 18446744073709551615",
		"1 ()) S", "(", ")(", "1 (",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := ParseStat(b)
		if err != nil {
			return
		}
		// The name is what lies between the first '(' and the last ')'.
		if !bytes.Contains(b, append(append([]byte("("), st.Comm...), ')')) {
			t.Errorf("comm %q not found in %q", st.Comm, b)
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	b, _ := os.ReadFile("testdata/proc/4242/status")
	f.Add(b)
	f.Add([]byte("Uid:\t0\t0\nVmRSS:\t1 kB\nNSpid:\t1 2\n"))
	f.Add([]byte("Seccomp:\t2\nNoNewPrivs:\t1\nCapEff:\t0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := ParseStatus(b)
		if err == nil && st.VM == nil {
			t.Error("nil VM map")
		}
	})
}

func FuzzSplitNUL(f *testing.F) {
	for _, s := range []string{"", "\x00", "a\x00b\x00", "a\x00\x00", "\xff\xfe\x00x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		parts := SplitNUL(b)
		// Joining the elements back gives the input, less one final NUL.
		joined := bytes.Join(parts, []byte{0})
		if !bytes.Equal(joined, bytes.TrimSuffix(b, []byte{0})) {
			t.Errorf("SplitNUL(%q) = %q", b, parts)
		}
		if len(b) == 0 && parts != nil {
			t.Errorf("empty input gave %q", parts)
		}
		got, raw := list(b)
		if len(got) != len(parts) {
			t.Errorf("list gave %d elements, SplitNUL %d", len(got), len(parts))
		}
		if raw != nil && !bytes.Equal(raw, b) {
			t.Errorf("raw %q != input %q", raw, b)
		}
	})
}

func FuzzParseMaps(f *testing.F) {
	b, _ := os.ReadFile("testdata/proc/4242/maps")
	f.Add(b)
	f.Add([]byte("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n"))
	f.Add([]byte("1-2 r--s 1 0:5 7   /dev/shm/a  b (deleted)\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := ParseMaps(b)
		if err != nil {
			return
		}
		for _, m := range ms {
			if m.End < m.Start || len(m.Perms) != 4 {
				t.Errorf("bad mapping %+v", m)
			}
		}
	})
}

func FuzzParseCgroupAndLink(f *testing.F) {
	f.Add([]byte("0::/user.slice\n9:name=systemd:/\n"))
	f.Add([]byte("socket:[12345]"))
	f.Add([]byte("/memfd:x (deleted)"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if cs, err := ParseCgroup(b); err == nil {
			for _, c := range cs {
				if c.PathRaw != nil && !bytes.Contains(b, c.PathRaw) {
					t.Errorf("path_raw %q not in input", c.PathRaw)
				}
			}
		}
		l := ParseLink(b)
		if l.Type == "" {
			t.Errorf("no type for %q", b)
		}
		if l.Deleted != bytes.HasSuffix(b, []byte(" (deleted)")) {
			t.Errorf("deleted %v for %q", l.Deleted, b)
		}
		s, raw := text(b)
		if raw == nil && s != string(b) {
			t.Errorf("text changed valid input %q to %q", b, s)
		}
		if raw != nil && !bytes.Equal(raw, b) {
			t.Errorf("raw %q != input %q", raw, b)
		}
	})
}
