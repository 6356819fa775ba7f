package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"github.com/spf13/cobra"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/seal"
)

type verifyOptions struct {
	JSON       bool
	Identities []string // age identity files, for an encrypted archive
}

func newVerifyCmd() *cobra.Command {
	var opts verifyOptions
	c := &cobra.Command{
		Use:   "verify BAGDIR",
		Short: "Verify a bag: archive hash, payload, manifests, root, signature, record, journal, custody",
		Long: `Verify the output folder of a collection without extracting it: the archive's
SHA-256, every payload file against the manifest, the tag manifest, the root
fingerprint, the Ed25519 signature, the collection record, the signed,
hash-chained journal and the custody log beside the bag (custody.jsonl: a
sealed bag without one fails), and each RFC 3161 timestamp token beside it
(timestamp-<n>.tsr, offline, against the CA file saved with it). Each verdict
names the file, entry or line that differs.
On a bag that was never sealed (a killed run, a pulled stick), it lists what
the journal still proves.

An encrypted bag (evidence.tar.zst.age) is decrypted with --identity as it is
read, and verified in the same single pass: no plaintext is written anywhere.
Without --identity, the ciphertext's SHA-256, the journal (which signs it),
the custody log and the form of the root and signature files are checked, and
the verdict is "ENCRYPTED: integrity of the ciphertext verified; contents not
verified", with exit code 3: nothing failed, but the contents were not
verified. A changed byte still gives 4.

` + exitCodesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(opts, args[0], cmd.OutOrStdout())
		},
	}
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the report as JSON")
	addIdentityFlag(c, &opts.Identities)
	return c
}

func runVerify(opts verifyOptions, dir string, stdout io.Writer) error {
	ids, err := readIdentities(opts.Identities)
	if err != nil {
		return err
	}
	// The JSON output lists every item; the text output only those not
	// proven, which a bag that verifies has none of.
	rep, verdict, code, err := verificationWith(dir, seal.VerifyOptions{Identities: ids, Items: opts.JSON})
	if err != nil {
		return err
	}
	if opts.JSON {
		b, _ := json.MarshalIndent(struct {
			Verdict string `json:"verdict"`
			*seal.Report
		}{verdict, rep}, "", " ")
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		for _, c := range rep.Checks {
			mark := "ok  "
			if !c.OK {
				mark = "FAIL"
			}
			line := fmt.Sprintf("%s  %-15s %s", mark, c.Name, c.Detail)
			if c.Where != "" && !c.OK {
				line += " [" + c.Where + "]"
			}
			fmt.Fprintln(stdout, line)
		}
		if !rep.Sealed || !rep.OK() {
			fmt.Fprintf(stdout, "proven:  %d items whose content matches the signed journal or manifest\n", rep.Proven)
			if rep.ProvenPastDamage > 0 {
				fmt.Fprintf(stdout, "         %d of them read from their own frames, past where the archive stops decoding\n", rep.ProvenPastDamage)
			}
			for _, it := range rep.Items {
				if !it.Proven && it.Why != "" {
					fmt.Fprintf(stdout, "unproven: %s: %s\n", it.Path, it.Why)
				}
			}
		}
		if rep.Root != "" {
			fmt.Fprintf(stdout, "root:    %s\n", rep.Root)
		}
		if rep.ContentsUnverified {
			fmt.Fprintf(stdout, "note:    the archive is encrypted; its contents were not verified: give --identity FILE\n")
		}
		fmt.Fprintf(stdout, "verdict: %s\n", verdict)
	}
	if code != exitOK {
		return withCode(code, errors.New(""))
	}
	return nil
}

// verification makes every check of scelle verify on the output folder
// dir and gives the verdict and the exit code that goes with it.
func verification(dir string) (rep *seal.Report, verdict string, code int, err error) {
	return verificationWith(dir, seal.VerifyOptions{})
}

// verdictEncrypted is the verdict on an encrypted bag checked without an
// identity, when every check made holds (exit code 3).
const verdictEncrypted = "ENCRYPTED: integrity of the ciphertext verified; contents not verified"

// verificationWith is verification, with options: age identities to
// decrypt an encrypted archive, every item listed.
func verificationWith(dir string, opts seal.VerifyOptions) (rep *seal.Report, verdict string, code int, err error) {
	return verificationOf(dir, opts, nil)
}

// verificationOf is verificationWith; items, when not nil, is the record
// as the caller already read it, which the record-items check then uses
// instead of reading it again.
func verificationOf(dir string, opts seal.VerifyOptions, items *recordItems) (rep *seal.Report, verdict string, code int, err error) {
	rep, err = seal.VerifyWith(dir, opts)
	if errors.Is(err, seal.ErrWrongIdentity) {
		err = fmt.Errorf("%w\nhint: --identity must hold the private key of one of the bag's age recipients", err)
	}
	if err != nil {
		return nil, "", 0, err
	}
	if rep.Sealed && len(rep.Failed()) == 0 && !rep.ContentsUnverified {
		checkRecord(rep, dir, items)
	}
	checkCustody(rep, dir)
	checkTPM(rep, dir) // tpm.go
	checkTimestamps(rep, dir)
	verdict, code = "VERIFIED", exitOK
	switch {
	case !rep.Sealed:
		verdict, code = "NOT SEALED", exitUnsealed
	case !rep.OK():
		verdict, code = "FAILED", exitVerifyFailed
	case rep.ContentsUnverified:
		verdict, code = verdictEncrypted, exitIncomplete
	}
	return rep, verdict, code, nil
}

