package seal

import (
	"bufio"
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

	"github.com/scelle/scelle/internal/fileio"
)

// Check is one verdict of a verification.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
	// Where names the file, entry or line that differs.
	Where string `json:"where,omitempty"`
}

// Item is an archived item's state after verification.
type Item struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// Proven: the content in the archive hashes to what the manifest (or,
	// for a bag cut short, the signed journal) records.
	Proven bool   `json:"proven"`
	Why    string `json:"why,omitempty"`
}

// Report is the result of verifying an output folder.
type Report struct {
	Dir    string  `json:"dir"`
	Sealed bool    `json:"sealed"` // the folder holds a sealed bag (root, signature)
	Root   string  `json:"root,omitempty"`
	Key    string  `json:"key_fingerprint,omitempty"`
	Checks []Check `json:"checks"`
	// Items lists every entry when a check failed or the bag is not
	// sealed; a sealed bag whose checks all hold is verified without
	// keeping them, and Proven counts them.
	Items []Item `json:"items,omitempty"`
	// Payload is the digest of the payload's (path, SHA-256) pairs, set
	// when the payload matches the manifest.
	Payload SetDigest `json:"-"`
	Proven  int       `json:"proven"`
	// Unproven counts items the journal claims that could not be proven.
	Unproven int `json:"unproven"`
	// ProvenPastDamage counts the proven items read from their own
	// frames, past the point where the archive stops decoding.
	ProvenPastDamage int `json:"proven_past_damage,omitempty"`
	// Unclaimed counts whole entries in the archive that no journal line
	// or manifest claims (written just before a cut).
	Unclaimed int `json:"unclaimed"`
	// Encrypted: the archive is evidence.tar.zst.age, encrypted with age.
	Encrypted bool `json:"encrypted,omitempty"`
	// ContentsUnverified: an encrypted archive checked without an
	// identity. The ciphertext's SHA-256, the journal and the files beside
	// the archive were checked; the archive's contents were not.
	ContentsUnverified bool `json:"contents_unverified,omitempty"`
}

// OK reports whether every check holds.
func (r *Report) OK() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return true
}

// Failed returns the checks that do not hold.
func (r *Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

func (r *Report) add(name string, ok bool, where, detail string, args ...any) {
	if len(args) > 0 {
		detail = fmt.Sprintf(detail, args...)
	}
	r.Checks = append(r.Checks, Check{Name: name, OK: ok, Where: where, Detail: detail})
}

// Check names, in the order they are reported.
const (
	CheckLayout       = "layout"
	CheckArchiveHash  = "archive-sha256"
	CheckAgeHash      = "archive-age-sha256" // encrypted bags only
	CheckArchive      = "archive"
	CheckPayload      = "payload"
	CheckOxum         = "payload-oxum"
	CheckTagManifest  = "tag-manifest"
	CheckRoot         = "root"
	CheckSignature    = "signature"
	CheckRecord       = "record"
	CheckJournalChain = "journal"
)

// archiveScan is what one pass over the archive learns.
type archiveScan struct {
	entries  []Item // in archive order, with computed hashes
	byPath   map[string]int
	tags     map[string][]byte // small tag files
	tagSums  map[string][32]byte
	manifest map[string][32]byte // lines that name an entry before the manifest
	mOrder   []string            // those paths, in manifest order
	// missing: the first lines that name no entry before the manifest;
	// nMissing counts them all.
	missing  []string
	nMissing int
	err      error // first decoding error; entries before it are whole
	sum      [32]byte
	dups     []string
	manErr   error
	// For an encrypted archive: the ciphertext's SHA-256 (nil when not
	// encrypted), and the error that stopped decryption (also in err).
	ageSum *[32]byte
	decErr error

	// A lean scan keeps nothing per entry (entries, byPath, manifest and
	// mOrder stay empty): the counts, the first and last names, the
	// SHA-256 of the manifest lines the payload entries make in archive
	// order, and a set of name hashes that tells when a name may repeat.
	lean      bool
	nEntries  int
	first     string
	last      string
	nPayload  int
	octets    int64
	listing   hash.Hash
	names     nameSet
	maybeDups bool
	// set is the digest of the payload entries, lean or not.
	set SetDigest
}

// VerifyOptions configure VerifyWith.
type VerifyOptions struct {
	// Items keeps every entry in Report.Items even when every check holds
	// (memory then grows with the bag's items).
	Items bool
	// Identities decrypt an encrypted archive (evidence.tar.zst.age) as it
	// is read; no plaintext is written anywhere. Without them, only the
	// ciphertext's SHA-256, the journal and the files beside the archive
	// of an encrypted bag are checked (Report.ContentsUnverified).
	Identities []age.Identity
}

// Verify checks the output folder dir (sealed, or ".partial"). It never
// writes. The error return is for a folder it cannot read at all; every
// finding is in the Report.
func Verify(dir string) (*Report, error) { return VerifyWith(dir, VerifyOptions{}) }

// VerifyWith is Verify, with identities to decrypt an encrypted archive.
// Identities that match none of its recipients give ErrWrongIdentity,
// unless the ciphertext differs from the one sealed (then the report
// says so).
func VerifyWith(dir string, opts VerifyOptions) (*Report, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", dir)
	}
	return verifyFolder(localFolder(dir), opts)
}

