package main

import (
	"encoding/json"
	"fmt"
	"io"

	"filippo.io/age"
	"github.com/spf13/cobra"

	"github.com/scelle/scelle/chain/vault"
	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/visible"
	"github.com/scelle/scelle/seal"
)

type verifyOptions struct {
	Store      storeFlags // for an s3:// bag
	JSON       bool
	Identities []string // age identity files, for an encrypted archive
	Anchors    anchorFlags
}

func newVerifyCmd() *cobra.Command {
	var opts verifyOptions
	c := &cobra.Command{
		Use:   "verify BAGDIR | s3://BUCKET/PREFIX/BAG",
		Short: "Verify a bag: archive hash, payload, manifests, root, signature, record, journal, custody",
		Long: `Verify the output folder of a collection without extracting it: the archive's
SHA-256, every payload file against the manifest, the tag manifest, the root
fingerprint, the Ed25519 signature, the collection record, the signed,
hash-chained journal and the custody log beside the bag (custody.jsonl: a
sealed bag without one fails), and each RFC 3161 timestamp token beside it
(timestamp-<n>.tsr, offline, against the CA file saved with it). Each verdict
names the file, entry or line that differs. Payload names that Windows or
macOS cannot create as they are (CON, a trailing dot, x:y, A.txt beside
a.txt) are noted, never failed: scelle extract maps them there.
On a bag that was never sealed (a killed run, a pulled stick), it lists what
the journal still proves.

An encrypted bag (evidence.tar.zst.age) is decrypted with --identity as it is
read, and verified in the same single pass: no plaintext is written anywhere.
Without --identity, the ciphertext's SHA-256, the journal (which signs it),
the custody log and the form of the root and signature files are checked, and
the verdict is "ENCRYPTED: integrity of the ciphertext verified; contents not
verified", with exit code 3: nothing failed, but the contents were not
verified. A changed byte still gives 4.

A bag stored by scelle push is verified in place as s3://BUCKET/PREFIX/BAG:
its custody log is read from the store, and each object is streamed at the
version its last stored event pinned through the same checks (nothing is
written to disk), and compared with the event (size, ETag, SHA-256). The
Object Lock each version still has is shown, and every other version and
delete marker of the bag's keys is named with its version id and time (a
later version does not change the pinned one, which the verdict checks).
A pinned version that is missing or differs gives 4. ` + "`--endpoint`" + ` and the
AWS variables say how to reach the store (scelle push --help).

` + anchorsHelp + `

` + exitCodesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if vault.IsURL(args[0]) {
				return runVerifyStored(cmd.Context(), opts, args[0], cmd.OutOrStdout())
			}
			return runVerify(opts, args[0], cmd.OutOrStdout())
		},
	}
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the report as JSON")
	addStoreFlags(c, &opts.Store)
	addIdentityFlag(c, &opts.Identities)
	addAnchorFlags(c, &opts.Anchors)
	return c
}

// verdictOptions reads the identities and anchors the flags name. The
// JSON output lists every item; the text output only those not proven,
// which a bag that verifies has none of.
func (opts verifyOptions) verdictOptions() (verdict.Options, error) {
	ids, err := readIdentities(opts.Identities)
	if err != nil {
		return verdict.Options{}, err
	}
	vopts := verdict.Options{Identities: ids, Items: opts.JSON}
	return vopts, opts.Anchors.apply(&vopts)
}

func runVerify(opts verifyOptions, dir string, stdout io.Writer) error {
	vopts, err := opts.verdictOptions()
	if err != nil {
		return err
	}
	v, err := verdict.Check(dir, vopts)
	if err != nil {
		return err
	}
	if opts.JSON {
		printVerdictJSON(stdout, v)
	} else {
		printVerdict(stdout, v)
	}
	return verdictExit(v.Status)
}

