package qemutest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestQEMUMemory boots the guest once and checks everything against that
// one run: the bag verifies, and its image of physical memory is the
// guest's System RAM, range by range (memory_test.go).
func TestQEMUMemory(t *testing.T) {
	e := findEnv(t)
	start := time.Now()
	dir := t.TempDir()
	// SCELLE_QEMU_DIR (for whoever works on this test): work there and keep
	// it; a folder that already holds a finished boot is checked again
	// without booting.
	if d := os.Getenv("SCELLE_QEMU_DIR"); d != "" {
		dir = d
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	buildBinaries(t, &e, dir)
	r, ok := reuse(dir)
	if !ok {
		r = boot(t, e, dir)
	}
	t.Logf("guest ran %s (QEMU start to quit), QEMU's CPU time %s", r.elapsed.Round(time.Second), r.cpu.Round(time.Second))
	for name, m := range measures(r.log) {
		t.Logf("guest %s: %.1f s, exit %d, peak RSS %d KiB", name, m.seconds, m.exit, m.maxRSSKiB)
	}

	out := filepath.Join(dir, "out")
	if err := os.RemoveAll(out); err != nil {
		t.Fatal(err)
	}
	bag := readBag(t, e, r.disk, out)
	if b, err := exec.Command(e.scelle, "verify", bag).CombinedOutput(); err != nil {
		t.Fatalf("scelle verify %s: %v\n%s", bag, err, b)
	}
	checkMemory(t, e, r, bag)
	t.Logf("whole test: %s", time.Since(start).Round(time.Second))
}

// readBag copies /evidence out of the disk image without mounting it
// (debugfs rdump) and returns the one bag folder in it.
func readBag(t *testing.T, e env, disk, out string) string {
	t.Helper()
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(e.tools["debugfs"], "-R", "rdump /evidence "+out, disk).CombinedOutput(); err != nil {
		t.Fatalf("debugfs rdump: %v\n%s", err, b)
	}
	bags, _ := filepath.Glob(filepath.Join(out, "evidence", "qemu_*"))
	if len(bags) != 1 {
		t.Fatalf("want one bag folder in the guest's /mnt/evidence, found %q", bags)
	}
	return bags[0]
}

// reuse returns the boot a kept folder holds, if it finished.
func reuse(dir string) (run, bool) {
	r := run{logPath: filepath.Join(dir, "console.log"), dump: filepath.Join(dir, "pmem.raw"), disk: filepath.Join(dir, "disk.img")}
	b, err := os.ReadFile(r.logPath)
	if err != nil || !strings.Contains(string(b), "QEMUTEST IDLE") {
		return r, false
	}
	if fi, err := os.Stat(r.dump); err != nil || fi.Size() != guestRAM {
		return r, false
	}
	r.log = string(b)
	return r, true
}
