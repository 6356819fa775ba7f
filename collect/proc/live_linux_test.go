package proc

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/scelle/scelle/collect"
)

func liveEnv() collect.Env {
	env := collect.LinuxEnv("/")
	env.ItemTimeout = 10 * time.Second
	return env
}

// startDeleted copies /bin/sleep into a temporary folder, starts it with
// the environment variable marker, deletes the copy and returns the child
// and the copy's SHA-256.
func startDeleted(t *testing.T, marker string) (*exec.Cmd, string, string) {
	t.Helper()
	src, err := os.Open("/bin/sleep")
	if err != nil {
		t.Skip("no /bin/sleep to copy:", err)
	}
	defer src.Close()
	exe := filepath.Join(t.TempDir(), "sl eep\xff")
	dst, err := os.OpenFile(exe, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(dst, h), src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	var cmd *exec.Cmd
	for try := 0; ; try++ {
		cmd = exec.Command(exe, "300", "1")
		cmd.Env = []string{"SCELLE_MARKER=" + marker}
		err = cmd.Start()
		// Another test's fork may briefly hold the copy open for writing.
		if !errors.Is(err, syscall.ETXTBSY) || try == 20 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	if err := os.Remove(exe); err != nil {
		t.Fatal(err)
	}
	// Wait until the child has exec'd the copy.
	for i := 0; ; i++ {
		l, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", cmd.Process.Pid))
		if strings.HasSuffix(l, " (deleted)") {
			break
		}
		if i == 200 {
			t.Fatalf("child exe link %q", l)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cmd, exe, hex.EncodeToString(h.Sum(nil))
}

func TestLiveDeletedExecutable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to read every process")
	}
	cmd, exe, sum := startDeleted(t, rand.Text())
	pid := cmd.Process.Pid

	sink, outs := run(t, &Table{opts: Options{}.withDefaults()}, liveEnv())
	p, ok := byPID(decode[Process](t, sink.Files["live/proc/processes.jsonl"]))[pid]
	if !ok {
		t.Fatalf("child %d not in processes.jsonl", pid)
	}
	wantExe, _ := text([]byte(exe + " (deleted)"))
	if !p.ExeDeleted || p.Exe != wantExe || p.ExeNlink == nil || *p.ExeNlink != 0 || string(p.ExeRaw) != exe+" (deleted)" {
		t.Errorf("exe %q raw %q deleted %v nlink %v", p.Exe, p.ExeRaw, p.ExeDeleted, p.ExeNlink)
	}
	wantArgs := []string{strings.Replace(exe, "\xff", `\xff`, 1), "300", "1"}
	if fmt.Sprint(p.Cmdline) != fmt.Sprint(wantArgs) {
		t.Errorf("cmdline %q, want %q", p.Cmdline, wantArgs)
	}
	if p.PPID != os.Getpid() || p.UID[0] != 0 || p.StartTime == nil || time.Since(*p.StartTime) > time.Minute || time.Since(*p.StartTime) < -2*time.Second {
		t.Errorf("ppid %d uid %v start %v", p.PPID, p.UID, p.StartTime)
	}
	if len(p.Environ) != 1 || !strings.HasPrefix(p.Environ[0], "SCELLE_MARKER=") || p.Namespaces["mnt"] == "" || p.Errors != nil {
		t.Errorf("environ %d entries, namespaces %v, errors %q", len(p.Environ), p.Namespaces, p.Errors)
	}
	for _, name := range rawFiles {
		o := outcome(t, outs, fmt.Sprintf("/proc/%d/%s", pid, name))
		if o.Status != collect.Collected || o.Path != fmt.Sprintf("data/live/proc/%d/%s", pid, name) {
			t.Errorf("%s: %+v", name, o)
		}
	}
	for _, o := range outs.All {
		if o.Status == collect.Failed && !strings.Contains(o.Reason, "process exited") && !strings.Contains(o.Reason, "permission denied") {
			t.Errorf("unexpected failure %+v", o)
		}
	}

	sink, outs = run(t, &Executables{opts: Options{}.withDefaults()}, liveEnv())
	var found *Executable
	for _, x := range decode[Executable](t, sink.Files["live/proc/executables.jsonl"]) {
		for _, q := range x.PIDs {
			if q == pid {
				found = &x
			}
		}
	}
	if found == nil {
		t.Fatalf("child not in executables.jsonl")
	}
	if found.SHA256 != sum || !found.Deleted || found.Nlink != 0 || found.Stored != fmt.Sprintf("live/proc/exe/%d.bin", pid) {
		t.Errorf("executable %+v, want sha256 %s", found, sum)
	}
	stored := sink.Files[found.Stored]
	if got := fmt.Sprintf("%x", sha256.Sum256(stored)); got != sum {
		t.Errorf("stored bytes hash %s, want %s", got, sum)
	}
	o := outcome(t, outs, fmt.Sprintf("/proc/%d/exe", pid))
	if o.SHA256 != sum || o.Status != collect.Collected || o.Size != int64(len(stored)) {
		t.Errorf("bag outcome %+v, want sha256 %s", o, sum)
	}
	// The test binary itself is hashed too, and not stored.
	self, _ := os.Executable()
	b, _ := os.ReadFile(self)
	want := fmt.Sprintf("%x", sha256.Sum256(b))
	ok = false
	for _, x := range decode[Executable](t, sink.Files["live/proc/executables.jsonl"]) {
		if x.SHA256 == want && x.Stored == "" && !x.Deleted {
			ok = true
		}
	}
	if !ok {
		t.Errorf("test binary %s (sha256 %s) not hashed", self, want)
	}
}

func TestLiveMemory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to read another process's memory")
	}
	marker := "SCELLE_MARKER=" + rand.Text()
	cmd, _, _ := startDeleted(t, strings.TrimPrefix(marker, "SCELLE_MARKER="))
	pid := cmd.Process.Pid
	m := &Memory{opts: Options{MemoryPIDs: []int{pid, 1 << 30}, MaxMemory: 64 << 20}.withDefaults()}
	sink, outs := run(t, m, liveEnv())
	regions := decode[Region](t, sink.Files["live/proc/memory.jsonl"])
	if len(regions) == 0 {
		t.Fatal("no regions")
	}
	var stack bool
	var stored int
	for _, r := range regions {
		if r.Stored == "" {
			if r.Status != "skipped" || r.Reason == "" {
				t.Errorf("region not stored without reason: %+v", r)
			}
			continue
		}
		stored++
		b := sink.Files[r.Stored]
		if fmt.Sprintf("%x", sha256.Sum256(b)) != r.SHA256 {
			t.Errorf("region %s-%s hash mismatch", r.Start, r.End)
		}
		if r.Path == "[stack]" && bytes.Contains(b, []byte(marker)) {
			stack = true
		}
	}
	if !stack || stored == 0 {
		t.Errorf("marker not found in the stack; %d regions stored", stored)
	}
	if _, ok := sink.Files[fmt.Sprintf("live/proc/%d/mem/maps", pid)]; !ok {
		t.Error("maps not stored with the memory")
	}
	if o := outcome(t, outs, fmt.Sprintf("/proc/%d/mem", 1<<30)); o.Status != collect.Failed || !strings.Contains(o.Reason, "process exited") {
		t.Errorf("missing pid: %+v", o)
	}
}

