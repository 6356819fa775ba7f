package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/hint"
	"github.com/scelle/scelle/internal/visible"
	"github.com/scelle/scelle/seal"
	"github.com/scelle/scelle/seal/timestamp"
)

type timestampOptions struct {
	TSA     string
	CA      string
	Key     string
	Actor   string
	Timeout time.Duration
}

func newTimestampCmd() *cobra.Command {
	var opts timestampOptions
	c := &cobra.Command{
		Use:   "timestamp BAGDIR --tsa URL --key KEYFILE [--ca FILE] [--actor NAME]",
		Short: "Have a time-stamping authority (RFC 3161) sign the bag's root fingerprint",
		Long: `Ask a time-stamping authority (TSA, RFC 3161 over HTTP) to sign the bag's root
fingerprint with the time, and keep its token beside the bag. The token shows
that the root, and so every byte of the sealed bag, existed at the time it
states, on the TSA's word. docs/timestamps.md says what that proves (and what a
qualified TSA under eIDAS adds), and how to check a token with openssl alone.

The bag must verify first (every check of scelle verify); otherwise nothing is
sent. Only the root (32 bytes, which disclose nothing of the evidence) and a
random nonce are sent.

BAGDIR gets:
  timestamp-<n>.tsr     the TSA's reply (DER TimeStampResp), as it was sent;
                        openssl ts -verify -in reads it as it is
  timestamp-<n>.ca.pem  a copy of --ca, when given
  custody.jsonl         a "timestamped" event naming the token and its SHA-256,
                        signed with --key: whoever takes the timestamp signs
                        for it with their own key (make one with scelle key
                        new); the bag's key is the collector's, and a
                        collection key is gone once the bag is sealed

With --ca (the TSA's CA certificates, PEM), the token must chain to one of
them with the time-stamping key usage, and scelle verify checks it again
against the saved copy. Without --ca, the signature, the imprint and the TSA
certificate's key usage are checked, not who the TSA is; scelle verify says so.

` + exitCodesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTimestamp(cmd.Context(), opts, args[0], cmd.OutOrStdout())
		},
	}
	f := c.Flags()
	f.StringVar(&opts.TSA, "tsa", "", "the TSA's RFC 3161 HTTP(S) address (required)")
	f.StringVar(&opts.CA, "ca", "", "PEM file of the CA certificates the TSA must chain to")
	f.StringVar(&opts.Key, "key", "", "sign the custody event with this Ed25519 private key (PEM, from scelle key new; required)")
	f.StringVar(&opts.Actor, "actor", "", "name of the person who takes the timestamp")
	f.DurationVar(&opts.Timeout, "timeout", time.Minute, "give up on the TSA after this long")
	return c
}

// timestampInputs checks the flags of timestamp and reads the key and
// the CA file they name.
func timestampInputs(opts timestampOptions) (key ed25519.PrivateKey, pool *x509.CertPool, caPEM []byte, err error) {
	if opts.TSA == "" {
		return nil, nil, nil, &usageError{errors.New("timestamp needs --tsa URL, the time-stamping authority's RFC 3161 address")}
	}
	if u, err := url.Parse(opts.TSA); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, nil, nil, &usageError{fmt.Errorf("--tsa %q: not an http:// or https:// address", opts.TSA)}
	}
	if opts.Key == "" {
		return nil, nil, nil, &usageError{errors.New("timestamp needs --key KEYFILE: the timestamped custody event is signed by whoever takes the timestamp, with their own key (make one with: scelle key new FILE)")}
	}
	if key, err = seal.ReadPrivateKey(opts.Key); err != nil {
		return nil, nil, nil, err
	}
	if opts.CA != "" {
		if caPEM, err = os.ReadFile(opts.CA); err != nil {
			return nil, nil, nil, err
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, nil, nil, fmt.Errorf("--ca %s: no PEM certificate", opts.CA)
		}
	}
	return key, pool, caPEM, nil
}

func runTimestamp(ctx context.Context, opts timestampOptions, dir string, stdout io.Writer) error {
	key, pool, caPEM, err := timestampInputs(opts)
	if err != nil {
		return err
	}
	v, err := verdict.Check(dir, verdict.Options{})
	if err != nil {
		return err
	}
	rep := v.Report
	if v.Status != verdict.Verified {
		var failed []string
		for _, c := range rep.Failed() {
			failed = append(failed, c.Name)
		}
		return hint.Wrap(fmt.Errorf("%s: %s (%s): only a bag that verifies is timestamped; nothing was sent", dir, v.Status, strings.Join(failed, ", ")),
			"Run 'scelle verify %s' for the details", dir)
	}
	root, err := hex.DecodeString(rep.Root)
	if err != nil || len(root) != sha256.Size {
		return fmt.Errorf("root %q: not a SHA-256", rep.Root)
	}

	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	token, err := timestamp.Request(ctx, opts.TSA, root, nil)
	if err != nil {
		return err
	}
	info, err := timestamp.Verify(token, root, pool, time.Now())
	if err != nil {
		return fmt.Errorf("the token from %s does not verify; nothing stored: %w", opts.TSA, err)
	}
	n, err := timestamp.Store(dir, token, caPEM)
	if err != nil {
		return err
	}
	name := timestamp.File(n)
	sum := sha256.Sum256(token)
	ev := chain.CustodyEvent{Event: chain.EventTimestamped, TSA: opts.TSA, TokenFile: name, TokenSHA256: hex.EncodeToString(sum[:])}
	if opts.Actor != "" {
		ev.Actor = &chain.Person{Name: opts.Actor}
	}
	entry, err := chain.AppendCustody(dir, ev, key)
	if err != nil {
		return hint.Wrap(fmt.Errorf("stored %s, but the custody log lacks its timestamped event: %w", name, err),
			"record it with: scelle custody add %s --event timestamped --tsa %s --token %s --key %s",
			dir, opts.TSA, filepath.Join(dir, name), opts.Key)
	}

	// The TSA's name and the chain's subjects come from certificates,
	// the root from the bag: shown visibly escaped.
	fmt.Fprintf(stdout, "token:   %s (SHA-256 %s)\n", name, ev.TokenSHA256)
	fmt.Fprintf(stdout, "time:    %s%s, on the TSA's word\n", info.Time.Format(time.RFC3339), verdict.Accuracy(info))
	fmt.Fprintf(stdout, "tsa:     %s (serial %s, policy %s)\n", visible.String(info.TSA), info.Serial, info.Policy)
	if info.Chain != nil {
		fmt.Fprintf(stdout, "chain:   %s (%s)\n", chainString(info.Chain), timestamp.CAFile(n))
	} else {
		fmt.Fprintf(stdout, "chain:   not checked (no --ca): the signature, imprint and key usage hold, but not who the TSA is\n")
	}
	if info.QCStatement {
		fmt.Fprintf(stdout, "note:    %s\n", verdict.QualifiedClaim)
	}
	fmt.Fprintf(stdout, "custody: line %d, %s, key %s\n", entry.Seq, entry.Event, entry.KeyFingerprint)
	fmt.Fprintf(stdout, "root:    %s\n", visible.String(rep.Root))
	return nil
}

func chainString(c []*x509.Certificate) string {
	var names []string
	for _, cert := range c {
		names = append(names, visible.String(cert.Subject.String()))
	}
	return strings.Join(names, ", issued by ")
}
