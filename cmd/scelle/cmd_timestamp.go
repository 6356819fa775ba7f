package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/scelle/scelle/chain"
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

func runTimestamp(ctx context.Context, opts timestampOptions, dir string, stdout io.Writer) error {
	if opts.TSA == "" {
		return &usageError{errors.New("timestamp needs --tsa URL, the time-stamping authority's RFC 3161 address")}
	}
	if u, err := url.Parse(opts.TSA); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &usageError{fmt.Errorf("--tsa %q: not an http:// or https:// address", opts.TSA)}
	}
	if opts.Key == "" {
		return &usageError{errors.New("timestamp needs --key KEYFILE: the timestamped custody event is signed by whoever takes the timestamp, with their own key (make one with: scelle key new FILE)")}
	}
	key, err := seal.ReadPrivateKey(opts.Key)
	if err != nil {
		return err
	}
	var pool *x509.CertPool
	var caPEM []byte
	if opts.CA != "" {
		if caPEM, err = os.ReadFile(opts.CA); err != nil {
			return err
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return fmt.Errorf("--ca %s: no PEM certificate", opts.CA)
		}
	}

	rep, verdict, _, err := verification(dir)
	if err != nil {
		return err
	}
	if verdict != "VERIFIED" {
		var failed []string
		for _, c := range rep.Failed() {
			failed = append(failed, c.Name)
		}
		return fmt.Errorf("%s: %s (%s): only a bag that verifies is timestamped; nothing was sent\nRun 'scelle verify %s' for the details.",
			dir, verdict, strings.Join(failed, ", "), dir)
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
		return fmt.Errorf("stored %s, but the custody log lacks its timestamped event: %w\nRecord it with: scelle custody add %s --event timestamped --tsa %s --token %s --key %s",
			name, err, dir, opts.TSA, filepath.Join(dir, name), opts.Key)
	}

	fmt.Fprintf(stdout, "token:   %s (SHA-256 %s)\n", name, ev.TokenSHA256)
	fmt.Fprintf(stdout, "time:    %s%s, on the TSA's word\n", info.Time.Format(time.RFC3339), accuracy(info))
	fmt.Fprintf(stdout, "tsa:     %s (serial %s, policy %s)\n", info.TSA, info.Serial, info.Policy)
	if info.Chain != nil {
		fmt.Fprintf(stdout, "chain:   %s (%s)\n", chainString(info.Chain), timestamp.CAFile(n))
	} else {
		fmt.Fprintf(stdout, "chain:   not checked (no --ca): the signature, imprint and key usage hold, but not who the TSA is\n")
	}
	if info.QCStatement {
		fmt.Fprintf(stdout, "note:    %s\n", qualifiedClaim)
	}
	fmt.Fprintf(stdout, "custody: line %d, %s, key %s\n", entry.Seq, entry.Event, entry.KeyFingerprint)
	fmt.Fprintf(stdout, "root:    %s\n", rep.Root)
	return nil
}

// checkTimestamps adds one "timestamp" check per token beside the bag
// (timestamp-<n>.tsr), made offline: the token's imprint is the root, its
// signature holds, its signer has the time-stamping key usage, and it
// chains to the CA file saved with it (timestamp-<n>.ca.pem); without that
// file the check holds on the rest and says the chain was not checked.
// A timestamped event of the custody log that names the file must give
// its SHA-256.
func checkTimestamps(rep *seal.Report, dir string) {
	ns, err := timestamp.List(dir)
	if err != nil {
		rep.Checks = append(rep.Checks, seal.Check{Name: "timestamp", Where: dir, Detail: err.Error()})
		return
	}
	if len(ns) == 0 {
		return
	}
	var events []chain.CustodyEntry // the custody check reports on the log itself
	if c, err := chain.CheckCustodyDir(dir); err == nil {
		events = c.Entries
	}
	for _, n := range ns {
		ok, detail := checkTimestamp(dir, n, rep.Root, time.Now())
		if ok {
			ok, detail = custodyNames(events, timestamp.File(n), filepath.Join(dir, timestamp.File(n)), detail)
		}
		rep.Checks = append(rep.Checks, seal.Check{Name: "timestamp", OK: ok, Where: timestamp.File(n), Detail: detail})
	}
}

