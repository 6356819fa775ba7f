package main

import (
	"crypto/ed25519"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/scelle/scelle/internal/visible"
	"github.com/scelle/scelle/seal"
)

func newKeyCmd() *cobra.Command {
	c := &cobra.Command{Use: "key", Short: "Manage signing keys"}
	c.AddCommand(&cobra.Command{
		Use:   "new FILE",
		Short: "Make an Ed25519 key: FILE (private, mode 0600) and FILE.pub.pem",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := seal.NewKey()
			if err != nil {
				return err
			}
			if err := seal.WriteKeyPair(args[0], k); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "private key: %s\npublic key:  %s.pub.pem\nfingerprint: %s\n",
				visible.String(args[0]), visible.String(args[0]), seal.KeyFingerprint(k.Public().(ed25519.PublicKey)))
			return nil
		},
	})
	return c
}
