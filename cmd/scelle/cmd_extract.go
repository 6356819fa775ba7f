package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"filippo.io/age"
	"github.com/spf13/cobra"

	bagextract "github.com/scelle/scelle/chain/extract"
	"github.com/scelle/scelle/chain/vault"
	"github.com/scelle/scelle/internal/names"
	"github.com/scelle/scelle/internal/visible"
	"github.com/scelle/scelle/seal"
)

func newExtractCmd() *cobra.Command {
	var identities []string
	var store storeFlags
	namesFor := systemFlag(runtime.GOOS)
	c := &cobra.Command{
		Use:   "extract BAGDIR|s3://BUCKET/PREFIX/BAG DEST",
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
A bag in an S3 store (scelle push) is read in place, at the versions its
custody log's last stored event pinned, streamed: only DEST is written
(--endpoint and the AWS variables say how to reach it).

` + exitCodesHelp,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := readIdentities(identities) // cmd_verify.go
			if err != nil {
				return err
			}
			if !vault.IsURL(args[0]) {
				return runExtract(args[0], args[1], ids, string(namesFor), cmd.OutOrStdout(), cmd.ErrOrStderr())
			}
			fsys, loc, _, err := openStored(cmd.Context(), store, args[0]) // cmd_vault.go
			if err != nil {
				return err
			}
			run := func(o bagextract.Options) (*bagextract.Result, error) {
				return bagextract.RunFS(fsys, loc.String(), args[1], o)
			}
			return runExtractWith(run, ids, string(namesFor), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	addIdentityFlag(c, &identities)
	addStoreFlags(c, &store)
	c.Flags().Var(&namesFor, "names-for", namesForHelp)
	return c
}

// systemFlag is --names-for: the system whose names extract writes (a
// GOOS value), checked when the flag is read.
type systemFlag string

func (s *systemFlag) String() string { return string(*s) }
func (s *systemFlag) Type() string   { return "OS" }
func (s *systemFlag) Set(v string) error {
	if v != "linux" && v != runtime.GOOS && !names.Needs(v) {
		return fmt.Errorf("%q: want windows, darwin or linux", v)
	}
	*s = systemFlag(v)
	return nil
}

// The files extract writes beside DEST/evidence when names were changed.
const (
	nameMapFile        = bagextract.NameMapFile
	mappedManifestFile = bagextract.MappedManifestFile
)

const namesForHelp = "write names as `OS` can create them: windows, darwin or linux (as they are); the names changed are listed in DEST/" + nameMapFile

// systemName is how extract names goos to the user.
func systemName(goos string) string {
	if goos == names.Darwin {
		return "macOS"
	}
	return map[string]string{names.Windows: "Windows"}[goos]
}

// runExtract runs extract.Run and prints what it wrote and found: the
// files on stdout, each failed check as a FAIL line, then on stderr what
// it could not check.
func runExtract(bag, dest string, ids []age.Identity, namesFor string, stdout, stderr io.Writer) error {
	return runExtractWith(func(o bagextract.Options) (*bagextract.Result, error) { return bagextract.Run(bag, dest, o) }, ids, namesFor, stdout, stderr)
}

// runExtractWith is runExtract with run reading the bag (extract.Run, or
// RunFS for a bag in a store).
func runExtractWith(run func(bagextract.Options) (*bagextract.Result, error), ids []age.Identity, namesFor string, stdout, stderr io.Writer) error {
	res, err := run(bagextract.Options{Identities: ids, NamesFor: namesFor})
	if res != nil && res.Stopped > 0 {
		fmt.Fprintf(stderr, "removed %d files that no journal line proves: the manifests, at the archive's end, were not reached\n", res.Stopped)
	}
	if res == nil || !res.Complete {
		return extractError(err)
	}
	fmt.Fprintf(stdout, "extracted %d files into %s\n", res.Files, visible.String(res.Top))
	if err != nil && !errors.Is(err, bagextract.ErrFailed) {
		return err
	}
	printNames(stdout, res, namesFor)
	for _, b := range res.Findings {
		fmt.Fprintf(stdout, "FAIL  %s\n", visible.String(b))
	}
	for _, n := range res.NotChecked {
		fmt.Fprintf(stderr, "NOT CHECKED: %s\n", visible.String(n))
	}
	return extractError(err)
}

// extractError gives err from extract.Run its exit code.
func extractError(err error) error {
	switch {
	case errors.Is(err, bagextract.ErrFailed):
		return withCode(exitVerifyFailed, err)
	case errors.Is(err, bagextract.ErrNotEmpty):
		return &usageError{err}
	}
	return err
}

// printNames says, when names were changed, where they are listed and how
// to check the files written under them.
func printNames(stdout io.Writer, res *bagextract.Result, goos string) {
	if res.NameMap == "" {
		return
	}
	fmt.Fprintf(stdout, "names:   %d files written under other names, as %s can create them: see %s\n",
		res.Renamed, systemName(goos), visible.String(res.NameMap))
	switch err := res.MappedManifestErr; {
	case errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(stdout, "         no manifest extracted: %s not written\n", mappedManifestFile)
	case err != nil:
		fmt.Fprintf(stdout, "         %s not written: %s\n", mappedManifestFile, visible.String(err.Error()))
	default:
		fmt.Fprintf(stdout, "         sha256sum -c %s fails for them; in %s run: sha256sum -c ../%s\n",
			seal.ManifestFile, visible.String(res.Top), mappedManifestFile)
	}
}
