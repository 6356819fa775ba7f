package seal

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"filippo.io/age"
	sha256 "github.com/minio/sha256-simd"
)

// ErrMismatch is wrapped by every finding of a BagReader: an entry, or a
// file beside the archive, that is not what the bag's journal, manifests,
// root or archive sums say.
var ErrMismatch = errors.New("the bag does not match its journal, manifests or sums")

// MismatchError is one finding of a BagReader. It wraps ErrMismatch.
type MismatchError struct {
	// Path is what differs: an entry, by its bag path ("data/...",
	// "manifest-sha256.txt"), or a file beside the archive
	// ("evidence.tar.zst").
	Path string
	// With is what it was checked against: JournalFile, ManifestFile,
	// TagManifestFile, RootFile, SigFile, PubFile, ArchiveSumFile or
	// EncryptedArchiveSumFile; PayloadDir for the manifest checked against
	// the payload; "" for the layout of the archive (docs/format.md
	// section 3.2) or of the folder (a file of a sealed bag missing).
	With string
	// Line is the journal line concerned, for a finding against the
	// journal; 0 otherwise.
	Line   int
	Detail string
}

func (e *MismatchError) Error() string { return e.Path + ": " + e.Detail }
func (e *MismatchError) Unwrap() error { return ErrMismatch }

// maxFindings bounds the findings a BagReader keeps without
// ReadOptions.Items; it counts them all.
const maxFindings = 20

// ReadOptions configure OpenBag.
type ReadOptions struct {
	// Identities decrypt an encrypted archive (evidence.tar.zst.age) as it
	// is read; no plaintext is written anywhere.
	Identities []age.Identity
	// Key is the key the journal must be signed with (root.pub.pem's, for
	// a sealed bag). Nil: the key of the journal's open line, which makes
	// the journal consistent with itself, not with a known key.
	Key ed25519.PublicKey
	// IgnoreJournal reads the archive without the journal beside it: the
	// payload is then checked against the manifest only.
	IgnoreJournal bool
	// Items keeps every entry's path, size and SHA-256, so that the
	// manifest is checked line by line and every entry or line that
	// differs is named, and every finding is kept. Memory then grows with
	// the bag (about 0.5 KB an entry). Without it, the manifest is checked
	// whole against the payload, in memory that does not grow with the
	// bag, and the first 20 findings are kept (all are counted).
	Items bool
}

// ReadSummary says what a BagReader read and found. It is complete once
// Next has returned false.
type ReadSummary struct {
	Entries int   // entries read whole
	Payload int   // payload entries ("data/...") among them
	Octets  int64 // the payload's bytes
	// Claimed counts the payload entries that the journal's item lines
	// record, in archive order; Unclaimed those after its last item line
	// (written just before a cut, in a bag never sealed: no finding then),
	// and Missing the item lines after the last payload entry.
	Claimed, Unclaimed, Missing int
	// Findings are the findings, in the order found: all of them with
	// ReadOptions.Items, the first 20 without. NFindings counts them all.
	Findings  []*MismatchError
	NFindings int
	// MaybeRepeated: without ReadOptions.Items, an entry name may appear
	// twice (names are told apart by a 64-bit hash); read the bag again
	// with Items to know.
	MaybeRepeated bool
	// SHA256 is the plaintext archive's SHA-256, as read; Ciphertext the
	// SHA-256 of evidence.tar.zst.age, when the folder holds one.
	SHA256     [32]byte
	Ciphertext *[32]byte
	// Root is the root (the hex SHA-256 of the archive's tag manifest),
	// when the archive holds one; Key the fingerprint of root.pub.pem's
	// key, when the folder holds one that parses.
	Root, Key string
	// Signed: the tag manifest is the archive's last entry, hashes to
	// root.txt, and root.sig is its Ed25519 signature by root.pub.pem's
	// key (which is ReadOptions.Key, when given). What the tag manifest
	// lists is then what that key signed, and each finding names what
	// differs from it. It says nothing of who holds the key: compare Root
	// and Key with the ones noted when the bag was sealed.
	Signed bool
}

