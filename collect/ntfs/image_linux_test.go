package ntfs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scelle/scelle/internal/testtool"
	"golang.org/x/sys/unix"
)

// need skips the test when a tool is missing, and fails it under CI,
// where .ci/run installs them (Debian's ntfs-3g, fdisk, gdisk).
func need(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			testtool.Missing(t, "%s is missing (Debian package ntfs-3g, fdisk or gdisk)", tool)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting an NTFS image with ntfs-3g needs root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("no /dev/fuse")
	}
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// makeVolume makes an NTFS file system image of mib MiB labelled label
// and writes files into it through an ntfs-3g mount: a path ending in ":name" is an
// alternate data stream; sparse holds files written sparse (a hole then
// data at their end).
func makeVolume(t testing.TB, img string, mib int, label string, files map[string][]byte, sparse map[string]int64) {
	t.Helper()
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(int64(mib) << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	run(t, "mkntfs", "-F", "-f", "-q", "-L", label, img)
	mnt := t.TempDir()
	run(t, "ntfs-3g", "-o", "streams_interface=xattr", img, mnt)
	defer func() {
		run(t, "umount", mnt)
	}()
	for p, b := range files {
		name, stream, _ := strings.Cut(p, ":")
		host := filepath.Join(mnt, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
			t.Fatal(err)
		}
		if stream != "" {
			if _, err := os.Stat(host); err != nil {
				os.WriteFile(host, nil, 0o644)
			}
			if err := unix.Setxattr(host, "user."+stream, b, 0); err != nil {
				t.Fatalf("set stream %s: %v", p, err)
			}
			continue
		}
		if hole, ok := sparse[p]; ok {
			w, err := os.Create(host)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.WriteAt(b[hole:], hole); err != nil {
				t.Fatal(err)
			}
			w.Close()
			continue
		}
		if err := os.WriteFile(host, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
