package main

import (
	"encoding/hex"
	"fmt"
	"io"

	"filippo.io/age"
	sha256 "github.com/minio/sha256-simd"
	"github.com/spf13/cobra"

	"github.com/scelle/scelle/internal/visible"
	"github.com/scelle/scelle/seal"
)

func newLsCmd() *cobra.Command {
	var long bool
	var identities []string
	c := &cobra.Command{
		Use:   "ls BAGDIR",
		Short: "List the entries of a bag's archive",
		Long: `List the entries of a bag's archive, read from the archive itself: size and
path, and with --long the SHA-256 computed from the content and the zstd
frame each entry starts in. An encrypted archive (evidence.tar.zst.age) is
decrypted with --identity as it is read; frames and offsets are those of the
plaintext archive.

` + exitCodesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := readIdentities(identities) // cmd_verify.go
			if err != nil {
				return err
			}
			return runLs(args[0], ids, long, cmd.OutOrStdout())
		},
	}
	c.Flags().BoolVarP(&long, "long", "l", false, "also print each entry's SHA-256 and frame")
	addIdentityFlag(c, &identities)
	return c
}

func runLs(bag string, ids []age.Identity, long bool, stdout io.Writer) error {
	ar, closeAr, err := openArchive(bag, ids)
	if err != nil {
		return err
	}
	defer closeAr()
	buf := make([]byte, 1<<20)
	for {
		e, err := ar.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return withCode(exitVerifyFailed, err)
		}
		if !long {
			fmt.Fprintf(stdout, "%12d  %s\n", e.Size, visible.String(e.Path))
			continue
		}
		h := sha256.New()
		if _, err := io.CopyBuffer(h, ar, buf); err != nil {
			return withCode(exitVerifyFailed, fmt.Errorf("%s: %w", e.Path, err))
		}
		fmt.Fprintf(stdout, "%12d  %s  frame %d @%d  %s\n", e.Size, hex.EncodeToString(h.Sum(nil)), e.Frame, e.At, visible.String(e.Path))
	}
}

// openArchive opens a bag's archive (decrypting it with ids when it is
// encrypted) for reading entry by entry; the caller calls the close func.
func openArchive(bag string, ids []age.Identity) (*seal.ArchiveReader, func(), error) {
	f, err := seal.OpenArchive(bag, ids)
	if err != nil {
		return nil, nil, err
	}
	ar, err := seal.NewArchiveReader(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return ar, func() { ar.Close(); f.Close() }, nil
}
