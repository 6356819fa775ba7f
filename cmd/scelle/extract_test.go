package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/scelle/scelle/seal"
)

// extractBag seals a small bag of two files, data/fs/a and data/fs/b, and
// returns its folder.
func extractBag(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bag")
	w, err := seal.Create(dir, seal.Options{Collection: "test", Tool: "scelle test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ name, data string }{{"fs/a", "alpha\n"}, {"fs/b", "beta\n"}} {
		if _, err := w.Put(context.Background(), seal.Entry{Name: f.name, Size: int64(len(f.data))}, strings.NewReader(f.data)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Seal([]byte("{}\n"), seal.BagInfo{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// changeEntry rewrites the archive of the bag in dir, each entry in a
// zstd frame of its own, with one byte of the entry path changed, and
// names it in its .sha256: the archive decodes, the entry differs.
func changeEntry(t *testing.T, dir, path string) {
	t.Helper()
	archive := filepath.Join(dir, seal.ArchiveFile)
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ar, err := seal.NewArchiveReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer ar.Close()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderCRC(true))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	var out bytes.Buffer
	for {
		e, err := ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(ar)
		if err != nil {
			t.Fatal(err)
		}
		if e.Path == path {
			data[0] ^= 0x20
		}
		var entry bytes.Buffer
		tw := tar.NewWriter(&entry)
		if err := tw.WriteHeader(e.Header); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := tw.Flush(); err != nil {
			t.Fatal(err)
		}
		out.Write(enc.EncodeAll(entry.Bytes(), nil))
	}
	out.Write(enc.EncodeAll(make([]byte, 1024), nil))
	if err := os.WriteFile(archive, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(out.Bytes())
	if err := os.WriteFile(filepath.Join(dir, seal.ArchiveSumFile), []byte(hex.EncodeToString(sum[:])+"  "+seal.ArchiveFile+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// extract runs the extract command on bag and returns its output and
// exit code.
func extract(t *testing.T, bag string) (dest, stdout string, code int) {
	t.Helper()
	dest = filepath.Join(t.TempDir(), "x")
	var out strings.Builder
	err := runExtract(bag, dest, nil, "", &out)
	code = exitOK
	if ce := new(codedError); errors.As(err, &ce) {
		code = ce.code
	} else if err != nil {
		t.Fatalf("extract: %v", err)
	}
	return dest, out.String(), code
}

// Each file is checked as it is written, against its journal line, then
// against the manifest: a file that does not match is named and removed.
func TestExtractNamesAndRemoves(t *testing.T) {
	bag := extractBag(t)
	dest, out, code := extract(t, bag)
	if code != exitOK || strings.Contains(out, "FAIL") || !strings.Contains(out, "extracted 8 files") {
		t.Fatalf("a bag that holds: exit %d\n%s", code, out)
	}
	if b, err := os.ReadFile(filepath.Join(dest, seal.BagDir, "data/fs/b")); err != nil || string(b) != "beta\n" {
		t.Fatalf("data/fs/b: %q, %v", b, err)
	}

	changeEntry(t, bag, "data/fs/b")
	dest, out, code = extract(t, bag)
	for _, want := range []string{"extracted 7 files", "FAIL  data/fs/b: does not match the journal; removed\n",
		"FAIL  data/fs/b: does not match the manifest\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("a changed file: no %q in\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dest, seal.BagDir, "data/fs/b")); !os.IsNotExist(err) || code != exitVerifyFailed {
		t.Errorf("a changed file: still there (%v), exit %d", err, code)
	}

	// Without the journal, the manifest alone names it.
	if err := os.Remove(filepath.Join(bag, seal.JournalFile)); err != nil {
		t.Fatal(err)
	}
	dest, out, code = extract(t, bag)
	if !strings.Contains(out, "extracted 8 files") || !strings.Contains(out, "FAIL  data/fs/b: does not match the manifest\n") || strings.Contains(out, "journal") {
		t.Errorf("a changed file, no journal:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dest, seal.BagDir, "data/fs/b")); !os.IsNotExist(err) || code != exitVerifyFailed {
		t.Errorf("a changed file, no journal: still there (%v), exit %d", err, code)
	}
	if b, err := os.ReadFile(filepath.Join(dest, seal.BagDir, "data/fs/a")); err != nil || string(b) != "alpha\n" {
		t.Errorf("data/fs/a: %q, %v", b, err)
	}
}