// VerifyFS is VerifyWith on the output folder at the root of fsys (the
// files of a bag read from elsewhere, such as an S3 store: nothing is
// written anywhere); name is what the report calls it. Each file is read
// as VerifyWith reads it; the archive, once or twice (once more when a
// check fails, to say which entries differ).
func VerifyFS(fsys fs.FS, name string, opts VerifyOptions) (*Report, error) {
	return verifyFolder(folder{path: name, fsys: fsys}, opts)
}

func verifyFolder(dir folder, opts VerifyOptions) (*Report, error) {
	rep := &Report{Dir: dir.path}
	present := dir.regular
	archiveName, layout := ArchiveFile, []string{ArchiveFile, ArchiveSumFile, RecordFile, RootFile, SigFile, PubFile, JournalFile}
	if present(EncryptedArchiveFile) {
		rep.Encrypted, archiveName = true, EncryptedArchiveFile
		layout = append([]string{EncryptedArchiveFile, EncryptedArchiveSumFile}, layout[1:]...)
	}
	var missing []string
	for _, n := range layout {
		if !present(n) {
			missing = append(missing, n)
		}
	}
	rep.Sealed = present(RootFile) && present(SigFile) && present(PubFile) && present(ArchiveSumFile)
	if !present(archiveName) || !present(JournalFile) {
		rep.add(CheckLayout, false, strings.Join(missing, ", "), "missing")
		return rep, nil
	}
	if len(missing) > 0 {
		rep.add(CheckLayout, false, strings.Join(missing, ", "), "missing: not a sealed bag; only what the journal proves holds")
	} else {
		rep.add(CheckLayout, true, "", "all files of a sealed bag present")
	}

	var pub ed25519.PublicKey
	if rep.Sealed {
		b, err := dir.readSmall(PubFile)
		if err == nil {
			pub, err = ParsePublicKeyPEM(b)
		}
		if err != nil {
			rep.add(CheckSignature, false, PubFile, "public key: %v", err)
			pub = nil
		} else {
			rep.Key = KeyFingerprint(pub)
		}
	}

	// A sealed bag is first verified in one lean pass, in memory that does
	// not grow with its items. Only when a check fails is it verified
	// again keeping every entry, to say which ones differ.
	decrypted := present(ArchiveFile)
	if !opts.Items && rep.Sealed && len(missing) == 0 && pub != nil && (!rep.Encrypted || len(opts.Identities) > 0 || decrypted) {
		before := *rep
		before.Checks = append([]Check(nil), rep.Checks...)
		scan, jc, _, err := examine(dir, rep.Encrypted, decrypted, opts.Identities, pub, true)
		if err != nil {
			return nil, err
		}
		if scan != nil && scan.err == nil && !scan.maybeDups && jc.Err == nil && !jc.Truncated {
			if last := jc.Last(); last != nil && last.Type == JournalSeal {
				verifySealed(rep, dir, scan, jc, pub)
				if rep.OK() {
					return rep, nil
				}
			}
		}
		*rep = before
	}
	scan, jc, ageSum, err := examine(dir, rep.Encrypted, decrypted, opts.Identities, pub, false)
	if err != nil {
		return nil, err
	}
	if last := jc.Last(); rep.Sealed && jc.Err == nil && !jc.Truncated && (last == nil || last.Type != JournalSeal) {
		// The files are there but the journal never recorded the seal: the
		// run stopped while sealing.
		rep.Sealed = false
	}
	// The plaintext archive on disk, whose items can be read from their
	// own frames; empty when it is decrypted as it is read.
	plain := dir.local(ArchiveFile)
	if rep.Encrypted && len(opts.Identities) > 0 || dir.fsys != nil {
		plain = ""
	}
	switch {
	case scan == nil:
		rep.ContentsUnverified = true
		verifyCiphertext(rep, dir, ageSum, jc, pub, len(missing) == 0)
	case rep.Sealed && scan.err == nil && len(missing) == 0:
		verifySealed(rep, dir, scan, jc, pub)
	case rep.Sealed && len(missing) == 0:
		// A sealed bag whose archive no longer decodes: say where, and
		// what the signed journal still proves.
		if scan.decErr == nil {
			checkArchiveHash(rep, dir, scan)
		}
		checkAgeHash(rep, dir, scan.ageSum)
		proveByJournal(rep, dir, scan, jc, plain)
	default:
		proveByJournal(rep, dir, scan, jc, plain)
		rep.add("sealed", false, "", "not sealed: %s", rep.proofSummary())
	}
	return rep, nil
}

