//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/seal"
)

// End-to-end tests of scelle collect when things go wrong: killed,
// interrupted, out of space, output gone read-only or unmounted, hostile
// inputs. Each runs the scelle binary (this test binary, re-executed) and
// bounds it in time.

// TestKilledMidRun kills scelle with SIGKILL at seeded random points from
// a few milliseconds to past the end of a run. Whatever is left verifies
// as NOT SEALED (5) or, if the run had sealed, VERIFIED (0); every item it
// proves holds its source's exact bytes; nothing is claimed unproven.
func TestKilledMidRun(t *testing.T) {
	root := hostileRoot(t)
	sums := withHostname(fixtureTree(t, root, "data", 1, 300, 24<<10, 4, 1<<20+12345))
	args := func(out string) []string {
		return []string{"collect", "--root", root, "--path", "/**", "--no-prompt", "--out", out}
	}
	// One whole run gives the time scale.
	out := t.TempDir()
	r := run(t, 60*time.Second, args(out)...)
	if r.code != 0 {
		t.Fatalf("whole run: exit %d\n%s", r.code, r.stderr)
	}
	full := r.took
	rep, code := verifyJSON(t, bagDir(t, out))
	if code != 0 || checkProven(t, rep, sums) != len(sums) {
		t.Fatalf("whole run: verify exit %d, %d proven of %d", code, rep.Proven, len(sums))
	}
	t.Logf("whole run: %d files, %v", len(sums), full.Round(time.Millisecond))

	rng := rand.New(rand.NewPCG(2026, 11))
	const runs = 15
	var outcomes []string
	for i := range runs {
		// Spread over [2ms, 1.1 x the whole run], jittered.
		span := float64(full) * 1.1
		delay := 2*time.Millisecond + time.Duration(span*(float64(i)+rng.Float64())/runs)
		out := t.TempDir()
		cmd := scelleCmd(t, args(out)...)
		wait, _ := start(t, cmd)
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		r := wait(30 * time.Second)
		dir := bagDir(t, out)
		if dir == "" {
			outcomes = append(outcomes, fmt.Sprintf("%v: no folder yet", delay.Round(time.Millisecond)))
			continue
		}
		rep, code := verifyJSON(t, dir)
		sealed := !strings.HasSuffix(dir, seal.PartialSuffix) || exists(filepath.Join(dir, seal.RootFile))
		switch code {
		case 5:
			for _, f := range sealedFiles[:1] {
				if exists(filepath.Join(dir, f)) && rep.Sealed {
					t.Errorf("%v: %s present but NOT SEALED", delay, f)
				}
			}
		case 0:
			if r.code != 0 && r.code != -int(syscall.SIGKILL) {
				t.Errorf("%v: exit %d", delay, r.code)
			}
		default:
			t.Errorf("%v (kill at %v): verify exit %d, want 5 or 0 (sealed files present: %v)\n%+v", dir, delay, code, sealed, rep.Checks)
		}
		n := checkProven(t, rep, sums)
		outcomes = append(outcomes, fmt.Sprintf("%v: verify %d, %d proven, %d unclaimed", delay.Round(time.Millisecond), code, n, rep.Unclaimed))
	}
	t.Logf("kill -9 at:\n  %s", strings.Join(outcomes, "\n  "))
}

// waitEvent reads --json progress events on stderr until match returns
// true, or fails after limit.
func waitEvent(t *testing.T, stderr *lockedBuffer, limit time.Duration, match func(ev map[string]any) bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(stderr.String()))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev map[string]any
			if json.Unmarshal(sc.Bytes(), &ev) == nil && match(ev) {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("event not seen within %v:\n%s", limit, stderr.String())
}