// BagReader reads a bag's archive entry by entry, in one pass, and checks
// every entry against what the bag says of it, as archive/tar's Reader
// reads a tar stream:
//
//	br, err := seal.OpenBag(dir, seal.ReadOptions{})
//	if err != nil { ... }
//	defer br.Close()
//	for br.Next() {
//		e := br.Entry() // e.Path, e.Size, e.Header; e.Read gives the content
//	}
//	if err := br.Err(); err != nil { ... } // errors.Is(err, seal.ErrMismatch): a finding
//
// What each entry is checked against:
//
//   - a payload entry, against the next item line of the journal beside
//     the archive (read alongside, its chain and signatures checked):
//     same path, size and SHA-256;
//   - bagit.txt, against the BagIt declaration;
//   - the payload as a whole, against the manifest (ReadOptions.Items:
//     line by line, naming each difference);
//   - the tag files, against the tag manifest; the tag manifest, against
//     root.txt and its signature root.sig, with root.pub.pem's key; the
//     archive, against evidence.tar.zst.sha256 (and the ciphertext
//     against evidence.tar.zst.age.sha256); the journal's copy in the
//     bag, the archive's SHA-256 and the root, against the journal's seal
//     line;
//   - a folder that holds signs of a sealed bag (a tag manifest in the
//     archive, root.txt, root.sig, root.pub.pem, the archive's .sha256),
//     against the files a sealed bag has: each one missing is a finding.
//
// The content of an entry comes through its Read, hashed as it goes. An
// entry that the caller does not read whole is read and hashed by Next,
// so every entry is checked. When the content of an entry differs from
// its journal line or from the BagIt declaration, its Read returns the
// *MismatchError in place of io.EOF, after the last bytes: a caller that
// writes the content somewhere must discard it. What the manifests, the
// root and the sums say of entries read before them is found at the end.
// Every finding is in Summary, and Err returns the first. Findings do not
// stop the iteration; an archive that does not decode does (Err then
// returns the *FrameError, *EntryError or *DecryptError).
//
// A folder without a journal is a finding (every bag has one); its
// payload is then checked, at the end, against the manifest and the
// journal's copy in the bag (which must hold, signed with root.pub.pem's
// key, and whose item lines must make the manifest). A journal whose
// chain or signatures break is a finding, and Journal returns its check:
// a line that does not hold checks no entry. In a sealed bag, so is a
// journal that does not end with its seal line, or that is signed with
// another key than root.pub.pem's. With a journal that ends with a seal
// line, a payload entry it does not record is a finding; without one (a
// bag never sealed), it is only counted (ReadSummary.Unclaimed), and
// BagEntry.JournalLine says which entries a line proves.
//
// Memory does not grow with the bag's entries (8 bytes a name), unless
// ReadOptions.Items. The journal's lines are not kept.
//
// A BagReader is used by one goroutine; an entry is read before the next
// call to Next. OpenBag opens the archive and the journal, and the caller
// must call Close, which closes them and stops the goroutines that read
// the journal and the manifest; after Close, no entry can be read.
type BagReader struct {
	opts ReadOptions
	dir  folder // the output folder; none() for an archive file read alone

	f      fs.File     // the archive file
	cipher hash.Hash   // the ciphertext's SHA-256, when read through age
	plain  *hashBehind // the plaintext archive's SHA-256, made on another goroutine
	// content makes the entries' SHA-256 on another goroutine.
	content *behind
	src     io.Reader // the plaintext, through plain; nil when age refused it
	ar      *ArchiveReader
	s       *archiveScan
	cur     *BagEntry
	buf     []byte
	j       *journalFeed

	pub ed25519.PublicKey // root.pub.pem's key, once read
	// noJournal: a folder without journal.jsonl; copyJC is then the check
	// of the journal's copy in the bag, read in its place.
	noJournal bool
	copyJC    *JournalCheck
	stopErr   error // what ended the iteration early (also s.err)
	fatal     error // a file could not be read: there is no verdict
	finished  bool
	closed    bool
	sum       ReadSummary
	missing   []journalItem // the first item lines after the last payload entry
}

// BagEntry is the entry a BagReader is at. Its Read gives the content.
type BagEntry struct {
	ArchiveEntry
	r       *BagReader
	h       hash.Hash
	n       int64
	keep    *bytes.Buffer
	man     *io.PipeWriter
	manDone chan error
	end     bool
	endErr  error
	sum     [32]byte
	line    int // the journal line that records it, once read whole
}

var (
	errEntryGone = errors.New("seal: entry read after Next")
	errClosed    = errors.New("seal: bag reader closed")
)

// Read reads the entry's content. At its end it returns io.EOF, or the
// *MismatchError that says how the content differs from what was known
// before it (its journal line, the BagIt declaration).
func (e *BagEntry) Read(p []byte) (int, error) {
	if e.end {
		return 0, e.endErr
	}
	if e.r.cur != e {
		return 0, errEntryGone
	}
	n, err := e.r.ar.Read(p)
	if n > 0 {
		e.consume(p[:n])
	}
	switch {
	case err == io.EOF:
		e.end, e.endErr = true, io.EOF
		if m := e.r.endEntry(e, nil); m != nil {
			e.endErr = m
			return n, m
		}
	case err != nil:
		e.end, e.endErr = true, err
		e.r.endEntry(e, err)
	}
	return n, err
}

// JournalLine returns the line of the journal that records the entry,
// once it has been read whole and matches that line (path, size and
// SHA-256): a line that holds, signed with the journal's key (which is
// ReadOptions.Key, when given). It returns 0 for an entry that no such
// line records: a tag file, an entry past the journal's last item line
// or its first broken line, an entry that differs from its line, or any
// entry without a journal.
func (e *BagEntry) JournalLine() int { return e.line }

// SHA256 returns the SHA-256 of the entry's content, once it has been
// read whole (ok).
func (e *BagEntry) SHA256() (sum [32]byte, ok bool) {
	return e.sum, e.end && (e.endErr == io.EOF || errors.Is(e.endErr, ErrMismatch))
}