// examine reads the archive with a BagReader, which checks the journal
// as it goes (scan is nil when the archive is encrypted and cannot be
// decrypted: ageSum is then the ciphertext's SHA-256). Lean: keep nothing
// per entry or line.
func examine(dir folder, encrypted, decrypted bool, ids []age.Identity, pub ed25519.PublicKey, lean bool) (scan *archiveScan, jc *JournalCheck, ageSum [32]byte, err error) {
	if encrypted && len(ids) == 0 && !decrypted {
		var jerr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			jc, jerr = checkJournalFile(dir, JournalFile, pub, false)
		}()
		ageSum, err = dir.hashFile(EncryptedArchiveFile)
		<-done
		if err == nil {
			err = jerr
		}
		return nil, jc, ageSum, err
	}
	// The journal's lines are not kept (about 1 KB each): the checks that
	// need them read them again (journalItems). The reader's own findings
	// are not used: the checks below say more, in the report's words.
	br, err := openBag(dir, ReadOptions{Identities: ids, Key: pub, Items: !lean})
	if err != nil {
		return nil, nil, ageSum, err
	}
	defer br.Close()
	for br.Next() {
	}
	if br.fatal != nil {
		return nil, nil, ageSum, br.fatal
	}
	if jc = br.Journal(); jc == nil {
		// Removed since the layout was checked.
		return nil, nil, ageSum, fmt.Errorf("%s: %w", JournalFile, os.ErrNotExist)
	}
	return br.s, jc, ageSum, nil
}

// checkJournalFile checks the journal at path; keep: keep its lines (the
// verifier's passes do not: they read the file again where they need them).
func checkJournalFile(dir folder, name string, pub ed25519.PublicKey, keep bool) (*JournalCheck, error) {
	f, err := dir.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return checkJournal(f, pub, keep, nil)
}

func checkArchiveHash(rep *Report, dir folder, s *archiveScan) {
	checkSumFile(rep, dir, CheckArchiveHash, ArchiveFile, ArchiveSumFile, s.sum)
}

// checkAgeHash checks evidence.tar.zst.age.sha256 against sum, the
// ciphertext's SHA-256 (nil: not encrypted, nothing to check).
func checkAgeHash(rep *Report, dir folder, sum *[32]byte) {
	if sum != nil {
		checkSumFile(rep, dir, CheckAgeHash, EncryptedArchiveFile, EncryptedArchiveSumFile, *sum)
	}
}

// checkSumFile makes the check named check: the file sumName beside the
// archive is exactly "<hex sum>  <name>" and a line feed.
func checkSumFile(rep *Report, dir folder, check, name, sumName string, sum [32]byte) {
	sumFile, err := dir.readSmall(sumName)
	want := hex.EncodeToString(sum[:])
	switch {
	case err != nil:
		rep.add(check, false, sumName, "%v", err)
	case string(sumFile) != want+"  "+name+"\n":
		rep.add(check, false, name, "SHA-256 is %s; %s says %q", want, sumName, strings.TrimSpace(string(sumFile)))
	default:
		rep.add(check, true, name, "%s", want)
	}
}