// TestInterrupted: SIGINT or SIGTERM mid-run seals what was collected,
// exits 3, records the interruption, the collector cut short and the
// collectors not run; the bag verifies. No item is stored after the
// signal (an item in flight may be stored partial, zero-padded).
func TestInterrupted(t *testing.T) {
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
		args []string
		// signal when this event is seen
		when func(ev map[string]any) bool
	}{
		{"SIGTERM during --path", syscall.SIGTERM, []string{"--path", "/**"},
			nthItem("files.paths", 40)},
		{"SIGINT during a profile", syscall.SIGINT, []string{"--profile", "triage"},
			nthItem("files.temp", 40)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := hostileRoot(t)
			sums := fixtureTree(t, root, "tmp", 3, 400, 64<<10, 3, 3<<20)
			out := t.TempDir()
			args := append([]string{"collect", "--root", root, "--no-prompt", "--json", "--out", out}, tc.args...)
			cmd := scelleCmd(t, args...)
			wait, stderr := start(t, cmd)
			waitEvent(t, stderr, 60*time.Second, tc.when)
			cmd.Process.Signal(tc.sig)
			r := wait(60 * time.Second)
			noPanic(t, r.stderr)
			if r.code != exitIncomplete {
				t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
			}
			dir := bagDir(t, out)
			if strings.HasSuffix(dir, seal.PartialSuffix) {
				t.Fatalf("not sealed: %s", dir)
			}
			rec := readRecord(t, dir)
			if !strings.Contains(rec.Interrupted, "context canceled at ") {
				t.Errorf("record interrupted = %q", rec.Interrupted)
			}
			var cut, notRun, stored, padded int
			for _, it := range rec.Items {
				switch {
				case it.Kind == "collector" && it.Status == "failed" && strings.HasPrefix(it.Reason, "interrupted"):
					cut++
				case it.Kind == "collector" && it.Status == "skipped" && it.Reason == "interrupted before this collector ran":
					notRun++
				case it.Path != "" && strings.Contains(it.Reason, "context canceled"):
					padded++
				case it.Path != "" && strings.HasPrefix(it.Source, "/tmp/"):
					stored++
					if it.SHA256 != sums[it.Source] {
						t.Errorf("%s stored with SHA-256 %s, source's %s (%s %q)", it.Source, it.SHA256, sums[it.Source], it.Status, it.Reason)
					}
				}
			}
			if cut != 1 || padded > 1 || stored+padded >= len(sums) {
				t.Errorf("collectors cut short %d (want 1), items stored %d of %d, in flight stored zero-padded %d (at most 1)", cut, stored, len(sums), padded)
			}
			if tc.sig == syscall.SIGINT && notRun == 0 {
				t.Error("no collector recorded as not run")
			}
			rep, code := verifyJSON(t, dir)
			if code != 0 {
				t.Fatalf("verify exit %d: %+v", code, rep.Checks)
			}
			t.Logf("%s: %d items stored whole, %d in flight, %d collectors not run; %v", tc.name, stored, padded, notRun, r.took.Round(time.Millisecond))
		})
	}
}

func nthItem(collector string, n int) func(map[string]any) bool {
	return func(ev map[string]any) bool {
		if ev["event"] != "item" || ev["collector"] != collector {
			return false
		}
		n--
		return n <= 0
	}
}

// mountTmpfs mounts a tmpfs of size on a new folder, or skips the test.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("mount -t tmpfs not permitted here: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

// TestDiskFull: an output medium of 2 MiB and 9 MiB to collect. The run
// stops with exit 1 naming the cause, the folder stays .partial with no
// file that claims a seal, and verify proves what was completed.
func TestDiskFull(t *testing.T) {
	out := mountTmpfs(t, "2m")
	root := hostileRoot(t)
	sums := withHostname(fixtureTree(t, root, "data", 4, 200, 32<<10, 3, 2<<20))
	r := run(t, 60*time.Second, "collect", "--root", root, "--path", "/**", "--no-prompt", "--out", out)
	noPanic(t, r.stderr)
	if r.code != exitError || !strings.Contains(r.stderr, "no space left on device") {
		t.Fatalf("exit %d, want 1 with \"no space left on device\":\n%s", r.code, r.stderr)
	}
	dir := bagDir(t, out)
	if !strings.HasSuffix(dir, seal.PartialSuffix) {
		t.Fatalf("folder %s is not .partial", dir)
	}
	for _, f := range sealedFiles {
		if exists(filepath.Join(dir, f)) {
			t.Errorf("%s present in a bag never sealed", f)
		}
	}
	rep, code := verifyJSON(t, dir)
	n := checkProven(t, rep, sums)
	if code != exitUnsealed || n == 0 {
		t.Fatalf("verify exit %d with %d proven, want 5 and some proven: %+v", code, n, rep.Checks)
	}
	t.Logf("disk full after %d of %d items proven; stderr tail: %s", n, len(sums), lastLines(r.stderr, 3))
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], " | ")
}

// bagSize is the size of the bag's seven files and its custody log.
func bagSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	for _, f := range append(sealedFiles, seal.ArchiveFile, seal.JournalFile, "custody.jsonl") {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		n += fi.Size()
	}
	return n
}

