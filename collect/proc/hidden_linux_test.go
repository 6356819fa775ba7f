package proc

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// hiddenFixture builds a /proc with pid_max 50000 and the folders of a
// process that is not listed (4243), of a thread of 4242 (4244), of a
// child of 4242 that only its children file names (5555), and of a
// process that only a cgroup.procs file names (6666), with a cgroup2
// hierarchy mounted at <dir>/cg.
func hiddenFixture(t *testing.T) string {
	dir := t.TempDir()
	files := map[string]string{
		"sys/kernel/pid_max":      "50000\n",
		"1/status":                "Name:\tinit\nTgid:\t1\nPid:\t1\n",
		"1/task/1/children":       "4242 ",
		"4242/status":             "Name:\tevil\nTgid:\t4242\nPid:\t4242\n",
		"4242/task/4242/children": "5555 ",
		"4242/task/4244/children": "",
		"4243/status":             "Name:\trootkit\xff\nTgid:\t4243\nPid:\t4243\n",
		"4244/status":             "Name:\tevil\nTgid:\t4242\nPid:\t4244\n",
		"5555/status":             "Name:\tchild\nTgid:\t5555\nPid:\t5555\n",
		"6666/status":             "Name:\tincgroup\nTgid:\t6666\nPid:\t6666\n",
		"self/mountinfo":          "30 25 0:26 / " + filepath.Join(dir, "cg") + " rw,nosuid - cgroup2 cgroup2 rw\n",
		"cg/cgroup.procs":         "1\n",
		"cg/system/cgroup.procs":  "4242\n6666\n0\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestHiddenFixture(t *testing.T) {
	dir := hiddenFixture(t)
	var mu sync.Mutex
	lists, probes := 0, map[int]int{}
	h := &Hidden{
		// The first listing misses 777, which starts during the scan.
		list: func(string) ([]int, error) {
			mu.Lock()
			defer mu.Unlock()
			lists++
			if lists == 1 {
				return []int{1, 4242}, nil
			}
			return []int{1, 777, 4242}, nil
		},
		// kill answers for the listed pids, for 777, for 4243 and its
		// thread 4244, for 31337 (no /proc folder at all), and for 888
		// only once (it exits before the recheck).
		probe: func(pid int) error {
			mu.Lock()
			defer mu.Unlock()
			probes[pid]++
			switch {
			case pid == 1, pid == 4242, pid == 777, pid == 4243, pid == 4244, pid == 31337:
				return nil
			case pid == 888 && probes[pid] == 1:
				return unix.EPERM
			}
			return unix.ESRCH
		},
	}
	env := fixtureEnv(t)
	env.Linux.Proc = dir
	sink, _ := run(t, h, env)
	got := decode[HiddenPID](t, sink.Files["live/proc/hidden.jsonl"])
	if len(got) != 4 {
		t.Fatalf("hidden: %+v", got)
	}
	if g := got[0]; g.PID != 4243 || g.Probe != "ok" || g.Stat != "ok" || g.Tgid != 4243 || g.Name != `rootkit\xff` || string(g.NameRaw) != "rootkit\xff" ||
		len(g.FoundBy) != 1 || g.FoundBy[0] != "probe" {
		t.Errorf("4243: %+v", g)
	}
	// The system calls do not answer for 5555 and 6666 (a rootkit that
	// hooks them), but the views name them and /proc looks them up.
	if g := got[1]; g.PID != 5555 || g.Probe != "ESRCH" || g.Stat != "ok" || g.Name != "child" || len(g.FoundBy) != 1 || g.FoundBy[0] != "children" {
		t.Errorf("5555: %+v", g)
	}
	if g := got[2]; g.PID != 6666 || g.Probe != "ESRCH" || g.Stat != "ok" || g.Name != "incgroup" || len(g.FoundBy) != 1 || g.FoundBy[0] != "cgroup" {
		t.Errorf("6666: %+v", g)
	}
	if g := got[3]; g.PID != 31337 || g.Probe != "ok" || g.Stat != "ENOENT" || g.Status == "" || g.Rechecks != hiddenRounds {
		t.Errorf("31337: %+v", g)
	}
	var check HiddenCheck
	if err := json.Unmarshal(sink.Files["live/proc/hidden-check.json"], &check); err != nil {
		t.Fatal(err)
	}
	if check.PIDMax != 50000 || check.Listed != 2 || check.Threads != 1 || check.Appeared != 1 || check.Vanished != 1 || check.Hidden != 4 ||
		check.Named != 4 || check.CgroupRoot != filepath.Join(dir, "cg") {
		t.Errorf("check: %+v", check)
	}
	// Every pid from 1 to pid_max was probed, the listed ones excepted.
	mu.Lock()
	defer mu.Unlock()
	if len(probes) != 50000-2 || probes[50000] == 0 || probes[1] != 0 {
		t.Errorf("probed %d pids (50000: %d, 1: %d)", len(probes), probes[50000], probes[1])
	}
}

func TestHiddenLive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to probe every process")
	}
	sink, outs := run(t, &Hidden{}, liveEnv())
	var check HiddenCheck
	if err := json.Unmarshal(sink.Files["live/proc/hidden-check.json"], &check); err != nil {
		t.Fatal(err)
	}
	t.Logf("scanned 1..%d in %d ms: %d listed, %d threads excluded, %d appeared, %d vanished",
		check.PIDMax, check.ScanMillis, check.Listed, check.Threads, check.Appeared, check.Vanished)
	if b := sink.Files["live/proc/hidden.jsonl"]; len(b) != 0 {
		t.Errorf("hidden processes on the test host: %s", b)
	}
	// This test's own threads answer kill but are not listed: they must
	// have been recognised as threads.
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) > 1 && check.Threads < 1 {
		t.Errorf("%d own threads, %d threads excluded", len(tasks), check.Threads)
	}
	for _, o := range outs.All {
		if o.Status != "collected" {
			t.Errorf("outcome %+v", o)
		}
	}
}

// BenchmarkScanPIDMaxLimit measures a scan of the largest pid range a
// 64-bit kernel allows, against the real /proc.
func BenchmarkScanPIDMaxLimit(b *testing.B) {
	pids, err := listPIDs("/proc")
	if err != nil {
		b.Fatal(err)
	}
	listed := make([]bool, pidMaxLimit+1)
	for _, p := range pids {
		listed[p] = true
	}
	for b.Loop() {
		c, err := scan(context.Background(), pidMaxLimit, listed, probePID)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(c)), "candidates")
	}
}
