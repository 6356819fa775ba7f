package extract

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"filippo.io/age"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/internal/fileio"
	"github.com/scelle/scelle/seal"
)

// ErrFailed is wrapped by the error Run returns when a check failed: a
// file that does not match, an entry nothing proves, a missing or broken
// journal, an entry whose path leaves DEST, a damaged archive.
var ErrFailed = errors.New("a check failed")

// ErrNotEmpty is wrapped by the error Run returns when DEST holds
// something: nothing is written.
var ErrNotEmpty = errors.New("not empty")

// Options are the options of Run.
type Options struct {
	// Identities decrypt an encrypted archive as it is read.
	Identities []age.Identity
	// NamesFor is the system (a GOOS value) whose names the files are
	// written under (package internal/names); "" or "linux": as they are.
	NamesFor string
}

// Result is what Run wrote into DEST and what it found.
type Result struct {
	// Complete: the archive was read to its end, and every file left in
	// DEST is proven. Without it, only Stopped is set.
	Complete bool
	// Stopped counts the files removed when Run stopped before the
	// archive's end (which holds the manifests): no journal line proved
	// them.
	Stopped int
	Files   int    // the files extracted (some may be removed since: see Findings)
	Top     string // DEST/evidence, where the bag's files are
	// Findings are the failed checks, one a line (printed as FAIL lines),
	// and NotChecked what Run could not check (printed as NOT CHECKED
	// lines). Both may hold strings from the bag, unescaped.
	Findings   []string
	NotChecked []string
	// Renamed counts the entries written under another name, listed in
	// NameMap (a path, "" when no name changed). MappedManifest is the
	// manifest with the written names, "" when not written; then
	// MappedManifestErr says why (fs.ErrNotExist: no manifest extracted).
	Renamed           int
	NameMap           string
	MappedManifest    string
	MappedManifestErr error
}

// failedError is an error that wraps ErrFailed, and reads as err.
type failedError struct{ err error }

func (e *failedError) Error() string   { return e.err.Error() }
func (e *failedError) Unwrap() []error { return []error{e.err, ErrFailed} }

func failed(err error) error { return &failedError{err} }

// Run extracts the bag in the folder bag into dest, which must not exist
// or be empty, keeping only what the bag proves (see the package
// documentation). The error wraps ErrFailed when a check failed,
// ErrNotEmpty when dest holds something. res is nil when nothing was
// written; else, when res.Complete, its findings are complete too.
func Run(bag, dest string, opts Options) (res *Result, err error) {
	return run(dest, opts, bagKey(fileio.DirFS(bag)), func(ro seal.ReadOptions) (*seal.BagReader, error) { return seal.OpenBag(bag, ro) })
}

// RunFS is Run on the output folder at the root of fsys (a bag read from
// elsewhere, such as an S3 store, with nothing of it written but the
// extracted files); name is what findings call it.
func RunFS(fsys fs.FS, name, dest string, opts Options) (res *Result, err error) {
	return run(dest, opts, bagKey(fsys), func(ro seal.ReadOptions) (*seal.BagReader, error) { return seal.OpenBagFS(fsys, name, ro) })
}