// custodyNames checks the token file against the timestamped events of
// the custody log that name it.
func custodyNames(events []chain.CustodyEntry, name, path, detail string) (bool, string) {
	var lines []string
	for _, e := range events {
		if e.Event != chain.EventTimestamped || e.TokenFile != name {
			continue
		}
		sum, err := fileSHA256(path)
		if err != nil {
			return false, err.Error()
		}
		if sum != e.TokenSHA256 {
			return false, fmt.Sprintf("%s: its SHA-256 is %s, but %s line %d names %s: the file was replaced", name, sum, chain.CustodyFile, e.Seq, e.TokenSHA256)
		}
		lines = append(lines, fmt.Sprint(e.Seq))
	}
	if len(lines) == 0 {
		return true, detail + "; no custody event names it"
	}
	return true, detail + "; " + chain.CustodyFile + " line " + strings.Join(lines, ", ") + " names it"
}

func fileSHA256(path string) (string, error) {
	b, err := readSmall(path, timestamp.MaxResponse)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

func checkTimestamp(dir string, n int, rootHex string, now time.Time) (ok bool, detail string) {
	name, caName := timestamp.File(n), timestamp.CAFile(n)
	root, err := hex.DecodeString(rootHex)
	if err != nil || len(root) != sha256.Size {
		return false, name + ": not checked: the bag has no root fingerprint to check it against"
	}
	token, err := readSmall(filepath.Join(dir, name), timestamp.MaxResponse)
	if err != nil {
		return false, err.Error()
	}
	var pool *x509.CertPool
	switch pem, err := os.ReadFile(filepath.Join(dir, caName)); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return false, err.Error()
	default:
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return false, caName + ": no PEM certificate"
		}
	}
	info, err := timestamp.Verify(token, root, pool, now)
	note := ""
	var ie x509.CertificateInvalidError
	if errors.As(err, &ie) && ie.Reason == x509.Expired {
		// A certificate has expired since: check the chain as at the
		// token's time, and say so.
		if i, ierr := timestamp.Verify(token, root, nil, now); ierr == nil {
			if i, ierr = timestamp.Verify(token, root, pool, i.Time); ierr == nil {
				info, err = i, nil
				note = "; a certificate of the chain has expired since: the chain holds as at the token's time (revocation not checked)"
			}
		}
	}
	if err != nil {
		return false, name + ": " + err.Error()
	}
	detail = fmt.Sprintf("%s: %s%s by %s (serial %s): the imprint is the root, the signature holds, time-stamping key usage; ",
		name, info.Time.Format(time.RFC3339), accuracy(info), info.TSA, info.Serial)
	if info.Chain == nil {
		detail += "chain NOT checked (no " + caName + "): who the TSA is rests on its own certificate"
	} else {
		detail += "chains to " + info.Chain[len(info.Chain)-1].Subject.String() + " (" + caName + ")" + note
	}
	if info.QCStatement {
		detail += "; " + qualifiedClaim
	}
	return true, detail
}

const qualifiedClaim = "the token claims to be a qualified time stamp (ETSI EN 319 422 qcStatement): only the EU trusted list can confirm the TSA is qualified"

func accuracy(info *timestamp.Info) string {
	if info.Accuracy == 0 {
		return ""
	}
	return " ±" + info.Accuracy.String()
}

func chainString(c []*x509.Certificate) string {
	var names []string
	for _, cert := range c {
		names = append(names, cert.Subject.String())
	}
	return strings.Join(names, ", issued by ")
}

// readSmall reads a file of at most max bytes.
func readSmall(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, max)
	}
	return b, nil
}
