package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/internal/fileio"
	"github.com/scelle/scelle/internal/hint"
	"github.com/scelle/scelle/internal/visible"
	"github.com/scelle/scelle/seal"
)

type custodyAddOptions struct {
	Event, Key                           string
	Actor, Organisation, Role            string
	From, To, Medium, SealNumber, Reason string
	By, Condition                        string
	SealIntact                           bool
	TSA, Token                           string
	Text                                 string
	Anchors                              anchorFlags // verified: as scelle verify's

	sealIntactSet bool
}

type custodyShowOptions struct {
	JSON bool
}

const custodyHelp = `The custody log (custody.jsonl, beside the archive, never inside it) records
each event of the bag's life after collection, one signed JSON line per event,
each chained to the one before by its SHA-256. scelle collect writes the
acquired and sealed events with the bag's key; each later holder signs their
own events with their own key (scelle key new). docs/custody.md describes the
format and how to check it with openssl and sha256sum.`

func newCustodyCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "custody",
		Short: "Record and show the chain of custody of a bag",
		Long:  custodyHelp,
	}
	var addOpts custodyAddOptions
	add := &cobra.Command{
		Use:   "add BAGDIR --event EVENT --key KEYFILE [flags]",
		Short: "Sign an event and append it to the bag's custody log",
		Long: `Sign an event with KEYFILE and append it to BAGDIR/custody.jsonl, after
checking the whole log: a broken log is never extended. It prints the head
the new line makes (its SHA-256): note it in your own register, and
'scelle verify --custody-head HEX' later proves the log still extends it.

Events and their flags:
  transferred  --to (required) --from --medium --seal-number --reason
  received     --seal-intact=true|false (required) --by --condition --seal-number
  verified     runs every check of scelle verify and records the verdict, the
               failed checks and the anchors: --root, --signer,
               --custody-head, --trusted-key as scelle verify's, each
               recorded as held, failed or not checked (exit code as
               scelle verify)
  timestamped  --tsa URL --token FILE (required): an RFC 3161 token for the root
  note         --text (required)
--actor, --organisation and --role name who acts, for every event.

` + exitCodesHelp,
		Args: wrapArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			addOpts.sealIntactSet = cmd.Flags().Changed("seal-intact")
			return runCustodyAdd(cmd.Context(), addOpts, args, cmd.OutOrStdout())
		},
	}
	f := add.Flags()
	f.StringVar(&addOpts.Event, "event", "", "transferred, received, verified, timestamped or note")
	f.StringVar(&addOpts.Key, "key", "", "sign with this Ed25519 private key (PEM, from scelle key new)")
	f.StringVar(&addOpts.Actor, "actor", "", "name of the person who acts")
	f.StringVar(&addOpts.Organisation, "organisation", "", "the actor's organisation")
	f.StringVar(&addOpts.Role, "role", "", "the actor's role (e.g. greffier, expert judiciaire)")
	f.StringVar(&addOpts.From, "from", "", "transferred: who hands the bag over")
	f.StringVar(&addOpts.To, "to", "", "transferred: who receives it")
	f.StringVar(&addOpts.Medium, "medium", "", "transferred: the medium (e.g. USB stick, serial number)")
	f.StringVar(&addOpts.SealNumber, "seal-number", "", "transferred, received: the seal number (numéro de scellé)")
	f.StringVar(&addOpts.Reason, "reason", "", "transferred: why")
	f.StringVar(&addOpts.By, "by", "", "received: who received it (default: --actor)")
	f.BoolVar(&addOpts.SealIntact, "seal-intact", false, "received: the seal was found intact (say =true or =false)")
	f.StringVar(&addOpts.Condition, "condition", "", "received: the condition of the medium and its seal")
	f.StringVar(&addOpts.TSA, "tsa", "", "timestamped: the time-stamping authority")
	f.StringVar(&addOpts.Token, "token", "", "timestamped: the RFC 3161 token file")
	f.StringVar(&addOpts.Text, "text", "", "note: the text")
	addAnchorFlags(add, &addOpts.Anchors)

	var showOpts custodyShowOptions
	show := &cobra.Command{
		Use:   "show BAGDIR",
		Short: "Check and print the bag's custody log, one block per event",
		Long: `Check BAGDIR/custody.jsonl against the bag (chain, signatures, the acquired and
sealed events signed with the bag's key) and print each event: time, event,
actor, details, signer's key fingerprint, OK or BROKEN. The first broken line
is named; the lines after it are shown as not checked.

` + exitCodesHelp,
		Args: wrapArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCustodyShow(cmd.Context(), showOpts, args, cmd.OutOrStdout())
		},
	}
	show.Flags().BoolVar(&showOpts.JSON, "json", false, "print the log and its check as JSON")
	c.AddCommand(add, show)
	return c
}

