package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"filippo.io/age"
	"github.com/spf13/cobra"

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
empty), under the same names as tar would. Each file's SHA-256 is computed as
it is written and checked against the signed journal (known before the file)
and the manifest; a file that does not match is removed and reported. No path
can leave DEST. An encrypted archive (evidence.tar.zst.age) is decrypted with
--identity as it is read: only the extracted files are written.

` + exitCodesHelp,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := readIdentities(identities) // cmd_verify.go
			if err != nil {
				return err
			}
			return runExtract(args[0], args[1], ids, string(namesFor), cmd.OutOrStdout())
		},
	}
	addIdentityFlag(c, &identities)
	c.Flags().Var(&namesFor, "names-for", namesForHelp)
	return c
}

func runExtract(bag, dest string, ids []age.Identity, namesFor string, stdout io.Writer) error {
	if err := prepareDest(dest); err != nil {
		return err
	}
	// Items: the manifest is checked line by line, so that each file it
	// does not match is named and removed.
	br, err := seal.OpenBag(bag, seal.ReadOptions{Identities: ids, Items: true})
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
	buf := make([]byte, 1<<20)
	n, manifest := 0, false
	removed := map[*seal.MismatchError]bool{} // the findings that ended a file's reading
	for br.Next() {
		e := br.Entry()
		if !strings.HasPrefix(target(e.Path), top+string(filepath.Separator)) {
			return withCode(exitVerifyFailed, fmt.Errorf("%s: leaves the destination", e.Path))
		}
		manifest = manifest || e.Path == seal.ManifestFile
		err := tree.create(e.Path, e, buf)
		if m := (*seal.MismatchError)(nil); errors.As(err, &m) {
			removed[m] = true
			continue
		}
		if err != nil {
			return withCode(exitVerifyFailed, fmt.Errorf("%s: %w", e.Path, err))
		}
		n++
	}
	if err := br.Err(); err != nil && !errors.Is(err, seal.ErrMismatch) {
		return withCode(exitVerifyFailed, fmt.Errorf("after %d files: %w", n, err))
	}
	var bad []string
	for _, m := range br.Summary().Findings {
		if removed[m] {
			bad = append(bad, m.Error()+"; removed")
			continue
		}
		if m.With == seal.ManifestFile && m.Path != seal.ManifestFile {
			// A file the manifest does not match is not kept either.
			tree.remove(m.Path)
		}
		bad = append(bad, m.Error())
	}
	if !manifest {
		bad = append(bad, "no manifest in the archive: files checked against the journal only")
	}
	fmt.Fprintf(stdout, "extracted %d files into %s\n", n, visible.String(top))
	if err := tree.finish(stdout); err != nil {
		return err
	}
	for _, b := range bad {
		fmt.Fprintf(stdout, "FAIL  %s\n", visible.String(b))
	}
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
