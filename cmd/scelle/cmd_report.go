package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/scelle/scelle/chain/report"
	"github.com/scelle/scelle/chain/vault"
	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/visible"
	"github.com/spf13/cobra"
)

type reportOptions struct {
	Out        string
	Date       string
	Identities []string // age identity files, for an encrypted archive
	Anchors    anchorFlags
	Store      storeFlags // for an s3:// bag
}

func newReportCmd() *cobra.Command {
	var opts reportOptions
	c := &cobra.Command{
		Use:   "report BAGDIR | s3://BUCKET/PREFIX/BAG --out DIR",
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

A bag in an S3 store (scelle push) is read and verified in place, as
'scelle verify s3://...' does, at the versions its custody log's last stored
event pinned, streamed; --out is required and is all that is written. The
report adds the store's checks and says where the bag was read: the
endpoint, the location and each version (--endpoint and the AWS variables
say how to reach the store).

` + exitCodesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(cmd.Context(), opts, args[0], cmd.OutOrStdout())
		},
	}
	c.Flags().StringVarP(&opts.Out, "out", "o", "", "write the reports into this folder (default: BAGDIR)")
	c.Flags().StringVar(&opts.Date, "date", "", "print this issue date (RFC 3339) in the report")
	addIdentityFlag(c, &opts.Identities)
	addAnchorFlags(c, &opts.Anchors) // cmd_verify.go
	addStoreFlags(c, &opts.Store)
	return c
}

func runReport(ctx context.Context, opts reportOptions, dir string, stdout io.Writer) error {
	var issued time.Time
	if opts.Date != "" {
		t, err := time.Parse(time.RFC3339, opts.Date)
		if err != nil {
			return &usageError{fmt.Errorf("--date %q: want RFC 3339, such as 2026-11-22T15:04:05Z", opts.Date)}
		}
		issued = t
	}
	out := opts.Out
	stored := vault.IsURL(dir)
	if out == "" && stored {
		return &usageError{errors.New("report s3://... needs --out DIR")}
	}
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
	var res *report.Written
	if stored {
		res, err = writeStoredReport(ctx, opts.Store, dir, out, issued, &vopts)
	} else {
		res, err = report.Write(dir, out, issued, &vopts)
	}
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

// writeStoredReport is report.Write for the bag at the s3:// address arg,
// verified in the store as scelle verify s3://... does.
func writeStoredReport(ctx context.Context, store storeFlags, arg, out string, issued time.Time, vopts *verdict.Options) (*report.Written, error) {
	fsys, loc, st, err := openStored(ctx, store, arg) // cmd_vault.go
	if err != nil {
		return nil, err
	}
	return report.WriteFS(fsys, loc.String(), out, issued, vopts, func(o verdict.Options) (*verdict.Verdict, *report.Stored, error) {
		rv, err := st.Verify(ctx, loc, o)
		if err != nil {
			return nil, nil, err
		}
		return rv.Verdict, &report.Stored{Endpoint: st.Endpoint(), Location: loc.String(), Line: rv.Stored.Seq, Objects: rv.Stored.Store.Objects}, nil
	})
}