func run(dest string, opts Options, key ed25519.PublicKey, open func(seal.ReadOptions) (*seal.BagReader, error)) (res *Result, err error) {
	if err := prepareDest(dest); err != nil {
		return nil, err
	}
	// Items: the manifest is checked line by line, so that each file it
	// does not match is named and removed. Key: the journal must be
	// signed with the key that signed the root.
	br, err := open(seal.ReadOptions{Identities: opts.Identities, Items: true, Key: key})
	if err != nil {
		return nil, err
	}
	defer br.Close()
	tree, err := openTree(dest, opts.NamesFor) // tree.go
	if err != nil {
		return nil, err
	}
	defer tree.Close()
	res = &Result{Top: filepath.Join(dest, seal.BagDir)}
	target := func(p string) string { return filepath.Join(res.Top, filepath.FromSlash(p)) }
	x := &extraction{written: map[string]int{}, seen: map[string]bool{},
		target: func(p string) string { return filepath.Join(dest, filepath.FromSlash(tree.written(p))) },
		remove: func(p string) { tree.remove(p) }}
	buf := make([]byte, 1<<20)
	manifest := false
	removed := map[*seal.MismatchError]bool{} // the findings that ended a file's reading
	for br.Next() {
		e := br.Entry()
		if !strings.HasPrefix(target(e.Path), res.Top+string(filepath.Separator)) {
			res.Stopped = x.stop()
			return res, failed(fmt.Errorf("%s: leaves the destination", e.Path))
		}
		manifest = manifest || e.Path == seal.ManifestFile
		if x.refuse(e.Path) {
			continue
		}
		err := tree.create(e.Path, e, buf)
		if m := (*seal.MismatchError)(nil); errors.As(err, &m) {
			removed[m] = true
			continue
		}
		if errors.Is(err, fs.ErrExist) {
			// A file or folder the archive made already: not written.
			x.refused(e.Path)
			continue
		}
		if err != nil {
			res.Stopped = x.stop()
			return res, failed(fmt.Errorf("%s: %w", e.Path, err))
		}
		x.written[e.Path] = e.JournalLine()
		res.Files++
	}
	if err := br.Err(); err != nil && !errors.Is(err, seal.ErrMismatch) {
		res.Stopped = x.stop()
		return res, failed(fmt.Errorf("after %d files: %w", res.Files, err))
	}
	sum := br.Summary()
	for _, m := range sum.Findings {
		if removed[m] {
			res.Findings = append(res.Findings, m.Error()+"; removed")
			continue
		}
		if x.named(m.Path) {
			// A file a finding names is not kept either.
			x.remove(m.Path)
		}
		res.Findings = append(res.Findings, m.Error())
	}
	if !manifest {
		res.Findings = append(res.Findings, "no manifest in the archive: files checked against the journal only")
	}
	res.Findings = append(res.Findings, x.prove(sum, br.Journal() != nil)...)
	res.Complete = true
	if err := tree.finish(res); err != nil {
		return res, err
	}
	res.NotChecked = x.notChecked(br, sum, manifest)
	if len(res.Findings) > 0 {
		return res, failed(fmt.Errorf("%d files failed their check", len(res.Findings)))
	}
	return res, nil
}

func prepareDest(dest string) error {
	entries, err := os.ReadDir(dest)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return os.MkdirAll(dest, 0o755)
	case err != nil:
		return err
	case len(entries) > 0:
		return &notEmptyError{dest}
	}
	return nil
}

// notEmptyError reads "DEST is not empty" and wraps ErrNotEmpty.
type notEmptyError struct{ dest string }

func (e *notEmptyError) Error() string { return e.dest + " is not empty" }
func (e *notEmptyError) Unwrap() error { return ErrNotEmpty }

// bagKey returns the key of the bag's root.pub.pem, which must have
// signed its journal; nil when there is none that parses (the reader
// then names it, and checks the journal against its own key).
func bagKey(bag fs.FS) ed25519.PublicKey {
	b, err := fileio.ReadSmallFS(bag, seal.PubFile, 64<<10)
	if err != nil {
		return nil
	}
	pub, err := seal.ParsePublicKeyPEM(b)
	if err != nil {
		return nil
	}
	return pub
}

// maxNamed bounds the files named one by one as not proven.
const maxNamed = 20

// extraction is what Run has written into DEST: every file there must be
// proven by the end, or it is removed.
type extraction struct {
	target func(path string) string // the file in DEST of a bag path
	remove func(path string)        // removes the file written for a bag path
	// written maps each file written, by bag path, to the journal line
	// that proves it (0: none).
	written map[string]int
	seen    map[string]bool // every entry's path
	lines   []string        // the entries refused
	notes   []string        // what could not be checked
}

// refuse reports whether the entry at path must not be written: an
// entry of that name came before it. The reader names the name repeated,
// and no copy is kept.
func (x *extraction) refuse(path string) bool {
	again := x.seen[path]
	x.seen[path] = true
	return again
}

// refused records that the entry at path was not written: a file or a
// folder of that name is there already.
func (x *extraction) refused(path string) {
	x.lines = append(x.lines, path+": not written: a file or folder of that name is there already")
}

// named reports whether path is a file written, which a finding names:
// it is no longer counted as written, and the caller removes it.
func (x *extraction) named(path string) bool {
	if _, ok := x.written[path]; !ok {
		return false
	}
	delete(x.written, path)
	return true
}