func (e *BagEntry) consume(p []byte) {
	e.n += int64(len(p))
	e.r.content.write(e.h, p)
	if e.keep != nil {
		e.keep.Write(p)
	}
	if e.man != nil {
		// When the parser stops at a bad line, the pipe refuses writes;
		// keep hashing (manErr says why).
		ignoreErrors{e.man}.Write(p)
	}
}

// OpenBag opens the bag at path for reading: an output folder (sealed,
// or ".partial"), or an archive file alone (no journal, no files beside
// it). A folder's archive is evidence.tar.zst, or evidence.tar.zst.age
// decrypted with opts.Identities when they are given or when it is the
// only one. Without identities, an encrypted archive gives ErrEncrypted;
// identities that match none of its recipients give ErrWrongIdentity,
// unless the ciphertext is not the one sealed: the BagReader then says so.
func OpenBag(path string, opts ReadOptions) (*BagReader, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return openBag(localFolder(path), opts)
	}
	r := &BagReader{opts: opts, s: newScan(!opts.Items), buf: make([]byte, 1<<20)}
	if strings.HasSuffix(path, ".age") && len(opts.Identities) == 0 {
		return nil, ErrEncrypted
	}
	if r.f, err = os.Open(path); err != nil {
		return nil, err
	}
	return r.start(strings.HasSuffix(path, ".age"))
}

// OpenBagFS is OpenBag on the output folder at the root of fsys (a bag
// read from elsewhere, such as an S3 store); name is what findings call
// it.
func OpenBagFS(fsys fs.FS, name string, opts ReadOptions) (*BagReader, error) {
	return openBag(folder{path: name, fsys: fsys}, opts)
}

// openBag opens the bag of an output folder.
func openBag(dir folder, opts ReadOptions) (*BagReader, error) {
	r := &BagReader{opts: opts, s: newScan(!opts.Items), buf: make([]byte, 1<<20), dir: dir}
	archive, encrypted := ArchiveFile, false
	if dir.regular(EncryptedArchiveFile) && (len(opts.Identities) > 0 || !dir.regular(archive)) {
		archive, encrypted = EncryptedArchiveFile, true
	}
	if encrypted && len(opts.Identities) == 0 {
		return nil, ErrEncrypted
	}
	var err error
	if r.f, err = dir.open(archive); err != nil {
		return nil, err
	}
	if !opts.IgnoreJournal {
		r.j, err = startJournal(dir, JournalFile, opts.Key)
		switch {
		case errors.Is(err, os.ErrNotExist):
			// Every bag of format 1 has one, from its start
			// (docs/format.md section 2.4): the payload is then checked
			// against the manifest alone.
			r.noJournal = true
			r.find(&MismatchError{Path: JournalFile, Detail: "missing: the files are checked against the journal's copy in the bag (" + BagJournalFile + ") and the manifest"})
		case err != nil:
			r.f.Close()
			return nil, err
		}
	}
	return r.start(encrypted)
}

