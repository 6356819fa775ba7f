package bodyfile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/scelle/scelle/internal/bodyfmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/collecttest"
)

const (
	fixAtime = 1000000000 // 2001-09-09
	fixMtime = 1100000000 // 2004-11-09
)

// fixture builds a host tree under a temporary root and returns the root.
func fixture(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the fixture sets owners and set-user-ID bits: run as root")
	}
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	dir := func(p string, mode uint32) {
		must(os.MkdirAll(filepath.Join(root, p), 0o755))
		must(unix.Chmod(filepath.Join(root, p), mode))
	}
	file := func(p, data string, mode uint32) {
		must(os.WriteFile(filepath.Join(root, p), []byte(data), 0o600))
		must(unix.Chmod(filepath.Join(root, p), mode))
	}
	dir("/etc", 0o755)
	file("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"+
		"alice:x:1000:1000::/home/alice:/bin/bash\n"+
		"www-data:x:33:33::/var/www:/usr/sbin/nologin\n", 0o644)
	file("/etc/group", "root:x:0:\nalice:x:1000:\nwww-data:x:33:\n", 0o644)
	dir("/tmp", 0o1777)
	file("/tmp/suid", "#!/bin/sh\n", 0o4755)
	dir("/tmp/ww", 0o777)
	dir("/tmp/sticky", 0o1777)
	must(os.Symlink("loop2", filepath.Join(root, "/tmp/loop1")))
	must(os.Symlink("loop1", filepath.Join(root, "/tmp/loop2")))
	must(unix.Mkfifo(filepath.Join(root, "/tmp/fifo"), 0o644))
	file("/tmp/a|b\nc", "pipe and newline", 0o644)
	file("/tmp/.hidden", "", 0o600)
	dir("/tmp/...", 0o700)
	file("/tmp/orphan", "x", 0o644)
	must(os.Lchown(filepath.Join(root, "/tmp/orphan"), 4242, 4343))
	dir("/home/alice", 0o750)
	file("/home/alice/.bashrc", "", 0o644)
	dir("/var/www", 0o755)
	file("/var/www/.x.php", "<?php", 0o644)
	dir("/proc/1", 0o555)
	file("/proc/1/cmdline", "init", 0o444)
	dir("/out", 0o700)
	file("/out/evidence.tar.zst", "bag", 0o600)
	// Fix the times, deepest first so that a parent's mtime stays.
	var paths []string
	must(filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		paths = append(paths, p)
		return err
	}))
	sort.Sort(sort.Reverse(sort.StringSlice(paths)))
	ts := []unix.Timespec{{Sec: fixAtime}, {Sec: fixMtime}}
	for _, p := range paths {
		must(unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW))
	}
	return root
}

// wantLine is the bodyfile line of host path p, from lstat(2) and statx(2)
// called here.
func wantLine(t *testing.T, root, p, name string) string {
	t.Helper()
	full := filepath.Join(root, p)
	// Read a link's target first: that may update the link's access time.
	target, _ := os.Readlink(full)
	var st unix.Stat_t
	if err := unix.Lstat(full, &st); err != nil {
		t.Fatal(err)
	}
	var sx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, full, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BTIME, &sx); err != nil {
		t.Fatal(err)
	}
	crtime := int64(0)
	if sx.Mask&unix.STATX_BTIME != 0 {
		crtime = sx.Btime.Sec
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		name += " -> " + target
	}
	return fmt.Sprintf("0|%s|%d|%s|%d|%d|%d|%d|%d|%d|%d", name, st.Ino, bodyfmt.Mode(st.Mode), st.Uid, st.Gid,
		st.Size, st.Atim.Sec, st.Mtim.Sec, st.Ctim.Sec, crtime)
}

func run(t *testing.T, w *Walker, root string) (*collecttest.Sink, *collecttest.Outcomes) {
	t.Helper()
	sink, outs := &collecttest.Sink{}, &collecttest.Outcomes{}
	s := collect.NewSession(&collect.Env{Root: root, Live: true}, w, sink, outs.Add)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := w.Collect(ctx, s); err != nil {
		t.Fatalf("Collect: %v", err)
	}
	return sink, outs
}

// joined concatenates the chunks of one output in number order.
func joined(sink *collecttest.Sink, prefix, ext string) (data []byte, chunks int) {
	for i := 0; ; i++ {
		b, ok := sink.Files[fmt.Sprintf("%s.%03d.%s", prefix, i, ext)]
		if !ok {
			return data, i
		}
		data = append(data, b...)
	}
}

