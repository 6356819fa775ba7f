package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"filippo.io/age"
	sha256 "github.com/minio/sha256-simd"
	"github.com/spf13/cobra"

	"github.com/scelle/scelle/chain/vault"
	"github.com/scelle/scelle/internal/visible"
	"github.com/scelle/scelle/seal"
)

func newLsCmd() *cobra.Command {
	var long bool
	var identities []string
	var store storeFlags
	c := &cobra.Command{
		Use:   "ls BAGDIR | s3://BUCKET/PREFIX/BAG",
		Short: "List the entries of a bag's archive",
		Long: `List the entries of a bag's archive, read from the archive itself: size and
path, and with --long the SHA-256 computed from the content and the zstd
frame each entry starts in. An encrypted archive (evidence.tar.zst.age) is
decrypted with --identity as it is read; frames and offsets are those of the
plaintext archive. A bag in an S3 store (scelle push) is read in place, at
the version its custody log's last stored event pinned, streamed: nothing is
written to disk (--endpoint and the AWS variables say how to reach it).

` + exitCodesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := readIdentities(identities) // cmd_verify.go
			if err != nil {
				return err
			}
			if vault.IsURL(args[0]) {
				return runLsStored(cmd.Context(), store, args[0], ids, long, cmd.OutOrStdout())
			}
			return runLs(args[0], ids, long, cmd.OutOrStdout())
		},
	}
	c.Flags().BoolVarP(&long, "long", "l", false, "also print each entry's SHA-256 and frame")
	addIdentityFlag(c, &identities)
	addStoreFlags(c, &store)
	return c
}

func runLs(bag string, ids []age.Identity, long bool, stdout io.Writer) error {
	ar, closeAr, err := openArchive(bag, ids)
	if err != nil {
		return err
	}
	defer closeAr()
	return listArchive(ar, long, stdout)
}

// runLsStored is scelle ls s3://BUCKET/PREFIX/BAG.
func runLsStored(ctx context.Context, store storeFlags, arg string, ids []age.Identity, long bool, stdout io.Writer) error {
	loc, err := vault.ParseURL(arg)
	if err != nil {
		return &usageError{err}
	}
	st, err := store.connect()
	if err != nil {
		return err
	}
	fsys, err := st.Open(ctx, loc)
	if err != nil {
		return err
	}
	var r io.Reader
	f, err := fsys.Open(seal.ArchiveFile)
	if errors.Is(err, fs.ErrNotExist) {
		if f, err = fsys.Open(seal.EncryptedArchiveFile); err == nil {
			if len(ids) == 0 {
				f.Close()
				return seal.ErrEncrypted
			}
			if r, err = seal.NewDecryptReader(f, ids...); err != nil {
				f.Close()
				return err
			}
		}
	} else {
		r = f
	}
	if err != nil {
		return err
	}
	defer f.Close()
	ar, err := seal.NewArchiveReader(r)
	if err != nil {
		return err
	}
	defer ar.Close()
	return listArchive(ar, long, stdout)
}

func listArchive(ar *seal.ArchiveReader, long bool, stdout io.Writer) error {
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