func verifySealed(rep *Report, dir folder, s *archiveScan, jc *JournalCheck, pub ed25519.PublicKey) {
	checkArchiveHash(rep, dir, s)
	checkAgeHash(rep, dir, s.ageSum)
	first, last, n := s.first, s.last, s.nEntries
	if !s.lean {
		n = len(s.entries)
		if n > 0 {
			first, last = s.entries[0].Path, s.entries[n-1].Path
		}
	}
	rep.add(CheckArchive, true, ArchiveFile, "%d entries decode; nothing after the end", n)

	// Structure: bagit.txt first, tag manifest last.
	if first != BagitFile {
		rep.add(CheckArchive, false, BagitFile, "not the first entry")
	} else if string(s.tags[BagitFile]) != bagitDeclaration {
		rep.add(CheckArchive, false, BagitFile, "not a BagIt 1.0 declaration")
	}
	if len(s.dups) > 0 {
		rep.add(CheckArchive, false, strings.Join(s.dups, ", "), "entry names repeated")
	}
	tm, ok := s.tags[TagManifestFile]
	if !ok || last != TagManifestFile {
		rep.add(CheckTagManifest, false, TagManifestFile, "missing, or not the last entry")
		return
	}

	// Payload against the manifest.
	if ms, ok := s.tagSums[ManifestFile]; !ok {
		rep.add(CheckPayload, false, ManifestFile, "missing")
	} else if s.lean {
		// The manifest is the list of the payload as it decodes, byte for
		// byte: the same SHA-256. Otherwise a full verification says which
		// lines differ.
		if ms != s.listingSum() {
			rep.add(CheckPayload, false, ManifestFile, "does not list the payload as it decodes")
		} else {
			rep.add(CheckPayload, true, ManifestFile, "%d files match", s.nPayload)
			rep.Proven, rep.Payload = s.nPayload, s.set
		}
		checkOxum(rep, s, s.octets, s.nPayload)
	} else if s.manErr != nil {
		rep.add(CheckPayload, false, ManifestFile, "%v", s.manErr)
	} else {
		var bad []string
		var octets int64
		count := 0
		for i := range s.entries {
			e := &s.entries[i]
			if !strings.HasPrefix(e.Path, PayloadDir+"/") {
				continue
			}
			count++
			octets += e.Size
			ms, listed := s.manifest[e.Path]
			switch {
			case !listed:
				bad = append(bad, e.Path+" (not in the manifest)")
				e.Why = "not in the manifest"
			case hex.EncodeToString(ms[:]) != e.SHA256:
				bad = append(bad, e.Path+" (content differs)")
				e.Why = "content does not match the manifest"
			default:
				e.Proven = true
			}
		}
		problems := len(bad) + s.nMissing
		for _, p := range s.missing {
			if !strings.HasPrefix(p, PayloadDir+"/") {
				bad = append(bad, p+" (listed in the payload manifest, outside data/)")
			} else {
				bad = append(bad, p+" (listed, not in the archive)")
			}
		}
		if problems > 0 {
			rep.add(CheckPayload, false, strings.Join(capList(bad, 20), "; "), "%d payload problems", problems)
		} else {
			rep.add(CheckPayload, true, ManifestFile, "%d files match", count)
			rep.Payload = s.set
		}
		checkOxum(rep, s, octets, count)
		for _, e := range s.entries {
			if e.Proven {
				rep.Proven++
			}
		}
		rep.Items = s.entries
	}

	// Tag files against the tag manifest.
	var bad []string
	listed := map[string]bool{}
	err := ReadManifest(bytes.NewReader(tm), func(sum [32]byte, p string) error {
		listed[p] = true
		got, ok := s.tagSums[p]
		switch {
		case !ok:
			bad = append(bad, p+" (listed, not in the archive)")
		case got != sum:
			bad = append(bad, p+" (content differs)")
		}
		return nil
	})
	if err != nil {
		bad = append(bad, TagManifestFile+": "+err.Error())
	}
	for _, n := range []string{BagitFile, BagInfoFile, ManifestFile, BagRecordFile, BagJournalFile} {
		if !listed[n] {
			bad = append(bad, n+" (not listed)")
		}
	}
	for p := range s.tagSums {
		if p != TagManifestFile && !listed[p] {
			bad = append(bad, p+" (tag file not in the tag manifest)")
		}
	}
	if len(bad) > 0 {
		rep.add(CheckTagManifest, false, strings.Join(bad, "; "), "tag files do not match")
	} else {
		rep.add(CheckTagManifest, true, TagManifestFile, "%d tag files match", len(listed))
	}

	// Root and signature.
	rootSum := sha256.Sum256(tm)
	root := hex.EncodeToString(rootSum[:])
	rep.Root = root
	rootFile, err := dir.readSmall(RootFile)
	if err != nil || string(rootFile) != root+"\n" {
		rep.add(CheckRoot, false, RootFile, "the tag manifest's SHA-256 is %s; %s says %q", root, RootFile, strings.TrimSpace(string(rootFile)))
	} else {
		rep.add(CheckRoot, true, RootFile, "%s", root)
	}
	if pub != nil {
		sig, err := dir.readSmall(SigFile)
		switch {
		case err != nil:
			rep.add(CheckSignature, false, SigFile, "%v", err)
		case len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, tm, sig):
			rep.add(CheckSignature, false, SigFile, "the Ed25519 signature over the tag manifest does not verify with %s", PubFile)
		default:
			rep.add(CheckSignature, true, SigFile, "Ed25519, key %s", rep.Key)
		}
	}

	// The record beside the bag is the one inside.
	rec, err := dir.hashFile(RecordFile)
	if want, ok := s.tagSums[BagRecordFile]; err != nil || !ok || rec != want {
		rep.add(CheckRecord, false, RecordFile, "differs from %s in the bag", BagRecordFile)
	} else {
		rep.add(CheckRecord, true, RecordFile, "same as %s in the bag", BagRecordFile)
	}

	// The journal: chain and signatures, the copy in the bag a prefix of
	// it, every item line in the manifest, the seal line last.
	verifyJournalSealed(rep, dir, s, jc, root)
}

