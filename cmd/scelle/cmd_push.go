package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/chain/vault"
	"github.com/scelle/scelle/internal/units"
	"github.com/scelle/scelle/internal/visible"
	"github.com/scelle/scelle/seal"
)

type storeFlags struct {
	Endpoint, Region string
}

func addStoreFlags(c *cobra.Command, f *storeFlags) {
	c.Flags().StringVar(&f.Endpoint, "endpoint", "", "S3 endpoint URL (default: AWS_ENDPOINT_URL, or AWS for the region)")
	c.Flags().StringVar(&f.Region, "region", "", "S3 region (default: AWS_REGION, or us-east-1)")
}

func (f storeFlags) connect() (*vault.Store, error) {
	return vault.Connect(vault.Config{Endpoint: f.Endpoint, Region: f.Region})
}

type pushOptions struct {
	Store                     storeFlags
	Ticket, Slot              string
	Key                       string
	Retain, RetainUntil       string
	LegalHold, NoLock         bool
	PartSize                  int64 // MiB
	Actor, Organisation, Role string
}

const storeHelp = `Endpoint, region and credentials follow the AWS conventions: --endpoint or
AWS_ENDPOINT_URL, --region or AWS_REGION, then AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, or the shared credentials file
(~/.aws/credentials, AWS_PROFILE). docs/vault.md says which rights each
command needs.`

func newPushCmd() *cobra.Command {
	var opts pushOptions
	c := &cobra.Command{
		Use:   "push BAGDIR s3://BUCKET/PREFIX | --ticket FILE [--slot NAME] --key KEYFILE [flags]",
		Short: "Store a sealed bag in an S3 Object Lock bucket and record it in its custody log",
		Long: `Verify BAGDIR, then store each of its files under PREFIX/<bag folder name>/ in
the bucket, streaming, large files in parts (resumable: run the same command
again after an interruption and only what the store lacks is sent). Every
request carries the SHA-256 of its bytes, which the store checks; the SHA-256
the store reports must be the bag's own. A bag that does not verify is
refused (exit 4), and so is a bucket without Object Lock unless --no-lock.

The bucket's default retention applies, or --retain / --retain-until sets
COMPLIANCE retention on each object (nobody, not even the account's owner,
can delete or replace the version before then); --legal-hold sets a legal
hold. Once stored, a "stored" event signed with --key is appended to the
bag's custody log (endpoint, bucket, and each object's key, version id,
ETag, SHA-256, retention and legal hold), and the log is stored last.
Pushing a bag already stored there adds a note, nothing else.

With --ticket FILE (from scelle vault presign) instead of an s3:// address,
no credentials are needed: each file goes up in one PUT of its own pre-signed
URL, with its Content-MD5, to the ticket's slot (--slot host-NN when it has
several). The retention is the one signed into the ticket; a push cut short
sends every file again.

` + storeHelp + `

` + exitCodesHelp,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPush(cmd.Context(), opts, args, cmd.OutOrStdout())
		},
	}
	f := c.Flags()
	addStoreFlags(c, &opts.Store)
	f.StringVar(&opts.Ticket, "ticket", "", "push with this upload ticket (scelle vault presign) instead of credentials")
	f.StringVar(&opts.Slot, "slot", "", "the ticket's slot for this bag (host-NN)")
	f.StringVar(&opts.Key, "key", "", "sign the stored event with this Ed25519 private key (PEM, from scelle key new)")
	f.StringVar(&opts.Retain, "retain", "", "COMPLIANCE retention for this long (e.g. 30d, 10y, 720h)")
	f.StringVar(&opts.RetainUntil, "retain-until", "", "COMPLIANCE retention until this date (YYYY-MM-DD or RFC 3339)")
	f.BoolVar(&opts.LegalHold, "legal-hold", false, "set a legal hold on each object")
	f.BoolVar(&opts.NoLock, "no-lock", false, "accept a bucket without Object Lock (recorded in the custody log)")
	f.Int64Var(&opts.PartSize, "part-size", vault.DefaultPartSize>>20, "send files larger than this many MiB in parts of this size (at least 5)")
	f.StringVar(&opts.Actor, "actor", "", "name of the person who pushes")
	f.StringVar(&opts.Organisation, "organisation", "", "the actor's organisation")
	f.StringVar(&opts.Role, "role", "", "the actor's role")
	return c
}

// parseRetention reads --retain and --retain-until into a date.
func parseRetention(retain, until string, now time.Time) (time.Time, error) {
	switch {
	case retain != "" && until != "":
		return time.Time{}, &usageError{errors.New("--retain and --retain-until: give one")}
	case retain != "":
		d, err := parseLongDuration(retain)
		if err != nil || d <= 0 {
			return time.Time{}, &usageError{fmt.Errorf("--retain %q: a positive duration such as 30d, 10y or 720h", retain)}
		}
		return now.Add(d).UTC().Truncate(time.Second), nil
	case until != "":
		t, err := time.Parse(time.RFC3339, until)
		if err != nil {
			t, err = time.Parse("2006-01-02", until)
		}
		if err != nil {
			return time.Time{}, &usageError{fmt.Errorf("--retain-until %q: a date as YYYY-MM-DD or RFC 3339", until)}
		}
		if !t.After(now) {
			return time.Time{}, &usageError{fmt.Errorf("--retain-until %s: in the past", until)}
		}
		return t.UTC(), nil
	}
	return time.Time{}, nil
}

