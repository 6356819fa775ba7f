package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/seal"
)

// measured is one run of scelle, measured.
type measured struct {
	code           int
	took           time.Duration
	rss, user, sys int64 // KiB, µs, µs
	stdout, stderr string
	release        string
}

func (m measured) String() string {
	return fmt.Sprintf("%.1fs wall, %.1fs user, %.1fs sys, peak RSS %d KiB (release binary: %v)",
		m.took.Seconds(), float64(m.user)/1e6, float64(m.sys)/1e6, m.rss, m.release != "")
}

// checkRSS fails the test if the peak RSS is over max KiB. A race-detector
// build is no measure of it: only the release binary is held to it.
func (m measured) checkRSS(t *testing.T, max int64) {
	t.Helper()
	switch {
	case m.rss == 0:
		t.Errorf("no peak RSS reported:\n%s", m.stderr)
	case m.release == "" && raceEnabled:
		t.Logf("race-detector build: the %d MiB bound is checked on the release binary (SCELLE_BIN)", max>>10)
	case m.rss > max:
		t.Errorf("peak RSS %d KiB, over %d MiB", m.rss, max>>10)
	}
}

// measure runs scelle with args and measures its peak RSS and CPU time:
// the release binary when make test names it (SCELLE_BIN), whose memory
// is what a responder gets; else this test binary run as scelle. It runs
// under a small "maxrss" process, because a child's ru_maxrss starts from
// the memory of the process it was forked from (this test).
func measure(t *testing.T, args ...string) measured {
	t.Helper()
	m := measured{release: os.Getenv("SCELLE_BIN")}
	cmd := exec.Command(selfAs(t, "maxrss"), append([]string{scelleBinary(t)}, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	m.took = time.Since(start)
	if ee, ok := err.(*exec.ExitError); ok {
		m.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	m.stdout, m.stderr = stdout.String(), stderr.String()
	if i := strings.LastIndex(m.stderr, "maxrss-kib="); i >= 0 {
		fmt.Sscanf(m.stderr[i:], "maxrss-kib=%d user-us=%d sys-us=%d", &m.rss, &m.user, &m.sys)
	}
	return m
}

// scelleBinary is the release binary when make test names it
// (SCELLE_BIN), else this test binary run as scelle.
func scelleBinary(t testing.TB) string {
	if bin := os.Getenv("SCELLE_BIN"); bin != "" {
		return bin
	}
	return selfAs(t, "scelle")
}

// selfAs returns a link named name to this test binary, which TestMain
// runs as that command.
func selfAs(t testing.TB, name string) string {
	t.Helper()
	link := filepath.Join(t.TempDir(), name)
	if err := os.Symlink(os.Args[0], link); err != nil {
		t.Fatal(err)
	}
	return link
}

func maxrssMain() {
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rss, user, sys := usage(cmd.ProcessState)
	fmt.Fprintf(os.Stderr, "\nmaxrss-kib=%d user-us=%d sys-us=%d\n", rss, user, sys)
	os.Exit(cmd.ProcessState.ExitCode())
}

func listenerMain() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	time.Sleep(10 * time.Minute)
}

// bagFiles reads the named payload files of a sealed bag (all of them
// when want is nil) straight from its archive.
func bagFiles(t *testing.T, dir string, want map[string]bool) map[string][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, seal.ArchiveFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ar, err := seal.NewArchiveReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer ar.Close()
	got := map[string][]byte{}
	for {
		e, err := ar.Next()
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		if want == nil || want[e.Path] {
			b, err := io.ReadAll(ar)
			if err != nil {
				t.Fatal(err)
			}
			got[e.Path] = b
		}
	}
}

// TestLiveTriage runs the default triage of this machine, as a responder
// would, against a planted suspect: a process started from a binary that
// was then deleted, holding a listening loopback socket, and a file in
// /dev/shm. It also checks the footprint: no program executed (strace),
// peak memory, and nothing written outside the output folder's parent.
func TestLiveTriage(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("needs Linux and root, as a live triage does")
	}
	if testing.Short() {
		t.Skip("a full triage of this machine")
	}
	strace, _ := exec.LookPath("strace")

	// The suspect: a copy of this test binary named "listener", deleted
	// once started.
	dir := t.TempDir()
	bin := filepath.Join(dir, "listener")
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	binSum := sha256.Sum256(self)
	suspect := exec.Command(bin, "--marker", "scelle-live-test")
	out, _ := suspect.StdoutPipe()
	if err := suspect.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { suspect.Process.Kill(); suspect.Wait() })
	port, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	port = strings.TrimSpace(port)
	if err := os.Remove(bin); err != nil {
		t.Fatal(err)
	}
	shm := filepath.Join("/dev/shm", fmt.Sprintf("scelle-live-%d", os.Getpid()))
	if err := os.WriteFile(shm, []byte("dropped payload\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(shm) })

	outDir := filepath.Join(t.TempDir(), "out")
	args := []string{"collect", "--out", outDir, "--case", "LIVE", "--examiner", "test", "--no-prompt"}
	// This machine has no /proc/kcore: the RAM is recorded as skipped,
	// with why. Where the kernel offers one, the test does not capture
	// this machine's RAM (the QEMU test captures a guest's).
	ramReason := "no physical memory source: /proc/kcore: absent"
	if _, err := os.Stat("/proc/kcore"); err == nil {
		args, ramReason = append(args, "--no-ram"), "--no-ram"
	}
	m := measure(t, args...)
	if m.code != 0 && m.code != exitIncomplete {
		t.Fatalf("collect: exit %d\n%s", m.code, m.stderr)
	}
	t.Logf("triage: %s", m)
	m.checkRSS(t, 64<<10)

	// No program executed: a second run under strace, whose only execve
	// is strace starting scelle.
	if strace == "" {
		t.Log("strace not installed: the no-exec check is skipped (.ci/run installs it)")
	} else {
		link := scelleBinary(t)
		trace := filepath.Join(t.TempDir(), "strace.log")
		targs := []string{"-f", "-qq", "--seccomp-bpf", "-e", "trace=execve,execveat,fork,vfork", "-o", trace, link,
			"collect", "--out", filepath.Join(t.TempDir(), "out2"), "--no-prompt", "--no-report"}
		if ramReason == "--no-ram" {
			targs = append(targs, "--no-ram")
		}
		if out, err := exec.Command(strace, targs...).CombinedOutput(); err != nil {
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitIncomplete {
				t.Fatalf("collect under strace: %v\n%s", err, out)
			}
		}
		log, err := os.ReadFile(trace)
		if err != nil {
			t.Fatal(err)
		}
		var execs []string
		for _, l := range strings.Split(string(log), "\n") {
			if strings.Contains(l, "execve(") || strings.Contains(l, "fork(") || strings.Contains(l, "execveat(") {
				execs = append(execs, l)
			}
		}
		if len(execs) != 1 {
			t.Errorf("collect executed programs or forked:\n%s", strings.Join(execs, "\n"))
		}
	}

	entries, err := os.ReadDir(outDir)
	if err != nil || len(entries) != 1 || strings.HasSuffix(entries[0].Name(), seal.PartialSuffix) {
		t.Fatalf("output folder: %v %v", entries, err)
	}
	bag := filepath.Join(outDir, entries[0].Name())
	if rep, _, code, err := verification(bag); err != nil || code != exitOK {
		if rep != nil {
			t.Logf("%+v", rep.Failed())
		}
		t.Fatalf("verify: code %d, %v", code, err)
	}

	// The RAM: one item for the whole capture, skipped, with the reason.
	var ram []string
	for _, it := range readRecord(t, bag).Items {
		if it.Collector == "memory.ram" && it.Source == "physical memory" {
			ram = append(ram, it.Source+": "+it.Status+": "+it.Reason)
		}
	}
	if len(ram) != 1 || !strings.HasPrefix(ram[0], "physical memory: skipped: "+ramReason) {
		t.Errorf("memory.ram items: %q", ram)
	}
	if !strings.Contains(m.stderr, "physical memory") {
		t.Errorf("collect did not say what it does of the physical memory:\n%s", m.stderr)
	}

	pid := suspect.Process.Pid
	exe := fmt.Sprintf("data/live/proc/exe/%d.bin", pid)
	shmItem := "data/fs" + shm
	files := bagFiles(t, bag, map[string]bool{
		"data/live/proc/processes.jsonl": true, "data/live/net/sockets.jsonl": true, exe: true, shmItem: true,
	})

	// The process, with its command line and the deleted flag.
	var proc map[string]any
	for _, l := range strings.Split(string(files["data/live/proc/processes.jsonl"]), "\n") {
		if strings.Contains(l, fmt.Sprintf(`"pid":%d,`, pid)) {
			json.Unmarshal([]byte(l), &proc)
		}
	}
	if proc == nil {
		t.Fatalf("process %d not in processes.jsonl", pid)
	}
	if d, _ := proc["exe_deleted"].(bool); !d {
		t.Errorf("exe_deleted not set: %v", proc["exe_deleted"])
	}
	if c := fmt.Sprint(proc["cmdline"]); !strings.Contains(c, "scelle-live-test") {
		t.Errorf("cmdline %s", c)
	}
	// The recovered executable is the original.
	if got := sha256.Sum256(files[exe]); got != binSum {
		t.Errorf("recovered executable %s: sha256 %s, want %s", exe, hex.EncodeToString(got[:]), hex.EncodeToString(binSum[:]))
	}
	// The socket, mapped to the process.
	found := false
	for _, l := range strings.Split(string(files["data/live/net/sockets.jsonl"]), "\n") {
		if strings.Contains(l, `"local_port":`+port+`,`) && strings.Contains(l, `"pid":`+strconv.Itoa(pid)+`,`) {
			found = true
		}
	}
	if !found {
		t.Errorf("listening socket on port %s owned by %d not in sockets.jsonl", port, pid)
	}
	// The file in /dev/shm.
	if string(files[shmItem]) != "dropped payload\n" {
		t.Errorf("%s: %q", shmItem, files[shmItem])
	}
}
