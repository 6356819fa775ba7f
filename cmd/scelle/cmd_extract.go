package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"filippo.io/age"
	"github.com/spf13/cobra"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/internal/fileio"
	"github.com/scelle/scelle/internal/visible"
	"github.com/scelle/scelle/seal"
)

func newExtractCmd() *cobra.Command {
	var identities []string
	namesFor := systemFlag(runtime.GOOS)
	c := &cobra.Command{
		Use:   "extract BAGDIR DEST",
		Short: "Extract a bag's files into DEST, checking each file's hash as it is written",
		Long: `Extract every entry of a bag's archive into DEST (which must not exist or be
empty), under the same names as tar would, keeping only what the bag proves.
Each file's SHA-256 is computed as it is written and checked against the
signed journal (known before the file) and the manifest; the tag manifest
against root.txt and the signature root.sig, whose key (root.pub.pem) must be
the journal's and the record's; the archive against its .sha256 and the
journal's seal line. A file that does not match, or that no signed manifest or
journal line proves (an entry nothing lists), is removed and named, and a
missing or broken journal fails too: exit code 4. What extract cannot check is
said on standard error as NOT CHECKED: the root and the key against the ones
noted at the seizure, the custody log and the time stamps (scelle verify).
No path can leave DEST. An encrypted archive (evidence.tar.zst.age) is
decrypted with --identity as it is read: only the extracted files are written.

` + exitCodesHelp,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := readIdentities(identities) // cmd_verify.go
			if err != nil {
				return err
			}
			return runExtract(args[0], args[1], ids, string(namesFor), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	addIdentityFlag(c, &identities)
	c.Flags().Var(&namesFor, "names-for", namesForHelp)
	return c
}

func runExtract(bag, dest string, ids []age.Identity, namesFor string, stdout, stderr io.Writer) error {
	if err := prepareDest(dest); err != nil {
		return err
	}
	// Items: the manifest is checked line by line, so that each file it
	// does not match is named and removed. Key: the journal must be
	// signed with the key that signed the root.
	br, err := seal.OpenBag(bag, seal.ReadOptions{Identities: ids, Items: true, Key: bagKey(bag)})
	if err != nil {
		return err
	}
	defer br.Close()
	tree, err := openExtractTree(dest, namesFor) // extract_tree.go
	if err != nil {
		return err
	}
	defer tree.Close()
	top := filepath.Join(dest, seal.BagDir)
	target := func(p string) string { return filepath.Join(top, filepath.FromSlash(p)) }
	x := &extraction{stderr: stderr, written: map[string]int{}, seen: map[string]bool{},
		target: func(p string) string { return filepath.Join(dest, filepath.FromSlash(tree.written(p))) },
		remove: func(p string) { tree.remove(p) }}
	buf := make([]byte, 1<<20)
	n, manifest := 0, false
	removed := map[*seal.MismatchError]bool{} // the findings that ended a file's reading
	for br.Next() {
		e := br.Entry()
		if !strings.HasPrefix(target(e.Path), top+string(filepath.Separator)) {
			x.stop()
			return withCode(exitVerifyFailed, fmt.Errorf("%s: leaves the destination", e.Path))
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
			x.stop()
			return withCode(exitVerifyFailed, fmt.Errorf("%s: %w", e.Path, err))
		}
		x.written[e.Path] = e.JournalLine()
		n++
	}
	if err := br.Err(); err != nil && !errors.Is(err, seal.ErrMismatch) {
		x.stop()
		return withCode(exitVerifyFailed, fmt.Errorf("after %d files: %w", n, err))
	}
	sum := br.Summary()
	var bad []string
	for _, m := range sum.Findings {
		if removed[m] {
			bad = append(bad, m.Error()+"; removed")
			continue
		}
		if x.named(m.Path) {
			// A file a finding names is not kept either.
			x.remove(m.Path)
		}
		bad = append(bad, m.Error())
	}
	if !manifest {
		bad = append(bad, "no manifest in the archive: files checked against the journal only")
	}
	bad = append(bad, x.prove(sum, br.Journal() != nil)...)
	fmt.Fprintf(stdout, "extracted %d files into %s\n", n, visible.String(top))
	if err := tree.finish(stdout); err != nil {
		return err
	}
	for _, b := range bad {
		fmt.Fprintf(stdout, "FAIL  %s\n", visible.String(b))
	}
	x.notChecked(stderr, br, sum, manifest)
	if len(bad) > 0 {
		return withCode(exitVerifyFailed, fmt.Errorf("%d files failed their check", len(bad)))
	}
	return nil
}

func prepareDest(dest string) error {
	entries, err := os.ReadDir(dest)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return os.MkdirAll(dest, 0o755)
	case err != nil:
		return err
	case len(entries) > 0:
		return &usageError{fmt.Errorf("%s is not empty", dest)}
	}
	return nil
}

// bagKey returns the key of the bag's root.pub.pem, which must have
// signed its journal; nil when there is none that parses (the reader
// then names it, and checks the journal against its own key).
func bagKey(bag string) ed25519.PublicKey {
	b, err := fileio.ReadSmall(filepath.Join(bag, seal.PubFile), 64<<10)
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

// extraction is what extract has written into DEST: every file there
// must be proven by the end, or it is removed.
type extraction struct {
	target func(path string) string // the file in DEST of a bag path
	remove func(path string)        // removes the file written for a bag path
	stderr io.Writer
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

// stop removes, when extract stops before the archive's end (which holds
// the manifests), every file written that no journal line proves.
func (x *extraction) stop() {
	n := 0
	for p, line := range x.written {
		if line == 0 && p != seal.BagitFile {
			x.remove(p)
			delete(x.written, p)
			n++
		}
	}
	if n > 0 {
		fmt.Fprintf(x.stderr, "removed %d files that no journal line proves: the manifests, at the archive's end, were not reached\n", n)
	}
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

// notChecked says on w what extract did not check: the journal when it
// is missing or does not record some files, the manifests of a bag never
// sealed, and always what only a person or scelle verify can compare.
func (x *extraction) notChecked(w io.Writer, br *seal.BagReader, sum seal.ReadSummary, manifest bool) {
	jc := br.Journal()
	unjournaled := 0 // files kept that no journal line checked
	for p, line := range x.written {
		if line == 0 && strings.HasPrefix(p, seal.PayloadDir+"/") {
			unjournaled++
		}
	}
	switch {
	case jc == nil:
		fmt.Fprintf(w, "NOT CHECKED: the archive's SHA-256 against the journal's seal line: %s is missing; its copy in the bag stands in for it\n", seal.JournalFile)
	case unjournaled > 0:
		fmt.Fprintf(w, "NOT CHECKED: %d files against the journal, which does not record them (the signed manifest proves them)\n", unjournaled)
	}
	if !manifest && sum.Root == "" {
		fmt.Fprintf(w, "NOT CHECKED: the files against a manifest, a root and a signature: the bag was never sealed; only the files its journal proves are kept\n")
	}
	for _, n := range x.notes {
		fmt.Fprintf(w, "NOT CHECKED: %s\n", visible.String(n))
	}
	key := sum.Key
	if key == "" && jc != nil && jc.Key != nil {
		key = seal.KeyFingerprint(jc.Key)
	}
	switch {
	case sum.Root != "" && key != "":
		fmt.Fprintf(w, "NOT CHECKED: root %s and key %s against the ones noted when the bag was sealed (procès-verbal): this shows the bag consistent with itself only (scelle verify --root, --signer)\n", visible.String(sum.Root), visible.String(key))
	case sum.Root != "":
		fmt.Fprintf(w, "NOT CHECKED: root %s against the one noted when the bag was sealed (procès-verbal)\n", visible.String(sum.Root))
	case key != "":
		fmt.Fprintf(w, "NOT CHECKED: key %s against the one noted when the collection started: this shows the journal consistent with itself only\n", visible.String(key))
	}
	fmt.Fprintf(w, "NOT CHECKED: the custody log, the time stamps, the TPM quote and the record's items: scelle verify checks them\n")
}
