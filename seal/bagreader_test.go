package seal

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// readBag reads the bag at dir to its end with a BagReader, reading the
// content of the entries read says to (the others are left to Next), and
// returns the summary, Err, and the error each entry's reading ended with.
func readBag(t *testing.T, dir string, opts ReadOptions, read func(e *BagEntry) bool) (ReadSummary, error, map[string]error) {
	t.Helper()
	br, err := OpenBag(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	ends := map[string]error{}
	for br.Next() {
		e := br.Entry()
		if read == nil || !read(e) {
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, e)
		ends[e.Path] = err
		sum, ok := e.SHA256()
		if n != e.Size || (err == nil || errors.Is(err, ErrMismatch)) != ok || ok && !bytes.Equal(sum[:], h.Sum(nil)) {
			t.Fatalf("%s: read %d of %d bytes (%v); SHA256 %x, %v; read %x", e.Path, n, e.Size, err, sum, ok, h.Sum(nil))
		}
	}
	if br.Journal() == nil && !opts.IgnoreJournal {
		t.Fatal("no journal check")
	}
	return br.Summary(), br.Err(), ends
}

// every reads every other entry: Next reads the others.
func everyOther() func(*BagEntry) bool {
	n := 0
	return func(*BagEntry) bool { n++; return n%2 == 1 }
}

func TestBagReaderClean(t *testing.T) {
	dir, _ := makeBag(t)
	archive, err := hashFile(filepath.Join(dir, ArchiveFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, items := range []bool{false, true} {
		t.Run(fmt.Sprintf("items=%v", items), func(t *testing.T) {
			sum, err, ends := readBag(t, dir, ReadOptions{Items: items}, everyOther())
			if err != nil {
				t.Fatalf("Err: %v; findings %v", err, sum.Findings)
			}
			for p, err := range ends {
				if err != nil {
					t.Errorf("%s: %v", p, err)
				}
			}
			n := len(testItems)
			if sum.Entries != n+6 || sum.Payload != n || sum.Claimed != n || sum.Unclaimed != 0 || sum.Missing != 0 ||
				sum.NFindings != 0 || sum.MaybeRepeated || sum.SHA256 != archive || sum.Ciphertext != nil {
				t.Fatalf("summary %+v", sum)
			}
			var octets int64
			for _, it := range testItems {
				octets += int64(len(it.data))
			}
			if sum.Octets != octets {
				t.Fatalf("%d payload bytes, want %d", sum.Octets, octets)
			}
		})
	}
}

// changedBag is the hostile base bag with its archive rebuilt, each entry
// in a frame of its own, with change applied to each entry (false: left
// out), and named by its .sha256.
func changedBag(t *testing.T, change func(a *archiveBuilder, e *bagEntry) bool) string {
	t.Helper()
	baseDir, base := hostileBase(t)
	return hostileFolder(t, baseDir, base, hostileCase{build: func(t testing.TB, a *archiveBuilder, base []bagEntry) {
		copyEntries(t, a, base, func(e *bagEntry) bool { return change(a, e) })
		a.end()
	}})
}

// findingOf returns the finding of findings about path checked with with.
func findingOf(findings []*MismatchError, path, with string) *MismatchError {
	for _, m := range findings {
		if m.Path == path && m.With == with {
			return m
		}
	}
	return nil
}

// One changed byte in an entry whose frame still decodes: reading it ends
// with a finding that names it, against its journal line, whether the
// caller reads the entry or Next does; the manifest's check names it too.
func TestBagReaderChangedEntry(t *testing.T) {
	changed := "data/" + hostileItems[1].name
	dir := changedBag(t, func(_ *archiveBuilder, e *bagEntry) bool {
		if e.path == changed {
			e.data = bytes.Clone(e.data)
			e.data[1000] ^= 0x20
		}
		return true
	})
	for _, tc := range []struct {
		name string
		opts ReadOptions
		read func(*BagEntry) bool
	}{
		{"read", ReadOptions{}, func(*BagEntry) bool { return true }},
		{"skipped", ReadOptions{}, nil},
		{"items", ReadOptions{Items: true}, everyOther()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum, err, ends := readBag(t, dir, tc.opts, tc.read)
			var m *MismatchError
			if !errors.As(err, &m) || !errors.Is(err, ErrMismatch) || m.Path != changed || m.With != JournalFile || m.Line != 3 {
				t.Fatalf("Err: %v, want the finding that %s does not match journal line 3", err, changed)
			}
			if !strings.Contains(err.Error(), changed+": does not match the journal") {
				t.Errorf("Err: %q does not name %s", err, changed)
			}
			if end, read := ends[changed]; read && !errors.Is(end, m) {
				t.Errorf("the read of %s ended with %v, not with the finding", changed, end)
			}
			for p, end := range ends {
				if p != changed && end != nil {
					t.Errorf("%s: %v", p, end)
				}
			}
			if tc.opts.Items {
				if findingOf(sum.Findings, changed, ManifestFile) == nil {
					t.Errorf("the manifest's check does not name %s: %v", changed, sum.Findings)
				}
			} else if findingOf(sum.Findings, ManifestFile, PayloadDir) == nil {
				t.Errorf("the manifest's check holds: %v", sum.Findings)
			}
			if sum.Claimed != len(hostileItems) || sum.Missing != 0 || sum.Unclaimed != 0 {
				t.Errorf("summary %+v", sum)
			}
		})
	}
}

// An entry the journal does not record, and an item it records that the
// archive does not hold, are findings of a sealed bag.
func TestBagReaderExtraAndMissing(t *testing.T) {
	last := "data/" + hostileItems[len(hostileItems)-1].name
	extra := changedBag(t, func(a *archiveBuilder, e *bagEntry) bool {
		if e.path == BagRecordFile {
			a.file("data/fs/planted", []byte("planted\n"))
		}
		return true
	})
	missing := changedBag(t, func(_ *archiveBuilder, e *bagEntry) bool { return e.path != last })
	for _, items := range []bool{false, true} {
		t.Run(fmt.Sprintf("items=%v", items), func(t *testing.T) {
			sum, err, _ := readBag(t, extra, ReadOptions{Items: items}, nil)
			if m := findingOf(sum.Findings, "data/fs/planted", JournalFile); m == nil || !errors.Is(err, ErrMismatch) || sum.Unclaimed != 1 {
				t.Errorf("extra entry: Err %v, findings %v, %d unclaimed", err, sum.Findings, sum.Unclaimed)
			}
			if items && findingOf(sum.Findings, "data/fs/planted", ManifestFile) == nil {
				t.Errorf("extra entry: not named by the manifest's check: %v", sum.Findings)
			}

			sum, err, _ = readBag(t, missing, ReadOptions{Items: items}, nil)
			m := findingOf(sum.Findings, last, JournalFile)
			if m == nil || m.Line != 4 || !errors.Is(err, ErrMismatch) || sum.Missing != 1 || sum.Claimed != len(hostileItems)-1 {
				t.Errorf("missing entry: Err %v, findings %v, %d missing", err, sum.Findings, sum.Missing)
			}
			if items && findingOf(sum.Findings, last, ManifestFile) == nil {
				t.Errorf("missing entry: not named by the manifest's check: %v", sum.Findings)
			}
		})
	}
}

// A bag never sealed: the entries are checked against the journal; one
// it does not record (yet) is counted, not a finding.
func TestBagReaderUnsealed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bag")
	w, err := Create(dir, Options{Collection: "test", Tool: "scelle test", Now: fixedNow()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort("test over")
	for _, it := range hostileItems {
		if _, err := w.Put(context.Background(), Entry{Name: it.name, Size: int64(len(it.data))}, bytes.NewReader(it.data)); err != nil {
			t.Fatal(err)
		}
	}
	w.fr.idle()
	if err := w.sync(); err != nil {
		t.Fatal(err)
	}
	partial := dir + PartialSuffix
	sum, err, _ := readBag(t, partial, ReadOptions{}, nil)
	if err != nil || sum.Claimed != len(hostileItems) || sum.Entries != 1+len(hostileItems) {
		t.Fatalf("Err %v, summary %+v", err, sum)
	}

	// The last journal line lost: its item is unclaimed.
	p := filepath.Join(partial, JournalFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	if err := os.WriteFile(p, bytes.Join(lines[:len(lines)-2], nil), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err, _ = readBag(t, partial, ReadOptions{}, nil)
	if err != nil || sum.Claimed != len(hostileItems)-1 || sum.Unclaimed != 1 {
		t.Fatalf("Err %v, summary %+v", err, sum)
	}
}

// A caller that stops early closes the reader: the goroutines that read
// the journal and the manifest end, and the entry can no longer be read.
func TestBagReaderCloseEarly(t *testing.T) {
	dir, _ := makeBag(t)
	before := runtime.NumGoroutine()
	for _, stopAt := range []string{BagitFile, "data/" + testItems[1].name, ManifestFile} {
		br, err := OpenBag(dir, ReadOptions{Items: true})
		if err != nil {
			t.Fatal(err)
		}
		var e *BagEntry
		for br.Next() {
			if e = br.Entry(); e.Path == stopAt {
				break
			}
		}
		if _, err := e.Read(make([]byte, 10)); err != nil {
			t.Fatalf("%s: %v", stopAt, err)
		}
		if err := br.Close(); err != nil {
			t.Fatal(err)
		}
		if br.Next() {
			t.Fatalf("%s: Next after Close", stopAt)
		}
		if _, err := e.Read(make([]byte, 10)); err == nil {
			t.Fatalf("%s: read after Close", stopAt)
		}
	}
	for i := 0; runtime.NumGoroutine() > before; i++ {
		if i == 100 {
			t.Fatalf("%d goroutines left running, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond) // goroutines that have closed their channels still return
	}
}

// An encrypted bag is decrypted as it is read, the ciphertext checked
// against its .sha256 and the journal's seal line.
func TestBagReaderEncrypted(t *testing.T) {
	ids := testIdentities(t, 2)
	dir := makeFixedBag(t, ids[0].Recipient())
	if _, err := OpenBag(dir, ReadOptions{}); !errors.Is(err, ErrEncrypted) {
		t.Fatalf("no identity: %v", err)
	}
	if _, err := OpenBag(dir, ReadOptions{Identities: []age.Identity{ids[1]}}); !errors.Is(err, ErrWrongIdentity) {
		t.Fatalf("wrong identity: %v", err)
	}
	sum, err, _ := readBag(t, dir, ReadOptions{Identities: []age.Identity{ids[1], ids[0]}}, everyOther())
	if err != nil || sum.Ciphertext == nil || sum.Claimed != len(testItems) {
		t.Fatalf("Err %v, summary %+v", err, sum)
	}
	want, err := hashFile(filepath.Join(dir, EncryptedArchiveFile))
	if err != nil || *sum.Ciphertext != want {
		t.Fatalf("ciphertext SHA-256 %x, want %x (%v)", *sum.Ciphertext, want, err)
	}

	// The archive file alone: no journal, no files beside it.
	br, err := OpenBag(filepath.Join(dir, EncryptedArchiveFile), ReadOptions{Identities: []age.Identity{ids[0]}})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	for br.Next() {
	}
	if err := br.Err(); err != nil || br.Journal() != nil || br.Summary().Entries != len(testItems)+6 {
		t.Fatalf("archive file alone: %v, %+v", err, br.Summary())
	}
}

// Every hostile folder is refused: the archive does not decode, or a
// check fails, within the same time and memory bounds as Verify.
func TestBagReaderHostile(t *testing.T) {
	baseDir, base := hostileBase(t)
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			skipHuge(t, tc)
			dir := hostileFolder(t, baseDir, base, tc)
			for _, items := range []bool{false, true} {
				var err error
				var sum ReadSummary
				bounded(t, fmt.Sprintf("BagReader (items %v)", items), func() {
					sum, err, _ = readBag(t, dir, ReadOptions{Items: items}, nil)
				})
				if err == nil && !(sum.MaybeRepeated && !items) {
					t.Errorf("items %v: read without a finding: %+v", items, sum)
				}
				if tc.readerErr != "" && (err == nil || !containsAny(err.Error(), tc.readerErr)) {
					t.Errorf("items %v: %v, want an error with %q", items, err, tc.readerErr)
				}
			}
		})
	}
}

// Reading a bag keeps a few bytes an entry, whatever their number (the
// names' hashes), as Verify's lean pass does: no manifest, no journal
// lines. The journal, read alongside, holds a bounded number of lines in
// flight.
func TestBagReaderMemoryPerEntry(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's shadow memory is no measure")
	}
	if testing.Short() {
		t.Skip("short")
	}
	dir := filepath.Join(t.TempDir(), "bag")
	w, err := Create(dir, Options{Collection: "test", Tool: "scelle test", Now: fixedNow()})
	if err != nil {
		t.Fatal(err)
	}
	const n = 45000
	for i := range n {
		name := fmt.Sprintf("fs/srv/a-rather-long-folder-name/%08d/some-file-name.conf", i)
		if _, err := w.Put(context.Background(), Entry{Name: name, Size: 1, ModTime: time.Unix(1e9, 0)}, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Seal([]byte("{}\n"), BagInfo{}); err != nil {
		t.Fatal(err)
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC() // and what sync.Pools kept
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	// growth reads the bag and returns how much the heap grew between the
	// 5,000th and the last payload entry.
	growth := func(opts ReadOptions) float64 {
		br, err := OpenBag(dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer br.Close()
		var before, after uint64
		for i := 0; br.Next(); i++ {
			switch i {
			case 5000:
				before = heap()
			case n:
				after = heap()
			}
		}
		if err := br.Err(); err != nil {
			t.Fatal(err)
		}
		return float64(after) - float64(before)
	}
	per := growth(ReadOptions{IgnoreJournal: true}) / (n - 5000)
	t.Logf("the archive's reading keeps %.1f bytes an entry", per)
	if per > 40 {
		t.Fatalf("the reader keeps %.0f bytes an entry", per)
	}
	// With the journal: its lines in flight (batches parsed ahead, items
	// handed over) come and go; 40,000 lines kept would be 40 MiB.
	grew := growth(ReadOptions{})
	t.Logf("with the journal, the heap grew by %.0f KiB over %d entries", grew/1024, n-5000)
	if grew > 4<<20 {
		t.Fatalf("the heap grew by %.0f KiB over %d entries", grew/1024, n-5000)
	}
}

func ExampleOpenBag() {
	parent, err := os.MkdirTemp("", "scelle-bag")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(parent)
	dir := filepath.Join(parent, "case_host_20261122T000000Z")
	w, err := Create(dir, Options{Collection: "example", Tool: "scelle example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	hostname := "box\n"
	if _, err := w.Put(context.Background(), Entry{Name: "fs/etc/hostname", Size: int64(len(hostname))}, strings.NewReader(hostname)); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := w.Seal([]byte("{}\n"), BagInfo{}); err != nil {
		fmt.Println(err)
		return
	}

	br, err := OpenBag(dir, ReadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer br.Close()
	for br.Next() {
		e := br.Entry()
		if e.Path != "data/fs/etc/hostname" {
			continue // read, hashed and checked by Next
		}
		// A mismatch ends the copy with an error that wraps ErrMismatch.
		if _, err := io.Copy(os.Stdout, e); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := br.Err(); err != nil {
		fmt.Println(err)
		return
	}
	s := br.Summary()
	fmt.Printf("%d entries, %d payload entries, %d recorded by the journal\n", s.Entries, s.Payload, s.Claimed)
	// Output:
	// box
	// 7 entries, 1 payload entries, 1 recorded by the journal
}

// FuzzBagReader changes bytes of a real bag's archive and cuts it, with
// its .sha256 rewritten to name the result and the journal left aside (so
// that neither catches the change by the archive's hash alone): the
// BagReader never panics or hangs, and reads the archive without a
// finding only when every entry it yields has the original's path and
// content.
func FuzzBagReader(f *testing.F) {
	base := makeSmallBag(f, hostileItems)
	arch, err := os.ReadFile(filepath.Join(base, ArchiveFile))
	if err != nil {
		f.Fatal(err)
	}
	orig, err := readAll(arch)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint32(0), byte(0), uint32(0), byte(0), uint32(0))
	f.Add(uint32(orig[1].at+40), byte(1), uint32(0), byte(0), uint32(0))
	f.Add(uint32(orig[2].at+10), byte(8), uint32(0), byte(0), uint32(orig[4].at))
	f.Add(uint32(len(arch)-20), byte(0xff), uint32(orig[3].at+6), byte(2), uint32(0))
	f.Fuzz(func(t *testing.T, off uint32, x byte, off2 uint32, x2 byte, cut uint32) {
		data := bytes.Clone(arch)
		data[int(off)%len(data)] ^= x
		data[int(off2)%len(data)] ^= x2
		if c := int(cut) % (len(data) + 1); c > 0 {
			data = data[:c]
		}
		dir := filepath.Join(t.TempDir(), "bag")
		copyDir(t, base, dir)
		sum := sha256.Sum256(data)
		if err := os.WriteFile(filepath.Join(dir, ArchiveFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ArchiveSumFile), []byte(fmt.Sprintf("%x  %s\n", sum, ArchiveFile)), 0o644); err != nil {
			t.Fatal(err)
		}
		withTimeout(t, func() {
			br, err := OpenBag(dir, ReadOptions{IgnoreJournal: true, Items: x2&1 == 1})
			if err != nil {
				failf("OpenBag: %v", err)
			}
			defer br.Close()
			var got []bagEntry
			for br.Next() {
				e := br.Entry()
				io.Copy(io.Discard, e)
				s, _ := e.SHA256()
				got = append(got, bagEntry{path: e.Path, data: s[:]})
			}
			if br.Err() != nil {
				return
			}
			if len(got) != len(orig) {
				failf("read %d entries without a finding, the bag holds %d", len(got), len(orig))
			}
			for i, e := range got {
				if s := sha256.Sum256(orig[i].data); e.path != orig[i].path || !bytes.Equal(e.data, s[:]) {
					failf("entry %d is %s, was %s, content same: %v; read without a finding", i+1, e.path, orig[i].path, bytes.Equal(e.data, s[:]))
				}
			}
		})
	})
}

// editBag copies the small base bag and applies change to the copy.
func editBag(t *testing.T, change func(dir string)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bag")
	copyDir(t, makeSmallBag(t, hostileItems), dir)
	change(dir)
	return dir
}

// journalLines reads the bag at dir and returns the journal line of each
// entry, by path.
func journalLines(t *testing.T, dir string, opts ReadOptions) (ReadSummary, map[string]int) {
	t.Helper()
	br, err := OpenBag(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	lines := map[string]int{}
	for br.Next() {
		e := br.Entry()
		io.Copy(io.Discard, e)
		lines[e.Path] = e.JournalLine()
	}
	return br.Summary(), lines
}

// The tag manifest's signature is checked with root.pub.pem's key, which
// must be the journal's: Signed says the manifests are what that key
// signed, and Root and Key are given to be compared with the ones noted.
func TestBagReaderSignature(t *testing.T) {
	pub := testKey.Public().(ed25519.PublicKey)
	clean := editBag(t, func(string) {})
	root, err := os.ReadFile(filepath.Join(clean, RootFile))
	if err != nil {
		t.Fatal(err)
	}
	sum, lines := journalLines(t, clean, ReadOptions{Items: true})
	if sum.NFindings != 0 || !sum.Signed || sum.Root+"\n" != string(root) || sum.Key != KeyFingerprint(pub) {
		t.Fatalf("a clean bag: %+v", sum)
	}
	for i, it := range hostileItems {
		if got := lines["data/"+it.name]; got != i+2 {
			t.Errorf("data/%s: journal line %d, want %d", it.name, got, i+2)
		}
	}
	if lines[BagitFile] != 0 || lines[TagManifestFile] != 0 {
		t.Errorf("tag files with a journal line: %v", lines)
	}

	// resign signs the tag manifest again with another key, and puts that
	// key in root.pub.pem.
	resign := func(dir string) {
		other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
		pem, err := PublicKeyPEM(other.Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		br, err := OpenBag(dir, ReadOptions{IgnoreJournal: true})
		if err != nil {
			t.Fatal(err)
		}
		var tmBytes []byte
		for br.Next() {
			if e := br.Entry(); e.Path == TagManifestFile {
				tmBytes, _ = io.ReadAll(e)
			}
		}
		br.Close()
		os.WriteFile(filepath.Join(dir, PubFile), pem, 0o644)
		os.WriteFile(filepath.Join(dir, SigFile), ed25519.Sign(other, tmBytes), 0o644)
	}
	for _, tc := range []struct {
		name       string
		change     func(dir string)
		opts       ReadOptions
		path, with string
		signed     bool
	}{
		{"signature changed", func(dir string) {
			p := filepath.Join(dir, SigFile)
			b, _ := os.ReadFile(p)
			b[10] ^= 1
			os.WriteFile(p, b, 0o644)
		}, ReadOptions{}, TagManifestFile, SigFile, false},
		{"signature missing", func(dir string) { os.Remove(filepath.Join(dir, SigFile)) }, ReadOptions{}, SigFile, "", false},
		{"key not a key", func(dir string) { os.WriteFile(filepath.Join(dir, PubFile), []byte("no\n"), 0o644) }, ReadOptions{}, PubFile, PubFile, false},
		{"root missing", func(dir string) { os.Remove(filepath.Join(dir, RootFile)) }, ReadOptions{}, RootFile, "", false},
		{"archive sum missing", func(dir string) { os.Remove(filepath.Join(dir, ArchiveSumFile)) }, ReadOptions{}, ArchiveSumFile, "", true},
		// Signed again with another key: the bag holds together, but the
		// journal is signed with the first.
		{"signed again", resign, ReadOptions{}, JournalFile, PubFile, true},
		{"signed again, key given", resign, ReadOptions{Key: pub}, PubFile, PubFile, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum, _ := journalLines(t, editBag(t, tc.change), tc.opts)
			if findingOf(sum.Findings, tc.path, tc.with) == nil || sum.Signed != tc.signed {
				t.Errorf("signed %v, findings %v; want one on %s against %q", sum.Signed, sum.Findings, tc.path, tc.with)
			}
		})
	}
}

// A folder without its journal, or whose journal breaks, does not end
// with its seal line, is a finding; the lines before a break still prove
// the entries they record.
func TestBagReaderJournalHolds(t *testing.T) {
	editJournal := func(f func(lines [][]byte) [][]byte) func(dir string) {
		return func(dir string) {
			p := filepath.Join(dir, JournalFile)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			lines := bytes.SplitAfter(b, []byte("\n"))
			os.WriteFile(p, bytes.Join(f(lines[:len(lines)-1]), nil), 0o644)
		}
	}
	second := "data/" + hostileItems[1].name
	for _, tc := range []struct {
		name   string
		change func(dir string)
		line   int // the finding's line
		proven []string
	}{
		{"missing", func(dir string) { os.Remove(filepath.Join(dir, JournalFile)) }, 0, nil},
		{"line changed", editJournal(func(l [][]byte) [][]byte {
			l[2] = bytes.Replace(l[2], []byte(`"seq":3`), []byte(`"seq":9`), 1)
			return l
		}), 3, []string{"data/" + hostileItems[0].name}},
		{"seal line removed", editJournal(func(l [][]byte) [][]byte { return l[:len(l)-1] }), len(hostileItems) + 1,
			[]string{"data/" + hostileItems[0].name, second, "data/" + hostileItems[2].name}},
		{"cut short", editJournal(func(l [][]byte) [][]byte {
			l[len(l)-1] = l[len(l)-1][:20]
			return l
		}), len(hostileItems) + 2, []string{"data/" + hostileItems[0].name, second, "data/" + hostileItems[2].name}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum, lines := journalLines(t, editBag(t, tc.change), ReadOptions{Items: true})
			m := findingOf(sum.Findings, JournalFile, JournalFile)
			if tc.line == 0 {
				m = findingOf(sum.Findings, JournalFile, "")
			}
			if m == nil || m.Line != tc.line {
				t.Fatalf("findings %v; want one on %s, line %d", sum.Findings, JournalFile, tc.line)
			}
			var proven []string
			for _, it := range hostileItems {
				if lines["data/"+it.name] > 0 {
					proven = append(proven, "data/"+it.name)
				}
			}
			if fmt.Sprint(proven) != fmt.Sprint(tc.proven) {
				t.Errorf("proven by the journal: %v, want %v", proven, tc.proven)
			}
			if !sum.Signed {
				t.Errorf("the signature no longer holds: %v", sum.Findings)
			}
		})
	}
}

// Without the journal beside the archive, its copy in the bag stands in
// for it: it must hold, and its item lines make the manifest.
func TestBagReaderJournalCopy(t *testing.T) {
	first := "data/" + hostileItems[0].name
	noJournal := func(dir string) {
		if err := os.Remove(filepath.Join(dir, JournalFile)); err != nil {
			t.Fatal(err)
		}
	}
	dir := editBag(t, noJournal)
	sum, _ := journalLines(t, dir, ReadOptions{Items: true})
	if sum.NFindings != 1 || findingOf(sum.Findings, JournalFile, "") == nil {
		t.Fatalf("no journal: findings %v, want the journal's absence alone", sum.Findings)
	}

	// A payload file and its manifest line changed: the copy says
	// otherwise.
	var old, now [32]byte
	dir = changedBag(t, func(_ *archiveBuilder, e *bagEntry) bool {
		switch e.path {
		case first:
			old = sha256.Sum256(e.data)
			e.data = []byte("changed\n")
			e.hdr.Size = int64(len(e.data))
			now = sha256.Sum256(e.data)
		case ManifestFile:
			e.data = bytes.Replace(e.data, fmt.Appendf(nil, "%x", old), fmt.Appendf(nil, "%x", now), 1)
		}
		return true
	})
	noJournal(dir)
	for _, items := range []bool{false, true} {
		sum, _ = journalLines(t, dir, ReadOptions{Items: items})
		if findingOf(sum.Findings, BagJournalFile, ManifestFile) == nil || findingOf(sum.Findings, first, ManifestFile) != nil {
			t.Errorf("items %v: findings %v, want one that the copy does not make the manifest", items, sum.Findings)
		}
	}
}