func (s *archiveScan) listingSum() [32]byte {
	var sum [32]byte
	copy(sum[:], s.listing.Sum(nil))
	return sum
}

func checkOxum(rep *Report, s *archiveScan, octets int64, count int) {
	oxum := fmt.Sprintf("%d.%d", octets, count)
	if v := bagInfoValue(s.tags[BagInfoFile], "Payload-Oxum"); v != oxum {
		rep.add(CheckOxum, false, BagInfoFile, "Payload-Oxum is %q, payload is %s", v, oxum)
	} else {
		rep.add(CheckOxum, true, BagInfoFile, "%s", oxum)
	}
}

func verifyJournalSealed(rep *Report, dir folder, s *archiveScan, jc *JournalCheck, root string) {
	if jc.Err != nil {
		rep.add(CheckJournalChain, false, fmt.Sprintf("%s line %d", JournalFile, jc.Err.Line), "%v", jc.Err.Err)
		return
	}
	if jc.Truncated {
		rep.add(CheckJournalChain, false, JournalFile, "last line cut short")
		return
	}
	last := jc.Last()
	if last == nil || last.Type != JournalSeal {
		rep.add(CheckJournalChain, false, JournalFile, "does not end with a seal line")
		return
	}
	sumFile, _ := dir.readSmall(ArchiveSumFile)
	if last.Root != root || !strings.HasPrefix(string(sumFile), last.ArchiveSHA256+"  ") {
		rep.add(CheckJournalChain, false, fmt.Sprintf("%s line %d", JournalFile, jc.Count), "seal line does not name this root and archive")
		return
	}
	if msg := sealedCiphertext(dir, last, s.ageSum != nil); msg != "" {
		rep.add(CheckJournalChain, false, fmt.Sprintf("%s line %d", JournalFile, jc.Count), "%s", msg)
		return
	}
	// The copy in the bag is the journal up to sealing.
	if jc.prefix != s.tagSums[BagJournalFile] {
		rep.add(CheckJournalChain, false, JournalFile, "differs from %s in the bag", BagJournalFile)
		return
	}
	if s.lean {
		// The item lines make the manifest, line for line.
		if jc.listing != s.tagSums[ManifestFile] || jc.items != s.nPayload {
			rep.add(CheckJournalChain, false, JournalFile, "its item lines do not make the manifest")
			return
		}
		rep.add(CheckJournalChain, true, JournalFile, "%d lines chained and signed, %d items match the manifest, sealed", jc.Count, jc.items)
		return
	}
	n := 0
	journaled := map[string]bool{}
	bad := false
	err := journalItems(dir, jc, func(line int, e *JournalEntry) {
		if bad {
			return
		}
		n++
		journaled[e.Path] = true
		ms, ok := s.manifest[e.Path]
		if !ok || hex.EncodeToString(ms[:]) != e.SHA256 {
			rep.add(CheckJournalChain, false, fmt.Sprintf("%s line %d", JournalFile, line), "item %s does not match the manifest", e.Path)
			bad = true
		}
	})
	if err != nil {
		rep.add(CheckJournalChain, false, JournalFile, "%v", err)
		return
	}
	if bad {
		return
	}
	for _, p := range s.mOrder {
		if !journaled[p] {
			rep.add(CheckJournalChain, false, ManifestFile, "%s is in the manifest but no journal line records it", p)
			return
		}
	}
	rep.add(CheckJournalChain, true, JournalFile, "%d lines chained and signed, %d items match the manifest, sealed", jc.Count, n)
}

