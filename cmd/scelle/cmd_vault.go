package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/spf13/cobra"

	"github.com/scelle/scelle/chain/vault"
	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/units"
	"github.com/scelle/scelle/internal/visible"
	"github.com/scelle/scelle/seal"
)

func newVaultCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "vault",
		Short: "List bags stored in an S3 bucket; make upload tickets",
		Long: `Work with the evidence vault, an S3 bucket with Object Lock where scelle push
stores sealed bags. scelle verify s3://BUCKET/PREFIX/BAG verifies a stored
bag in place.

` + storeHelp,
	}
	var lsOpts vaultLsOptions
	ls := &cobra.Command{
		Use:   "ls s3://BUCKET/PREFIX",
		Short: "List the bags stored under a prefix, one line a bag",
		Long: `List each bag folder directly under PREFIX, from its custody log only (the
latest version in the store, a few KiB a bag, not checked against the bag:
scelle verify s3://... does): case, host, acquired and sealed times, root
fingerprint, items, retention until (the earliest of the last stored event),
the last custody event.

` + storeHelp + `

` + exitCodesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVaultLs(cmd.Context(), lsOpts, args[0], cmd.OutOrStdout())
		},
	}
	addStoreFlags(ls, &lsOpts.Store)
	ls.Flags().BoolVar(&lsOpts.JSON, "json", false, "print the list as JSON")

	var psOpts vaultPresignOptions
	presign := &cobra.Command{
		Use:   "presign s3://BUCKET/PREFIX --hosts N --expires DURATION --out FILE",
		Short: "Write an upload ticket: pre-signed PUT URLs for N bags, nothing else",
		Long: `Write an upload ticket for N bags under PREFIX (PREFIX/host-01/ ... host-NN/):
for each slot, a pre-signed PUT URL per file name a bag can hold, valid until
--expires, with the Object Lock headers (--retain, --retain-until,
--legal-hold) signed into them. Made on the examiner's workstation with
credentials that can sign; handed to the responder, who runs
scelle push BAGDIR --ticket FILE --slot host-NN on the host: the ticket lets
a PUT of those keys through, and nothing else (no read, no list, no delete,
no lock change), and holds no secret key. It is a bearer token until it
expires: the file is written readable by its owner only.

` + storeHelp + `

` + exitCodesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVaultPresign(cmd.Context(), psOpts, args[0], cmd.OutOrStdout())
		},
	}
	f := presign.Flags()
	addStoreFlags(presign, &psOpts.Store)
	f.IntVar(&psOpts.Hosts, "hosts", 1, "number of bags (slots)")
	f.StringVar(&psOpts.Expires, "expires", "2h", "validity of the URLs (at most 7d)")
	f.StringVar(&psOpts.Out, "out", "", "write the ticket to this file (required; never replaced)")
	f.StringVar(&psOpts.Retain, "retain", "", "COMPLIANCE retention for this long from now (e.g. 30d, 10y)")
	f.StringVar(&psOpts.RetainUntil, "retain-until", "", "COMPLIANCE retention until this date")
	f.BoolVar(&psOpts.LegalHold, "legal-hold", false, "set a legal hold on each object")
	c.AddCommand(ls, presign)
	return c
}

type vaultLsOptions struct {
	Store storeFlags
	JSON  bool
}

func runVaultLs(ctx context.Context, opts vaultLsOptions, arg string, stdout io.Writer) error {
	loc, err := vault.ParseURL(arg)
	if err != nil {
		return &usageError{err}
	}
	st, err := opts.Store.connect()
	if err != nil {
		return err
	}
	bags, err := st.List(ctx, loc)
	if err != nil {
		return err
	}
	if opts.JSON {
		if bags == nil {
			bags = []vault.BagSummary{}
		}
		b, _ := json.MarshalIndent(bags, "", " ")
		fmt.Fprintf(stdout, "%s\n", visible.JSON(b))
		return nil
	}
	for _, b := range bags {
		if b.Err != "" {
			fmt.Fprintf(stdout, "%s  custody log unreadable: %s\n", visible.String(b.Prefix), visible.String(b.Err))
			continue
		}
		items := "-"
		if b.Items != nil {
			items = fmt.Sprint(*b.Items)
		}
		root := b.Root
		if len(root) > 16 {
			root = root[:16]
		}
		lock := "retain-until " + orDashStr(b.RetainUntil)
		if b.NoLock {
			lock = "no lock"
		}
		if b.LegalHold {
			lock += " legal-hold"
		}
		fmt.Fprintf(stdout, "%s  case %s  host %s  acquired %s  sealed %s  root %s  items %s  %s  last %s %s\n",
			visible.String(b.Prefix), visible.String(orDashStr(b.Case)), visible.String(orDashStr(b.Host)),
			visible.String(orDashStr(b.Acquired)), visible.String(orDashStr(b.Sealed)), visible.String(orDashStr(root)), items,
			visible.String(lock), visible.String(b.LastEvent), visible.String(b.LastTime))
	}
	return nil
}