// custodyEventOf makes the event that custody add's flags describe, and
// checks it.
func custodyEventOf(opts custodyAddOptions) (chain.CustodyEvent, error) {
	ev := chain.CustodyEvent{Event: opts.Event, From: opts.From, To: opts.To, Medium: opts.Medium,
		SealNumber: opts.SealNumber, Reason: opts.Reason, By: opts.By, Condition: opts.Condition,
		TSA: opts.TSA, Text: opts.Text}
	if opts.Actor != "" || opts.Organisation != "" || opts.Role != "" {
		ev.Actor = &chain.Person{Name: opts.Actor, Organisation: opts.Organisation, Role: opts.Role}
	}
	switch opts.Event {
	case chain.EventAcquired, chain.EventSealed:
		return ev, &usageError{fmt.Errorf("--event %s: written by scelle collect with the bag's key", opts.Event)}
	case chain.EventReceived:
		if !opts.sealIntactSet {
			return ev, &usageError{errors.New("--event received: say whether the seal was intact: --seal-intact=true or --seal-intact=false")}
		}
		ev.SealIntact = &opts.SealIntact
		if ev.By == "" {
			ev.By = opts.Actor
		}
	case chain.EventVerified:
		ev.Verdict = "pending" // for the check below; set once verified
	}
	if opts.Event != chain.EventReceived && opts.sealIntactSet {
		return ev, &usageError{fmt.Errorf("--seal-intact: only for --event received")}
	}
	if opts.Event != chain.EventVerified && opts.Anchors.given() {
		return ev, &usageError{errors.New("--root, --signer, --custody-head, --trusted-key: only for --event verified")}
	}
	if opts.Token != "" && opts.Event != chain.EventTimestamped {
		return ev, &usageError{fmt.Errorf("--token: only for --event timestamped")}
	}
	if opts.Event == chain.EventTimestamped {
		if opts.Token == "" {
			return ev, &usageError{errors.New("--event timestamped needs --token FILE")}
		}
		ev.TokenFile = opts.Token // for the check below
		ev.TokenSHA256 = strings.Repeat("0", 64)
	}
	if err := ev.Validate(); err != nil {
		return ev, &usageError{err}
	}
	return ev, nil
}

