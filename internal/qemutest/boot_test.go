package qemutest

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// guestRAM is the guest's memory, -m 1G; all of it lies below 4 GiB, so
// QEMU's pmemsave of [0, guestRAM) holds every byte of System RAM at its
// physical address.
const guestRAM = 1 << 30

// bootTimeout bounds the guest's run, from QEMU's start to the dump: a
// guard against a hung guest, not a measure (an idle 2-core machine boots
// and captures in about QEMU's CPU time, 3 minutes; a shared one takes
// longer). SCELLE_QEMU_TIMEOUT (a duration) changes it.
func bootTimeout() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("SCELLE_QEMU_TIMEOUT")); err == nil {
		return d
	}
	return 15 * time.Minute
}

// modules are the kernel modules the guest needs for its disk, loaded with
// their dependencies (read from each module's .modinfo: the package has no
// modules.dep, which depmod writes at installation). crc32c_generic is not
// a dependency of ext4 in .modinfo, but ext4 asks the crypto API for
// crc32c at mount time (metadata_csum), and the guest has no modprobe.
var modules = []string{"virtio_pci", "virtio_blk", "crc32c_generic", "ext4"}

// env is what a boot needs on the host.
type env struct {
	qemu    string // qemu-system-x86_64
	kernel  string // the unpacked linux-image package
	release string // its uname -r
	scelle  string // a static scelle
	guest   string // the static helper, testdata/guest
	tools   map[string]string
}

// findEnv finds QEMU, the tools and the kernel. Absent, they skip the test
// for a user, who cannot install them, and fail it for root, for whom the
// Makefile's deps (make test) installs them.
func findEnv(t *testing.T) env {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the QEMU memory test boots a kernel for minutes")
	}
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Geteuid() == 0 {
			t.Fatalf("%s (run make deps, or internal/qemutest/testdata/kernel.sh)", msg)
		}
		t.Skipf("%s: the QEMU memory test needs it (as root, make deps installs it)", msg)
	}
	e := env{tools: map[string]string{}}
	for _, tool := range []string{"qemu-system-x86_64", "busybox", "cpio", "mke2fs", "debugfs", "zstd"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			for _, dir := range []string{"/usr/sbin", "/sbin"} {
				if _, serr := os.Stat(filepath.Join(dir, tool)); serr == nil {
					p, err = filepath.Join(dir, tool), nil
				}
			}
		}
		if err != nil {
			missing("%s not found", tool)
		}
		e.tools[tool] = p
	}
	cache := os.Getenv("SCELLE_QEMU_CACHE")
	if cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			missing("no cache folder for the kernel: %v", err)
		}
		cache = filepath.Join(dir, "scelle-qemu")
	}
	kdir, err := filepath.EvalSymlinks(filepath.Join(cache, "current"))
	if err != nil {
		missing("no kernel in %s", cache)
	}
	e.qemu, e.kernel = e.tools["qemu-system-x86_64"], kdir
	vmlinuz, _ := filepath.Glob(filepath.Join(kdir, "boot", "vmlinuz-*"))
	if len(vmlinuz) != 1 {
		missing("no single boot/vmlinuz-* in %s", kdir)
	}
	e.release = strings.TrimPrefix(filepath.Base(vmlinuz[0]), "vmlinuz-")
	return e
}

// buildBinaries builds the static helper and, unless make test names one
// (SCELLE_BIN), the static scelle.
func buildBinaries(t *testing.T, e *env, dir string) {
	t.Helper()
	build := func(out, pkg string) {
		cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	e.guest = filepath.Join(dir, "guest")
	build(e.guest, "./testdata/guest")
	e.scelle = os.Getenv("SCELLE_BIN")
	if e.scelle == "" {
		e.scelle = filepath.Join(dir, "scelle")
		build(e.scelle, "github.com/scelle/scelle/cmd/scelle")
	}
	// The guest has no C library: a dynamic scelle would not start.
	f, err := elf.Open(e.scelle)
	if err != nil {
		t.Fatalf("scelle binary %s: %v", e.scelle, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatalf("%s is dynamically linked: the guest needs a static one (CGO_ENABLED=0)", e.scelle)
		}
	}
}

// moduleOrder returns the files (relative to lib/modules/<release>) of the
// wanted modules and their dependencies, each after what it depends on.
func moduleOrder(t *testing.T, mdir string, want []string) []string {
	t.Helper()
	norm := func(s string) string { return strings.ReplaceAll(s, "-", "_") }
	index := map[string]string{}
	err := filepath.WalkDir(filepath.Join(mdir, "kernel"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name, ok := strings.CutSuffix(d.Name(), ".ko"); ok && !d.IsDir() {
			rel, _ := filepath.Rel(mdir, p)
			index[norm(name)] = rel
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	builtin, _ := os.ReadFile(filepath.Join(mdir, "modules.builtin"))
	var order []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string)
	visit = func(name string) {
		name = norm(name)
		if state[name] != 0 {
			return
		}
		state[name] = 1
		rel, ok := index[name]
		if !ok {
			if bytes.Contains(builtin, []byte("/"+name+".ko")) || bytes.Contains(builtin, []byte("/"+strings.ReplaceAll(name, "_", "-")+".ko")) {
				state[name] = 2
				return // built into the kernel
			}
			t.Fatalf("module %s: neither in %s nor built in", name, mdir)
		}
		for _, dep := range moduleDepends(t, filepath.Join(mdir, rel)) {
			visit(dep)
		}
		state[name] = 2
		order = append(order, rel)
	}
	for _, m := range want {
		visit(m)
	}
	return order
}

// moduleDepends reads the depends= field of a module's .modinfo section.
func moduleDepends(t *testing.T, path string) []string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("module %s: %v", path, err)
	}
	defer f.Close()
	sec := f.Section(".modinfo")
	if sec == nil {
		t.Fatalf("module %s: no .modinfo", path)
	}
	b, err := sec.Data()
	if err != nil {
		t.Fatalf("module %s: %v", path, err)
	}
	for _, kv := range bytes.Split(b, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("depends=")); ok {
			if len(v) == 0 {
				return nil
			}
			return strings.Split(string(v), ",")
		}
	}
	return nil
}