func TestWalkBodyfile(t *testing.T) {
	root := fixture(t)
	want := []string{wantLine(t, root, "/", "/")}
	for _, p := range []string{"/etc", "/etc/passwd", "/etc/group", "/tmp", "/tmp/suid", "/tmp/ww", "/tmp/sticky",
		"/tmp/loop1", "/tmp/loop2", "/tmp/fifo", "/tmp/.hidden", "/tmp/...", "/tmp/orphan", "/home",
		"/home/alice", "/home/alice/.bashrc", "/var", "/var/www", "/var/www/.x.php", "/proc", "/out"} {
		want = append(want, wantLine(t, root, p, p))
	}
	want = append(want, wantLine(t, root, "/tmp/a|b\nc", `/tmp/a%7Cb\012c`))
	sort.Strings(want)
	w := &Walker{ID: "bodyfile.fs", Base: "test", Roots: []string{"/"}, Exclude: []string{"/out"}}
	sink, outs := run(t, w, root)
	if w.Class() != collect.ClassTemp {
		t.Errorf("default class = %v", w.Class())
	}
	body, n := joined(sink, "parsed/bodyfile/test", "body")
	if n != 1 {
		t.Errorf("%d body chunks, want 1", n)
	}
	got := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("bodyfile:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Exact values that do not depend on the file system.
	for _, line := range got {
		if strings.HasPrefix(line, "0|/tmp/suid|") {
			f := strings.Split(line, "|")
			if f[3] != "r/rrwsr-xr-x" || f[4] != "0" || f[6] != "10" || f[7] != "1000000000" || f[8] != "1100000000" {
				t.Errorf("suid line %q", line)
			}
		}
	}
	// Excluded and virtual folders are listed, not entered, and recorded.
	for src, reason := range map[string]string{"/out": "excluded: not entered",
		"/proc": "kernel virtual file system folder: not entered"} {
		o := outs.BySource(src)
		if len(o) != 1 || o[0].Status != collect.Skipped || o[0].Reason != reason {
			t.Errorf("outcome of %s = %+v", src, o)
		}
	}
	if o := outs.BySource("/"); len(o) != 1 || o[0].Status != collect.Collected ||
		o[0].Reason != fmt.Sprintf("%d entries listed in the bodyfile; 2 link targets read: readlink(2) may have "+
			"updated those links' access times (the bodyfile shows them from before)", len(want)) {
		t.Errorf("root outcome = %+v", o)
	}
	// The walk changed no access time, even of folders read under relatime.
	for _, p := range []string{"/", "/tmp", "/etc", "/home/alice"} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(root, p), &st); err != nil {
			t.Fatal(err)
		}
		if st.Atim.Sec != fixAtime {
			t.Errorf("%s: atime changed to %d", p, st.Atim.Sec)
		}
	}
}

func listPaths(t *testing.T, sink *collecttest.Sink, name string) map[string][]string {
	t.Helper()
	data, n := joined(sink, "parsed/bodyfile/test."+name, "jsonl")
	if n == 0 {
		t.Fatalf("list %s not stored", name)
	}
	out := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(data))
	for dec.More() {
		var e Entry
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("list %s: %v", name, err)
		}
		out[e.Path] = e.Why
	}
	return out
}

func TestWalkLists(t *testing.T) {
	root := fixture(t)
	sink, _ := run(t, &Walker{ID: "bodyfile.fs", Base: "test", Roots: []string{"/"}, Exclude: []string{"/out"}}, root)
	for name, want := range map[string]map[string][]string{
		"suid":           {"/tmp/suid": {"setuid"}},
		"world-writable": {"/tmp/ww": {"world-writable"}},
		"hidden": {
			"/tmp/.hidden":    {"dot name outside login home folders"},
			"/tmp/...":        {"name of only dots and white space"},
			"/var/www/.x.php": {"dot name outside login home folders"},
		},
		"unowned": {"/tmp/orphan": {"uid 4242 not in /etc/passwd", "gid 4343 not in /etc/group"}},
	} {
		got := listPaths(t, sink, name)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("list %s = %v, want %v", name, got, want)
		}
	}
}

func TestWalkChunks(t *testing.T) {
	root := fixture(t)
	// No links in these roots: reading a link may change its access time
	// between the two walks.
	roots := []string{"/var", "/etc", "/home/alice", "/home"}
	whole, _ := run(t, &Walker{ID: "b", Base: "test", Roots: roots}, root)
	small, _ := run(t, &Walker{ID: "b", Base: "test", Roots: roots, ChunkSize: 200}, root)
	a, n := joined(whole, "parsed/bodyfile/test", "body")
	b, m := joined(small, "parsed/bodyfile/test", "body")
	if n != 1 || m < 4 {
		t.Fatalf("%d and %d chunks", n, m)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("chunks differ from the whole:\n%s\n%s", a, b)
	}
	for i := 0; i < m; i++ {
		c := small.Files[fmt.Sprintf("parsed/bodyfile/test.%03d.body", i)]
		if len(c) > 200 || !bytes.HasSuffix(c, []byte("\n")) {
			t.Errorf("chunk %d: %d bytes, ends %q", i, len(c), c[len(c)-1:])
		}
	}
	// An empty list is stored as an empty chunk 000.
	if c, ok := whole.Files["parsed/bodyfile/test.world-writable.000.jsonl"]; !ok || len(c) != 0 {
		t.Errorf("world-writable list: %q, %v", c, ok)
	}
	if c, ok := whole.Files["parsed/bodyfile/test.unowned.000.jsonl"]; !ok {
		t.Errorf("unowned list missing")
	} else if len(c) != 0 {
		t.Errorf("unowned list = %q, want empty", c)
	}
}