// start reads the archive's first bytes.
func (r *BagReader) start(encrypted bool) (*BagReader, error) {
	var err error
	var src io.Reader = r.f
	if encrypted {
		// Decrypted as it is read, the ciphertext hashed on the way.
		r.cipher = sha256.New()
		if src, err = NewDecryptReader(io.TeeReader(r.f, r.cipher), r.opts.Identities...); err != nil {
			if err = r.refused(err); err != nil {
				r.Close()
				return nil, err
			}
			return r, nil
		}
	}
	r.plain, r.content = newHashBehind(src, sha256.New()), newBehind()
	r.src = r.plain
	if r.ar, err = NewArchiveReader(r.src); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// refused handles age refusing the archive's header: a wrong identity
// is an error, unless the ciphertext is not the one sealed (its header
// was changed); a header that does not decode is a finding. Either ends
// the iteration before it starts.
func (r *BagReader) refused(err error) error {
	if !errors.Is(err, ErrWrongIdentity) && !errors.As(err, new(*DecryptError)) {
		return err
	}
	// Hash whatever age did not read.
	if _, cerr := io.Copy(r.cipher, r.f); cerr != nil {
		return cerr
	}
	var sum [32]byte
	copy(sum[:], r.cipher.Sum(nil))
	r.s.ageSum = &sum
	if errors.Is(err, ErrWrongIdentity) {
		b, rerr := r.dir.readSmall(EncryptedArchiveSumFile)
		if r.dir.none() || rerr != nil || string(b) == hex.EncodeToString(sum[:])+"  "+EncryptedArchiveFile+"\n" {
			return err
		}
		err = &DecryptError{Err: fmt.Errorf("the header does not open with the identities given (%w)", err)}
	}
	r.cipher = nil // hashed whole
	r.s.err, r.s.decErr, r.stopErr = err, err, err
	return nil
}

func newScan(lean bool) *archiveScan {
	return &archiveScan{byPath: map[string]int{}, tags: map[string][]byte{}, tagSums: map[string][32]byte{},
		manifest: map[string][32]byte{}, lean: lean, listing: sha256.New()}
}

// Next advances to the next entry, first reading (and checking) the rest
// of the current one. It returns false at the end of the archive or when
// the archive stops decoding; Err then says which.
func (r *BagReader) Next() bool {
	if r.closed {
		return false
	}
	if e := r.cur; e != nil {
		for !e.end {
			if _, err := e.Read(r.buf); err != nil {
				break
			}
		}
		r.cur = nil
	}
	if r.finished {
		return false
	}
	if r.stopErr != nil {
		r.finish()
		return false
	}
	ae, err := r.ar.Next()
	if err != nil {
		if err != io.EOF {
			r.stop(err)
		}
		r.finish()
		return false
	}
	e := &BagEntry{ArchiveEntry: *ae, r: r, h: sha256.New()}
	switch {
	case e.Path == ManifestFile && r.opts.Items:
		r.parseManifest(e)
	case e.Path == BagJournalFile && r.noJournal && r.copyJC == nil:
		r.parseJournalCopy(e)
	case !strings.HasPrefix(e.Path, PayloadDir+"/") && e.Size <= MaxTagFile:
		e.keep = &bytes.Buffer{}
	}
	r.cur = e
	return true
}

// Entry returns the current entry.
func (r *BagReader) Entry() *BagEntry { return r.cur }

// Err returns, once Next has returned false, what ended the iteration
// early (the archive does not decode, a file cannot be read), or else the
// first finding, wrapping ErrMismatch; nil when every check holds.
func (r *BagReader) Err() error {
	switch {
	case r.fatal != nil:
		return r.fatal
	case r.stopErr != nil:
		return r.stopErr
	case !r.finished || r.sum.NFindings == 0:
		return nil
	case r.sum.NFindings == 1:
		return r.sum.Findings[0]
	}
	return fmt.Errorf("%w (and %d more findings)", r.sum.Findings[0], r.sum.NFindings-1)
}

// Summary returns what was read and found.
func (r *BagReader) Summary() ReadSummary { return r.sum }

// Journal returns the check of the journal beside the archive, once Next
// has returned false; nil without one (or with ReadOptions.IgnoreJournal).
func (r *BagReader) Journal() *JournalCheck {
	if r.j == nil || !r.finished {
		return nil
	}
	return r.j.jc
}

// Close closes the files and stops the goroutines that read the journal
// and the manifest. The current entry can no longer be read.
func (r *BagReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if e := r.cur; e != nil && !e.end {
		if e.man != nil {
			e.man.CloseWithError(errClosed)
			<-e.manDone
			e.man = nil
		}
		e.end, e.endErr = true, errClosed
	}
	r.cur = nil
	if r.j != nil {
		r.j.stop()
	}
	if r.ar != nil {
		r.ar.Close()
	}
	if r.plain != nil {
		r.plain.Stop()
	}
	if r.content != nil {
		r.content.stop()
	}
	return r.f.Close()
}

func (r *BagReader) stop(err error) {
	if r.stopErr == nil {
		r.stopErr, r.s.err = err, err
	}
}

// find records a finding and returns it.
func (r *BagReader) find(m *MismatchError) *MismatchError {
	r.sum.NFindings++
	if r.opts.Items || len(r.sum.Findings) < maxFindings {
		r.sum.Findings = append(r.sum.Findings, m)
	}
	return m
}

// parseManifest parses the manifest as it is read (ReadOptions.Items):
// the payload comes before it, so each line is checked against the
// entries read; nothing is kept for a line that names none.
func (r *BagReader) parseManifest(e *BagEntry) {
	s := r.s
	pr, pw := io.Pipe()
	e.man, e.manDone = pw, make(chan error, 1)
	go func() {
		err := ReadManifest(pr, func(sum [32]byte, p string) error {
			if _, ok := s.byPath[p]; !ok || !strings.HasPrefix(p, PayloadDir+"/") {
				if s.nMissing++; len(s.missing) < 20 {
					s.missing = append(s.missing, p)
				}
				return nil
			}
			if _, dup := s.manifest[p]; dup {
				return fmt.Errorf("%s listed twice", p)
			}
			s.manifest[p] = sum
			s.mOrder = append(s.mOrder, p)
			return nil
		})
		pr.CloseWithError(err)
		e.manDone <- err
	}()
}

// parseJournalCopy checks the journal's copy in the bag as it is read, in
// place of a journal beside the archive that is missing.
func (r *BagReader) parseJournalCopy(e *BagEntry) {
	pr, pw := io.Pipe()
	e.man, e.manDone = pw, make(chan error, 1)
	go func() {
		jc, err := ScanJournal(pr, r.opts.Key, nil)
		pr.CloseWithError(err)
		r.copyJC = jc // read once manDone is received
		e.manDone <- nil
	}()
}

// endEntry records an entry read whole (err nil) and checks it against
// what was known before it; it returns the finding that names it, if
// any. An error ends the iteration.
func (r *BagReader) endEntry(e *BagEntry, err error) *MismatchError {
	s := r.s
	if e.man != nil {
		e.man.Close()
		if merr := <-e.manDone; merr != nil && s.manErr == nil {
			s.manErr = merr
		}
		e.man = nil
	}
	if err != nil {
		r.stop(err)
		return nil
	}
	copy(e.sum[:], r.content.sum(e.h))
	sumHex := hex.EncodeToString(e.sum[:])
	payload := strings.HasPrefix(e.Path, PayloadDir+"/")
	r.sum.Entries++
	if s.nEntries++; s.nEntries == 1 {
		s.first = e.Path
	}
	s.last = e.Path
	if payload {
		s.set.Add(e.Path, sumHex)
		s.nPayload++
		s.octets += e.Size
		s.listing.Write([]byte(ManifestLine(e.sum, e.Path)))
		r.sum.Payload, r.sum.Octets = s.nPayload, s.octets
	}
	if s.lean {
		if s.names.add(e.Path) > 1 {
			s.maybeDups = true
		}
	} else {
		if _, dup := s.byPath[e.Path]; dup {
			s.dups = append(s.dups, e.Path)
		}
		s.byPath[e.Path] = len(s.entries)
		s.entries = append(s.entries, Item{Path: e.Path, SHA256: sumHex, Size: e.Size})
	}
	if !payload {
		s.tagSums[e.Path] = e.sum
		if e.keep != nil {
			s.tags[e.Path] = e.keep.Bytes()
		}
	}
	switch {
	case payload:
		return r.checkJournalItem(e, sumHex)
	case e.Path == BagitFile && (e.keep == nil || e.keep.String() != bagitDeclaration):
		return r.find(&MismatchError{Path: BagitFile, Detail: "not a BagIt 1.0 declaration"})
	}
	return nil
}

// checkJournalItem checks a payload entry against the journal's next item
// line: the journal records the items in archive order.
func (r *BagReader) checkJournalItem(e *BagEntry, sumHex string) *MismatchError {
	if r.j == nil {
		return nil
	}
	it, ok := r.j.next()
	if !ok {
		r.sum.Unclaimed++
		if journalSealed(r.j.jc) {
			return r.find(&MismatchError{Path: e.Path, With: JournalFile, Detail: "not recorded by the journal, which is sealed"})
		}
		return nil
	}
	r.sum.Claimed++
	switch {
	case it.path != e.Path:
		return r.find(&MismatchError{Path: e.Path, With: JournalFile, Line: it.line,
			Detail: fmt.Sprintf("does not match the journal (line %d records %s here)", it.line, it.path)})
	case it.sha256 != sumHex || it.size >= 0 && it.size != e.n:
		return r.find(&MismatchError{Path: e.Path, With: JournalFile, Line: it.line, Detail: "does not match the journal"})
	}
	e.line = it.line
	return nil
}

// journalSealed reports whether the journal holds to its end, a seal line.
func journalSealed(jc *JournalCheck) bool {
	last := jc.Last()
	return jc.Err == nil && !jc.Truncated && last != nil && last.Type == JournalSeal
}

// finish reads what follows the archive's last entry, hashing it, waits
// for the journal and makes the checks of the end.
func (r *BagReader) finish() {
	if r.finished {
		return
	}
	r.finished = true
	s := r.s
	if r.src != nil {
		// Hash whatever the decoder did not reach.
		if _, err := io.Copy(io.Discard, r.src); err != nil {
			if !errors.As(err, new(*DecryptError)) {
				r.fatal = err
			}
			r.stop(err)
		}
		if de := new(DecryptError); errors.As(s.err, &de) {
			s.decErr = de
		}
		copy(s.sum[:], r.plain.Sum())
		r.sum.SHA256 = s.sum
	}
	switch {
	case r.fatal != nil:
	case r.cipher != nil:
		// Hash whatever age did not read.
		if _, err := io.Copy(r.cipher, r.f); err != nil {
			r.fatal = err
			break
		}
		var sum [32]byte
		copy(sum[:], r.cipher.Sum(nil))
		s.ageSum = &sum
	case s.ageSum == nil && !r.dir.none() && r.dir.regular(EncryptedArchiveFile):
		// Decrypted beside the ciphertext (age -d -o evidence.tar.zst).
		sum, err := r.dir.hashFile(EncryptedArchiveFile)
		if err != nil {
			r.fatal = err
			break
		}
		s.ageSum = &sum
	}
	r.sum.Ciphertext = s.ageSum
	if r.j != nil {
		for it := range r.j.items {
			if r.sum.Missing++; len(r.missing) < maxFindings {
				r.missing = append(r.missing, it)
			}
		}
		<-r.j.done
	}
	if r.fatal == nil && r.stopErr == nil {
		r.checkEnd()
	}
}

// checkEnd makes the checks that need the whole archive: its layout, the
// payload against the manifest, the tag files against the tag manifest,
// and the archive against the files beside it and the journal.
func (r *BagReader) checkEnd() {
	s := r.s
	tm, tmKept := s.tags[TagManifestFile]
	_, tmSeen := s.tagSums[TagManifestFile]
	rootFile, rootErr := []byte(nil), os.ErrNotExist
	if !r.dir.none() {
		rootFile, rootErr = r.dir.readSmall(RootFile)
	}
	sealed := tmSeen || !errors.Is(rootErr, os.ErrNotExist) || r.sealedFolder()
	if sealed {
		// A sealed archive: bagit.txt first, the tag manifest last.
		if s.first != BagitFile {
			r.find(&MismatchError{Path: BagitFile, Detail: "not the first entry"})
		}
		if s.last != TagManifestFile {
			r.find(&MismatchError{Path: TagManifestFile, Detail: "missing, or not the last entry"})
		}
	}
	for _, p := range s.dups {
		r.find(&MismatchError{Path: p, Detail: "entry name repeated"})
	}
	r.sum.MaybeRepeated = s.maybeDups
	if ms, ok := s.tagSums[ManifestFile]; ok {
		r.checkManifest(ms)
	}
	if tmKept {
		r.checkTagManifest(tm)
	} else if tmSeen {
		r.find(&MismatchError{Path: TagManifestFile, Detail: fmt.Sprintf("larger than %d bytes", MaxTagFile)})
	}
	if tmKept {
		got := sha256.Sum256(tm)
		r.sum.Root = hex.EncodeToString(got[:])
	}
	rootOK := false
	switch {
	case errors.Is(rootErr, os.ErrNotExist):
	case rootErr != nil:
		r.find(&MismatchError{Path: RootFile, With: RootFile, Detail: rootErr.Error()})
	case !tmKept:
		r.find(&MismatchError{Path: TagManifestFile, With: RootFile, Detail: "not in the archive, whose root " + RootFile + " names"})
	case string(rootFile) != r.sum.Root+"\n":
		r.find(&MismatchError{Path: TagManifestFile, With: RootFile, Detail: fmt.Sprintf("hashes to %s, not to the root %q of %s",
			r.sum.Root, strings.TrimSpace(string(rootFile)), RootFile)})
	default:
		rootOK = s.last == TagManifestFile
	}
	if !r.dir.none() {
		r.checkSignature(tm, tmKept, rootOK)
		if sealed {
			r.checkSealFiles()
		}
		r.checkSumFile(ArchiveFile, ArchiveSumFile, s.sum)
		if s.ageSum != nil {
			r.checkSumFile(EncryptedArchiveFile, EncryptedArchiveSumFile, *s.ageSum)
		}
	}
	switch {
	case r.j != nil:
		r.checkJournalEnd(tm, tmKept, sealed)
	case r.copyJC != nil:
		r.checkJournalCopy()
	}
}

// checkJournalCopy checks the payload against the journal's copy in the
// bag, in place of the journal beside the archive, which is missing: the
// copy holds (chain and signatures), with root.pub.pem's key, and its
// item lines make the manifest, line for line. The copy is the journal
// up to its seal line, which it does not hold.
func (r *BagReader) checkJournalCopy() {
	s, jc := r.s, r.copyJC
	switch {
	case jc.Err != nil:
		r.find(&MismatchError{Path: BagJournalFile, With: BagJournalFile, Line: jc.Err.Line,
			Detail: fmt.Sprintf("line %d: %v; the %d lines before it hold", jc.Err.Line, jc.Err.Err, jc.Count)})
	case jc.Truncated || jc.Count == 0:
		r.find(&MismatchError{Path: BagJournalFile, With: BagJournalFile, Line: jc.Count + 1, Detail: "empty, or its last line cut short"})
	case r.pub != nil && !r.pub.Equal(jc.Key):
		r.find(&MismatchError{Path: BagJournalFile, With: PubFile, Line: 1, Detail: fmt.Sprintf("signed with key %s; %s holds key %s",
			KeyFingerprint(jc.Key), PubFile, r.sum.Key)})
	case jc.listing != s.tagSums[ManifestFile] || jc.items != s.nPayload:
		r.find(&MismatchError{Path: BagJournalFile, With: ManifestFile, Detail: "its item lines do not make the manifest"})
	}
}

// checkManifest checks the payload against the manifest, whose SHA-256 is
// ms: whole (the lines the payload makes, in archive order), or, with
// ReadOptions.Items, line by line.
func (r *BagReader) checkManifest(ms [32]byte) {
	s := r.s
	if s.lean {
		if ms != s.listingSum() {
			r.find(&MismatchError{Path: ManifestFile, With: PayloadDir, Detail: "does not list the payload as it decodes"})
		}
		return
	}
	if s.manErr != nil {
		r.find(&MismatchError{Path: ManifestFile, With: ManifestFile, Detail: s.manErr.Error()})
		return
	}
	for _, e := range s.entries {
		if !strings.HasPrefix(e.Path, PayloadDir+"/") {
			continue
		}
		switch m, ok := s.manifest[e.Path]; {
		case !ok:
			r.find(&MismatchError{Path: e.Path, With: ManifestFile, Detail: "not in the manifest"})
		case hex.EncodeToString(m[:]) != e.SHA256:
			r.find(&MismatchError{Path: e.Path, With: ManifestFile, Detail: "does not match the manifest"})
		}
	}
	for _, p := range s.missing {
		if !strings.HasPrefix(p, PayloadDir+"/") {
			r.find(&MismatchError{Path: p, With: ManifestFile, Detail: "listed in the payload manifest, outside " + PayloadDir + "/"})
		} else {
			r.find(&MismatchError{Path: p, With: ManifestFile, Detail: "listed in the manifest, not in the archive"})
		}
	}
	r.sum.NFindings += s.nMissing - len(s.missing)
}

// checkTagManifest checks the tag files against the tag manifest tm.
func (r *BagReader) checkTagManifest(tm []byte) {
	s := r.s
	listed := map[string]bool{}
	err := ReadManifest(bytes.NewReader(tm), func(sum [32]byte, p string) error {
		listed[p] = true
		switch got, ok := s.tagSums[p]; {
		case !ok:
			r.find(&MismatchError{Path: p, With: TagManifestFile, Detail: "listed in the tag manifest, not in the archive"})
		case got != sum:
			r.find(&MismatchError{Path: p, With: TagManifestFile, Detail: "does not match the tag manifest"})
		}
		return nil
	})
	if err != nil {
		r.find(&MismatchError{Path: TagManifestFile, With: TagManifestFile, Detail: err.Error()})
	}
	var unlisted []string
	for _, n := range []string{BagitFile, BagInfoFile, ManifestFile, BagRecordFile, BagJournalFile} {
		if _, present := s.tagSums[n]; !listed[n] && !present {
			unlisted = append(unlisted, n)
		}
	}
	for p := range s.tagSums {
		if p != TagManifestFile && !listed[p] {
			unlisted = append(unlisted, p)
		}
	}
	sort.Strings(unlisted)
	for _, p := range unlisted {
		r.find(&MismatchError{Path: p, With: TagManifestFile, Detail: "not in the tag manifest"})
	}
}

// sealedFolder reports whether the folder holds a file that only sealing
// writes: root.txt, root.sig, root.pub.pem, the archive's .sha256, or a
// journal whose last line that holds is its seal line.
func (r *BagReader) sealedFolder() bool {
	if r.dir.none() {
		return false
	}
	if r.j != nil {
		if last := r.j.jc.Last(); last != nil && last.Type == JournalSeal {
			return true
		}
	}
	for _, n := range []string{RootFile, SigFile, PubFile, ArchiveSumFile, EncryptedArchiveSumFile} {
		if _, err := r.dir.lstat(n); err == nil {
			return true
		}
	}
	return false
}

// checkSealFiles names each file a sealed bag has beside its archive that
// is missing, or not a regular file (docs/format.md section 8.1).
func (r *BagReader) checkSealFiles() {
	names := []string{ArchiveSumFile, RootFile, SigFile, PubFile}
	if r.s.ageSum != nil {
		names = append(names, EncryptedArchiveSumFile)
	}
	for _, n := range names {
		if !r.dir.regular(n) {
			r.find(&MismatchError{Path: n, Detail: "missing from a sealed bag, or not a regular file"})
		}
	}
}

// checkSignature checks root.sig, the Ed25519 signature over the tag
// manifest tm, with the key of root.pub.pem, which must be
// ReadOptions.Key when that is given. A file that is missing is left to
// checkSealFiles. tmKept: the archive holds tm; rootOK: tm is its last
// entry and hashes to root.txt; the summary then says Signed when the
// signature holds.
func (r *BagReader) checkSignature(tm []byte, tmKept, rootOK bool) {
	b, err := r.dir.readSmall(PubFile)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err == nil {
		r.pub, err = ParsePublicKeyPEM(b)
	}
	if err != nil {
		r.find(&MismatchError{Path: PubFile, With: PubFile, Detail: err.Error()})
		return
	}
	r.sum.Key = KeyFingerprint(r.pub)
	if r.opts.Key != nil && !r.pub.Equal(r.opts.Key) {
		r.find(&MismatchError{Path: PubFile, With: PubFile, Detail: fmt.Sprintf("holds key %s, not the key %s the bag must be signed with",
			r.sum.Key, KeyFingerprint(r.opts.Key))})
		return
	}
	sig, err := r.dir.readSmall(SigFile)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		r.find(&MismatchError{Path: SigFile, With: SigFile, Detail: err.Error()})
	case !tmKept:
		// Named by the layout's check: there is nothing to check it over.
	case len(sig) != ed25519.SignatureSize || !ed25519.Verify(r.pub, tm, sig):
		r.find(&MismatchError{Path: TagManifestFile, With: SigFile, Detail: fmt.Sprintf("the Ed25519 signature %s does not verify with %s (key %s)",
			SigFile, PubFile, r.sum.Key)})
	default:
		r.sum.Signed = rootOK
	}
}