// buildInitramfs writes the guest's initramfs (newc cpio, uncompressed):
// busybox, scelle, the helper, the modules and init.
func buildInitramfs(t *testing.T, e env, dir string) string {
	t.Helper()
	root := filepath.Join(dir, "root")
	for _, d := range []string{"bin", "modules"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, e.tools["busybox"], filepath.Join(root, "bin", "busybox"), 0o755)
	// init's interpreter; init installs the other applets.
	if err := os.Symlink("busybox", filepath.Join(root, "bin", "sh")); err != nil {
		t.Fatal(err)
	}
	copyFile(t, e.scelle, filepath.Join(root, "bin", "scelle"), 0o755)
	copyFile(t, e.guest, filepath.Join(root, "bin", "guest"), 0o755)
	copyFile(t, filepath.Join("testdata", "init.sh"), filepath.Join(root, "init"), 0o755)
	mdir := filepath.Join(e.kernel, "lib", "modules", e.release)
	var order []string
	for _, rel := range moduleOrder(t, mdir, modules) {
		copyFile(t, filepath.Join(mdir, rel), filepath.Join(root, "modules", filepath.Base(rel)), 0o644)
		order = append(order, filepath.Base(rel))
	}
	if err := os.WriteFile(filepath.Join(root, "modules", "order"), []byte(strings.Join(order, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "initramfs.cpio")
	cmd := exec.Command("sh", "-c", `find . | LC_ALL=C sort | "$1" -o -H newc -R 0:0 --quiet > "$0"`, out, e.tools["cpio"])
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cpio: %v\n%s", err, b)
	}
	return out
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}

// makeDisk writes a sparse ext4 image with room for the RAM and the rest
// of the triage (the collector captures RAM only when the output has room
// for it, plus a margin).
func makeDisk(t *testing.T, e env, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(3 * guestRAM); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if b, err := exec.Command(e.tools["mke2fs"], "-q", "-F", "-t", "ext4", "-L", "evidence", path).CombinedOutput(); err != nil {
		t.Fatalf("mke2fs: %v\n%s", err, b)
	}
}

// run is what one boot left: the serial log, QEMU's dump of the guest's
// memory and the disk image.
type run struct {
	log     string
	logPath string
	dump    string // pmemsave of [0, guestRAM): the byte at physical address pa is at offset pa
	disk    string
	elapsed time.Duration
	cpu     time.Duration // QEMU's CPU time: the emulation's cost, whatever else the machine runs
}

// boot runs the guest until it prints QEMUTEST IDLE, stops it, saves its
// memory through QMP and quits QEMU. The serial log is kept (logged) when
// the test fails.
func boot(t *testing.T, e env, dir string) run {
	t.Helper()
	r := run{logPath: filepath.Join(dir, "console.log"), dump: filepath.Join(dir, "pmem.raw"), disk: filepath.Join(dir, "disk.img")}
	makeDisk(t, e, r.disk)
	initrd := buildInitramfs(t, e, dir)
	// A socket path is limited to 108 bytes: keep it short.
	sockDir, err := os.MkdirTemp("", "qmp")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(sockDir)
	sock := filepath.Join(sockDir, "s")

	logf, err := os.Create(r.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout())
	defer cancel()
	cmd := exec.CommandContext(ctx, e.qemu,
		"-machine", "q35,accel=tcg", "-cpu", "max", "-smp", "2", "-m", "1G",
		"-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio", "-monitor", "none",
		"-kernel", filepath.Join(e.kernel, "boot", "vmlinuz-"+e.release),
		"-initrd", initrd,
		// init_on_free=1: a page freed is zeroed, so that the page cache
		// the bag passes through, dropped once written, is zero again in
		// QEMU's dump as it was in the image (without it, 89.95% of the
		// pages were identical, the rest being that cache).
		"-append", "console=ttyS0 rdinit=/init panic=-1 loglevel=4 init_on_free=1",
		"-drive", "file="+r.disk+",format=raw,if=virtio,cache=unsafe",
		"-qmp", "unix:"+sock+",server=on,wait=off",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("qemu: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(r.logPath)
			t.Logf("serial console (%s):\n%s", r.logPath, b)
		}
	})

	// Wait for the guest to idle, or fail, or QEMU to end.
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for idle := false; !idle; {
		select {
		case err := <-done:
			t.Fatalf("qemu ended before the guest idled (%v, after %s)", err, time.Since(start).Round(time.Second))
		case <-tick.C:
			b, _ := os.ReadFile(r.logPath)
			if i := bytes.Index(b, []byte("QEMUTEST FAIL")); i >= 0 {
				t.Fatalf("guest: %s", firstLine(b[i:]))
			}
			if bytes.Contains(b, []byte("Kernel panic")) {
				t.Fatal("guest: kernel panic")
			}
			idle = bytes.Contains(b, []byte("QEMUTEST IDLE"))
		}
	}
	q, err := dialQMP(sock)
	if err != nil {
		t.Fatalf("qmp: %v", err)
	}
	defer q.Close()
	// Stopped, the guest's memory cannot change while it is saved.
	for _, c := range []struct {
		cmd  string
		args any
	}{
		{"stop", nil},
		{"pmemsave", map[string]any{"val": 0, "size": guestRAM, "filename": r.dump}},
		{"quit", nil},
	} {
		if err := q.exec(c.cmd, c.args); err != nil {
			t.Fatalf("qmp %s: %v", c.cmd, err)
		}
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("qemu did not quit")
	}
	r.elapsed = time.Since(start)
	if cmd.ProcessState != nil {
		r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	b, err := os.ReadFile(r.logPath)
	if err != nil {
		t.Fatal(err)
	}
	r.log = string(b)
	return r
}

func firstLine(b []byte) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return strings.TrimSpace(string(b))
}

