package safeopen

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestOpenAt: OpenAt opens regular files only, one name in a folder, and
// refuses FIFOs, devices, links and folders without blocking.
func TestOpenAt(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "f"), []byte("content"), 0o644))
	must(unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	must(os.Symlink("f", filepath.Join(dir, "link")))
	must(os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "sub", "g"), []byte("g"), 0o644))
	if os.Geteuid() == 0 {
		must(unix.Mknod(filepath.Join(dir, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	}
	d, err := OpenDir("", dir)
	must(err)
	defer d.Close()

	f, err := OpenAt(d, "f")
	must(err)
	b, err := io.ReadAll(f)
	f.Close()
	if err != nil || string(b) != "content" || f.Name() != filepath.Join(dir, "f") {
		t.Errorf("f: %q %v (name %s)", b, err, f.Name())
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, name := range []string{"fifo", "link", "sub", "null"} {
			if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
				continue
			}
			f, err := OpenAt(d, name)
			if !errors.Is(err, ErrNotRegular) {
				t.Errorf("%s: %v, want ErrNotRegular", name, err)
			}
			if f != nil {
				f.Close()
			}
		}
		for _, name := range []string{"", ".", "..", "sub/g", "/etc/passwd"} {
			if f, err := OpenAt(d, name); !errors.Is(err, ErrNotName) {
				t.Errorf("%q: %v, want ErrNotName", name, err)
				if f != nil {
					f.Close()
				}
			}
			if f, err := OpenDirAt(d, name); !errors.Is(err, ErrNotName) {
				t.Errorf("dir %q: %v, want ErrNotName", name, err)
				if f != nil {
					f.Close()
				}
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("OpenAt blocks")
	}

	sub, err := OpenDirAt(d, "sub")
	must(err)
	defer sub.Close()
	g, err := OpenAt(sub, "g")
	must(err)
	g.Close()
	if _, err := OpenDirAt(d, "link"); err == nil {
		t.Error("OpenDirAt followed a link")
	}
	must(os.Symlink("sub", filepath.Join(dir, "dirlink")))
	if f, err := OpenDirAt(d, "dirlink"); err == nil {
		f.Close()
		t.Error("OpenDirAt followed a link to a folder")
	}
}

// TestOpenAtDeep: a file nested far beyond PATH_MAX opens, one folder at
// a time.
func TestOpenAtDeep(t *testing.T) {
	name := strings.Repeat("d", 255)
	d, err := OpenDir("", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const depth = 40 // 10 KB of path
	for i := range depth {
		if err := unix.Mkdirat(int(d.Fd()), name, 0o755); err != nil {
			t.Fatalf("level %d: %v", i, err)
		}
		next, err := OpenDirAt(d, name)
		d.Close()
		if err != nil {
			t.Fatalf("level %d: %v", i, err)
		}
		d = next
	}
	defer d.Close()
	fd, err := unix.Openat(int(d.Fd()), "f", unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	unix.Write(fd, []byte("deep"))
	unix.Close(fd)
	f, err := OpenAt(d, "f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil || string(b) != "deep" || len(f.Name()) < depth*256 {
		t.Errorf("%q %v (name of %d bytes)", b, err, len(f.Name()))
	}
}