// checkSumFile checks that the file sumName beside the archive is exactly
// "<hex sum>  <name>" and a line feed, when there is one.
func (r *BagReader) checkSumFile(name, sumName string, sum [32]byte) {
	b, err := r.dir.readSmall(sumName)
	want := hex.EncodeToString(sum[:])
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		r.find(&MismatchError{Path: name, With: sumName, Detail: err.Error()})
	case string(b) != want+"  "+name+"\n":
		r.find(&MismatchError{Path: name, With: sumName, Detail: fmt.Sprintf("SHA-256 is %s; %s says %q", want, sumName, strings.TrimSpace(string(b)))})
	}
}

// checkJournalEnd reports the items the journal records after the last
// payload entry and, when it ends with its seal line, checks the journal's
// copy in the bag, the archive's SHA-256 (and the ciphertext's) and the
// root against that line.
func (r *BagReader) checkJournalEnd(tm []byte, tmKept, sealed bool) {
	s, jc := r.s, r.j.jc
	for _, it := range r.missing {
		r.find(&MismatchError{Path: it.path, With: JournalFile, Line: it.line, Detail: "recorded by the journal, not in the archive"})
	}
	r.sum.NFindings += r.sum.Missing - len(r.missing)
	r.checkJournalHolds(sealed)
	if !journalSealed(jc) {
		return
	}
	last, at := jc.Last(), jc.Count
	if sum, ok := s.tagSums[BagJournalFile]; ok && sum != jc.prefix {
		r.find(&MismatchError{Path: BagJournalFile, With: JournalFile, Line: at, Detail: "is not " + JournalFile + " beside the archive, up to its seal line"})
	}
	if got := hex.EncodeToString(s.sum[:]); got != last.ArchiveSHA256 {
		r.find(&MismatchError{Path: ArchiveFile, With: JournalFile, Line: at, Detail: fmt.Sprintf("SHA-256 is %s; the journal's seal line says %s", got, last.ArchiveSHA256)})
	}
	if s.ageSum != nil {
		if got := hex.EncodeToString(s.ageSum[:]); got != last.ArchiveAgeSHA256 {
			r.find(&MismatchError{Path: EncryptedArchiveFile, With: JournalFile, Line: at, Detail: fmt.Sprintf("SHA-256 is %s; the journal's seal line says %q", got, last.ArchiveAgeSHA256)})
		}
	}
	if tmKept {
		if got := sha256.Sum256(tm); hex.EncodeToString(got[:]) != last.Root {
			r.find(&MismatchError{Path: TagManifestFile, With: JournalFile, Line: at, Detail: fmt.Sprintf("hashes to %x; the journal's seal line says root %s", got, last.Root)})
		}
	}
}