// printVerdictJSON prints a verdict as scelle verify --json does: the
// seal.Report with the verdict, the anchors and the custody signers.
func printVerdictJSON(w io.Writer, v *verdict.Verdict) {
	b, _ := json.MarshalIndent(struct {
		Verdict string `json:"verdict"`
		*seal.Report
		Anchored   bool                 `json:"anchored"`
		Anchors    []verdict.Anchor     `json:"anchors"`
		Signers    []verdict.Signer     `json:"custody_signers,omitempty"`
		Unportable []verdict.Unportable `json:"unportable_names,omitempty"`
		RAM        *verdict.RAMChunks   `json:"ram,omitempty"`
	}{v.Status.String(), v.Report, v.Anchored(), v.Anchors, v.Signers, v.Unportable, v.RAM}, "", " ")
	fmt.Fprintf(w, "%s\n", visible.JSON(b))
}

// printVerdict prints a verdict as scelle verify does: one line a check,
// what is proven of a bag that is not sealed or fails, the root. Details,
// entry names and the root come from the bag: they are printed visibly
// escaped.
func printVerdict(w io.Writer, v *verdict.Verdict) {
	for _, c := range v.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		line := fmt.Sprintf("%s  %-15s %s", mark, visible.String(c.Name), visible.String(c.Detail))
		if c.Where != "" && !c.OK {
			line += " [" + visible.String(c.Where) + "]"
		}
		fmt.Fprintln(w, line)
	}
	printSigners(w, v)
	if !v.Sealed || !v.OK() {
		fmt.Fprintf(w, "proven:  %d items whose content matches the signed journal or manifest\n", v.Proven)
		if v.ProvenPastDamage > 0 {
			fmt.Fprintf(w, "         %d of them read from their own frames, past where the archive stops decoding\n", v.ProvenPastDamage)
		}
		for _, it := range v.Items {
			if !it.Proven && it.Why != "" {
				fmt.Fprintf(w, "unproven: %s: %s\n", visible.String(it.Path), visible.String(it.Why))
			}
		}
		printRAM(w, v.RAM)
	}
	if v.Root != "" {
		fmt.Fprintf(w, "root:    %s\n", visible.String(v.Root))
	}
	if v.ContentsUnverified {
		fmt.Fprintf(w, "note:    the archive is encrypted; its contents were not verified: give --identity FILE\n")
	}
	printAnchors(w, v)
	printUnportable(w, v)
	fmt.Fprintf(w, "verdict: %s\n", v.Status)
}

// anchorsHelp is what verify and report say of the anchors.
const anchorsHelp = `A bag proves only that it agrees with itself: whoever holds it can change it
and seal it again with a new key, and the new bag verifies. What ties it to
the collection is outside it: give the root fingerprint of the procès-verbal
(--root, as printed: grouped or not, any case) and the key fingerprint noted
when the collection started (--signer). A custody head a holder wrote down
(custody add prints it) is checked with --custody-head: the custody log must
still extend it, so a log cut or rewritten after it fails. Each anchor given
that does not hold is a failed check (anchor-root, anchor-signer,
anchor-custody-head: exit code 4); a value that is not 64 hex digits is a
usage error. The anchors list says, for the root, the signer, the custody
head, the TPM quotes and the RFC 3161 tokens, which were checked and held,
which failed and which were not checked. Each custody event's signer is
named: the bag's key, a key given with --trusted-key FILE, or unknown.`

// anchorFlags are the anchors given on the command line (verify, report).
type anchorFlags struct {
	Root, Signer, CustodyHead fingerprintFlag
	TrustedKeys               []string // key files (PEM)
}

func addAnchorFlags(c *cobra.Command, a *anchorFlags) {
	f := c.Flags()
	f.Var(&a.Root, "root", "the root fingerprint of the procès-verbal: fail unless it is the bag's")
	f.Var(&a.Signer, "signer", "the signing key's fingerprint noted at the start: fail unless it signed the bag")
	f.Var(&a.CustodyHead, "custody-head", "a custody head written down (custody add prints it): fail unless the log still extends it")
	f.StringArrayVar(&a.TrustedKeys, "trusted-key", nil, "a holder's key `FILE` (scelle key new: its .pub.pem or private key): name the custody events it signed (repeatable)")
}

