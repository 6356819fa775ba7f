package system

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func i64(v int64) *int64 { return &v }

func TestParseModules(t *testing.T) {
	b, err := os.ReadFile("testdata/host/proc/modules")
	if err != nil {
		t.Fatal(err)
	}
	want := []Module{
		{Name: "nf_tables", Size: 348160, RefCount: i64(2), UsedBy: []string{"nft_compat", "nft_chain_nat"}, State: "Live", Address: "0xffffffffc0a12000"},
		{Name: "nft_compat", Size: 20480, RefCount: i64(0), UsedBy: []string{}, State: "Live", Address: "0x0000000000000000"},
		{Name: "nft_chain_nat", Size: 16384, RefCount: i64(0), UsedBy: []string{}, State: "Unloading", Address: "0xffffffffc0a00000"},
		{Name: "vboxdrv", Size: 696320, RefCount: i64(2), UsedBy: []string{}, State: "Loading", Address: "0xffffffffc0c00000", Taint: "O", Flags: []string{"permanent"}},
		{Name: "ghostmod", Size: 16384, RefCount: i64(0), UsedBy: []string{}, State: "Live", Address: "0xffffffffc0900000", Taint: "OE"},
		{Error: "2 fields, want 6 or 7", Line: "broken line"},
	}
	if got := ParseModules(b); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseModules:\n got %+v\nwant %+v", got, want)
	}
	// No module unloading: the kernel prints "-" for the count.
	got := ParseModules([]byte("m 10 - - Live 0x0\n"))
	if len(got) != 1 || got[0].RefCount != nil || got[0].Error != "" {
		t.Errorf("refcount \"-\": got %+v", got)
	}
	for _, bad := range []string{"m x 0 - Live 0x0", "m 1 y - Live 0x0", "m 1 0 - Live 0x0 OE", "a b c d e f g h"} {
		if got := ParseModules([]byte(bad)); len(got) != 1 || got[0].Error == "" || got[0].Line != bad {
			t.Errorf("ParseModules(%q) = %+v, want one error record", bad, got)
		}
	}
}