// proveByJournal proves what a bag cut short or damaged still proves: each
// item the signed journal records whose content decodes whole and hashes
// to the journal's value. An item past the point where the archive stops
// decoding is read from its own frames, at the byte range its journal line
// gives, when the archive can be read there (plain, the plaintext
// archive's path; empty: it cannot): damage in one frame costs the items
// in that frame, not every item after it.
func proveByJournal(rep *Report, dir folder, s *archiveScan, jc *JournalCheck, plain string) {
	var f *os.File
	if s.err != nil && plain != "" {
		f, _ = os.Open(plain)
		if f != nil {
			defer f.Close()
		}
	}
	where := ArchiveFile
	if s.ageSum != nil && s.decErr != nil {
		where = EncryptedArchiveFile
	}
	if s.err != nil {
		rep.add(CheckArchive, false, where, "%v; the %d entries before it decode whole", s.err, len(s.entries))
	} else {
		rep.add(CheckArchive, true, where, "%d entries decode", len(s.entries))
	}
	if jc.Err != nil {
		rep.add(CheckJournalChain, false, fmt.Sprintf("%s line %d", JournalFile, jc.Err.Line), "%v; the %d lines before it hold", jc.Err.Err, jc.Count)
	} else if jc.Truncated {
		rep.add(CheckJournalChain, true, JournalFile, "%d lines chained and signed; a last line cut short is ignored", jc.Count)
	} else {
		rep.add(CheckJournalChain, true, JournalFile, "%d lines chained and signed", jc.Count)
	}
	if jc.Key != nil {
		rep.Key = KeyFingerprint(jc.Key)
	}
	claimed := map[string]bool{}
	var items []Item
	err := journalItems(dir, jc, func(_ int, e *JournalEntry) {
		claimed[e.Path] = true
		it := Item{Path: e.Path, SHA256: e.SHA256}
		if e.Size != nil {
			it.Size = *e.Size
		}
		i, ok := s.byPath[e.Path]
		switch {
		case !ok && f != nil:
			if why := proveFrames(f, e); why != "" {
				it.Why = why
			} else {
				it.Proven = true
				rep.ProvenPastDamage++
			}
		case !ok:
			it.Why = "not whole in the archive (cut short)"
		case s.entries[i].SHA256 != e.SHA256:
			it.Why = "content does not match the journal"
		default:
			it.Proven = true
		}
		if it.Proven {
			rep.Proven++
		} else {
			rep.Unproven++
		}
		items = append(items, it)
	})
	if err != nil {
		rep.add(CheckJournalChain, false, JournalFile, "%v", err)
	}
	for _, e := range s.entries {
		if strings.HasPrefix(e.Path, PayloadDir+"/") && !claimed[e.Path] {
			rep.Unclaimed++
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Proven && !items[j].Proven })
	rep.Items = items
}

