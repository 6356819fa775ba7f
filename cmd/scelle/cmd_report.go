package main

import (
	"fmt"
	"io"
	"time"

	"github.com/scelle/scelle/chain/report"
	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/visible"
	"github.com/spf13/cobra"
)

type reportOptions struct {
	Out        string
	Date       string
	Identities []string // age identity files, for an encrypted archive
	Anchors    anchorFlags
}

func newReportCmd() *cobra.Command {
	var opts reportOptions
	c := &cobra.Command{
		Use:   "report BAGDIR",
		Short: "Verify a bag and write its bilingual court report (report.html, report.pdf)",
		Long: `Verify the output folder of a collection (as 'scelle verify' does) and write
its court report, in French and English, as report.html (one self-contained
file) and report.pdf, into the folder or into --out. The report gives the
case, the people, the host, the times and clock skew, the tool and its hash,
what was and was not collected, the root fingerprint in type and as a QR
code, the custody events with their signers, the verdict and the manual
verification steps. The same folder gives the same files: no date is printed
unless --date is given.

The reports are written even when verification fails; the exit code then
says so, as 'scelle verify' does. For an encrypted bag, --identity decrypts
the archive as it is read (nothing decrypted is written), so that the report
states the contents' verification; without it, the verdict is ENCRYPTED.

The report states which anchors were checked: --root, --signer,
--custody-head and --trusted-key are those of 'scelle verify'. Without
--root or --signer, it says the verdict shows self-consistency only.

` + exitCodesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(opts, args[0], cmd.OutOrStdout())
		},
	}
	c.Flags().StringVarP(&opts.Out, "out", "o", "", "write the reports into this folder (default: BAGDIR)")
	c.Flags().StringVar(&opts.Date, "date", "", "print this issue date (RFC 3339) in the report")
	addIdentityFlag(c, &opts.Identities)
	addAnchorFlags(c, &opts.Anchors) // cmd_verify.go
	return c
}

func runReport(opts reportOptions, dir string, stdout io.Writer) error {
	var issued time.Time
	if opts.Date != "" {
		t, err := time.Parse(time.RFC3339, opts.Date)
		if err != nil {
			return &usageError{fmt.Errorf("--date %q: want RFC 3339, such as 2026-11-22T15:04:05Z", opts.Date)}
		}
		issued = t
	}
	out := opts.Out
	if out == "" {
		out = dir
	}
	ids, err := readIdentities(opts.Identities) // cmd_verify.go
	if err != nil {
		return err
	}
	vopts := verdict.Options{Identities: ids}
	if err := opts.Anchors.apply(&vopts); err != nil {
		return err
	}
	res, err := report.Write(dir, out, issued, &vopts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "report:  %s\nreport:  %s\n", visible.String(res.HTML), visible.String(res.PDF))
	if res.Root != "" {
		fmt.Fprintf(stdout, "root:    %s\n", visible.String(res.Root))
	}
	fmt.Fprintf(stdout, "verdict: %s\n", res.Verdict.Status)
	return verdictExit(res.Verdict.Status)
}