// checkJournalHolds names a journal whose chain or signatures break, and
// in a sealed bag, one that does not end with its seal line or is signed
// with another key than root.pub.pem's. The lines before a break still
// check the entries they record; the entries after it are checked by
// nothing but the manifest.
func (r *BagReader) checkJournalHolds(sealed bool) {
	jc := r.j.jc
	last := jc.Last()
	switch {
	case jc.Err != nil:
		r.find(&MismatchError{Path: JournalFile, With: JournalFile, Line: jc.Err.Line,
			Detail: fmt.Sprintf("line %d: %v; the %d lines before it hold", jc.Err.Line, jc.Err.Err, jc.Count)})
	case !sealed:
	case jc.Truncated:
		r.find(&MismatchError{Path: JournalFile, With: JournalFile, Line: jc.Count + 1, Detail: "last line cut short, in a sealed bag"})
	case last == nil || last.Type != JournalSeal:
		r.find(&MismatchError{Path: JournalFile, With: JournalFile, Line: jc.Count, Detail: "does not end with a seal line, in a sealed bag"})
	case r.pub != nil && !r.pub.Equal(jc.Key):
		r.find(&MismatchError{Path: JournalFile, With: PubFile, Line: 1, Detail: fmt.Sprintf("signed with key %s; %s holds key %s",
			KeyFingerprint(jc.Key), PubFile, r.sum.Key)})
	}
}