// proveFrames reads the item of journal line e from its own frames, the
// archive's bytes [offset, end): they must decode, on their own, to one
// entry with the line's path, size and SHA-256. It returns why not, or "".
func proveFrames(f *os.File, e *JournalEntry) string {
	if e.Offset == nil || e.End == nil || *e.End <= *e.Offset {
		return "not whole in the archive, and its journal line gives no byte range"
	}
	if st, err := f.Stat(); err != nil || *e.End > st.Size() {
		return "not whole in the archive (cut short)"
	}
	ar, err := NewArchiveReader(io.NewSectionReader(f, *e.Offset, *e.End-*e.Offset))
	if err != nil {
		return fmt.Sprintf("its frames (bytes %d to %d) do not decode: %v", *e.Offset, *e.End, err)
	}
	defer ar.Close()
	ent, err := ar.Next()
	if err == io.EOF || err == nil && ent.Path != e.Path {
		err = errors.New("no entry of this name there")
	}
	var n int64
	h := sha256.New()
	if err == nil {
		n, err = io.Copy(h, ar)
	}
	switch {
	case err != nil:
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Sprintf("not whole in the archive (cut short within bytes %d to %d)", *e.Offset, *e.End)
		}
		// The reader counts from the range's start: say where in the
		// archive.
		if fe := new(FrameError); errors.As(err, &fe) {
			return fmt.Sprintf("its frames (bytes %d to %d) do not decode: problem at archive byte %d: %v",
				*e.Offset, *e.End, *e.Offset+fe.At, fe.Err)
		}
		return fmt.Sprintf("its frames (bytes %d to %d) do not decode: %v", *e.Offset, *e.End, err)
	case hex.EncodeToString(h.Sum(nil)) != e.SHA256 || e.Size != nil && *e.Size != n:
		return "content does not match the journal"
	}
	return ""
}

// journalItems calls fn with each item line among the lines of dir's
// journal that hold (jc, which keeps none of them: the file is read
// again, its signatures checked again, up to the same line). The error
// says the file could not be read again as it was.
func journalItems(dir folder, jc *JournalCheck, fn func(line int, e *JournalEntry)) error {
	if jc.Count == 0 {
		return nil
	}
	f, err := dir.open(JournalFile)
	if err != nil {
		return fmt.Errorf("read again: %w", err)
	}
	defer f.Close()
	n := 0
	again, err := ScanJournal(f, jc.Key, func(e *JournalEntry) {
		if n++; n <= jc.Count && e.Type == JournalItem {
			fn(n, e)
		}
	})
	if err == nil && again.Count < jc.Count {
		err = fmt.Errorf("changed while verified: %d lines hold now, %d before", again.Count, jc.Count)
	}
	return err
}

func (rep *Report) proofSummary() string {
	detail := fmt.Sprintf("%d items proven by the signed journal", rep.Proven)
	if rep.ProvenPastDamage > 0 {
		detail += fmt.Sprintf(" (%d of them read from their own frames, past where the archive stops decoding)", rep.ProvenPastDamage)
	}
	if rep.Unproven > 0 {
		detail += fmt.Sprintf(", %d claimed but not proven", rep.Unproven)
	}
	if rep.Unclaimed > 0 {
		detail += fmt.Sprintf(", %d whole in the archive but never journaled (not claimed)", rep.Unclaimed)
	}
	return detail
}

func bagInfoValue(b []byte, label string) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == label {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func hashFile(path string) ([32]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return [32]byte{}, err
	}
	defer f.Close()
	return hashOf(f)
}