func runCustodyAdd(ctx context.Context, opts custodyAddOptions, args []string, stdout io.Writer) error {
	dir := args[0]
	if opts.Event == "" || opts.Key == "" {
		return &usageError{errors.New("custody add needs --event and --key")}
	}
	ev, err := custodyEventOf(opts)
	if err != nil {
		return err
	}
	if st, err := os.Stat(dir); err != nil {
		return err
	} else if !st.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	key, err := seal.ReadPrivateKey(opts.Key)
	if err != nil {
		return fmt.Errorf("--key: %w", err)
	}

	var v *verdict.Verdict
	switch opts.Event {
	case chain.EventVerified:
		var vopts verdict.Options
		if err := opts.Anchors.apply(&vopts); err != nil {
			return err
		}
		if v, err = verdict.Check(dir, vopts); err != nil {
			return err
		}
		ev.Verdict, ev.Tool, ev.Failed = v.Status.String(), "scelle "+versionString(), v.FailedNames()
		ev.Anchors = verdict.CustodyAnchors(v.Anchors)
	case chain.EventTimestamped:
		if ev.TokenFile, ev.TokenSHA256, err = tokenFile(dir, opts.Token); err != nil {
			return fmt.Errorf("--token: %w", err)
		}
	}
	e, err := chain.AppendCustody(dir, ev, key)
	if err != nil {
		if errors.Is(err, chain.ErrCustodyBroken) {
			return withCode(exitVerifyFailed, hint.Wrap(err, "scelle custody show %s names the broken line; nothing was written", dir))
		}
		return err
	}
	fmt.Fprintf(stdout, "%s line %d: %s, signed by key %s\n", chain.CustodyFile, e.Seq, e.Event, e.KeyFingerprint)
	printCustodyHead(stdout, &e)
	if v == nil {
		return nil
	}
	for _, c := range v.Failed() {
		fmt.Fprintf(stdout, "FAIL  %-15s %s [%s]\n", visible.String(c.Name), visible.String(c.Detail), visible.String(c.Where))
	}
	printAnchors(stdout, v)
	fmt.Fprintf(stdout, "verdict: %s\n", e.Verdict)
	return verdictExit(v.Status)
}

// printCustodyHead prints the head the new line makes, for the holder's
// own register: verify --custody-head proves the log still extends it.
func printCustodyHead(w io.Writer, e *chain.CustodyEntry) {
	if h, err := e.Hash(); err == nil {
		fmt.Fprintf(w, "head:    %s\n         (note it in your register: scelle verify --custody-head HEX proves the log still extends it)\n", h)
	}
}

// tokenFile hashes a time-stamp token and names it relative to the bag
// folder when it is inside it.
func tokenFile(dir, path string) (name, sum string, err error) {
	if sum, err = fileio.SHA256File(path); err != nil {
		return "", "", err
	}
	name = path
	absDir, err1 := filepath.Abs(dir)
	absPath, err2 := filepath.Abs(path)
	if err1 == nil && err2 == nil {
		if rel, err := filepath.Rel(absDir, absPath); err == nil && !strings.HasPrefix(rel, "..") {
			name = filepath.ToSlash(rel)
		}
	}
	return name, sum, nil
}

// shownEvent is one line of custody show --json.
type shownEvent struct {
	Line   int    `json:"line"`
	Status string `json:"status"` // OK, BROKEN, NOT CHECKED
	BagKey bool   `json:"bag_key"`
	chain.CustodyEntry
}

func runCustodyShow(ctx context.Context, opts custodyShowOptions, args []string, stdout io.Writer) error {
	dir := args[0]
	c, err := chain.CheckCustodyDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s: no custody log: %w", dir, err)
		}
		return err
	}
	check := verdict.Custody(c, nil, c.Bag.Root != "")
	ok, where, detail := check.OK, check.Where, check.Detail
	var events []shownEvent
	for i, e := range c.Entries {
		events = append(events, shownEvent{Line: i + 1, Status: "OK", BagKey: c.BagKey(&e), CustodyEntry: e})
	}
	for i, l := range c.Rest {
		var e chain.CustodyEntry
		json.Unmarshal(l, &e) // best effort: shown, not trusted
		s := shownEvent{Line: len(c.Entries) + i + 1, Status: "NOT CHECKED", CustodyEntry: e}
		if i == 0 {
			s.Status = "BROKEN"
		}
		events = append(events, s)
	}
	if opts.JSON {
		out := struct {
			Dir     string       `json:"dir"`
			OK      bool         `json:"ok"`
			BagKey  string       `json:"bag_key_fingerprint,omitempty"`
			Where   string       `json:"where,omitempty"`
			Problem string       `json:"problem,omitempty"`
			Head    string       `json:"head"`
			Events  []shownEvent `json:"events"`
		}{Dir: dir, OK: ok, Head: c.Head(), Events: events}
		if c.Bag.Key != nil {
			out.BagKey = seal.KeyFingerprint(c.Bag.Key)
		}
		if !ok {
			out.Where, out.Problem = where, detail
		}
		b, _ := json.MarshalIndent(out, "", " ")
		fmt.Fprintf(stdout, "%s\n", visible.JSON(b))
	} else {
		printCustody(stdout, c, events, ok, detail)
	}
	if !ok {
		return &printedError{code: exitVerifyFailed, why: "the custody log is broken"}
	}
	return nil
}