func TestParseMountinfo(t *testing.T) {
	b, err := os.ReadFile("testdata/host/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	got := ParseMountinfo(b)
	if len(got) != 10 {
		t.Fatalf("got %d mounts, want 10", len(got))
	}
	want := Mount{
		MountID: 40, ParentID: 1, Major: 8, Minor: 2, Root: "/data",
		MountPoint: "/mnt/my disk\ttab\\back", MountOptions: "rw,noatime",
		Optional: []string{"master:3", "propagate_from:2"}, FSType: "ext4",
		Source: "/dev/sdb 1", SuperOptions: "rw",
	}
	if !reflect.DeepEqual(got[6], want) {
		t.Errorf("escaped mount:\n got %+v\nwant %+v", got[6], want)
	}
	over := got[7]
	if over.MountPoint != "/proc/4242" || over.Source != "" || over.FSType != "tmpfs" ||
		!reflect.DeepEqual(over.Flags, []string{"proc_pid_overmount"}) || len(over.Optional) != 0 {
		t.Errorf("overmount: %+v", over)
	}
	if got[0].MountPoint != "/" || got[0].Flags != nil || !reflect.DeepEqual(got[0].Optional, []string{"shared:1"}) {
		t.Errorf("root mount: %+v", got[0])
	}
	if got[9].Error == "" || got[9].Line != "this is not a mount line" {
		t.Errorf("bad line: %+v", got[9])
	}
	if top := topMount(got, "/proc/sys/fs/binfmt_misc"); top == nil || top.FSType != "binfmt_misc" {
		t.Errorf("topMount binfmt_misc = %+v", top)
	}
	// Bytes that are not UTF-8 are kept exactly in the _raw field.
	m := ParseMountinfo([]byte("1 0 0:1 / /mnt/\xff\\040x rw - ext4 src rw\n"))
	if m[0].MountPoint != "/mnt/\xff x" || string(m[0].MountPointRaw) != "/mnt/\xff x" || m[0].RootRaw != nil {
		t.Errorf("invalid UTF-8: %+v", m[0])
	}
	for _, bad := range []string{"1 0 0:1 / /m rw ext4 src rw", "1 0 0:1 / /m rw - ext4 src", "x 0 0:1 / /m rw - a b c", "1 0 01 / /m rw - a b c"} {
		if m := ParseMountinfo([]byte(bad)); len(m) != 1 || m[0].Error == "" {
			t.Errorf("ParseMountinfo(%q) = %+v, want an error record", bad, m)
		}
	}
}

func TestUnoctal(t *testing.T) {
	for in, want := range map[string]string{
		`a\040b`:   "a b",
		`\134`:     `\`,
		`a\04`:     `a\04`,
		`a\400b`:   `a\400b`, // above 0377: not an escape
		`\011\012`: "\t\n",
		`plain`:    "plain",
		`\`:        `\`,
	} {
		if got := unoctal(in); got != want {
			t.Errorf("unoctal(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseSwaps(t *testing.T) {
	b, err := os.ReadFile("testdata/host/proc/swaps")
	if err != nil {
		t.Fatal(err)
	}
	want := []Swap{
		{Filename: "/dev/sda2", Type: "partition", SizeKiB: 2097148, UsedKiB: 1024, Priority: -2},
		{Filename: "/swap file (deleted)", Type: "file", SizeKiB: 1048572, UsedKiB: 0, Priority: -3},
	}
	if got := ParseSwaps(b); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseSwaps:\n got %+v\nwant %+v", got, want)
	}
	if got := ParseSwaps([]byte("Filename Type Size Used Priority\n/x file 1 2\n/y file a 2 3\n")); len(got) != 2 || got[0].Error == "" || got[1].Error == "" {
		t.Errorf("bad swaps lines: %+v", got)
	}
}

func TestParseKmsg(t *testing.T) {
	b, err := os.ReadFile("testdata/kmsg")
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)
	got := ParseKmsg(b, base)
	want := []KmsgRecord{
		{Seq: 0, Priority: 6, Level: 6, LevelName: "info", Facility: 0, FacilityName: "kern", Flags: "-",
			UptimeUS: 0, Time: base, Message: "Linux version 6.1.0 (fixture)"},
		{Seq: 1, Priority: 4, Level: 4, LevelName: "warning", FacilityName: "kern", Flags: "-", Fields: []string{"caller=T1"},
			UptimeUS: 1500, Time: base.Add(1500 * time.Microsecond), Message: "line with escaped newline\nand backslash \\ end"},
		{Seq: 2, Priority: 3, Level: 3, LevelName: "err", FacilityName: "kern", Flags: "-",
			UptimeUS: 2000000, Time: base.Add(2 * time.Second), Message: "usb 1-1: new device",
			Dict: map[string]string{"SUBSYSTEM": "usb", "DEVICE": "c189:1"}},
		{Seq: 3, Priority: 6, Level: 6, LevelName: "info", FacilityName: "kern", Flags: "c",
			UptimeUS: 2000100, Time: base.Add(2000100 * time.Microsecond), Message: "partial message start"},
		{Seq: 4, Priority: 6, Level: 6, LevelName: "info", FacilityName: "kern", Flags: "+",
			UptimeUS: 2000200, Time: base.Add(2000200 * time.Microsecond), Message: " continued"},
		{Seq: 5, Priority: 14, Level: 6, LevelName: "info", Facility: 1, FacilityName: "user", Flags: "-",
			UptimeUS: 3000000, Time: base.Add(3 * time.Second), Message: "user message \xff\xfe not utf8",
			MessageEscaped: `user message \xff\xfe not utf8`},
		{Error: "no ';' after the prefix", Line: "garbage line without prefix"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	// Without a time base, Time stays empty.
	if r := ParseKmsg([]byte("6,9,5,-;x\n"), time.Time{}); !r[0].Time.IsZero() {
		t.Errorf("zero base: time %v", r[0].Time)
	}
	for _, bad := range []string{" KEY=orphan", "6,1,2;x", "x,1,2,-;m", "6,x,2,-;m", "6,1,x,-;m", "99999999999,1,2,-;m"} {
		if r := ParseKmsg([]byte(bad), base); len(r) != 1 || r[0].Error == "" || r[0].Line != bad {
			t.Errorf("ParseKmsg(%q) = %+v, want one error record", bad, r)
		}
	}
}

func TestParseOSRelease(t *testing.T) {
	b, err := os.ReadFile("testdata/host/root/usr/lib/os-release")
	if err != nil {
		t.Fatal(err)
	}
	vars, problems := ParseOSRelease(b)
	want := map[string]string{
		"PRETTY_NAME": `Fixture Linux 1.0 "Quoted"`,
		"NAME":        "Fixture Linux",
		"ID":          "fixture",
		"VERSION_ID":  "1.0",
	}
	if !reflect.DeepEqual(vars, want) {
		t.Errorf("vars = %q, want %q", vars, want)
	}
	if len(problems) != 1 || !strings.HasPrefix(problems[0], "line 6:") {
		t.Errorf("problems = %q, want one for line 6", problems)
	}
	for in, want := range map[string]string{
		`A=plain`:                 "plain",
		`A="a\$b\\c\` + "`" + `"`: "a$b\\c`",
		`A='it''s'`:               "its",
		`A=x\ y`:                  "x y",
		`A="q" # comment`:         "q",
		`A="a\nb"`:                `a\nb`,
		`A=`:                      "",
	} {
		vars, problems := ParseOSRelease([]byte(in))
		if len(problems) != 0 || vars["A"] != want {
			t.Errorf("ParseOSRelease(%q) = %q %q, want %q", in, vars["A"], problems, want)
		}
	}
	for _, bad := range []string{`A="open`, `A='open`, `A=two words`, `1A=x`, `A-B=x`, `=x`} {
		if vars, problems := ParseOSRelease([]byte(bad)); len(problems) != 1 || len(vars) != 0 {
			t.Errorf("ParseOSRelease(%q) = %q %q, want one problem", bad, vars, problems)
		}
	}
}

func TestDecodeTaint(t *testing.T) {
	for _, tc := range []struct {
		in      string
		letters string
		bits    []int
		err     bool
	}{
		{"0\n", "", nil, false},
		{"12289\n", "POE", []int{0, 12, 13}, false},
		{"512", "W", []int{9}, false},
		{"1048576", "?", []int{20}, false},
		{"-1", "", nil, true},
		{"", "", nil, true},
	} {
		got := DecodeTaint([]byte(tc.in))
		var bits []int
		for _, f := range got.Flags {
			bits = append(bits, f.Bit)
		}
		if got.Letters != tc.letters || !reflect.DeepEqual(bits, tc.bits) || (got.Error != "") != tc.err {
			t.Errorf("DecodeTaint(%q) = %+v, want letters %q bits %v error %v", tc.in, got, tc.letters, tc.bits, tc.err)
		}
	}
	if got := DecodeTaint([]byte("8192")); got.Flags[0].Meaning != "unsigned module was loaded" {
		t.Errorf("E meaning: %+v", got.Flags[0])
	}
}

func TestDecodeNTP(t *testing.T) {
	n := decodeNTP(ntpRaw{state: 5, status: 0x0041, offset: 250, freq: -65536 * 3, maxerror: 16000000, tai: 37})
	if n.Synchronised || n.State != "TIME_ERROR" || !reflect.DeepEqual(n.Status, []string{"STA_PLL", "STA_UNSYNC"}) ||
		n.OffsetNS != 250000 || n.FreqPPM != -3 || n.MaxErrorUS != 16000000 || n.TAI != 37 {
		t.Errorf("unsynchronised: %+v", n)
	}
	n = decodeNTP(ntpRaw{state: 0, status: 0x2001, offset: 250})
	if !n.Synchronised || n.State != "TIME_OK" || n.OffsetNS != 250 {
		t.Errorf("synchronised, nanosecond offset: %+v", n)
	}
	if n := decodeNTP(ntpRaw{state: 9, status: 0x10000}); n.State != "9" || !reflect.DeepEqual(n.Status, []string{"0x10000"}) {
		t.Errorf("unknown state and bit: %+v", n)
	}
}

func TestTZifFooter(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"TZif2\x00\x00binary\nCET-1CEST,M3.5.0,M10.5.0/3\n", "CET-1CEST,M3.5.0,M10.5.0/3", true},
		{"TZif2...\n\n", "", true}, // an empty rule is valid
		{"TZif\x00version 1 has no footer\nUTC0\n", "", false},
		{"TZif2 no final newline\nUTC0", "", false},
		{"not tzif\nUTC0\n", "", false},
		{"TZif3\nbad\x01rule\n", "", false},
	} {
		got, ok := TZifFooter([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("TZifFooter(%q) = %q %v, want %q %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseBootTimeUptime(t *testing.T) {
	b, err := os.ReadFile("testdata/host/proc/stat")
	if err != nil {
		t.Fatal(err)
	}
	if bt, err := ParseBootTime(b); err != nil || !bt.Equal(time.Unix(1700000000, 0)) || bt.Location() != time.UTC {
		t.Errorf("ParseBootTime = %v %v", bt, err)
	}
	for _, bad := range []string{"cpu 1\n", "btime x\n", ""} {
		if _, err := ParseBootTime([]byte(bad)); err == nil {
			t.Errorf("ParseBootTime(%q): no error", bad)
		}
	}
	if up, err := ParseUptime([]byte("12345.67 23456.78\n")); err != nil || up != 12345.67 {
		t.Errorf("ParseUptime = %v %v", up, err)
	}
	for _, bad := range []string{"", "x 1"} {
		if _, err := ParseUptime([]byte(bad)); err == nil {
			t.Errorf("ParseUptime(%q): no error", bad)
		}
	}
}

func TestParseBinfmt(t *testing.T) {
	b, err := os.ReadFile("testdata/host/proc/sys/fs/binfmt_misc/qemu-aarch64")
	if err != nil {
		t.Fatal(err)
	}
	want := BinfmtEntry{Name: "qemu-aarch64", Enabled: true, Interpreter: "/usr/bin/qemu-aarch64-static", Flags: "OCF",
		Offset: i64(0), Magic: "7f454c460201010000000000000000000200b700", Mask: "ffffffffffffff00fffffffffffffffffeffffff"}
	if got := ParseBinfmt("qemu-aarch64", b); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseBinfmt:\n got %+v\nwant %+v", got, want)
	}
	got := ParseBinfmt("evil", []byte("disabled\ninterpreter /dev/shm/a b\nflags: \nextension .jpg\nstrange\noffset x\n"))
	want = BinfmtEntry{Name: "evil", Interpreter: "/dev/shm/a b", Extension: ".jpg", Other: []string{"strange", "offset x"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseBinfmt:\n got %+v\nwant %+v", got, want)
	}
}

func TestBadLineJSON(t *testing.T) {
	for _, v := range []any{
		ParseMountinfo([]byte("x y"))[0],
		ParseModules([]byte("x y"))[0],
		ParseSwaps([]byte("x y"))[0],
		ParseKmsg([]byte("x y"), time.Time{})[0],
	} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), `{"error":"`) || !strings.HasSuffix(string(b), `","line":"x y"}`) {
			t.Errorf("%T: %s, want only error and line", v, b)
		}
	}
	// A good record is written whole, zero values included.
	b, _ := marshalLines(ParseKmsg([]byte("0,0,0,-;<&>"), time.Time{}))
	if want := `{"seq":0,"priority":0,"level":0,"level_name":"emerg","facility":0,"facility_name":"kern","flags":"-","uptime_us":0,"message":"<&>"}` + "\n"; string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
}
