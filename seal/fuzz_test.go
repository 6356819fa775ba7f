package seal

import (
	"archive/tar"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/scelle/scelle/internal/visible"

	"github.com/scelle/scelle/internal/vectors"
)

// Fuzz targets for every parser of bag bytes. Each asserts properties of
// what the parser accepts, not only that it does not panic. `go test`
// runs the seeds and testdata/fuzz; `go test -fuzz=FuzzX` searches.

// fuzzTimeout bounds one input; an input that takes longer is a hang.
const fuzzTimeout = 10 * time.Second

// maxExpansion bounds what zstd can make of n archive bytes: an RLE block
// of 3 header bytes and 1 byte stands for at most 128 KiB.
const maxExpansion = (128 << 10) / 4

// fuzzReadCap stops reading an input's content after this many bytes, to
// keep each input fast; the expansion bound is checked before.
const fuzzReadCap = 64 << 20

// fuzzFailure carries a verdict out of the goroutine that withTimeout
// runs (t.Fatal belongs to the test's goroutine).
type fuzzFailure string

func failf(format string, args ...any) { panic(fuzzFailure(fmt.Sprintf(format, args...))) }

// withTimeout runs fn in a goroutine, failing t if it does not return in
// fuzzTimeout; fn reports with failf.
func withTimeout(t *testing.T, fn func()) {
	t.Helper()
	type outcome struct {
		p     any
		stack []byte
	}
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			p := recover()
			done <- outcome{p, debug.Stack()}
		}()
		fn()
	}()
	select {
	case o := <-done:
		switch p := o.p.(type) {
		case nil:
		case fuzzFailure:
			t.Fatal(string(p))
		default:
			t.Fatalf("panic: %v\n%s", p, o.stack)
		}
	case <-time.After(fuzzTimeout):
		t.Fatalf("still running after %v", fuzzTimeout)
	}
}

// frozen returns the file name of each frozen v1 bag (package vectors),
// to seed a fuzz target with the bytes of bags made by an earlier scelle.
func frozen(f *testing.F, name string) [][]byte {
	f.Helper()
	files, err := vectors.Files(name)
	if err != nil {
		f.Fatal(err)
	}
	return files
}

// frozenEntries returns the entries of the frozen plain archive, in
// archive order.
func frozenEntries(f *testing.F) []bagEntry {
	f.Helper()
	var entries []bagEntry
	for _, arch := range frozen(f, ArchiveFile) {
		es, err := readAll(arch)
		if err != nil {
			f.Fatal(err)
		}
		entries = append(entries, es...)
	}
	return entries
}

// smallArchive is the archive of a small reproducible bag, and its
// entries.
func smallArchive(t testing.TB) ([]byte, []bagEntry) {
	t.Helper()
	dir := makeSmallBag(t, hostileItems)
	arch, err := os.ReadFile(filepath.Join(dir, ArchiveFile))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := readAll(arch)
	if err != nil {
		t.Fatal(err)
	}
	return arch, entries
}