// TestMaxOutput: --max-output 1MiB with three 400 KiB files and many
// small ones: the bag is sealed, the large items that do not fit are
// skipped with the budget reason, and the folder stays under the budget.
func TestMaxOutput(t *testing.T) {
	root := hostileRoot(t)
	sums := fixtureTree(t, root, "data", 5, 120, 4<<10, 3, 400<<10)
	out := t.TempDir()
	r := run(t, 60*time.Second, "collect", "--root", root, "--path", "/**", "--no-prompt", "--max-output", "1MiB", "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	dir := bagDir(t, out)
	rec := readRecord(t, dir)
	var skipped, stored int
	for _, it := range rec.Items {
		if !strings.HasPrefix(it.Source, "/data/") {
			continue
		}
		switch {
		case it.Status == "skipped" && strings.HasPrefix(it.Reason, "output budget: "):
			skipped++
		case it.Status == "collected" && it.SHA256 == sums[it.Source]:
			stored++
		default:
			t.Errorf("%s: %s %q", it.Source, it.Status, it.Reason)
		}
	}
	size := bagSize(t, dir)
	if skipped == 0 || stored == 0 || size > 1<<20 {
		t.Errorf("%d skipped for the budget, %d stored; folder %d bytes (budget %d)", skipped, stored, size, 1<<20)
	}
	if rep, code := verifyJSON(t, dir); code != 0 {
		t.Errorf("verify exit %d: %+v", code, rep.Checks)
	}
	t.Logf("--max-output 1MiB: %d stored, %d skipped for the budget, folder %d bytes", stored, skipped, size)
}

// loopExt4 makes a 48 MiB ext4 file system on a loop device mounted with
// errors=remount-ro, or skips the test.
func loopExt4(t *testing.T) (dir, dev string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a loop mount needs root")
	}
	if _, err := exec.LookPath("mkfs.ext4"); err != nil {
		t.Skip("mkfs.ext4 not installed")
	}
	img := filepath.Join(t.TempDir(), "img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Truncate(img, 48<<20)
	if b, err := exec.Command("mkfs.ext4", "-q", "-F", img).CombinedOutput(); err != nil {
		t.Skipf("mkfs.ext4: %v %s", err, b)
	}
	dir = t.TempDir()
	if b, err := exec.Command("mount", "-o", "loop,errors=remount-ro", img, dir).CombinedOutput(); err != nil {
		t.Skipf("loop mount not permitted here: %v %s", err, b)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	b, err := exec.Command("findmnt", "-no", "SOURCE", dir).Output()
	if err != nil {
		t.Fatal(err)
	}
	return dir, filepath.Base(strings.TrimSpace(string(b)))
}

// TestOutputGoesAway: the output turns read-only (ext4 remounts itself
// read-only on an error, as after a failing stick) or is unmounted
// (umount -l) while scelle writes. scelle reports the failure clearly and
// exits 1 within seconds, without a panic.
//
// "mount -o remount,ro" itself cannot be used: the kernel refuses it
// (EBUSY) while a file is open for writing, which scelle's archive is.
func TestOutputGoesAway(t *testing.T) {
	for _, tc := range []struct {
		name string
		out  func(t *testing.T) (dir string, cut func() error)
		want string
	}{
		{"read-only", func(t *testing.T) (string, func() error) {
			dir, dev := loopExt4(t)
			return dir, func() error {
				return os.WriteFile("/sys/fs/ext4/"+dev+"/trigger_fs_error", []byte("scelle test"), 0)
			}
		}, "read-only file system"},
		{"unmounted", func(t *testing.T) (string, func() error) {
			dir := mountTmpfs(t, "64m")
			return dir, func() error { return unix.Unmount(dir, unix.MNT_DETACH) }
		}, "is gone (medium unmounted or removed?)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, cut := tc.out(t)
			root := hostileRoot(t)
			// Many files so that the run lasts: the cut comes while writing.
			fixtureTree(t, root, "data", 6, 1500, 16<<10, 4, 3<<20)
			cmd := scelleCmd(t, "collect", "--root", root, "--path", "/**", "--no-prompt", "--json", "--out", out)
			wait, stderr := start(t, cmd)
			waitEvent(t, stderr, 60*time.Second, nthItem("files.paths", 100))
			if err := cut(); err != nil {
				cmd.Process.Kill()
				wait(10 * time.Second)
				t.Fatalf("cutting the output: %v", err)
			}
			cutAt := time.Now()
			r := wait(30 * time.Second)
			ended := time.Since(cutAt)
			noPanic(t, r.stderr)
			if r.code != exitError || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, want 1 naming %q:\n%s", r.code, tc.want, lastLines(r.stderr, 5))
			}
			if ended > 10*time.Second {
				t.Errorf("ended %v after the output went away", ended)
			}
			t.Logf("ended %v after the cut: %s", ended.Round(time.Millisecond), lastLines(r.stderr, 2))
		})
	}
}