// journalItem is what an item line of the journal says.
type journalItem struct {
	line         int
	path, sha256 string
	size         int64 // -1: not given
}

// journalFeed checks the journal in a goroutine and hands its item lines
// over in order, a bounded number at a time.
type journalFeed struct {
	items chan journalItem
	quit  chan struct{}
	done  chan struct{}
	jc    *JournalCheck // set once items is closed
}

func startJournal(dir folder, name string, key ed25519.PublicKey) (*journalFeed, error) {
	f, err := dir.open(name)
	if err != nil {
		return nil, err
	}
	j := &journalFeed{items: make(chan journalItem, 1024), quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(j.done)
		defer f.Close()
		defer close(j.items)
		line := 0
		j.jc, _ = checkJournal(quitReader{f, j.quit}, key, false, func(e *JournalEntry) {
			if line++; e.Type != JournalItem {
				return
			}
			it := journalItem{line: line, path: e.Path, sha256: e.SHA256, size: -1}
			if e.Size != nil {
				it.size = *e.Size
			}
			select {
			case j.items <- it:
			case <-j.quit:
			}
		})
	}()
	return j, nil
}

// next returns the next item line; false once the journal has no more.
func (j *journalFeed) next() (journalItem, bool) {
	it, ok := <-j.items
	return it, ok
}

// stop ends the reading early and waits for it.
func (j *journalFeed) stop() {
	select {
	case <-j.quit:
	default:
		close(j.quit)
	}
	for range j.items {
	}
	<-j.done
}

// quitReader reads r until quit is closed.
type quitReader struct {
	r    io.Reader
	quit <-chan struct{}
}

func (q quitReader) Read(p []byte) (int, error) {
	select {
	case <-q.quit:
		return 0, errClosed
	default:
	}
	return q.r.Read(p)
}
