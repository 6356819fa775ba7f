package seal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testItems are the payloads of the test bag: text, binary, empty, odd
// names.
var testItems = []struct {
	name string
	data []byte
}{
	{"fs/etc/passwd", []byte("root:x:0:0:root:/root:/bin/bash\n")},
	{"fs/var/log/big.log", bytes.Repeat([]byte("Nov 22 sshd[42]: Accepted publickey for root\n"), 50000)},
	{"fs/empty", nil},
	{"fs/bin/rand", randBytes(1, 300000)},
	{"fs/odd/new\nline\\back%pct^caret\xff", []byte("odd")},
	{"live/proc/net/tcp", []byte("  sl  local_address rem_address   st\n")},
}

func randBytes(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// makeBag writes and seals a bag with testItems in a new folder and
// returns its path.
func makeBag(t testing.TB) (string, *Sealed) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "case_host_20261122T000000Z")
	w, err := Create(dir, Options{Collection: "test", Tool: "scelle test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range testItems {
		res, err := w.Put(context.Background(), Entry{Name: it.name, Size: int64(len(it.data)), ModTime: time.Unix(1e9, 0)}, bytes.NewReader(it.data))
		if err != nil {
			t.Fatal(err)
		}
		if res.SHA256 != sha256.Sum256(it.data) {
			t.Fatalf("%s: hash mismatch", it.name)
		}
	}
	var info BagInfo
	info.Add("External-Identifier", "case-1")
	s, err := w.Seal([]byte(`{"record":true}`+"\n"), info)
	if err != nil {
		t.Fatal(err)
	}
	return dir, s
}

func TestRoundTrip(t *testing.T) {
	dir, s := makeBag(t)
	if _, err := os.Stat(dir + PartialSuffix); !os.IsNotExist(err) {
		t.Fatalf("partial folder left behind: %v", err)
	}
	rep, err := Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("verify failed: %+v", rep.Failed())
	}
	if rep.Root != s.Root || rep.Proven != len(testItems) {
		t.Fatalf("root %s want %s, proven %d", rep.Root, s.Root, rep.Proven)
	}
}

func TestEncodeName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"fs/etc/passwd", "fs/etc/passwd"},
		{"a\nb", "a^0Ab"},
		{`a\b%c^d`, "a^5Cb^25c^5Ed"},
		{"x/../y/./z//w", "x/^2E^2E/y/^2E/z/w"},
		{"\xff\xfe", "^FF^FE"},
		{"café", "café"},
		{"evil\u202egpj.exe", "evil^E2^80^AEgpj.exe"},
		{"zero\u200bwidth/nb\u00a0sp", "zero^E2^80^8Bwidth/nb^C2^A0sp"},
		{"\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629"}, // letters of any script are kept
	} {
		got := EncodeName(tc.in)
		if got != tc.want {
			t.Errorf("EncodeName(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !ValidName(got) {
			t.Errorf("EncodeName(%q) = %q is not valid", tc.in, got)
		}
		back, err := DecodeName(got)
		clean := strings.Join(strings.FieldsFunc(tc.in, func(r rune) bool { return r == '/' }), "/")
		if err != nil || back != clean {
			t.Errorf("DecodeName(%q) = %q, %v; want %q", got, back, err, clean)
		}
	}
	// Bags written before hidden characters were escaped hold them raw:
	// they stay valid names.
	if !ValidName("evil\u202egpj.exe") || !ValidName("zero\u200bwidth") {
		t.Error("ValidName refuses a name with a raw bidirectional or zero-width character")
	}
}