// TestUnreadableTree runs scelle as user nobody over a tree with folders
// and files it may not read: each is recorded as failed (permission
// denied), the rest is collected, the run seals and exits 3.
func TestUnreadableTree(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run scelle as nobody")
	}
	base := t.TempDir()
	os.Chmod(base, 0o755)
	root := filepath.Join(base, "root")
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/hostname"), []byte("box\n"), 0o644)
	sums := fixtureTree(t, root, "data", 7, 20, 4<<10, 0, 0)
	for _, d := range []string{"data/closed", "data/noexec", "data/open"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
		os.WriteFile(filepath.Join(root, d, "f"), []byte(d), 0o644)
	}
	os.WriteFile(filepath.Join(root, "data/secret"), []byte("s"), 0o600)
	os.Chmod(filepath.Join(root, "data/closed"), 0o700)
	os.Chmod(filepath.Join(root, "data/noexec"), 0o644)
	out := filepath.Join(base, "out")
	os.Mkdir(out, 0o777)
	os.Chmod(out, 0o777)
	// A copy of the test binary that nobody can reach and run.
	for d := base; d != "/"; d = filepath.Dir(d) {
		if strings.HasPrefix(d, os.TempDir()+"/") {
			os.Chmod(d, 0o755)
		}
	}
	if !reachable(base) {
		t.Skipf("%s is not reachable by nobody", base)
	}
	bin := filepath.Join(base, "scelle")
	if err := copyFile(os.Args[0], bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "collect", "--root", root, "--path", "/data", "--no-prompt", "--out", out)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Dir = base
	wait, _ := start(t, cmd)
	r := wait(60 * time.Second)
	noPanic(t, r.stderr)
	if r.code != exitIncomplete {
		t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
	}
	dir := bagDir(t, out)
	rec := readRecord(t, dir)
	status := map[string]string{}
	for _, it := range rec.Items {
		status[it.Source] = it.Status + " " + it.Reason
		if sum, ok := sums[it.Source]; ok && (it.Status != "collected" || it.SHA256 != sum) {
			t.Errorf("%s: %s %q", it.Source, it.Status, it.Reason)
		}
	}
	// A folder it may not list fails as a whole; a folder it may list but
	// not search fails file by file.
	for _, p := range []string{"/data/closed", "/data/noexec/f", "/data/secret"} {
		if !strings.HasPrefix(status[p], "failed ") || !strings.Contains(status[p], "permission denied") {
			t.Errorf("%s: %q, want failed: permission denied", p, status[p])
		}
	}
	if !strings.HasPrefix(status["/data/open/f"], "collected") {
		t.Errorf("/data/open/f: %q", status["/data/open/f"])
	}
	if _, code := verifyJSON(t, dir); code != 0 {
		t.Errorf("verify exit %d", code)
	}
}