func TestLiveZombie(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to read every process")
	}
	cmd := exec.Command("/bin/true")
	if err := cmd.Start(); err != nil {
		t.Skip("cannot start /bin/true:", err)
	}
	defer cmd.Wait()
	pid := cmd.Process.Pid
	for i := 0; ; i++ {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if st, err := ParseStat(b); err == nil && st.State == "Z" {
			break
		}
		if i == 200 {
			t.Fatal("child did not become a zombie")
		}
		time.Sleep(10 * time.Millisecond)
	}
	sink, outs := run(t, &Table{opts: Options{}.withDefaults()}, liveEnv())
	p := byPID(decode[Process](t, sink.Files["live/proc/processes.jsonl"]))[pid]
	if p.State != "Z" || !p.Exited || p.Exe != "" || p.StartTime == nil {
		t.Errorf("zombie record %+v", p)
	}
	t.Logf("zombie errors: %q", p.Errors)
	for _, e := range p.Errors {
		if !strings.Contains(e, "process exited (zombie, not yet reaped)") {
			t.Errorf("zombie error %q", e)
		}
	}
	for _, o := range outs.All {
		if strings.HasPrefix(o.Source, fmt.Sprintf("/proc/%d/", pid)) && o.Status == collect.Failed && !strings.HasPrefix(o.Reason, "process exited (zombie") {
			t.Errorf("zombie outcome %+v", o)
		}
	}
	if o := outcome(t, outs, fmt.Sprintf("/proc/%d/stat", pid)); o.Status != collect.Collected {
		t.Errorf("zombie stat %+v", o)
	}
}

// A process run from a memfd (fileless execution) is recorded as such and
// its bytes are stored.
func TestLiveMemfdExecutable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to read every process")
	}
	bin, err := os.ReadFile("/bin/sleep")
	if err != nil {
		t.Skip("no /bin/sleep:", err)
	}
	fd, err := unix.MemfdCreate("scelle-test", unix.MFD_CLOEXEC)
	if err != nil {
		t.Skip("memfd_create:", err)
	}
	w := os.NewFile(uintptr(fd), "memfd")
	if _, err := w.Write(bin); err != nil {
		t.Fatal(err)
	}
	// Executing a file open for writing fails (ETXTBSY): keep a
	// read-only descriptor only.
	r, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", fd))
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	defer r.Close()
	cmd := exec.Command("/proc/self/fd/3", "300")
	cmd.ExtraFiles = []*os.File{r}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	pid := cmd.Process.Pid
	for i := 0; ; i++ {
		l, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if strings.HasPrefix(l, "/memfd:scelle-test") {
			break
		}
		if i == 200 {
			t.Fatalf("child exe link %q", l)
		}
		time.Sleep(10 * time.Millisecond)
	}
	sink, _ := run(t, &Executables{opts: Options{}.withDefaults()}, liveEnv())
	sum := fmt.Sprintf("%x", sha256.Sum256(bin))
	for _, x := range decode[Executable](t, sink.Files["live/proc/executables.jsonl"]) {
		if len(x.PIDs) == 1 && x.PIDs[0] == pid {
			if !x.Memfd || x.Nlink != 0 || x.SHA256 != sum || x.Paths[0] != "/memfd:scelle-test (deleted)" {
				t.Errorf("memfd executable %+v", x)
			}
			if got := fmt.Sprintf("%x", sha256.Sum256(sink.Files[x.Stored])); got != sum {
				t.Errorf("stored %q hash %s, want %s", x.Stored, got, sum)
			}
			return
		}
	}
	t.Errorf("pid %d not in executables.jsonl", pid)
}