// readIdentities reads age identity files (--identity).
// addIdentityFlag adds --identity (-i) to c, for the commands that read
// an encrypted archive.
func addIdentityFlag(c *cobra.Command, paths *[]string) {
	c.Flags().StringArrayVarP(paths, "identity", "i", nil, "age identity file (age-keygen) to decrypt an encrypted archive (repeatable)")
}

func readIdentities(paths []string) ([]age.Identity, error) {
	var ids []age.Identity
	for _, p := range paths {
		id, err := seal.ReadIdentities(p)
		if err != nil {
			return nil, &usageError{fmt.Errorf("--identity: %w", err)}
		}
		ids = append(ids, id...)
	}
	return ids, nil
}

// checkCustody checks the custody log against the bag: its chain, each
// line's signature, the acquired and sealed events signed with the bag's
// key and naming its root. A sealed bag must have one; a folder never
// sealed is checked only if it has one.
func checkCustody(rep *seal.Report, dir string) {
	c, err := chain.CheckCustodyDir(dir)
	if errors.Is(err, fs.ErrNotExist) && !rep.Sealed {
		return
	}
	ok, where, detail := custodyVerdict(c, err, rep.Sealed)
	rep.Checks = append(rep.Checks, seal.Check{Name: "custody", OK: ok, Where: where, Detail: detail})
}

// custodyVerdict sums up a custody log check for a bag sealed or not.
func custodyVerdict(c *chain.CustodyCheck, err error, sealed bool) (ok bool, where, detail string) {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, chain.CustodyFile, "missing: a sealed bag keeps its signed custody log beside the archive"
	case err != nil:
		return false, chain.CustodyFile, err.Error()
	case c.Err != nil:
		return false, fmt.Sprintf("%s line %d", chain.CustodyFile, c.Err.Line),
			fmt.Sprintf("%v; the %d lines before it hold", c.Err, len(c.Entries))
	case len(c.Entries) == 0:
		return false, chain.CustodyFile, "empty: no acquired event"
	case sealed && c.Sealed() == nil:
		n := len(c.Entries)
		return false, fmt.Sprintf("%s line %d", chain.CustodyFile, n+1),
			fmt.Sprintf("%s line %d: no sealed event after line %d: the bag is sealed but its custody log does not say so (the sealed line was removed, or the collection stopped between sealing and logging)", chain.CustodyFile, n+1, n)
	case !sealed:
		return true, chain.CustodyFile, fmt.Sprintf("%d events chained and signed, acquired with the bag's key; head %s", len(c.Entries), c.Head())
	}
	return true, chain.CustodyFile, fmt.Sprintf("%d events chained and signed, acquired and sealed with the bag's key; head %s", len(c.Entries), c.Head())
}

// recordItems is what the record-items check needs of a record: its
// header, its number of items, and the digest of its stored items'
// (path, SHA-256) pairs.
type recordItems struct {
	rec    *chain.Record
	n      int
	stored seal.SetDigest
}

func (t *recordItems) add(it *evidence.Item) {
	t.n++
	if it.Path != "" {
		t.stored.Add(it.Path, it.SHA256)
	}
}

// checkRecord cross-checks the collection record with the manifest: every
// stored item of the record is in the bag with its hash, and nothing else.
// The record is read as a stream (unless items gives it as read already)
// and compared through a digest of its (path, SHA-256) pairs; only when
// they differ is it read whole, with the bag's entries, to say which items
// differ.
func checkRecord(rep *seal.Report, dir string, items *recordItems) {
	fail := func(detail string) {
		rep.Checks = append(rep.Checks, seal.Check{Name: "record-items", Where: seal.RecordFile, Detail: detail})
	}
	if items == nil {
		items = &recordItems{}
		f, err := os.Open(filepath.Join(dir, seal.RecordFile))
		if err != nil {
			fail(err.Error())
			return
		}
		items.rec, err = chain.ScanRecord(f, func(it *evidence.Item) error {
			items.add(it)
			return nil
		})
		f.Close()
		if err != nil {
			fail(err.Error())
			return
		}
	}
	if items.rec.Key.Fingerprint != rep.Key {
		fail(fmt.Sprintf("the record names key %s, the bag is signed with %s", items.rec.Key.Fingerprint, rep.Key))
		return
	}
	if items.stored != rep.Payload {
		fail(recordMismatches(dir))
		return
	}
	rep.Checks = append(rep.Checks, seal.Check{Name: "record-items", OK: true, Where: seal.RecordFile,
		Detail: fmt.Sprintf("%d items, %d stored, all in the manifest", items.n, items.stored.Len())})
}

// recordMismatches lists the items in which the record and the bag in dir
// differ, holding both in memory.
func recordMismatches(dir string) string {
	const unknown = "the record's stored items and the manifest differ"
	full, err := seal.VerifyWith(dir, seal.VerifyOptions{Items: true})
	if err != nil {
		return fmt.Sprintf("%s (%v)", unknown, err)
	}
	f, err := os.Open(filepath.Join(dir, seal.RecordFile))
	if err != nil {
		return fmt.Sprintf("%s (%v)", unknown, err)
	}
	defer f.Close()
	rec, err := chain.ReadRecord(f)
	if err != nil {
		return fmt.Sprintf("%s (%v)", unknown, err)
	}
	man := map[string]string{}
	for _, it := range full.Items {
		if strings.HasPrefix(it.Path, seal.PayloadDir+"/") {
			man[it.Path] = it.SHA256
		}
	}
	bad := rec.CheckItems(man)
	if len(bad) == 0 {
		return unknown
	}
	return fmt.Sprintf("%d mismatches: %s", len(bad), strings.Join(bad[:min(len(bad), 10)], "; "))
}
