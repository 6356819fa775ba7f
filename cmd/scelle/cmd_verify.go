package main

import (
	"encoding/json"
	"fmt"
	"io"

	"filippo.io/age"
	"github.com/spf13/cobra"

	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/visible"
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
	v, err := verdict.Check(dir, verdict.Options{Identities: ids, Items: opts.JSON})
	if err != nil {
		return err
	}
	if opts.JSON {
		b, _ := json.MarshalIndent(struct {
			Verdict string `json:"verdict"`
			*seal.Report
		}{v.Status.String(), v.Report}, "", " ")
		fmt.Fprintf(stdout, "%s\n", visible.JSON(b))
	} else {
		printVerdict(stdout, v)
	}
	return verdictExit(v.Status)
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
	}
	if v.Root != "" {
		fmt.Fprintf(w, "root:    %s\n", visible.String(v.Root))
	}
	if v.ContentsUnverified {
		fmt.Fprintf(w, "note:    the archive is encrypted; its contents were not verified: give --identity FILE\n")
	}
	fmt.Fprintf(w, "verdict: %s\n", v.Status)
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