// parseLongDuration reads a Go duration, or a number of days (30d) or
// years of 365 days (10y).
func parseLongDuration(s string) (time.Duration, error) {
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "y": 365 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v > 100*365 {
				return 0, fmt.Errorf("bad duration %q", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	return time.ParseDuration(s)
}

func runPush(ctx context.Context, opts pushOptions, args []string, stdout io.Writer) error {
	dir := args[0]
	var loc vault.Location
	switch {
	case len(args) == 2 && opts.Ticket != "":
		return &usageError{errors.New("push: give s3://BUCKET/PREFIX or --ticket FILE, not both")}
	case len(args) == 1 && opts.Ticket == "":
		return &usageError{errors.New("push: give s3://BUCKET/PREFIX or --ticket FILE")}
	case len(args) == 2:
		var err error
		if loc, err = vault.ParseURL(args[1]); err != nil {
			return &usageError{err}
		}
	}
	if opts.Ticket != "" && (opts.Retain != "" || opts.RetainUntil != "" || opts.LegalHold || opts.NoLock) {
		return &usageError{errors.New("--ticket: the retention is the ticket's; no --retain, --retain-until, --legal-hold or --no-lock")}
	}
	if opts.Key == "" {
		return &usageError{errors.New("push needs --key KEYFILE to sign the stored event")}
	}
	until, err := parseRetention(opts.Retain, opts.RetainUntil, time.Now())
	if err != nil {
		return err
	}
	if opts.NoLock && (!until.IsZero() || opts.LegalHold) {
		return &usageError{errors.New("--no-lock: no --retain, --retain-until or --legal-hold without Object Lock")}
	}
	key, err := seal.ReadPrivateKey(opts.Key)
	if err != nil {
		return fmt.Errorf("--key: %w", err)
	}
	popts := vault.PushOptions{RetainUntil: until, LegalHold: opts.LegalHold, NoLock: opts.NoLock,
		PartSize: opts.PartSize << 20, Key: key}
	if opts.Actor != "" || opts.Organisation != "" || opts.Role != "" {
		popts.Actor = &chain.Person{Name: opts.Actor, Organisation: opts.Organisation, Role: opts.Role}
	}
	res, err := push(ctx, opts, dir, loc, popts)
	if errors.Is(err, vault.ErrNotVerified) || errors.Is(err, vault.ErrStoreChanged) {
		return withCode(exitVerifyFailed, err)
	}
	if err != nil {
		return err
	}
	where := fmt.Sprintf("s3://%s/%s", res.Store.Bucket, res.Store.Prefix)
	if res.Note {
		fmt.Fprintf(stdout, "already stored at %s (%s): every pinned version holds; nothing sent, a note added\n",
			visible.String(where), visible.String(res.Store.Endpoint))
	} else {
		fmt.Fprintf(stdout, "stored %d objects at %s (%s): %d sent, %d already there, %d parts resumed, %s sent\n",
			len(res.Store.Objects), visible.String(where), visible.String(res.Store.Endpoint),
			res.Uploaded, res.Reused, res.Parts, units.Bytes(res.Sent))
		for _, o := range res.Store.Objects {
			lock := "no retention"
			if o.Retention != "" {
				lock = o.Retention + " until " + o.RetainUntil
			}
			if o.LegalHold {
				lock += ", legal hold"
			}
			fmt.Fprintf(stdout, "  %s  version %s  %s\n", visible.String(o.Key), visible.String(o.VersionID), lock)
		}
		if res.Store.NoLock {
			fmt.Fprintf(stdout, "warning: the bucket has no Object Lock: these objects can be deleted or replaced\n")
		}
	}
	fmt.Fprintf(stdout, "%s line %d: %s, signed by key %s\n", chain.CustodyFile, res.Entry.Seq, res.Entry.Event, res.Entry.KeyFingerprint)
	printCustodyHead(stdout, &res.Entry)
	return nil
}

// push pushes with the ticket, or with credentials.
func push(ctx context.Context, opts pushOptions, dir string, loc vault.Location, popts vault.PushOptions) (*vault.PushResult, error) {
	if opts.Ticket != "" {
		t, err := vault.ReadTicket(opts.Ticket)
		if err != nil {
			return nil, err
		}
		return vault.PushTicket(ctx, dir, t, opts.Slot, popts, nil)
	}
	st, err := opts.Store.connect()
	if err != nil {
		return nil, err
	}
	return st.Push(ctx, dir, loc, popts)
}