// TestHostileNamesEndToEnd: names that are not UTF-8, hold control
// characters, are 255 bytes long, or sit 30 folders of 255 bytes deep
// (beyond PATH_MAX) are each recorded; the bag verifies; and the test
// reports what tar makes of the encoded names.
func TestHostileNamesEndToEnd(t *testing.T) {
	root := hostileRoot(t)
	odd := []string{"\xff\xfe.bin", "a\nb", "100%^\\x", strings.Repeat("\xe9", 255), strings.Repeat("n", 255)}
	nd := filepath.Join(root, "n")
	os.Mkdir(nd, 0o755)
	for _, n := range odd {
		if err := os.WriteFile(filepath.Join(nd, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	deep := makeChain(t, nd, strings.Repeat("x", 255), 30)
	out := t.TempDir()
	r := run(t, 60*time.Second, "collect", "--root", root, "--path", "/n", "--no-prompt", "--out", out)
	noPanic(t, r.stderr)
	if r.code != 0 && r.code != exitIncomplete {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	dir := bagDir(t, out)
	rec := readRecord(t, dir)
	by := map[string]string{}
	var failedDirs []string
	longest := 0
	for _, it := range rec.Items {
		by[it.Source] = it.Status
		if it.Kind == "dir" && it.Status == "failed" {
			failedDirs = append(failedDirs, it.Source)
		}
		for _, c := range strings.Split(it.Path, "/") {
			longest = max(longest, len(c))
		}
	}
	for _, n := range odd {
		// Sources that are not UTF-8 are recorded with U+FFFD (and
		// source_raw); match them the same way.
		src := perByteFFFD("/n/" + n)
		if by[src] != "collected" {
			t.Errorf("%q: %q", n, by[src])
		}
	}
	collected := 0
	for _, p := range deep {
		switch {
		case by["/n"+p] == "collected":
			collected++
		case by["/n"+p] != "":
			t.Errorf("%d bytes deep: %s", len(p), by["/n"+p])
		default:
			under := false
			for _, d := range failedDirs {
				under = under || strings.HasPrefix("/n"+p, d+"/")
			}
			if !under {
				t.Errorf("%d bytes deep: not recorded, no folder above it failed", len(p))
			}
		}
	}
	if _, code := verifyJSON(t, dir); code != 0 {
		t.Errorf("verify exit %d", code)
	}
	t.Logf("deep chain: %d of %d levels collected, %d folders failed (beyond PATH_MAX); longest encoded component %d bytes", collected, len(deep), len(failedDirs), longest)
	if _, err := exec.LookPath("zstd"); err == nil {
		x := t.TempDir()
		b, err := exec.Command("tar", "--zstd", "-xf", filepath.Join(dir, seal.ArchiveFile), "-C", x).CombinedOutput()
		t.Logf("tar --zstd -xf: err %v; %s", err, lastLines(string(b), 3))
		if longest > 255 && err == nil {
			t.Error("tar extracted a component longer than 255 bytes without complaint?")
		}
	}
}

// perByteFFFD replaces each byte that is not valid UTF-8 with U+FFFD, as
// the record's source does.
func perByteFFFD(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r == utf8.RuneError && len(s[i:]) > 0 {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				b.WriteRune(utf8.RuneError)
				continue
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// makeChain creates depth folders named name below dir with *at calls
// and a file "f" in each; it returns the file paths relative to dir.
func makeChain(t *testing.T, dir, name string, depth int) []string {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	rel := ""
	for range depth {
		if err := unix.Mkdirat(fd, name, 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(fd, name, unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(fd)
		fd = next
		rel += "/" + name
		ffd, err := unix.Openat(fd, "f", unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(ffd)
		files = append(files, rel+"/f")
	}
	unix.Close(fd)
	return files
}

// TestHugeFolderEndToEnd collects a folder of many empty files, reads the
// bag back and verifies it, and holds the release binary's peak RSS under
// 64 MiB: neither the record's items, nor the manifest, nor verification
// keep anything per item in memory. 50,000 files by default;
// SCELLE_HUGE_FILES=N sets another number (1000000 for the brief's
// million).
func TestHugeFolderEndToEnd(t *testing.T) {
	n := 50000
	if v := os.Getenv("SCELLE_HUGE_FILES"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil || n <= 0 {
			t.Fatalf("SCELLE_HUGE_FILES=%q: want a positive number", v)
		}
	}
	root := mountTmpfs(t, "4g")
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/hostname"), []byte("box\n"), 0o644)
	d := filepath.Join(root, "d")
	os.Mkdir(d, 0o755)
	dfd, err := unix.Open(d, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		fd, err := unix.Openat(dfd, fmt.Sprint("f", i), unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(fd)
	}
	unix.Close(dfd)
	out := filepath.Join(root, "out")
	m := measure(t, "collect", "--root", root, "--path", "/d", "--no-prompt", "--out", out)
	if m.code != 0 {
		t.Fatalf("exit %d\n%s", m.code, lastLines(m.stderr, 5))
	}
	t.Logf("collect of %d empty files, read back and report: %s", n, m)
	m.checkRSS(t, 64<<10)
	dir := bagDir(t, out)
	if _, err := os.Stat(filepath.Join(dir, chain.ItemSpoolFile)); !os.IsNotExist(err) {
		t.Errorf("the item spool is left in the sealed bag: %v", err)
	}
	v := measure(t, "verify", dir)
	if v.code != 0 {
		t.Fatalf("verify: exit %d\n%s", v.code, v.stderr)
	}
	t.Logf("verify: %s", v)
	v.checkRSS(t, 64<<10)
	if want := fmt.Sprintf("%d items, %d stored, all in the manifest", n, n); !strings.Contains(v.stdout, want) {
		t.Errorf("verify does not say %q:\n%s", want, v.stdout)
	}
}
