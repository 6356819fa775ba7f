package proc

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/collecttest"
)

func run(t *testing.T, c collect.Collector, env collect.Env) (*collecttest.Sink, *collecttest.Outcomes) {
	t.Helper()
	sink, outs := &collecttest.Sink{}, &collecttest.Outcomes{}
	s := collect.NewSession(&env, c, sink, outs.Add)
	if err := c.Collect(context.Background(), s); err != nil {
		t.Fatalf("%s: %v", c.Name(), err)
	}
	return sink, outs
}

func decode[T any](t *testing.T, b []byte) []T {
	t.Helper()
	var out []T
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var v T
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("decode %q: %v", sc.Bytes(), err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func fixtureEnv(t *testing.T) collect.Env {
	p, err := filepath.Abs("testdata/proc")
	if err != nil {
		t.Fatal(err)
	}
	return collect.Env{Live: true, Root: "/", Linux: collect.LinuxPaths{Proc: p, Sys: "/nonexistent"}}
}

func byPID(ps []Process) map[int]Process {
	m := map[int]Process{}
	for _, p := range ps {
		m[p.PID] = p
	}
	return m
}

func outcome(t *testing.T, outs *collecttest.Outcomes, src string) collect.Outcome {
	t.Helper()
	os := outs.BySource(src)
	if len(os) != 1 {
		t.Fatalf("%d outcomes for %s, want 1", len(os), src)
	}
	return os[0]
}

func TestTableFixture(t *testing.T) {
	env := fixtureEnv(t)
	sink, outs := run(t, &Table{opts: Options{}.withDefaults()}, env)
	procs := byPID(decode[Process](t, sink.Files["live/proc/processes.jsonl"]))
	if len(procs) != 5 {
		t.Fatalf("%d processes, want 5: %v", len(procs), procs)
	}

	evil := procs[4242]
	if evil.Comm != "evil) (x y" || evil.PPID != 1 || evil.State != "S" || evil.Threads != 2 || evil.KernelThread {
		t.Errorf("4242 identity: %+v", evil)
	}
	wantArgs := []string{"./evil", "-c", `\xff\xfeconf`, "", "last arg"}
	if !reflect.DeepEqual(evil.Cmdline, wantArgs) {
		t.Errorf("cmdline %q, want %q", evil.Cmdline, wantArgs)
	}
	raw, _ := os.ReadFile("testdata/proc/4242/cmdline")
	if !bytes.Equal(evil.CmdlineRaw, raw) {
		t.Errorf("cmdline_raw %q, want the file's bytes", evil.CmdlineRaw)
	}
	if !reflect.DeepEqual(evil.Environ, []string{"LD_PRELOAD=/tmp/.x/libevil.so", "PATH=/bin"}) || evil.EnvironRaw != nil {
		t.Errorf("environ %q raw %q", evil.Environ, evil.EnvironRaw)
	}
	if evil.Exe != "../../files/evil (deleted)" || !evil.ExeDeleted || evil.ExeMemfd {
		t.Errorf("exe %q deleted %v memfd %v", evil.Exe, evil.ExeDeleted, evil.ExeMemfd)
	}
	if evil.ExeNlink == nil || *evil.ExeNlink != 1 {
		t.Errorf("exe_nlink %v, want 1 (the fixture file exists: only its name says deleted)", evil.ExeNlink)
	}
	if !reflect.DeepEqual(evil.UID, []uint32{1000, 0, 0, 0}) || evil.LoginUID == nil || *evil.LoginUID != 1000 || *evil.SessionID != 3 {
		t.Errorf("uid %v loginuid %v sessionid %v", evil.UID, evil.LoginUID, evil.SessionID)
	}
	wantStart := time.Date(2023, 11, 14, 22, 33, 54, 560000000, time.UTC)
	if evil.StartTime == nil || !evil.StartTime.Equal(wantStart) || evil.StartTicks != 123456 {
		t.Errorf("start %v (%d ticks), want %v", evil.StartTime, evil.StartTicks, wantStart)
	}
	if evil.Namespaces["mnt"] != "mnt:[4026531841]" || len(evil.Namespaces) != 3 {
		t.Errorf("namespaces %v", evil.Namespaces)
	}
	if len(evil.Cgroup) != 1 || evil.Cgroup[0].Path != "/user.slice/user-1000.slice/session-3.scope" {
		t.Errorf("cgroup %+v", evil.Cgroup)
	}
	if evil.FDCount != 5 || evil.VMRSSKB == nil || *evil.VMRSSKB != 14988 || evil.Errors != nil || evil.Exited {
		t.Errorf("fds %d rss %v errors %q exited %v", evil.FDCount, evil.VMRSSKB, evil.Errors, evil.Exited)
	}

	kt := procs[2]
	if !kt.KernelThread || kt.Exe != "" || len(kt.Cmdline) != 0 || kt.Errors != nil {
		t.Errorf("kernel thread: %+v", kt)
	}

	// 4243 lacks most files: they are recorded as not present.
	if o := outcome(t, outs, filepath.Join(env.Linux.Proc, "4243/limits")); o.Status != collect.Skipped || o.Reason != "not present" {
		t.Errorf("4243 limits: %+v", o)
	}
	// 9999 exited: its stat is gone, so every file missing is skipped: "process exited".
	gone := procs[9999]
	if !gone.Exited || gone.StartTime != nil {
		t.Errorf("9999: %+v", gone)
	}
	if o := outcome(t, outs, filepath.Join(env.Linux.Proc, "9999/cmdline")); o.Status != collect.Skipped || !strings.HasPrefix(o.Reason, "process exited: ") {
		t.Errorf("9999 cmdline: %+v", o)
	}

	// The raw files are stored as read.
	for _, name := range rawFiles {
		want, _ := os.ReadFile("testdata/proc/4242/" + name)
		if got, ok := sink.Files["live/proc/4242/"+name]; !ok || !bytes.Equal(got, want) {
			t.Errorf("live/proc/4242/%s = %q, want %q", name, got, want)
		}
		if o := outcome(t, outs, filepath.Join(env.Linux.Proc, "4242", name)); o.Status != collect.Collected || o.Kind != collect.KindKernel {
			t.Errorf("4242 %s outcome %+v", name, o)
		}
	}

	fds := decode[FD](t, sink.Files["live/proc/fds.jsonl"])
	want := []FD{
		{PID: 1, FD: 0, Target: "/dev/null", Type: "path"},
		{PID: 1, FD: 3, Target: "socket:[12345]", Type: "socket", Inode: 12345},
		{PID: 4242, FD: 0, Target: "/dev/pts/3", Type: "path"},
		{PID: 4242, FD: 3, Target: "socket:[99]", Type: "socket", Inode: 99},
		{PID: 4242, FD: 4, Target: "pipe:[77]", Type: "pipe", Inode: 77},
		{PID: 4242, FD: 5, Target: "/tmp/.x/log (deleted)", Type: "path", Deleted: true},
		{PID: 4242, FD: 6, Target: "anon_inode:[eventfd]", Type: "anon_inode"},
	}
	if !reflect.DeepEqual(fds, want) {
		t.Errorf("fds\n got %+v\nwant %+v", fds, want)
	}
}

func TestTableCaps(t *testing.T) {
	env := fixtureEnv(t)
	sink, outs := run(t, &Table{opts: Options{MaxKernelFile: 10, MaxArgs: 8, MaxFDs: 2}.withDefaults()}, env)
	evil := byPID(decode[Process](t, sink.Files["live/proc/processes.jsonl"]))[4242]
	if !evil.CmdlineCut || !reflect.DeepEqual(evil.Cmdline, []string{"./evil", "-"}) {
		t.Errorf("capped cmdline %q cut %v", evil.Cmdline, evil.CmdlineCut)
	}
	if evil.FDCount != 5 || !evil.FDsCut {
		t.Errorf("fd_count %d truncated %v", evil.FDCount, evil.FDsCut)
	}
	o := outcome(t, outs, filepath.Join(env.Linux.Proc, "4242/status"))
	if o.Status != collect.Partial || !strings.Contains(o.Reason, "larger than the 10-byte cap") || o.Size != 10 {
		t.Errorf("capped status outcome %+v", o)
	}
	if got := len(sink.Files["live/proc/4242/status"]); got != 10 {
		t.Errorf("stored %d bytes of status, want 10", got)
	}
}

func TestDeadBox(t *testing.T) {
	env := fixtureEnv(t)
	env.Live = false
	for _, c := range Collectors(Options{MemoryPIDs: []int{1}}) {
		sink, outs := run(t, c, env)
		if len(sink.Files) != 0 || len(outs.All) == 0 {
			t.Errorf("%s: stored %d files, %d outcomes", c.Name(), len(sink.Files), len(outs.All))
		}
		for _, o := range outs.All {
			if o.Status != collect.Skipped || o.Reason != deadBox {
				t.Errorf("%s: %+v", c.Name(), o)
			}
		}
	}
}

func TestCollectorsNames(t *testing.T) {
	var names []string
	for _, c := range Collectors(Options{}) {
		names = append(names, c.Name())
		if c.Class() != collect.ClassProcess {
			t.Errorf("%s class %v", c.Name(), c.Class())
		}
	}
	if !reflect.DeepEqual(names, []string{"proc.table", "proc.executables", "proc.hidden"}) {
		t.Errorf("names %v", names)
	}
	if n := len(Collectors(Options{MemoryPIDs: []int{1}})); n != 4 {
		t.Errorf("with memory pids: %d collectors", n)
	}
}

func TestExecutablesFixture(t *testing.T) {
	env := fixtureEnv(t)
	sink, outs := run(t, &Executables{opts: Options{}.withDefaults()}, env)
	xs := decode[Executable](t, sink.Files["live/proc/executables.jsonl"])
	if len(xs) != 2 {
		t.Fatalf("%d executables, want 2: %+v", len(xs), xs)
	}
	initBytes, _ := os.ReadFile("testdata/files/init")
	evilBytes, _ := os.ReadFile("testdata/files/evil (deleted)")
	init, evil := xs[0], xs[1]
	if init.SHA256 != fmt.Sprintf("%x", sha256.Sum256(initBytes)) || init.Stored != "" || init.Deleted || !reflect.DeepEqual(init.PIDs, []int{1}) {
		t.Errorf("init: %+v", init)
	}
	sum := fmt.Sprintf("%x", sha256.Sum256(evilBytes))
	if evil.SHA256 != sum || !evil.Deleted || evil.Hashed != int64(len(evilBytes)) || evil.Size != int64(len(evilBytes)) {
		t.Errorf("evil: %+v", evil)
	}
	if !reflect.DeepEqual(evil.PIDs, []int{4242, 4243}) || !reflect.DeepEqual(evil.Paths, []string{"../../files/evil (deleted)"}) {
		t.Errorf("evil deduplicated: pids %v paths %q", evil.PIDs, evil.Paths)
	}
	if evil.Stored != "live/proc/exe/4242.bin" || !bytes.Equal(sink.Files[evil.Stored], evilBytes) {
		t.Errorf("stored %q: %q", evil.Stored, sink.Files[evil.Stored])
	}
	if o := outcome(t, outs, filepath.Join(env.Linux.Proc, "4242/exe")); o.SHA256 != sum || o.Status != collect.Collected {
		t.Errorf("stored outcome %+v", o)
	}
	if o := outcome(t, outs, filepath.Join(env.Linux.Proc, "9999/exe")); o.Status != collect.Skipped || !strings.Contains(o.Reason, "process exited") {
		t.Errorf("9999 exe: %+v", o)
	}
	if n := len(outs.BySource(filepath.Join(env.Linux.Proc, "2/exe"))); n != 0 {
		t.Errorf("kernel thread exe: %d outcomes", n)
	}

	// A cap below the size stores a prefix, marked partial, and still
	// hashes the whole file.
	sink, outs = run(t, &Executables{opts: Options{MaxExecutable: 16}.withDefaults()}, env)
	evil = decode[Executable](t, sink.Files["live/proc/executables.jsonl"])[1]
	if evil.SHA256 != sum || !bytes.Equal(sink.Files["live/proc/exe/4242.bin"], evilBytes[:16]) {
		t.Errorf("capped: %+v stored %q", evil, sink.Files["live/proc/exe/4242.bin"])
	}
	if o := outcome(t, outs, filepath.Join(env.Linux.Proc, "4242/exe")); o.Status != collect.Partial {
		t.Errorf("capped outcome %+v", o)
	}
}

func TestTicks(t *testing.T) {
	tests := []struct {
		n    uint64
		hz   int64
		want time.Duration
	}{
		{123456, 100, 1234*time.Second + 560*time.Millisecond},
		{1, 1024, 976562 * time.Nanosecond},
		// Ten years of uptime at 100 Hz: n * time.Second would overflow.
		{100 * 86400 * 3650, 100, 3650 * 24 * time.Hour},
	}
	for _, tt := range tests {
		if got := ticks(tt.n, tt.hz); got != tt.want {
			t.Errorf("ticks(%d, %d) = %v, want %v", tt.n, tt.hz, got, tt.want)
		}
	}
}

func TestTableInterrupted(t *testing.T) {
	env := fixtureEnv(t)
	sink, outs := &collecttest.Sink{}, &collecttest.Outcomes{}
	c := &Table{opts: Options{}.withDefaults()}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.Collect(ctx, collect.NewSession(&env, c, sink, outs.Add))
	if err != context.Canceled {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if _, ok := sink.Files["live/proc/processes.jsonl"]; !ok {
		t.Error("processes.jsonl not stored after the interruption")
	}
	var found bool
	for _, o := range outs.BySource(env.Linux.Proc) {
		found = found || (o.Status == collect.Failed && strings.HasPrefix(o.Reason, "interrupted after 0 of 5 processes"))
	}
	if !found {
		t.Errorf("no interruption outcome: %+v", outs.All)
	}
}