// apply puts the anchors into o, reading the trusted keys.
// given reports whether any anchor was given.
func (a *anchorFlags) given() bool {
	return a.Root != "" || a.Signer != "" || a.CustodyHead != "" || len(a.TrustedKeys) > 0
}

func (a *anchorFlags) apply(o *verdict.Options) error {
	o.Root, o.Signer, o.CustodyHead = string(a.Root), string(a.Signer), string(a.CustodyHead)
	for _, p := range a.TrustedKeys {
		k, err := verdict.ReadTrustedKey(p)
		if err != nil {
			return &usageError{fmt.Errorf("--trusted-key: %w", err)}
		}
		o.TrustedKeys = append(o.TrustedKeys, k)
	}
	return nil
}

// fingerprintFlag is a SHA-256 fingerprint flag (a pflag.Value), read as
// verdict.ParseFingerprint reads it: a malformed value is a flag error,
// refused before anything is read.
type fingerprintFlag string

func (f *fingerprintFlag) String() string { return string(*f) }
func (f *fingerprintFlag) Type() string   { return "HEX" }
func (f *fingerprintFlag) Set(s string) error {
	v, err := verdict.ParseFingerprint(s)
	if err != nil {
		return err
	}
	*f = fingerprintFlag(v)
	return nil
}

// printSigners names the signer of each custody line that holds.
func printSigners(w io.Writer, v *verdict.Verdict) {
	for _, s := range v.Signers {
		who := "unknown key: neither the bag's nor one given with --trusted-key"
		switch s.Kind {
		case verdict.SignerBag:
			who = "the bag's key (" + s.Source + ")"
		case verdict.SignerTrusted:
			who = "trusted key (" + s.Source + ")"
		}
		fmt.Fprintf(w, "signer  line %d %-12s %s %s\n", s.Line, visible.String(s.Event), visible.String(s.KeyFingerprint), visible.String(who))
	}
}

// printAnchors prints what the bag was compared with outside itself, and
// says so when that is nothing that identifies it.
func printAnchors(w io.Writer, v *verdict.Verdict) {
	for _, a := range v.Anchors {
		status := string(a.Status)
		if a.Status == verdict.AnchorFailed {
			status = "FAILED"
		}
		fmt.Fprintf(w, "anchor  %-13s %s: %s\n", a.Kind, status, visible.String(a.Detail))
	}
	if !v.Anchored() && (v.Status == verdict.Verified || v.Status == verdict.Encrypted) {
		fmt.Fprintln(w, "note:    self-consistency only: the bag agrees with itself, as a bag changed and sealed again")
		fmt.Fprintln(w, "         with a new key would; compare its root with the procès-verbal's: --root HEX")
	}
}

// printUnportable notes the payload names that Windows or macOS cannot
// create as they are: never a failure, since extract maps them there.
func printUnportable(w io.Writer, v *verdict.Verdict) {
	for _, u := range v.Unportable {
		fmt.Fprintf(w, "note:    names: %d cannot be created as they are on %s (%s; first: %s): scelle extract maps them there and lists the mapping\n",
			u.Names, systemName(u.OS), u.Reasons, visible.String(u.First))
	}
}

// verdictCode is the exit code that goes with a verdict.
func verdictCode(s verdict.Status) int {
	switch s {
	case verdict.NotSealed:
		return exitUnsealed
	case verdict.Failed:
		return exitVerifyFailed
	case verdict.Encrypted:
		return exitIncomplete
	}
	return exitOK
}

// verdictExit ends a command that has printed verdict s: nil when it
// verified, else an error that carries its exit code.
func verdictExit(s verdict.Status) error {
	if code := verdictCode(s); code != exitOK {
		return &printedError{code: code, why: "verdict: " + s.String()}
	}
	return nil
}

// addIdentityFlag adds --identity (-i) to c, for the commands that read
// an encrypted archive.
func addIdentityFlag(c *cobra.Command, paths *[]string) {
	c.Flags().StringArrayVarP(paths, "identity", "i", nil, "age identity file (age-keygen) to decrypt an encrypted archive (repeatable)")
}

// readIdentities reads age identity files (--identity).
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