// prove removes every file written that is not proven, and returns the
// lines that name them (and the entries refused). A payload file is
// proven by the manifest, when the tag manifest lists it, root.txt
// names the tag manifest and root.sig signs it, the record names the key
// that signed it, and, without a journal beside the archive, the
// journal's copy in the bag holds; or else by the journal line that
// records it. A tag file is proven by the tag manifest, on the same
// conditions; bagit.txt by its content. Each file a finding names is
// gone already.
func (x *extraction) prove(sum seal.ReadSummary, journal bool) []string {
	tags := sum.Signed && x.has(seal.TagManifestFile)
	if tags && x.has(seal.BagRecordFile) {
		switch key, err := recordKey(x.target(seal.BagRecordFile)); {
		case err != nil:
			x.notes = append(x.notes, fmt.Sprintf("the key %s names: %v", seal.BagRecordFile, err))
		case key != sum.Key:
			x.lines = append(x.lines, fmt.Sprintf("%s: names key %s; the bag is signed with key %s", seal.BagRecordFile, key, sum.Key))
			tags = false
		}
	}
	manifest := tags && x.has(seal.ManifestFile) && (journal || x.has(seal.BagJournalFile))
	var gone []string
	for p, line := range x.written {
		switch {
		case strings.HasPrefix(p, seal.PayloadDir+"/") && (manifest || line > 0):
		case p == seal.BagitFile:
		case !strings.HasPrefix(p, seal.PayloadDir+"/") && tags:
		default:
			gone = append(gone, p)
		}
	}
	sort.Strings(gone)
	lines := x.lines
	for i, p := range gone {
		x.remove(p)
		delete(x.written, p)
		why := "no signed manifest or journal line proves it"
		switch {
		case p == seal.TagManifestFile:
			why = "its root, signature or key does not hold"
		case !strings.HasPrefix(p, seal.PayloadDir+"/"):
			why = "the tag manifest that lists it is not proven"
		}
		if i < maxNamed {
			lines = append(lines, fmt.Sprintf("%s: not proven: %s; removed", p, why))
		}
	}
	if len(gone) > maxNamed {
		lines = append(lines, fmt.Sprintf("%d more files not proven; removed", len(gone)-maxNamed))
	}
	return lines
}

func (x *extraction) has(path string) bool {
	_, ok := x.written[path]
	return ok
}

// stop removes, when Run stops before the archive's end (which holds the
// manifests), every file written that no journal line proves, and
// returns how many.
func (x *extraction) stop() int {
	n := 0
	for p, line := range x.written {
		if line == 0 && p != seal.BagitFile {
			x.remove(p)
			delete(x.written, p)
			n++
		}
	}
	return n
}

// recordKey returns the key fingerprint that the collection record at
// path names.
func recordKey(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	rec, err := chain.ScanRecord(f, nil)
	if err != nil {
		return "", err
	}
	return rec.Key.Fingerprint, nil
}

// notChecked returns what Run did not check: the journal when it is
// missing or does not record some files, the manifests of a bag never
// sealed, and always what only a person or scelle verify can compare.
func (x *extraction) notChecked(br *seal.BagReader, sum seal.ReadSummary, manifest bool) []string {
	var lines []string
	jc := br.Journal()
	unjournaled := 0 // files kept that no journal line checked
	for p, line := range x.written {
		if line == 0 && strings.HasPrefix(p, seal.PayloadDir+"/") {
			unjournaled++
		}
	}
	switch {
	case jc == nil:
		lines = append(lines, fmt.Sprintf("the archive's SHA-256 against the journal's seal line: %s is missing; its copy in the bag stands in for it", seal.JournalFile))
	case unjournaled > 0:
		lines = append(lines, fmt.Sprintf("%d files against the journal, which does not record them (the signed manifest proves them)", unjournaled))
	}
	if !manifest && sum.Root == "" {
		lines = append(lines, "the files against a manifest, a root and a signature: the bag was never sealed; only the files its journal proves are kept")
	}
	lines = append(lines, x.notes...)
	key := sum.Key
	if key == "" && jc != nil && jc.Key != nil {
		key = seal.KeyFingerprint(jc.Key)
	}
	switch {
	case sum.Root != "" && key != "":
		lines = append(lines, fmt.Sprintf("root %s and key %s against the ones noted when the bag was sealed (procès-verbal): this shows the bag consistent with itself only (scelle verify --root, --signer)", sum.Root, key))
	case sum.Root != "":
		lines = append(lines, fmt.Sprintf("root %s against the one noted when the bag was sealed (procès-verbal)", sum.Root))
	case key != "":
		lines = append(lines, fmt.Sprintf("key %s against the one noted when the collection started: this shows the journal consistent with itself only", key))
	}
	return append(lines, "the custody log, the time stamps, the TPM quote and the record's items: scelle verify checks them")
}