// TestTamper changes one byte at random offsets of every file of the
// output folder and expects verification to fail and name the file.
func TestTamper(t *testing.T) {
	dir, _ := makeBag(t)
	files := []string{ArchiveFile, ArchiveSumFile, RecordFile, RootFile, SigFile, PubFile, JournalFile}
	rng := rand.New(rand.NewSource(7))
	for _, name := range files {
		orig, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 12; i++ {
			off := rng.Intn(len(orig))
			mod := append([]byte(nil), orig...)
			mod[off] ^= byte(1 + rng.Intn(255))
			if err := os.WriteFile(filepath.Join(dir, name), mod, 0o644); err != nil {
				t.Fatal(err)
			}
			rep, err := Verify(dir)
			if err != nil {
				t.Fatalf("%s@%d: %v", name, off, err)
			}
			if rep.OK() {
				t.Fatalf("%s: byte %d changed, verify still OK", name, off)
			}
			named := false
			for _, c := range rep.Failed() {
				if strings.Contains(c.Where, name) || strings.Contains(c.Detail, name) {
					named = true
				}
			}
			if !named {
				t.Errorf("%s@%d: no failed check names the file: %+v", name, off, rep.Failed())
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), orig, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rep, _ := Verify(dir)
	if !rep.OK() {
		t.Fatalf("restored bag fails: %+v", rep.Failed())
	}
}

// TestTruncate cuts the archive and journal of an unsealed bag at random
// offsets: every item proven must really be whole, none claimed beyond.
func TestTruncate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cut")
	w, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, it := range testItems {
		res, err := w.Put(context.Background(), Entry{Name: it.name, Size: int64(len(it.data))}, bytes.NewReader(it.data))
		if err != nil {
			t.Fatal(err)
		}
		want[res.Path] = hex.EncodeToString(res.SHA256[:])
	}
	w.Abort("test")
	pdir := dir + PartialSuffix
	arch, _ := os.ReadFile(filepath.Join(pdir, ArchiveFile))
	rng := rand.New(rand.NewSource(3))
	for i := 0; i < 40; i++ {
		cut := rng.Intn(len(arch))
		if err := os.WriteFile(filepath.Join(pdir, ArchiveFile), arch[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		rep, err := Verify(pdir)
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK() {
			t.Fatalf("cut at %d: verify OK", cut)
		}
		for _, it := range rep.Items {
			if it.Proven && want[it.Path] != it.SHA256 {
				t.Fatalf("cut at %d: %s proven with a wrong hash", cut, it.Path)
			}
		}
		// Every item whose frame ends before the cut must be proven.
		proven := map[string]bool{}
		for _, it := range rep.Items {
			proven[it.Path] = it.Proven
		}
		jc, _ := checkJournalFile(localFolder(pdir), JournalFile, nil, true)
		for _, e := range jc.Entries {
			if e.Type == JournalItem && *e.End <= int64(cut) && !proven[e.Path] {
				t.Fatalf("cut at %d: %s (frame ends %d) not proven", cut, e.Path, *e.End)
			}
		}
	}
}

// TestEncodeNameLong: a component too long once encoded is shortened with a
// hash, within NAME_MAX, distinct for distinct names.
func TestEncodeNameLong(t *testing.T) {
	a := EncodeName("fs/" + strings.Repeat("\xe9", 200))
	b := EncodeName("fs/" + strings.Repeat("\xe9", 201))
	for _, e := range []string{a, b} {
		comp := e[len("fs/"):]
		if len(comp) > MaxComponent || !strings.Contains(comp, "^7E") || !ValidName(e) {
			t.Fatalf("%q: %d bytes", e, len(comp))
		}
	}
	if a == b {
		t.Fatal("two long names encode alike")
	}
	if got := EncodeName(strings.Repeat("x", 255)); got != strings.Repeat("x", 255) {
		t.Fatal("a 255-byte name was changed")
	}
}

func ExampleEncodeName() {
	fmt.Println(EncodeName("fs/tmp/a\nb%"))
	// Output: fs/tmp/a^0Ab^25
}

var _ = io.EOF

// dataThenError yields data, then fails.
type dataThenError struct {
	data []byte
	err  error
}

func (f *dataThenError) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestPutUnknownSizeError: an item of unknown size whose reader fails after
// some bytes is stored with those bytes, not zeros, and the error returned.
func TestPutUnknownSizeError(t *testing.T) {
	w, err := Create(filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort("test")
	boom := fmt.Errorf("boom")
	res, err := w.Put(context.Background(), Entry{Name: "x", Size: -1}, &dataThenError{data: []byte("valid records\n"), err: boom})
	if err != boom {
		t.Fatalf("error %v, want boom", err)
	}
	if res.Size != 14 || res.Padded != 0 || res.SHA256 != sha256.Sum256([]byte("valid records\n")) {
		t.Fatalf("stored %+v", res)
	}
}