// smallJournal is the journal of the same bag.
func smallJournal(t testing.TB) []byte {
	t.Helper()
	dir := makeSmallBag(t, hostileItems)
	j, err := os.ReadFile(filepath.Join(dir, JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// archiveOutcome is what reading an archive to its end yields.
type archiveOutcome struct {
	entries []bagEntry // content may be partial for the last one, when err is set
	err     error      // nil: a clean io.EOF
	capped  bool       // stopped at fuzzReadCap
}

// readArchiveChecked reads data with the ArchiveReader and checks the
// reader's contract as it goes: names, types, sizes, error types,
// offsets, the expansion bound. It reports with failf; run it under withTimeout.
func readArchiveChecked(data []byte) archiveOutcome {
	var out archiveOutcome
	ar, err := NewArchiveReader(bytes.NewReader(data))
	if err != nil {
		failf("NewArchiveReader: %v", err)
	}
	defer ar.Close()
	checkErr := func(err error) {
		var fe *FrameError
		var ee *EntryError
		switch {
		case errors.As(err, &fe):
			if fe.Index < 1 || fe.Offset < 0 || fe.Offset > fe.At || fe.At > int64(len(data)) {
				failf("FrameError locates nothing in %d bytes: index %d, offset %d, at %d: %v",
					len(data), fe.Index, fe.Offset, fe.At, err)
			}
		case errors.As(err, &ee):
			if ee.Path == "" {
				failf("EntryError without a path: %v", err)
			}
		default:
			failf("error %T is neither a *FrameError nor an *EntryError: %v", err, err)
		}
	}
	var total int64
	buf := make([]byte, 64<<10)
	for {
		e, err := ar.Next()
		if err == io.EOF {
			if ar.Offset() != int64(len(data)) {
				failf("clean end at offset %d of %d bytes", ar.Offset(), len(data))
			}
			if ar.Sum() != sha256.Sum256(data) {
				failf("clean end, Sum is not the SHA-256 of the archive")
			}
			if _, err := ar.Next(); err != io.EOF {
				failf("Next after the end: %v, want io.EOF", err)
			}
			return out
		}
		if err != nil {
			checkErr(err)
			out.err = err
			return out
		}
		switch {
		case e.Header == nil || e.Header.Name != BagDir+"/"+e.Path:
			failf("entry %q: header name does not match", e.Path)
		case !ValidName(e.Path):
			failf("entry %q: not a valid bag path", e.Path)
		case e.Header.Typeflag != tar.TypeReg:
			failf("entry %q: type %q", e.Path, e.Header.Typeflag)
		case e.Size < 0 || e.Size != e.Header.Size:
			failf("entry %q: size %d, header %d", e.Path, e.Size, e.Header.Size)
		case e.Frame < 1 || e.At < 0 || e.At > int64(len(data)):
			failf("entry %q: frame %d at %d of %d bytes", e.Path, e.Frame, e.At, len(data))
		}
		for k := range e.Header.PAXRecords {
			if strings.HasPrefix(k, "GNU.sparse.") {
				failf("entry %q: a GNU sparse entry was accepted", e.Path)
			}
		}
		be := bagEntry{hdr: e.Header, path: e.Path, at: e.At}
		var got int64
		for {
			n, err := ar.Read(buf)
			got += int64(n)
			total += int64(n)
			if total > maxExpansion*int64(len(data)) {
				failf("%d content bytes out of a %d byte archive", total, len(data))
			}
			if got > e.Size {
				failf("entry %q: read %d bytes, size %d", e.Path, got, e.Size)
			}
			if got <= 1<<20 {
				be.data = append(be.data, buf[:n]...)
			}
			if total > fuzzReadCap {
				out.entries = append(out.entries, be)
				out.capped = true
				return out
			}
			if err == io.EOF {
				if got != e.Size {
					failf("entry %q: io.EOF after %d of %d bytes", e.Path, got, e.Size)
				}
				be.complete = true
				break
			}
			if err != nil {
				checkErr(err)
				out.entries = append(out.entries, be)
				out.err = err
				return out
			}
			if n == 0 {
				failf("entry %q: Read returned 0 bytes and no error", e.Path)
			}
		}
		out.entries = append(out.entries, be)
	}
}

// FuzzArchiveReader feeds arbitrary bytes to the ArchiveReader: it never
// panics or hangs, yields at most what zstd can expand the input to,
// every entry it yields is a regular file with a valid bag path, no entry
// yields more (or, without an error, fewer) bytes than its size, and
// every error is a located *FrameError or *EntryError.
func FuzzArchiveReader(f *testing.F) {
	arch, base := smallArchive(f)
	f.Add(arch)
	for _, b := range frozen(f, ArchiveFile) {
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add(arch[:len(arch)/2])
	f.Add(arch[:base[2].at])
	f.Add([]byte{0x28, 0xB5, 0x2F, 0xFD})
	f.Add([]byte{0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 1, 2, 3, 4})
	for _, tc := range hostileCases() {
		switch tc.name {
		case "manifest-million-lines", "pax-gnu-sparse":
			continue
		}
		var b bytes.Buffer
		tc.build(f, newArchiveBuilder(f, &b), base)
		if b.Len() < 64<<10 {
			f.Add(b.Bytes())
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		withTimeout(t, func() { readArchiveChecked(data) })
	})
}

// FuzzFrames changes bytes of a real archive (zstd frame checksums on)
// and cuts it: the reader yields the original entries, with their
// original content, until it returns an error; it ends cleanly only with
// all of them, or, cut at the start of a frame, with those before it.
func FuzzFrames(f *testing.F) {
	arch, orig := smallArchive(f)
	f.Add(uint32(0), byte(0), uint32(0), byte(0), uint32(0))
	f.Add(uint32(4), byte(0x04), uint32(0), byte(0), uint32(0))            // first frame's descriptor: no checksum
	f.Add(uint32(orig[1].at+4), byte(0x20), uint32(0), byte(0), uint32(0)) // single segment flag
	f.Add(uint32(orig[1].at+40), byte(1), uint32(0), byte(0), uint32(0))
	f.Add(uint32(len(arch)-1), byte(0x80), uint32(0), byte(0), uint32(0)) // last checksum
	f.Add(uint32(len(arch)-20), byte(0xff), uint32(orig[3].at+6), byte(2), uint32(0))
	f.Add(uint32(0), byte(0), uint32(0), byte(0), uint32(orig[3].at))
	f.Add(uint32(0), byte(0), uint32(0), byte(0), uint32(orig[3].at+7))
	f.Add(uint32(orig[2].at+10), byte(8), uint32(0), byte(0), uint32(orig[4].at))
	f.Fuzz(func(t *testing.T, off uint32, x byte, off2 uint32, x2 byte, cut uint32) {
		data := bytes.Clone(arch)
		data[int(off)%len(data)] ^= x
		data[int(off2)%len(data)] ^= x2
		if c := int(cut) % (len(data) + 1); c > 0 {
			data = data[:c]
		}
		var out archiveOutcome
		withTimeout(t, func() { out = readArchiveChecked(data) })
		if out.capped {
			t.Fatalf("a changed small archive yields more than %d bytes", fuzzReadCap)
		}
		// Changed bytes must never come without an error. Entries before
		// the last are verified (the next header is in the next frame).
		// The last entry, when an error follows, was streamed from a
		// frame not yet verified (its header and first blocks come before
		// its checksum): it may differ, unless it was read to io.EOF.
		for i, e := range out.entries {
			if i >= len(orig) {
				t.Fatalf("entry %d (%s) beyond the %d of the archive", i+1, e.path, len(orig))
			}
			o := orig[i]
			same := e.path == o.path && e.hdr.Size == o.hdr.Size && (!e.complete || bytes.Equal(e.data, o.data))
			switch {
			case same:
			case i == len(out.entries)-1 && out.err != nil && !e.complete:
			case i == len(out.entries)-1 && out.err != nil:
				t.Fatalf("entry %d (%s): changed content read to its end without an error", i+1, e.path)
			default:
				t.Fatalf("entry %d is %s (%d bytes), was %s (%d bytes), content same: %v",
					i+1, e.path, e.hdr.Size, o.path, o.hdr.Size, bytes.Equal(e.data, o.data))
			}
		}
		if out.err != nil {
			return
		}
		if n := len(out.entries); n != len(orig) && !(n < len(orig) && int64(len(data)) == orig[n].at) {
			t.Fatalf("clean end after %d of %d entries, archive of %d bytes (not cut at a frame)", n, len(orig), len(data))
		}
	})
}

// FuzzJournal checks arbitrary bytes as a journal, and changes bytes of a
// real one: what CheckJournal accepts is consistent, and it never accepts
// a changed line: the lines it returns are the original's, byte for byte,
// and a change always costs a line, an error or a truncation.
func FuzzJournal(f *testing.F) {
	real := smallJournal(f)
	realLines := bytes.Split(bytes.TrimSuffix(real, []byte("\n")), []byte("\n"))
	pub := testKey.Public().(ed25519.PublicKey)
	f.Add(real, uint32(0), []byte{})
	for _, b := range frozen(f, JournalFile) {
		f.Add(b, uint32(0), []byte{})
	}
	f.Add([]byte{}, uint32(10), []byte("x"))
	f.Add(real[:len(real)-1], uint32(len(real)-7), []byte("x"))                   // the seal line's signature
	f.Add([]byte{}, uint32(len(real)-6), []byte("x"))                             // its last base64 digit: same signature
	f.Add(bytes.Repeat([]byte("{"), 2000), uint32(len(real)-1), []byte("}"))      // the last line feed
	f.Add([]byte("{\"seq\":1}\n"), uint32(len(realLines[0])), []byte{'\r'})       // a line feed
	f.Add(append(bytes.Clone(realLines[0]), '\n'), uint32(20), []byte("\"seq\"")) // the open line's JSON
	f.Add(real, uint32(len(realLines[0])+len(realLines[1])+2), bytes.Clone(realLines[3]))
	f.Fuzz(func(t *testing.T, data []byte, off uint32, patch []byte) {
		{
			c, err := CheckJournal(bytes.NewReader(data), nil)
			if err != nil {
				t.Fatalf("CheckJournal on bytes: %v", err)
			}
			checkJournalResult(t, c, data)

			mut := bytes.Clone(real)
			copy(mut[int(off)%len(mut):], patch)
			if bytes.Equal(mut, real) {
				return
			}
			for _, key := range []ed25519.PublicKey{nil, pub} {
				c, err := CheckJournal(bytes.NewReader(mut), key)
				if err != nil {
					t.Fatalf("CheckJournal: %v", err)
				}
				checkJournalResult(t, c, mut)
				for i, l := range c.Lines {
					if !bytes.Equal(l, realLines[i]) {
						t.Fatalf("line %d changed and accepted:\n%s\nwas\n%s", i+1, l, realLines[i])
					}
				}
				if c.Err == nil && !c.Truncated && len(c.Lines) == len(realLines) {
					t.Fatalf("journal changed at %d and every line holds", off)
				}
			}
		}
	})
}

// checkJournalResult checks a JournalCheck against the bytes it came
// from: its lines are lines of data, in order, from the first; they chain;
// rechecked alone they give the same entries and no error.
func checkJournalResult(t *testing.T, c *JournalCheck, data []byte) {
	t.Helper()
	if len(c.Entries) != len(c.Lines) {
		t.Fatalf("%d entries, %d lines", len(c.Entries), len(c.Lines))
	}
	if c.Err != nil && c.Truncated {
		t.Fatalf("both an error and a truncation")
	}
	if c.Err != nil && c.Err.Line != len(c.Lines)+1 {
		t.Fatalf("error on line %d after %d good lines", c.Err.Line, len(c.Lines))
	}
	if len(c.Lines) > 0 && c.Key == nil {
		t.Fatalf("lines hold without a key")
	}
	var prefix []byte
	prev := ZeroHash
	for i, l := range c.Lines {
		prefix = append(append(prefix, l...), '\n')
		e := c.Entries[i]
		switch {
		case bytes.IndexByte(l, '\n') >= 0:
			t.Fatalf("line %d holds a line feed", i+1)
		case e.Seq != int64(i+1):
			t.Fatalf("line %d has seq %d", i+1, e.Seq)
		case e.Prev != prev:
			t.Fatalf("line %d does not chain", i+1)
		case (i == 0) != (e.Type == JournalOpen):
			t.Fatalf("line %d is of type %q", i+1, e.Type)
		}
		prev = LineHash(l)
	}
	if !bytes.HasPrefix(data, prefix) {
		t.Fatalf("the lines that hold are not the start of the journal")
	}
	if len(c.Lines) == 0 {
		return
	}
	again, err := CheckJournal(bytes.NewReader(prefix), c.Key)
	if err != nil || again.Err != nil || again.Truncated || len(again.Lines) != len(c.Lines) {
		t.Fatalf("the %d lines that hold do not hold alone: %v %v", len(c.Lines), err, again.Err)
	}
}

// FuzzManifest parses arbitrary manifests, and formats and parses lines
// for arbitrary names: ReadManifest passes only valid paths; a line it
// accepts formats back to a line that parses the same; a line made by
// ManifestLine(sum, EncodeName(x)) parses back to (sum, EncodeName(x)).
func FuzzManifest(f *testing.F) {
	sum := sha256.Sum256([]byte("x"))
	f.Add([]byte(ManifestLine(sum, "data/fs/etc/passwd")), "fs/etc/passwd", sum[:])
	f.Add([]byte(strings.ToUpper(ManifestLine(sum, "data/a"))+"\r\n"), "a\nb", sum[:])
	f.Add([]byte(ManifestLine(sum, "data/a")[:64]+" *data/b\n"+ManifestLine(sum, "data/../x")), "../x", []byte{1})
	f.Add([]byte(ManifestLine(sum, "data/a")[:64]+"\t\tdata/b^2\n"), " lead", []byte{})
	f.Add([]byte(ManifestLine(sum, "data/a")[:64]+"  *data/b\n"), "*star", []byte{})
	f.Add([]byte(strings.Repeat("0", 64)+"  "+strings.Repeat("a", MaxManifestLine)+"\n"), "\xff\xfe/./..", []byte{})
	for _, e := range frozenEntries(f) {
		switch {
		case e.path == ManifestFile || e.path == TagManifestFile:
			f.Add(e.data, "fs/etc/passwd", sum[:])
		case strings.HasPrefix(e.path, PayloadDir+"/"):
			name, err := DecodeName(strings.TrimPrefix(e.path, PayloadDir+"/"))
			if err != nil {
				f.Fatal(err)
			}
			s := sha256.Sum256(e.data)
			f.Add([]byte(ManifestLine(s, e.path)), name, s[:])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, name string, sumBytes []byte) {
		var s [32]byte
		copy(s[:], sumBytes)
		n := 0
		err := ReadManifest(bytes.NewReader(data), func(got [32]byte, p string) error {
			n++
			checkManifestPath(t, got, p)
			return nil
		})
		if err == nil && n > bytes.Count(data, []byte("\n"))+1 {
			t.Fatalf("%d lines read from %d line feeds", n, bytes.Count(data, []byte("\n")))
		}
		if got, p, err := ParseManifestLine(string(data)); err == nil {
			checkManifestPath(t, got, p)
		}

		enc := EncodeName(name)
		if enc == "" {
			return
		}
		for _, p := range []string{PayloadDir + "/" + enc, enc} {
			line := ManifestLine(s, p)
			if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
				t.Fatalf("ManifestLine(%q) = %q: not one line", p, line)
			}
			got, gp, err := ParseManifestLine(strings.TrimSuffix(line, "\n"))
			if err != nil || got != s || gp != p {
				t.Fatalf("ManifestLine(%x, %q) parses to %x, %q, %v", s, p, got, gp, err)
			}
			var two []string
			err = ReadManifest(strings.NewReader(line+line), func(_ [32]byte, p string) error {
				two = append(two, p)
				return nil
			})
			if err != nil || len(two) != 2 || two[0] != p || two[1] != p {
				t.Fatalf("ReadManifest of two lines of %q: %q, %v", p, two, err)
			}
		}
	})
}

// checkManifestPath checks a path a manifest parser accepted, and that it
// formats back to a line that parses the same.
func checkManifestPath(t *testing.T, sum [32]byte, p string) {
	t.Helper()
	if !ValidName(p) || strings.ContainsAny(p, "\n\r") {
		t.Fatalf("manifest path %q is not a valid bag path", p)
	}
	line := ManifestLine(sum, p)
	got, gp, err := ParseManifestLine(strings.TrimSuffix(line, "\n"))
	if err != nil || got != sum || gp != p {
		t.Fatalf("path %q: formatted %q, parses to %q, %v", p, line, gp, err)
	}
}

// FuzzNames checks EncodeName and DecodeName on any bytes: the encoded
// name is valid, carries none of the bytes a manifest or sha256sum would
// misread, decodes to the name without its empty components, and encodes
// again to itself; a name ValidName accepts always decodes.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"fs/etc/passwd", "a\nb", `a\b%c^d`, "x/../y/./z//w", "\xff\xfe", "café",
		"/", "", "^2E", "..", "a\r", "\u2028\ufeff\u0085", "\xed\xa0\x80", "\ufffd", "\x7f", " *",
		"evil\u202egpj.exe", "zero\u200bwidth", "nb\u00a0sp", "\u2066x\u2069"} {
		f.Add(s)
	}
	for _, e := range frozenEntries(f) {
		if enc, ok := strings.CutPrefix(e.path, PayloadDir+"/"); ok {
			name, err := DecodeName(enc)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(enc)
			f.Add(name)
		}
	}
	f.Fuzz(func(t *testing.T, name string) {
		if ValidName(name) {
			if _, err := DecodeName(name); err != nil {
				t.Fatalf("ValidName(%q) but DecodeName: %v", name, err)
			}
			if strings.ContainsAny(name, "\n\r\\%\x00") {
				t.Fatalf("ValidName(%q) accepts a byte manifests cannot carry", name)
			}
		}
		var comps []string
		for _, c := range strings.Split(name, "/") {
			if c != "" {
				comps = append(comps, c)
			}
		}
		clean := strings.Join(comps, "/")
		enc := EncodeName(name)
		if clean == "" {
			if enc != "" {
				t.Fatalf("EncodeName(%q) = %q, want empty", name, enc)
			}
			return
		}
		switch {
		case !ValidName(enc):
			t.Fatalf("EncodeName(%q) = %q is not valid", name, enc)
		case strings.ContainsAny(enc, "\n\r\\%"):
			t.Fatalf("EncodeName(%q) = %q holds a byte a manifest cannot carry", name, enc)
		case !utf8.ValidString(enc):
			t.Fatalf("EncodeName(%q) = %q is not UTF-8", name, enc)
		case visible.String(enc) != enc:
			t.Fatalf("EncodeName(%q) = %q does not show as itself: %s", name, enc, visible.String(enc))
		}
		for _, c := range strings.Split(enc, "/") {
			if c == "." || c == ".." {
				t.Fatalf("EncodeName(%q) = %q has a %q component", name, enc, c)
			}
			if len(c) > MaxComponent {
				t.Fatalf("EncodeName(%q) has a component of %d bytes", name, len(c))
			}
		}
		if strings.Contains(enc, "^7E") {
			// A component too long for a file system was shortened, with
			// a hash: only the record keeps the original name.
			return
		}
		if EncodeName(enc) != strings.ReplaceAll(enc, "^", "^5E") && !strings.Contains(EncodeName(enc), "^7E") {
			t.Fatalf("EncodeName(%q) = %q is not stable", name, enc)
		}
		back, err := DecodeName(enc)
		if err != nil || back != clean {
			t.Fatalf("DecodeName(EncodeName(%q)) = %q, %v; want %q", name, back, err, clean)
		}
		if again := EncodeName(back); again != enc {
			t.Fatalf("EncodeName(DecodeName(%q)) = %q", enc, again)
		}
	})
}
