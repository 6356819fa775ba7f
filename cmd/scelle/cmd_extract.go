package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	sha256 "github.com/minio/sha256-simd"
	"github.com/spf13/cobra"

	"github.com/scelle/scelle/internal/visible"
	"github.com/scelle/scelle/seal"
)

func newExtractCmd() *cobra.Command {
	var identities []string
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
			return runExtract(args[0], args[1], ids, cmd.OutOrStdout())
		},
	}
	addIdentityFlag(c, &identities)
	return c
}

func runExtract(bag, dest string, ids []age.Identity, stdout io.Writer) error {
	if err := prepareDest(dest); err != nil {
		return err
	}
	// What the signed journal expects, known before each file arrives:
	// one hash a journaled item, not the journal's lines.
	expect := map[string]string{}
	if fi, err := os.Stat(bag); err == nil && fi.IsDir() {
		if jf, err := os.Open(filepath.Join(bag, seal.JournalFile)); err == nil {
			seal.ScanJournal(jf, nil, func(e *seal.JournalEntry) {
				if e.Type == seal.JournalItem {
					expect[e.Path] = e.SHA256
				}
			})
			jf.Close()
		}
	}
	ar, closeAr, err := openArchive(bag, ids)
	if err != nil {
		return err
	}
	defer closeAr()
	got := map[string]string{}
	manifest := ""
	var bad []string
	buf := make([]byte, 1<<20)
	n := 0
	for {
		e, err := ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return withCode(exitVerifyFailed, fmt.Errorf("after %d files: %w", n, err))
		}
		target := filepath.Join(dest, seal.BagDir, filepath.FromSlash(e.Path))
		if !strings.HasPrefix(target, filepath.Join(dest, seal.BagDir)+string(filepath.Separator)) {
			return withCode(exitVerifyFailed, fmt.Errorf("%s: leaves the destination", e.Path))
		}
		sum, err := writeChecked(target, ar, buf)
		if err != nil {
			return withCode(exitVerifyFailed, fmt.Errorf("%s: %w", e.Path, err))
		}
		if e.Path == seal.ManifestFile {
			manifest = target
		}
		if want, ok := expect[e.Path]; ok && want != sum {
			os.Remove(target)
			bad = append(bad, e.Path+": does not match the journal; removed")
			continue
		}
		got[e.Path] = sum
		n++
	}
	if manifest != "" {
		bad = append(bad, checkManifest(manifest, got[seal.ManifestFile], got, dest)...)
	} else {
		bad = append(bad, "no manifest in the archive: files checked against the journal only")
	}
	fmt.Fprintf(stdout, "extracted %d files into %s\n", n, visible.String(filepath.Join(dest, seal.BagDir)))
	for _, b := range bad {
		fmt.Fprintf(stdout, "FAIL  %s\n", visible.String(b))
	}
	if len(bad) > 0 {
		return withCode(exitVerifyFailed, fmt.Errorf("%d files failed their check", len(bad)))
	}
	return nil
}

// checkManifest checks the files extracted (got: bag path to hex SHA-256)
// against the manifest extracted at path, whose SHA-256 is sum. It reads
// the manifest back from there, a line at a time: a manifest of millions
// of lines is not held in memory. A file that does not match is removed.
func checkManifest(path, sum string, got map[string]string, dest string) []string {
	f, err := os.Open(path)
	if err != nil {
		return []string{seal.ManifestFile + ": " + err.Error()}
	}
	defer f.Close()
	h := sha256.New()
	var bad []string
	err = seal.ReadManifest(io.TeeReader(f, h), func(s [32]byte, p string) error {
		if got[p] != hex.EncodeToString(s[:]) {
			bad = append(bad, p+": does not match the manifest")
			os.Remove(filepath.Join(dest, seal.BagDir, filepath.FromSlash(p)))
		}
		return nil
	})
	if err == nil {
		_, err = io.Copy(h, f)
	}
	if err == nil && hex.EncodeToString(h.Sum(nil)) != sum {
		err = errors.New("changed on disk while it was read")
	}
	if err != nil {
		bad = append(bad, seal.ManifestFile+": "+err.Error())
	}
	return bad
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

// writeChecked writes r to a new file at target, hashing as it goes, and
// returns the hex SHA-256. It never follows or replaces an existing file.
func writeChecked(target string, r io.Reader, buf []byte) (string, error) {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return "", err
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.CopyBuffer(io.MultiWriter(f, h), r, buf); err != nil {
		f.Close()
		os.Remove(target)
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
