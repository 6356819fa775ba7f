package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/scelle/scelle/chain/report"
	"github.com/scelle/scelle/seal"
)

type reportOptions struct {
	Out        string
	Date       string
	Identities []string // age identity files, for an encrypted archive
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

` + exitCodesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(opts, args[0], cmd.OutOrStdout())
		},
	}
	c.Flags().StringVarP(&opts.Out, "out", "o", "", "write the reports into this folder (default: BAGDIR)")
	c.Flags().StringVar(&opts.Date, "date", "", "print this issue date (RFC 3339) in the report")
	addIdentityFlag(c, &opts.Identities)
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
	res, err := buildReports(dir, out, issued, seal.VerifyOptions{Identities: ids})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "report:  %s\nreport:  %s\n", res.html, res.pdf)
	if res.root != "" {
		fmt.Fprintf(stdout, "root:    %s\n", res.root)
	}
	fmt.Fprintf(stdout, "verdict: %s\n", res.verdict)
	if res.code != exitOK {
		return withCode(res.code, errors.New(""))
	}
	return nil
}

// writeReports verifies the output folder dir and writes report.html and
// report.pdf into it. It is for scelle collect, once the bag is sealed:
// the error is for a report it could not write, not for the verdict,
// which the report states.
func writeReports(dir string) error {
	_, err := buildReports(dir, dir, time.Time{}, seal.VerifyOptions{})
	return err
}

type reportResult struct {
	html, pdf string
	root      string
	verdict   string
	code      int
}

func buildReports(dir, out string, issued time.Time, vopts seal.VerifyOptions) (*reportResult, error) {
	// The record is read once, for the report and the record-items check.
	items := &recordItems{}
	r, err := report.BuildEach(dir, items.add)
	if err != nil {
		return nil, err
	}
	items.rec = r.Record
	rep, verdict, code, err := verificationOf(dir, vopts, items) // cmd_verify.go
	if err != nil {
		return nil, err
	}
	r.SetVerification(rep.Checks, verdict)
	r.Generated = issued
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	res := &reportResult{html: filepath.Join(out, report.HTMLFile), pdf: filepath.Join(out, report.PDFFile),
		root: r.Root, verdict: verdict, code: code}
	if err := writeFileAtomic(res.html, r.WriteHTML); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(res.pdf, r.WritePDF); err != nil {
		return nil, err
	}
	return res, nil
}

// writeFileAtomic writes path through path+".partial": synced, then
// renamed, so that a report on disk is always whole.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	tmp := path + seal.PartialSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