func TestWalkMissingRoot(t *testing.T) {
	root := fixture(t)
	sink, outs := run(t, &Walker{ID: "b", Base: "test", Roots: []string{"/nonexistent", "/tmp/loop1", "/nope/deeper"}}, root)
	for _, src := range []string{"/nonexistent", "/nope/deeper"} {
		if o := outs.BySource(src); len(o) != 1 || o[0].Status != collect.Skipped || o[0].Reason != "not present" {
			t.Errorf("%s: %+v", src, o)
		}
	}
	// A root that is a link is listed, not followed.
	body := string(sink.Files["parsed/bodyfile/test.000.body"])
	if !strings.HasPrefix(body, "0|/tmp/loop1 -> loop2|") || strings.Count(body, "\n") != 1 {
		t.Errorf("body = %q", body)
	}
}

func TestMactime(t *testing.T) {
	mactime, err := exec.LookPath("mactime")
	if err != nil {
		t.Skip("mactime not installed (Debian package sleuthkit); CI installs it")
	}
	root := fixture(t)
	sink, _ := run(t, &Walker{ID: "b", Base: "test", Roots: []string{"/tmp"}}, root)
	body, _ := joined(sink, "parsed/bodyfile/test", "body")
	f := filepath.Join(t.TempDir(), "test.body")
	if err := os.WriteFile(f, body, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(mactime, "-b", f, "-d", "-z", "UTC")
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mactime: %v\n%s", err, out)
	}
	for _, want := range []string{
		// mactime decodes %HH: the name comes back whole.
		",r/rrwsr-xr-x,0,0,", `"/tmp/suid"`, `"/tmp/a|b\012c"`, `"/tmp/loop1 -> loop2"`, `"/tmp/fifo"`,
		`"/tmp/..."`, `"/tmp/orphan"`, ",p/prw-r--r--,0,0,", ",l/lrwxrwxrwx,0,0,",
		// fixAtime and fixMtime.
		"Sun Sep 09 2001 01:46:40,10,.a..,r/rrwsr-xr-x,0,0,",
		"Tue Nov 09 2004 11:33:20,10,m...,r/rrwsr-xr-x,0,0,",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("mactime output lacks %q:\n%s", want, out)
		}
	}
}

// TestWalkDeep: entries nested 20 levels of 255-byte names deep (5 KB,
// beyond PATH_MAX) are listed with their whole path.
func TestWalkDeep(t *testing.T) {
	root := t.TempDir()
	os.Mkdir(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/bash\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\n"), 0o644)
	name := strings.Repeat("x", 255)
	fd, err := unix.Open(root, unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := ""
	for i := range 20 {
		if err := unix.Mkdirat(fd, name, 0o755); err != nil {
			t.Fatalf("level %d: %v", i, err)
		}
		next, err := unix.Openat(fd, name, unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(fd)
		fd, p = next, p+"/"+name
	}
	ffd, err := unix.Openat(fd, "f", unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	unix.Write(ffd, []byte("deep"))
	unix.Close(ffd)
	if err := unix.Symlinkat("f", fd, "l"); err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	sink, outs := run(t, &Walker{ID: "b", Base: "test", Roots: []string{"/"}}, root)
	body, _ := joined(sink, "parsed/bodyfile/test", "body")
	lines := strings.Split(string(body), "\n")
	for _, want := range []string{"0|" + p + "/f|", "0|" + p + "/l -> f|", "0|" + p + "|"} {
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(l, want) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d lines for the entry of %d bytes, want 1", n, len(want))
		}
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "0|"+p+"/f|") && strings.Split(l, "|")[6] != "4" {
			t.Errorf("size of the deep file: %q", strings.Split(l, "|")[2:])
		}
	}
	if o := outs.BySource("/"); len(o) != 1 || o[0].Status != collect.Collected ||
		o[0].Reason != "26 entries listed in the bodyfile; 1 link targets read: readlink(2) may have updated "+
			"those links' access times (the bodyfile shows them from before)" {
		t.Errorf("root outcome = %+v", o)
	}
	for _, o := range outs.All {
		if o.Status != collect.Collected {
			t.Errorf("%.60s: %s %q", o.Source, o.Status, o.Reason)
		}
	}
}
