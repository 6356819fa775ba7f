package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/scelle/scelle/chain"
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

// tarEntry is one entry of a bag's archive.
type tarEntry struct {
	hdr  *tar.Header
	data []byte
}

// newEntry makes an archive entry for the bag path p.
func newEntry(p string, data []byte) tarEntry {
	return tarEntry{&tar.Header{Typeflag: tar.TypeReg, Name: seal.BagDir + "/" + p, Mode: 0o644, Size: int64(len(data)),
		ModTime: time.Unix(1e9, 0), Format: tar.FormatPAX}, data}
}

// rewriteArchive rewrites the archive of the bag in dir with edit applied
// to its entries, each entry in a zstd frame of its own, and names it in
// its .sha256: the archive decodes, and its hash is the one beside it.
func rewriteArchive(t *testing.T, dir string, edit func([]tarEntry) []tarEntry) {
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
	var entries []tarEntry
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
		entries = append(entries, tarEntry{e.Header, data})
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderCRC(true))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	var out bytes.Buffer
	for _, e := range edit(entries) {
		e.hdr.Size = int64(len(e.data))
		out.Write(enc.EncodeAll(tarBytes(t, e), nil))
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

// tarBytes is e as tar writes it, without the end of the archive.
func tarBytes(t *testing.T, e tarEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(e.hdr); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(e.data); err != nil {
		t.Fatal(err)
	}
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// changeEntry rewrites the archive of the bag in dir with one byte of the
// entry path changed.
func changeEntry(t *testing.T, dir, path string) {
	t.Helper()
	rewriteArchive(t, dir, func(entries []tarEntry) []tarEntry {
		for _, e := range entries {
			if e.hdr.Name == seal.BagDir+"/"+path {
				e.data[0] ^= 0x20
			}
		}
		return entries
	})
}

// extract runs the extract command on bag and returns its output and
// exit code.
func extract(t *testing.T, bag string) (dest, stdout string, code int) {
	t.Helper()
	dest, stdout, _, code = extractAll(t, bag)
	return dest, stdout, code
}

// extractAll is extract, returning standard error too.
func extractAll(t *testing.T, bag string) (dest, stdout, stderr string, code int) {
	t.Helper()
	dest = filepath.Join(t.TempDir(), "x")
	var out, errOut strings.Builder
	err := runExtract(bag, dest, nil, "", &out, &errOut)
	code = exitOK
	if ce := new(codedError); errors.As(err, &ce) {
		code = ce.code
	} else if err != nil {
		t.Fatalf("extract: %v", err)
	}
	return dest, out.String(), errOut.String(), code
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

	// Without the journal, the manifest alone names it; the journal's
	// absence is a failure of its own.
	if err := os.Remove(filepath.Join(bag, seal.JournalFile)); err != nil {
		t.Fatal(err)
	}
	dest, out, code = extract(t, bag)
	if !strings.Contains(out, "extracted 8 files") || !strings.Contains(out, "FAIL  data/fs/b: does not match the manifest\n") ||
		strings.Contains(out, "does not match the journal") || !strings.Contains(out, "FAIL  journal.jsonl: missing") {
		t.Errorf("a changed file, no journal:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dest, seal.BagDir, "data/fs/b")); !os.IsNotExist(err) || code != exitVerifyFailed {
		t.Errorf("a changed file, no journal: still there (%v), exit %d", err, code)
	}
	if b, err := os.ReadFile(filepath.Join(dest, seal.BagDir, "data/fs/a")); err != nil || string(b) != "alpha\n" {
		t.Errorf("data/fs/a: %q, %v", b, err)
	}
}

// insert returns entries with e inserted before the entry of bag path
// before ("": at the end).
func insert(entries []tarEntry, before string, e tarEntry) []tarEntry {
	for i, x := range entries {
		if x.hdr.Name == seal.BagDir+"/"+before {
			return append(entries[:i:i], append([]tarEntry{e}, entries[i:]...)...)
		}
	}
	return append(entries, e)
}

// An entry that neither the journal nor a manifest lists is refused: it
// is named, exit code 4, and it is not left in DEST, wherever it is in
// the archive; the files the bag proves are kept.
func TestExtractRefusesUnlisted(t *testing.T) {
	planted := []byte("planted\n")
	for _, tc := range []struct {
		name, path, before string
	}{
		{"payload entry", "data/fs/planted", seal.BagRecordFile},
		{"tag entry", "planted.txt", seal.BagRecordFile},
		{"in scelle/", "scelle/planted.sh", seal.ManifestFile},
		{"first", "0.txt", seal.BagitFile},
		{"after the tag manifest", "data/fs/z", ""},
		{"a name repeated", "data/fs/a", "data/fs/b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bag := extractBag(t)
			rewriteArchive(t, bag, func(entries []tarEntry) []tarEntry {
				return insert(entries, tc.before, newEntry(tc.path, planted))
			})
			dest, out, code := extract(t, bag)
			if code != exitVerifyFailed || !strings.Contains(out, "FAIL  "+tc.path+": ") {
				t.Fatalf("exit %d, want %d and %s named:\n%s", code, exitVerifyFailed, tc.path, out)
			}
			if b, err := os.ReadFile(filepath.Join(dest, seal.BagDir, tc.path)); err == nil {
				t.Errorf("%s left in DEST (%q)\n%s", tc.path, b, out)
			}
			if tc.path != "data/fs/a" {
				if b, err := os.ReadFile(filepath.Join(dest, seal.BagDir, "data/fs/a")); err != nil || string(b) != "alpha\n" {
					t.Errorf("data/fs/a, proven: %q, %v", b, err)
				}
			}
		})
	}

	// A bag never sealed: what its journal records is kept, an entry it
	// does not record is not.
	dir := filepath.Join(t.TempDir(), "bag")
	w, err := seal.Create(dir, seal.Options{Collection: "test", Tool: "scelle test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Put(context.Background(), seal.Entry{Name: "fs/a", Size: 6}, strings.NewReader("alpha\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort("test"); err != nil {
		t.Fatal(err)
	}
	bag := dir + seal.PartialSuffix
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderCRC(true))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	f, err := os.OpenFile(filepath.Join(bag, seal.ArchiveFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(enc.EncodeAll(tarBytes(t, newEntry("data/fs/planted", planted)), nil)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	dest, out, code := extract(t, bag)
	if code != exitVerifyFailed || !strings.Contains(out, "FAIL  data/fs/planted: not proven") {
		t.Fatalf("unsealed: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dest, seal.BagDir, "data/fs/planted")); !os.IsNotExist(err) {
		t.Errorf("unsealed: data/fs/planted left in DEST (%v)", err)
	}
	if b, err := os.ReadFile(filepath.Join(dest, seal.BagDir, "data/fs/a")); err != nil || string(b) != "alpha\n" {
		t.Errorf("unsealed: data/fs/a, proven by the journal: %q, %v", b, err)
	}
}

// recordBag seals a bag of two files, data/fs/a and data/fs/b, signed
// with key, whose record names the key.
func recordBag(t *testing.T, key ed25519.PrivateKey, b string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bag")
	w, err := seal.Create(dir, seal.Options{Key: key, Collection: "test", Tool: "scelle test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ name, data string }{{"fs/a", "alpha\n"}, {"fs/b", b}} {
		if _, err := w.Put(context.Background(), seal.Entry{Name: f.name, Size: int64(len(f.data))}, strings.NewReader(f.data)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Seal(recordNaming(key), seal.BagInfo{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// recordNaming is a collection record that names key.
func recordNaming(key ed25519.PrivateKey) []byte {
	return []byte(`{"format": "` + chain.RecordFormat + `", "key": {"fingerprint": "` + seal.KeyFingerprint(key.Public().(ed25519.PublicKey)) + `"}}` + "\n")
}

// entryData returns the content of the entry of bag path p.
func entryData(entries []tarEntry, p string) []byte {
	for _, e := range entries {
		if e.hdr.Name == seal.BagDir+"/"+p {
			return e.data
		}
	}
	return nil
}

// setEntry replaces the content of the entry of bag path p.
func setEntry(entries []tarEntry, p string, data []byte) {
	for i, e := range entries {
		if e.hdr.Name == seal.BagDir+"/"+p {
			entries[i].data = data
		}
	}
}

// retag makes the tag manifest list the tag files as they are, and
// root.txt name it; key, when not nil, signs it in root.sig and replaces
// root.pub.pem.
func retag(t *testing.T, dir string, entries []tarEntry, key ed25519.PrivateKey) {
	t.Helper()
	var tm strings.Builder
	err := seal.ReadManifest(bytes.NewReader(entryData(entries, seal.TagManifestFile)), func(_ [32]byte, p string) error {
		tm.WriteString(seal.ManifestLine(sha256.Sum256(entryData(entries, p)), p))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	setEntry(entries, seal.TagManifestFile, []byte(tm.String()))
	root := sha256.Sum256([]byte(tm.String()))
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(seal.RootFile, []byte(hex.EncodeToString(root[:])+"\n"))
	if key != nil {
		pub, err := seal.PublicKeyPEM(key.Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		write(seal.PubFile, pub)
		write(seal.SigFile, ed25519.Sign(key, []byte(tm.String())))
	}
}

// A bag whose journal was deleted, and one file and its manifest line
// rewritten in the archive, with the tag manifest and the root made to
// match: extract exits 4, names what fails, and leaves no file of the
// payload that nothing proves. What it cannot tell alone (a bag forged
// whole, with a key of its own) it says: the root and the key must be
// compared with the ones noted at the seizure.
func TestExtractRewrittenWithoutJournal(t *testing.T) {
	first := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, ed25519.SeedSize))
	const changed = "not the beta\n"
	// rewrite changes data/fs/b and its manifest line; then does more.
	rewrite := func(more func(dir string, entries []tarEntry)) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			rewriteArchive(t, dir, func(entries []tarEntry) []tarEntry {
				old := sha256.Sum256(entryData(entries, "data/fs/b"))
				now := sha256.Sum256([]byte(changed))
				setEntry(entries, "data/fs/b", []byte(changed))
				setEntry(entries, seal.ManifestFile, bytes.Replace(entryData(entries, seal.ManifestFile),
					[]byte(hex.EncodeToString(old[:])), []byte(hex.EncodeToString(now[:])), 1))
				more(dir, entries)
				return entries
			})
			if err := os.Remove(filepath.Join(dir, seal.JournalFile)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, dir string)
		want   []string // on standard output
	}{
		{"root.sig left", rewrite(func(dir string, entries []tarEntry) { retag(t, dir, entries, nil) }),
			[]string{"FAIL  journal.jsonl: missing", "root.sig does not verify"}},
		{"signed again, the record left", rewrite(func(dir string, entries []tarEntry) { retag(t, dir, entries, other) }),
			[]string{"FAIL  journal.jsonl: missing", "FAIL  scelle/record.json: names key " + seal.KeyFingerprint(first.Public().(ed25519.PublicKey))}},
		// The journal's copy in the bag is still signed with the first key.
		{"signed again, the record made to match", rewrite(func(dir string, entries []tarEntry) {
			setEntry(entries, seal.BagRecordFile, recordNaming(other))
			retag(t, dir, entries, other)
		}), []string{"FAIL  journal.jsonl: missing", "FAIL  scelle/journal.jsonl: line 1: signed with another key than the bag's"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bag := recordBag(t, first, "beta\n")
			tc.change(t, bag)
			dest, out, stderr, code := extractAll(t, bag)
			if code != exitVerifyFailed {
				t.Errorf("exit %d, want %d\n%s", code, exitVerifyFailed, out)
			}
			for _, want := range append(tc.want, "FAIL  data/fs/b: not proven") {
				if !strings.Contains(out, want) {
					t.Errorf("no %q in\n%s", want, out)
				}
			}
			if b, err := os.ReadFile(filepath.Join(dest, seal.BagDir, "data/fs/b")); err == nil {
				t.Errorf("data/fs/b left in DEST: %q", b)
			}
			if !strings.Contains(stderr, "NOT CHECKED: the archive's SHA-256 against the journal's seal line: journal.jsonl is missing") {
				t.Errorf("standard error:\n%s", stderr)
			}
		})
	}

	// A bag made whole with another key, its journal left out: only the
	// journal's absence fails; the root and the key to compare are said.
	bag := recordBag(t, other, changed)
	if err := os.Remove(filepath.Join(bag, seal.JournalFile)); err != nil {
		t.Fatal(err)
	}
	dest, out, stderr, code := extractAll(t, bag)
	root, err := os.ReadFile(filepath.Join(bag, seal.RootFile))
	if err != nil {
		t.Fatal(err)
	}
	if code != exitVerifyFailed || !strings.Contains(out, "FAIL  journal.jsonl: missing") ||
		!strings.Contains(stderr, "NOT CHECKED: root "+strings.TrimSpace(string(root))+" and key "+seal.KeyFingerprint(other.Public().(ed25519.PublicKey))) {
		t.Errorf("forged whole: exit %d\n%s\n%s", code, out, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(dest, seal.BagDir, "data/fs/b")); err != nil || string(b) != changed {
		t.Errorf("forged whole: the manifest, signed, proves data/fs/b: %q, %v", b, err)
	}
}

// A journal that breaks fails; the files after the break, which it does
// not record, are kept on the signed manifest's word, and said to be
// unchecked against it.
func TestExtractBrokenJournal(t *testing.T) {
	bag := extractBag(t)
	p := filepath.Join(bag, seal.JournalFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	lines[2] = bytes.Replace(lines[2], []byte(`"seq":3`), []byte(`"seq":9`), 1) // data/fs/b's line
	if err := os.WriteFile(p, bytes.Join(lines, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	dest, out, stderr, code := extractAll(t, bag)
	if code != exitVerifyFailed || !strings.Contains(out, "FAIL  journal.jsonl: line 3: ") ||
		!strings.Contains(stderr, "NOT CHECKED: 1 files against the journal, which does not record them") {
		t.Errorf("exit %d\n%s\n%s", code, out, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(dest, seal.BagDir, "data/fs/b")); err != nil || string(b) != "beta\n" {
		t.Errorf("data/fs/b, proven by the manifest: %q, %v", b, err)
	}
}
