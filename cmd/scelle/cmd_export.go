package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/scelle/scelle/chain/export"
	"github.com/scelle/scelle/chain/vault"
	"github.com/scelle/scelle/internal/hint"
	"github.com/scelle/scelle/internal/visible"
	"github.com/scelle/scelle/seal"
)

type exportOptions struct {
	Format     string
	Out        string
	Identities []string   // age identity files, for an encrypted archive
	Store      storeFlags // for an s3:// bag
}

func newExportCmd() *cobra.Command {
	var opts exportOptions
	c := &cobra.Command{
		Use:   "export BAGDIR|s3://BUCKET/PREFIX/BAG --format case-uco|bodyfile|jsonl [--out FILE]",
		Short: "Export a sealed bag as CASE/UCO JSON-LD, a Sleuth Kit bodyfile or a JSON Lines timeline",
		Long: `Export the sealed bag in BAGDIR for analysis tools, reading the archive as a
stream (nothing is extracted, the folder is never written):

  case-uco  CASE 1.x / UCO 1.x JSON-LD: the collection as an investigative
            action (times, operator, tool and its SHA-256, host), the bag with
            its SHA-256 and root fingerprint, every payload file with its path,
            size and SHA-256, the custody events and provenance records
  bodyfile  Sleuth Kit 3.x bodyfile for mactime -b: every collected file's
            original path and metadata before it was read, then the bodyfile
            the collection stored under parsed/bodyfile/
  jsonl     a timeline for Timesketch (message, datetime, timestamp,
            timestamp_desc, source, path, sha256, collector): file times,
            collection start and end, custody events, process starts, logins,
            kernel messages

While it reads, export checks every payload entry against the record, the
record against the tag manifest and the root fingerprint, and the archive
against its .sha256; case-uco and jsonl also need the custody log to hold.
On any difference it stops with exit code 4 and --out FILE is not written.
It does not check the signature or the journal: run scelle verify first.
An encrypted bag (evidence.tar.zst.age) needs --identity: the archive is
decrypted as it is read, and nothing decrypted is written but the export.
The output goes to standard output, or with --out to FILE, written as
FILE.partial and renamed once complete (FILE must not exist).
A bag in an S3 store (scelle push) is read in place, at the versions its
custody log's last stored event pinned, streamed: nothing is written but the
export (--endpoint and the AWS variables say how to reach it).

` + exitCodesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			write := func(w io.Writer, eo export.Options) (export.Stats, error) { return export.Write(args[0], w, eo) }
			if vault.IsURL(args[0]) {
				fsys, loc, _, err := openStored(cmd.Context(), opts.Store, args[0]) // cmd_vault.go
				if err != nil {
					return err
				}
				write = func(w io.Writer, eo export.Options) (export.Stats, error) {
					return export.WriteFS(fsys, loc.String(), w, eo)
				}
			}
			return runExportWith(opts, write, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	c.Flags().StringVar(&opts.Format, "format", "", "output format: "+strings.Join(export.Formats, ", ")+" (required)")
	c.Flags().StringVarP(&opts.Out, "out", "o", "", "write to FILE instead of standard output")
	addIdentityFlag(c, &opts.Identities)
	addStoreFlags(c, &opts.Store)
	return c
}

// runExportWith exports the bag that write reads (export.Write, or
// WriteFS for a bag in a store) as opts say.
func runExportWith(opts exportOptions, write func(io.Writer, export.Options) (export.Stats, error), stdout, stderr io.Writer) error {
	valid := false
	for _, f := range export.Formats {
		valid = valid || opts.Format == f
	}
	if !valid {
		return &usageError{fmt.Errorf("--format must be one of %s", strings.Join(export.Formats, ", "))}
	}
	ids, err := readIdentities(opts.Identities) // cmd_verify.go
	if err != nil {
		return err
	}
	eo := export.Options{Format: opts.Format, Identities: ids, Warn: func(msg string) {
		fmt.Fprintf(stderr, "scelle: export: left out: %s\n", visible.String(msg))
	}}
	if opts.Out == "" {
		_, err := write(stdout, eo)
		return exportError(err, "discard what it printed")
	}
	if _, err := os.Lstat(opts.Out); err == nil {
		return &usageError{fmt.Errorf("%s exists: export never overwrites a file", opts.Out)}
	}
	partial := opts.Out + ".partial"
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	stats, err := write(f, eo)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(partial, opts.Out)
	}
	if err != nil {
		os.Remove(partial)
		return exportError(err, opts.Out+" was not written")
	}
	if d, derr := os.Open(filepath.Dir(opts.Out)); derr == nil {
		d.Sync()
		d.Close()
	}
	fmt.Fprintf(stderr, "scelle: exported %s: %d archive entries checked, %d %s written to %s (root %s)\n",
		stats.Format, stats.Entries, stats.Records, unitOf(stats.Format), visible.String(opts.Out), visible.String(stats.Root))
	return nil
}

func unitOf(format string) string {
	switch format {
	case export.CaseUCO:
		return "graph nodes"
	case export.Bodyfile:
		return "lines"
	}
	return "events"
}

// exportError gives export's errors their exit codes and hints.
func exportError(err error, output string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, export.ErrMismatch):
		return withCode(exitVerifyFailed, hint.Wrap(err, "the export is not evidence (%s); scelle verify BAGDIR says what holds", output))
	case errors.Is(err, seal.ErrWrongIdentity):
		return hint.Wrap(err, "--identity must hold the private key of one of the bag's age recipients")
	case errors.Is(err, export.ErrNotSealed):
		return hint.Wrap(err, "export reads sealed bags; scelle verify BAGDIR lists what an unsealed bag proves, scelle extract recovers its files")
	}
	return err
}
