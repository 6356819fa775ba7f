package acquire

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scelle/scelle/internal/hint"
	"github.com/scelle/scelle/internal/testtool"
	"github.com/scelle/scelle/internal/volume"
)

// loopFAT mounts a small FAT32 file system made by mkfs.vfat on a loop
// device, or skips the test (fails in CI, which installs dosfstools and
// runs as root).
func loopFAT(t *testing.T) string {
	t.Helper()
	skip := func(format string, args ...any) { t.Helper(); testtool.Missing(t, format, args...) }
	if os.Geteuid() != 0 {
		skip("a loop mount needs root")
	}
	if _, err := exec.LookPath("mkfs.vfat"); err != nil {
		skip("mkfs.vfat not installed (Debian package dosfstools)")
	}
	img := filepath.Join(t.TempDir(), "fat.img")
	if b, err := exec.Command("mkfs.vfat", "-F", "32", "-C", img, "40000").CombinedOutput(); err != nil {
		skip("mkfs.vfat: %v %s", err, b)
	}
	dir := t.TempDir()
	if b, err := exec.Command("mount", "-o", "loop", img, dir).CombinedOutput(); err != nil {
		// Not fatal in CI: a container's kernel may lack vfat.
		t.Skipf("loop mount of FAT32 not possible here: %v %s", err, b)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// TestFATOutput: an output folder on FAT32 (a responder's stick) is
// refused at start, before anything is written, with the flag that lifts
// the refusal; with --max-output under 4 GiB the bag is sealed there.
func TestFATOutput(t *testing.T) {
	stick := loopFAT(t)
	if v, err := volume.Of(filepath.Join(stick, "not/yet")); err != nil || v.FS != "vfat" || v.MaxFile != volume.FATMaxFile {
		t.Fatalf("volume.Of on FAT32: %+v, %v", v, err)
	}
	if v, err := volume.Of(t.TempDir()); err != nil || v.MaxFile != 0 {
		t.Errorf("volume.Of on the test's folder: %+v, %v (want no limit)", v, err)
	}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "a.txt"), []byte("alpha\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(stick, "evidence")
	opts := Options{Case: "FAT", Out: out, PathsOnly: true, Paths: []string{"/a.txt"}, Root: src, Version: "test", NoReadBack: true}
	for _, budget := range []int64{0, 8 << 30} {
		opts.Budget = budget
		_, err := Run(context.Background(), opts, Progress{})
		var oe *OptionError
		if !errors.As(err, &oe) || !strings.Contains(err.Error(), "is on vfat, which holds no file of 4.0 GiB or more") ||
			!strings.Contains(hint.Of(err), "--max-output 4000MiB") {
			t.Fatalf("budget %d: got %v (hint %q), want the FAT32 refusal with its hint", budget, err, hint.Of(err))
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("budget %d: the refusal left %s (%v)", budget, out, err)
		}
	}
	opts.Budget = 4000 << 20
	res, err := Run(context.Background(), opts, Progress{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Incomplete() || res.Sealed.Items == 0 {
		t.Errorf("on FAT32 with --max-output 4000MiB: %v", res.Record.Summary)
	}
}