// hashOf returns the SHA-256 of what r holds.
func hashOf(r io.Reader) ([32]byte, error) {
	var sum [32]byte
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

func capList(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
}

// ErrUnsealed is returned by callers that need a sealed bag.
var ErrUnsealed = errors.New("not a sealed bag")

// maxSmallFile bounds the files beside the archive that Verify reads
// whole: root.txt, root.sig, root.pub.pem, evidence.tar.zst.sha256.
const maxSmallFile = 64 << 10

// readSmall reads a small file beside the archive, refusing a larger one.
func readSmall(path string) ([]byte, error) { return fileio.ReadSmall(path, maxSmallFile) }

// ignoreErrors is a writer that never fails.
type ignoreErrors struct{ w io.Writer }

func (i ignoreErrors) Write(p []byte) (int, error) {
	i.w.Write(p)
	return len(p), nil
}

// sealedCiphertext checks the seal line's archive_age_sha256 against
// evidence.tar.zst.age.sha256: present and equal for an encrypted bag,
// absent otherwise. It returns what is wrong, or "".
func sealedCiphertext(dir folder, last *JournalEntry, encrypted bool) string {
	switch {
	case !encrypted && last.ArchiveAgeSHA256 != "":
		return "the seal line names an encrypted archive (" + EncryptedArchiveFile + "), which is not in the folder"
	case !encrypted:
		return ""
	case last.ArchiveAgeSHA256 == "":
		return "the seal line names no encrypted archive, but the folder holds " + EncryptedArchiveFile
	}
	sumFile, _ := dir.readSmall(EncryptedArchiveSumFile)
	if !strings.HasPrefix(string(sumFile), last.ArchiveAgeSHA256+"  ") {
		return "seal line does not name this encrypted archive (" + EncryptedArchiveSumFile + ")"
	}
	return ""
}

// verifyCiphertext checks an encrypted bag without an identity: the
// ciphertext's SHA-256 (ageSum), the journal (chained, signed by the bag's
// key, sealing this ciphertext, this plaintext hash and this root), and
// the form of the files beside the archive. The contents, the manifests
// and the signature over the tag manifest need the plaintext.
func verifyCiphertext(rep *Report, dir folder, ageSum [32]byte, jc *JournalCheck, pub ed25519.PublicKey, complete bool) {
	if jc.Key != nil {
		rep.Key = KeyFingerprint(jc.Key)
	}
	items := jc.items
	if !rep.Sealed || !complete {
		if jc.Err != nil {
			rep.add(CheckJournalChain, false, fmt.Sprintf("%s line %d", JournalFile, jc.Err.Line), "%v; the %d lines before it hold", jc.Err.Err, jc.Count)
		} else {
			rep.add(CheckJournalChain, true, JournalFile, "%d lines chained and signed", jc.Count)
		}
		rep.add("sealed", false, "", "not sealed: the signed journal claims %d items; none verified (the archive is encrypted: give an identity)", items)
		return
	}
	checkAgeHash(rep, dir, &ageSum)
	last := jc.Last()
	rootFile, rerr := dir.readSmall(RootFile)
	root := strings.TrimSuffix(string(rootFile), "\n")
	if rerr != nil || len(rootFile) != 65 || !isHex(root) {
		rep.add(CheckRoot, false, RootFile, "not 64 hex digits and a line feed")
	} else if last == nil || last.Type != JournalSeal || last.Root != root {
		rep.add(CheckRoot, false, RootFile, "not the root the journal's seal line signs")
	} else {
		rep.Root = root
		rep.add(CheckRoot, true, RootFile, "%s, as the signed seal line says (the tag manifest is encrypted: not recomputed)", root)
	}
	if pub != nil {
		sig, err := dir.readSmall(SigFile)
		switch {
		case err != nil:
			rep.add(CheckSignature, false, SigFile, "%v", err)
		case len(sig) != ed25519.SignatureSize:
			rep.add(CheckSignature, false, SigFile, "%d bytes, not an Ed25519 signature", len(sig))
		default:
			rep.add(CheckSignature, true, SigFile, "Ed25519, key %s; form only: the tag manifest it signs is encrypted", rep.Key)
		}
	}
	switch {
	case jc.Err != nil:
		rep.add(CheckJournalChain, false, fmt.Sprintf("%s line %d", JournalFile, jc.Err.Line), "%v", jc.Err.Err)
	case jc.Truncated:
		rep.add(CheckJournalChain, false, JournalFile, "last line cut short")
	case last == nil || last.Type != JournalSeal:
		rep.add(CheckJournalChain, false, JournalFile, "does not end with a seal line")
	default:
		sumFile, _ := dir.readSmall(ArchiveSumFile)
		if len(sumFile) != 64+2+len(ArchiveFile)+1 || !strings.HasPrefix(string(sumFile), last.ArchiveSHA256+"  "+ArchiveFile+"\n") {
			rep.add(CheckJournalChain, false, fmt.Sprintf("%s line %d", JournalFile, jc.Count), "seal line does not name the plaintext archive of %s", ArchiveSumFile)
		} else if msg := sealedCiphertext(dir, last, true); msg != "" {
			rep.add(CheckJournalChain, false, fmt.Sprintf("%s line %d", JournalFile, jc.Count), "%s", msg)
		} else {
			rep.add(CheckJournalChain, true, JournalFile, "%d lines chained and signed, %d items claimed, sealed; the seal line signs this ciphertext", jc.Count, items)
		}
	}
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}
