package fileio

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	for _, content := range []string{"first", "second, longer than the first"} {
		err := WriteFileAtomic(path, func(w io.Writer) error {
			_, err := io.WriteString(w, content)
			return err
		}, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		assertFile(t, path, content)
		assertNoFile(t, path+PartialSuffix)
	}
}

// A failed write leaves nothing under the final name, nor a partial file,
// and leaves an existing file as it was.
func TestWriteFileAtomicError(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("boom")
	half := func(w io.Writer) error {
		if _, err := io.WriteString(w, "half of a report"); err != nil {
			return err
		}
		return boom
	}
	path := filepath.Join(dir, "new.html")
	if err := WriteFileAtomic(path, half, 0o644); !errors.Is(err, boom) {
		t.Fatalf("WriteFileAtomic = %v, want %v", err, boom)
	}
	assertNoFile(t, path)
	assertNoFile(t, path+PartialSuffix)

	old := filepath.Join(dir, "old.html")
	if err := os.WriteFile(old, []byte("whole"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(old, half, 0o644); !errors.Is(err, boom) {
		t.Fatalf("WriteFileAtomic = %v, want %v", err, boom)
	}
	assertFile(t, old, "whole")
	assertNoFile(t, old+PartialSuffix)
}

// A partial file that exists (another writer, or a crash) is neither
// written to nor removed.
func TestWriteFileAtomicPartialExists(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	if err := os.WriteFile(path+PartialSuffix, []byte("someone else's"), 0o644); err != nil {
		t.Fatal(err)
	}
	called := false
	err := WriteFileAtomic(path, func(w io.Writer) error { called = true; return nil }, 0o644)
	if !errors.Is(err, fs.ErrExist) || called {
		t.Fatalf("WriteFileAtomic = %v (write called: %v), want fs.ErrExist before any write", err, called)
	}
	if !strings.Contains(err.Error(), path+PartialSuffix) {
		t.Errorf("error %q does not name the partial file", err)
	}
	assertFile(t, path+PartialSuffix, "someone else's")
	assertNoFile(t, path)
}

func TestWriteNewFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "timestamp-1.tsr")
	write := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	if err := WriteNewFile(path, write("token"), 0o644); err != nil {
		t.Fatal(err)
	}
	assertFile(t, path, "token")
	if err := WriteNewFile(path, write("again"), 0o644); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("WriteNewFile over an existing file = %v, want fs.ErrExist", err)
	}
	assertFile(t, path, "token")
	assertNoFile(t, path+PartialSuffix)

	// The file appears while the new one is written: it is kept.
	racy := filepath.Join(dir, "racy")
	err := WriteNewFile(racy, func(w io.Writer) error {
		return os.WriteFile(racy, []byte("first"), 0o644)
	}, 0o644)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("WriteNewFile = %v, want fs.ErrExist", err)
	}
	assertFile(t, racy, "first")
	assertNoFile(t, racy+PartialSuffix)
}

func TestWriteNewFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX modes")
	}
	path := filepath.Join(t.TempDir(), "key")
	if err := WriteNewFile(path, func(w io.Writer) error { return nil }, 0o600); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestSyncDir(t *testing.T) {
	dir := t.TempDir()
	if err := SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "windows" {
		return // a no-op
	}
	if err := SyncDir(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("SyncDir(missing) = %v, want fs.ErrNotExist", err)
	}
}

func TestReadSmall(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "root.txt")
	if err := os.WriteFile(path, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, max := range []int64{10, 11, 1 << 20} {
		b, err := ReadSmall(path, max)
		if err != nil || string(b) != "0123456789" {
			t.Errorf("ReadSmall(max %d) = %q, %v", max, b, err)
		}
	}
	_, err := ReadSmall(path, 9)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ReadSmall(max 9) = %v, want ErrTooLarge", err)
	}
	if want := path + ": larger than 9 bytes"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if _, err := ReadSmall(filepath.Join(dir, "missing"), 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadSmall(missing) = %v, want fs.ErrNotExist", err)
	}
	if _, err := ReadSmall(dir, 10); !errors.Is(err, ErrNotRegular) {
		t.Errorf("ReadSmall(folder) = %v, want ErrNotRegular", err)
	}
}

// A FIFO is refused without being opened: opening it for reading would
// block until a writer comes, and the test would hang.
func TestReadSmallFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	if _, err := ReadSmall(fifo, 1<<10); !errors.Is(err, ErrNotRegular) {
		t.Errorf("ReadSmall(FIFO) = %v, want ErrNotRegular", err)
	}
	if _, err := SHA256File(fifo); !errors.Is(err, ErrNotRegular) {
		t.Errorf("SHA256File(FIFO) = %v, want ErrNotRegular", err)
	}
}

func TestReadSmallDevice(t *testing.T) {
	if _, err := os.Stat(os.DevNull); err != nil || runtime.GOOS == "windows" {
		t.Skip("no device file")
	}
	if _, err := ReadSmall(os.DevNull, 1<<10); !errors.Is(err, ErrNotRegular) {
		t.Errorf("ReadSmall(%s) = %v, want ErrNotRegular", os.DevNull, err)
	}
}

func TestSHA256File(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("scelle "), 100_000)
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	got, err := SHA256File(path)
	if err != nil || got != hex.EncodeToString(sum[:]) {
		t.Errorf("SHA256File = %s, %v, want %x", got, err, sum)
	}
	if _, err := SHA256File(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("SHA256File(missing) = %v, want fs.ErrNotExist", err)
	}
	if _, err := SHA256File(dir); !errors.Is(err, ErrNotRegular) {
		t.Errorf("SHA256File(folder) = %v, want ErrNotRegular", err)
	}
}

func assertFile(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("%s holds %q, want %q", path, b, want)
	}
}

func assertNoFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s: want no file, Lstat says %v", path, err)
	}
}