func orDashStr(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

type vaultPresignOptions struct {
	Store               storeFlags
	Hosts               int
	Expires, Out        string
	Retain, RetainUntil string
	LegalHold           bool
}

func runVaultPresign(ctx context.Context, opts vaultPresignOptions, arg string, stdout io.Writer) error {
	loc, err := vault.ParseURL(arg)
	if err != nil {
		return &usageError{err}
	}
	if opts.Out == "" {
		return &usageError{errors.New("vault presign needs --out FILE")}
	}
	d, err := parseLongDuration(opts.Expires)
	if err != nil || d <= 0 {
		return &usageError{fmt.Errorf("--expires %q: a positive duration such as 2h or 1d", opts.Expires)}
	}
	until, err := parseRetention(opts.Retain, opts.RetainUntil, time.Now())
	if err != nil {
		return err
	}
	st, err := opts.Store.connect()
	if err != nil {
		return err
	}
	t, err := st.Presign(ctx, loc, vault.PresignOptions{Hosts: opts.Hosts, Expires: d, RetainUntil: until, LegalHold: opts.LegalHold})
	if err != nil {
		return err
	}
	if err := vault.WriteTicket(opts.Out, t); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ticket %s: %d slots under %s, valid until %s\n", visible.String(opts.Out), len(t.Slots), visible.String(loc.String()), t.Expires.Format(time.RFC3339))
	fmt.Fprintf(stdout, "on each host: scelle push BAGDIR --ticket %s --slot host-NN --key KEYFILE\n", visible.String(opts.Out))
	return nil
}

// runVerifyStored is scelle verify s3://BUCKET/PREFIX/BAG.
func runVerifyStored(ctx context.Context, opts verifyOptions, arg string, stdout io.Writer) error {
	loc, err := vault.ParseURL(arg)
	if err != nil {
		return &usageError{err}
	}
	vopts, err := opts.verdictOptions()
	if err != nil {
		return err
	}
	st, err := opts.Store.connect()
	if err != nil {
		return err
	}
	start := time.Now()
	v, err := st.Verify(ctx, loc, vopts)
	if err != nil {
		return err
	}
	if opts.JSON {
		b, _ := json.MarshalIndent(struct {
			Verdict string `json:"verdict"`
			*seal.Report
			Anchored   bool                 `json:"anchored"`
			Anchors    []verdict.Anchor     `json:"anchors"`
			Signers    []verdict.Signer     `json:"custody_signers,omitempty"`
			Unportable []verdict.Unportable `json:"unportable_names,omitempty"`
			Store      any                  `json:"store"`
		}{v.Status.String(), v.Report, v.Anchored(), v.Anchors, v.Signers, v.Unportable, struct {
			Location      string          `json:"location"`
			Endpoint      string          `json:"endpoint"`
			StoredLine    int64           `json:"stored_line"`
			Locks         []vault.Lock    `json:"locks"`
			OtherVersions []vault.Version `json:"other_versions"`
			BytesRead     int64           `json:"bytes_read"`
		}{loc.String(), st.Endpoint(), v.Stored.Seq, v.Locks, v.Others, v.Read}}, "", " ")
		fmt.Fprintf(stdout, "%s\n", visible.JSON(b))
		return verdictExit(v.Status)
	}
	fmt.Fprintf(stdout, "store:   %s (%s), versions pinned by custody line %d\n", visible.String(loc.String()), visible.String(st.Endpoint()), v.Stored.Seq)
	for _, o := range v.Others {
		what := "version"
		if o.DeleteMarker {
			what = "delete marker"
		}
		fmt.Fprintf(stdout, "other:   %s %s %s at %s (not pinned)\n", visible.String(o.Key), what, visible.String(o.VersionID), o.Time.Format(time.RFC3339))
	}
	printVerdict(stdout, v.Verdict)
	fmt.Fprintf(stdout, "read:    %s from the store in %s, nothing written to disk\n", units.Bytes(v.Read), time.Since(start).Round(time.Millisecond))
	return verdictExit(v.Status)
}

// openStored opens the bag at the s3:// address arg (extract, export,
// report): its files at the versions its last stored event pinned.
func openStored(ctx context.Context, store storeFlags, arg string) (fs.FS, vault.Location, *vault.Store, error) {
	loc, err := vault.ParseURL(arg)
	if err != nil {
		return nil, loc, nil, &usageError{err}
	}
	st, err := store.connect()
	if err != nil {
		return nil, loc, nil, err
	}
	fsys, err := st.Open(ctx, loc)
	if err != nil {
		return nil, loc, nil, err
	}
	return fsys, loc, st, nil
}