// printCustody prints a checked custody log as custody show does. Every
// string of the log (a holder signs what they like) and of the bag is
// printed visibly escaped: a note cannot rewrite the lines above it.
func printCustody(stdout io.Writer, c *chain.CustodyCheck, events []shownEvent, ok bool, detail string) {
	if c.Bag.Key != nil {
		fmt.Fprintf(stdout, "bag key: %s (%s)\n", seal.KeyFingerprint(c.Bag.Key), c.Bag.KeySource)
	}
	if c.Bag.Root != "" {
		fmt.Fprintf(stdout, "root:    %s\n", visible.String(c.Bag.Root))
	}
	for _, e := range events {
		fmt.Fprintln(stdout)
		printEvent(stdout, e)
		if e.Status == "BROKEN" {
			fmt.Fprintf(stdout, "  BROKEN:       %s\n", visible.String(fmt.Sprint(c.Err)))
		}
	}
	fmt.Fprintln(stdout)
	if !ok && c.Err == nil {
		fmt.Fprintf(stdout, "BROKEN: %s\n", visible.String(detail))
	}
	fmt.Fprintf(stdout, "head:    %s (SHA-256 of the last line that holds)\n", c.Head())
	state := "OK"
	if !ok {
		state = "BROKEN"
	}
	fmt.Fprintf(stdout, "verdict: %s: %d events hold\n", state, len(c.Entries))
}

func printEvent(w io.Writer, e shownEvent) {
	fmt.Fprintf(w, "line %d  %s  %s  %s\n", e.Line, visible.String(e.Time), visible.String(e.Event), e.Status)
	field := func(label, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-13s %s\n", label+":", visible.String(v))
		}
	}
	if a := e.Actor; a != nil {
		var more []string
		for _, s := range []string{a.Organisation, a.Role, a.Reference} {
			if s != "" {
				more = append(more, s)
			}
		}
		if len(more) > 0 {
			field("actor", fmt.Sprintf("%s (%s)", a.Name, strings.Join(more, ", ")))
		} else {
			field("actor", a.Name)
		}
	}
	field("collection", e.Collection)
	field("case", e.Case)
	field("host", e.Host)
	if e.Event == chain.EventSealed {
		field("root", e.Root)
	}
	field("archive", e.ArchiveSHA256)
	if e.Items != nil && e.Octets != nil {
		field("payload", fmt.Sprintf("%d files, %d bytes", *e.Items, *e.Octets))
	}
	if len(e.Summary) > 0 {
		var s []string
		for _, st := range evidence.Statuses() {
			s = append(s, fmt.Sprintf("%d %s", e.Summary[string(st)], st))
		}
		field("items", strings.Join(s, ", "))
	}
	field("from", e.From)
	field("to", e.To)
	field("medium", e.Medium)
	field("seal number", e.SealNumber)
	field("reason", e.Reason)
	field("received by", e.By)
	if e.SealIntact != nil {
		if *e.SealIntact {
			field("seal", "intact")
		} else {
			field("seal", "NOT INTACT")
		}
	}
	field("condition", e.Condition)
	field("verdict", e.Verdict)
	if len(e.Failed) > 0 {
		field("failed", strings.Join(e.Failed, "; "))
	}
	if len(e.Anchors) > 0 {
		field("anchors", chain.AnchorsText(e.Anchors))
	}
	field("tsa", e.TSA)
	field("token", e.TokenFile)
	field("token sha256", e.TokenSHA256)
	field("text", e.Text)
	field("tool", e.Tool)
	signer := e.KeyFingerprint
	if e.BagKey {
		signer += " (the bag's key)"
	}
	field("signed by", signer)
}