// qmp is a QEMU Machine Protocol client, enough for a few commands.
type qmp struct {
	conn net.Conn
	r    *bufio.Reader
}

func dialQMP(path string) (*qmp, error) {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	q := &qmp{conn: conn, r: bufio.NewReader(conn)}
	if _, err := q.r.ReadBytes('\n'); err != nil { // the greeting
		conn.Close()
		return nil, err
	}
	if err := q.exec("qmp_capabilities", nil); err != nil {
		conn.Close()
		return nil, err
	}
	return q, nil
}

func (q *qmp) Close() error { return q.conn.Close() }

// exec sends a command and waits for its answer, skipping events.
func (q *qmp) exec(cmd string, args any) error {
	msg := map[string]any{"execute": cmd}
	if args != nil {
		msg["arguments"] = args
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if err := q.conn.SetDeadline(time.Now().Add(2 * time.Minute)); err != nil {
		return err
	}
	if _, err := q.conn.Write(append(b, '\n')); err != nil {
		return err
	}
	for {
		line, err := q.r.ReadBytes('\n')
		if err != nil {
			if cmd == "quit" && len(line) == 0 {
				return nil // QEMU may close before it answers
			}
			return err
		}
		var resp struct {
			Return json.RawMessage `json:"return"`
			Error  *struct {
				Class, Desc string
			} `json:"error"`
			Event string `json:"event"`
		}
		if err := json.Unmarshal(line, &resp); err != nil {
			return fmt.Errorf("answer %q: %w", line, err)
		}
		switch {
		case resp.Event != "":
			continue
		case resp.Error != nil:
			return errors.New(resp.Error.Class + ": " + resp.Error.Desc)
		default:
			return nil
		}
	}
}

// block returns the lines the guest printed between QEMUTEST BEGIN name
// and QEMUTEST END name.
func block(log, name string) (string, bool) {
	begin, end := "QEMUTEST BEGIN "+name+"\n", "QEMUTEST END "+name
	log = strings.ReplaceAll(log, "\r\n", "\n")
	i := strings.Index(log, begin)
	if i < 0 {
		return "", false
	}
	rest := log[i+len(begin):]
	j := strings.Index(rest, end)
	if j < 0 {
		return "", false
	}
	return rest[:j], true
}

// measure is one "QEMUTEST run NAME ..." line of the helper.
type measure struct {
	seconds   float64
	exit      int
	maxRSSKiB int64
}

var runLine = regexp.MustCompile(`QEMUTEST run (\S+) seconds=([0-9.]+) exit=(-?\d+) maxrss_kib=(\d+)`)

func measures(log string) map[string]measure {
	m := map[string]measure{}
	for _, sub := range runLine.FindAllStringSubmatch(log, -1) {
		s, _ := strconv.ParseFloat(sub[2], 64)
		code, _ := strconv.Atoi(sub[3])
		rss, _ := strconv.ParseInt(sub[4], 10, 64)
		m[sub[1]] = measure{seconds: s, exit: code, maxRSSKiB: rss}
	}
	return m
}
