package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"filippo.io/age"
	"github.com/spf13/cobra"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/profile"
	"github.com/scelle/scelle/internal/acquire"
	"github.com/scelle/scelle/internal/visible"
	"github.com/scelle/scelle/seal"
)

type collectOptions struct {
	Case, Examiner string
	Out            string
	Key            string
	Paths          []string
	Root           string
	Image          string
	MaxFileSize    int64
	ItemTimeout    time.Duration
	Timeout        time.Duration
	JSON           bool
	ReferenceTime  string
	Witnesses      []string
	Organisation   string
	Role           string
	Mandator       string
	NoPrompt       bool
	NoReport       bool
	MaxOutput      string
	Profile        string
	Definitions    string
	MemoryPIDs     []int
	NoRAM          bool
	WinPmem        string
	// age recipients, and files of them: encrypt the archive to each.
	Recipients     []string
	RecipientFiles []string
	TPM            string
	Level          int  // zstd level; 0: adapt to the output's pace (issue 16)
	pathsOnly      bool // --path given without --profile: only those paths

	reference *chain.Reference // from the prompt

}

func newCollectCmd() *cobra.Command {
	var opts collectOptions
	c := &cobra.Command{
		Use:   "collect [flags]",
		Short: "Collect evidence from this host into a sealed bag",
		Long: `Collect evidence from this host, most volatile first, into a sealed bag in
<out>/<case>_<hostname>_<UTC yyyymmddThhmmssZ>/ (written as *.partial and
renamed once sealed). Nothing is written outside that folder and no program of
the host is run.

With --image, the NTFS volumes of a raw disk image (MBR or GPT), a raw
partition image or a block device are collected as a Windows host's disk,
read raw and read only: the image is never mounted or written. The profile
is then windows-triage unless --profile names another Windows profile, and
--path patterns are taken on each volume from its root.

With --recipient or --recipients-file, the archive is encrypted with age to
each recipient (the experts' public keys, age1...) and written as
evidence.tar.zst.age; no plaintext of it touches the disk. The journal,
record.json and the other files beside it stay in clear: they hold paths,
hashes and times, not contents. Then 'scelle verify' needs --identity to check
the contents, and the read-back verdict is ENCRYPTED (see 'scelle verify
--help'). age writes 64 KiB chunks: a run killed before sealing loses the
last chunk, and the items in it are claimed but not proven.

` + exitCodesHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.pathsOnly = len(opts.Paths) > 0 && !cmd.Flags().Changed("profile")
			if opts.Image != "" && cmd.Flags().Changed("root") {
				return &usageError{err: errors.New("--image and --root: give one or the other")}
			}
			if !opts.NoPrompt && (opts.Case == "" || opts.Examiner == "") && stdinIsTerminal() {
				if err := askMissing(os.Stdin, cmd.ErrOrStderr(), &opts); err != nil {
					return err
				}
				if err := askRAM(os.Stdin, cmd.ErrOrStderr(), &opts); err != nil {
					return err
				}
			}
			return runCollect(cmd.Context(), opts, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Case, "case", "", "case identifier (default \"case\")")
	f.StringVar(&opts.Examiner, "examiner", "", "name of the person collecting")
	f.StringVarP(&opts.Out, "out", "o", "evidence", "folder to write the bag folder in")
	f.StringVar(&opts.Key, "key", "", "sign with this Ed25519 private key (PEM) instead of a key made for this collection")
	f.StringVar(&opts.Profile, "profile", "", "collection profile (see 'scelle profiles'; default "+profile.DefaultProfile+", "+profile.WindowsProfile+" on Windows and with --image)")
	f.StringVar(&opts.Definitions, "definitions", "", "load definition files from this folder too (same names replace embedded ones)")
	f.StringArrayVarP(&opts.Paths, "path", "p", nil, "file, folder or glob to collect (repeatable; \"**\" matches any folders); alone, only these are collected")
	f.IntSliceVar(&opts.MemoryPIDs, "memory", nil, "also store the readable memory of these processes (size-capped)")
	f.BoolVar(&opts.NoRAM, "no-ram", false, "do not capture the host's physical memory (recorded as skipped)")
	f.StringVar(&opts.WinPmem, "winpmem", "", "Windows: capture the RAM with this WinPmem, the examiner's own copy (its SHA-256 is recorded before it runs)")
	f.StringVar(&opts.Root, "root", "/", "collect from this folder as if it were / (a mounted image); volatile items are skipped")
	f.StringVar(&opts.Image, "image", "", "collect the NTFS volumes of this raw disk image, partition image or block device as a Windows host (read only, never mounted)")
	f.Int64Var(&opts.MaxFileSize, "max-file-size", 256<<20, "bytes kept of one file at most (0: no cap)")
	f.DurationVar(&opts.ItemTimeout, "item-timeout", 30*time.Second, "time allowed to read one item")
	f.DurationVar(&opts.Timeout, "collector-timeout", 10*time.Minute, "time allowed to one collector")
	f.BoolVar(&opts.JSON, "json", false, "print progress events as JSON Lines on standard error")
	f.StringVar(&opts.ReferenceTime, "reference-time", "", "time read from a trusted clock (RFC 3339, or HH:MM:SS UTC); the host clock's skew is recorded")
	f.StringArrayVar(&opts.Witnesses, "witness", nil, "a witness: \"NAME[;ROLE[;REFERENCE[;ORGANISATION]]]\" (repeatable)")
	f.StringVar(&opts.Organisation, "organisation", "", "the examiner's organisation")
	f.StringVar(&opts.Role, "role", "", "the examiner's role (e.g. incident responder)")
	f.StringVar(&opts.Mandator, "mandating-party", "", "who mandated the collection")
	f.StringVar(&opts.MaxOutput, "max-output", "", "bound the bag's size (e.g. 2GiB); items that would exceed it are skipped, largest first")
	f.BoolVar(&opts.NoReport, "no-report", false, "do not read the bag back to verify it and write report.html and report.pdf")
	f.BoolVar(&opts.NoPrompt, "no-prompt", false, "never ask questions, even on a terminal")
	f.StringVar(&opts.TPM, "tpm", "", "TPM to quote at start and sealing: a device (default /dev/tpmrm0) or swtpm:HOST:PORT")
	f.StringArrayVar(&opts.Recipients, "recipient", nil, "encrypt the archive with age to this public key (age1...; repeatable)")
	f.StringArrayVar(&opts.RecipientFiles, "recipients-file", nil, "encrypt the archive to the age public keys in FILE, one a line, # comments (repeatable)")
	f.IntVar(&opts.Level, "level", 0, "zstd level 1-22 for the whole archive (0: adapt it to the output medium's pace)")
	return c
}

func runCollect(ctx context.Context, opts collectOptions, stdout, stderr io.Writer) error {
	aopts, err := acquireOptions(opts)
	if err != nil {
		return err
	}
	if r := aopts.Reference; r != nil {
		if why := localTimeSuspect(r.Operator, r.Host); why != "" {
			fmt.Fprintf(stderr, "scelle: warning: %s (%s)\n", why, skewWords(r))
		}
	}
	if why := notElevated(); why != "" && collect.LiveRoot(opts.Root) == collect.LiveRoot("/") {
		fmt.Fprintf(stderr, "scelle: warning: %s\n", why)
	}
	pr := newProgress(stderr, opts.JSON)
	defer pr.restore()
	res, err := acquire.Run(ctx, aopts, acquire.Progress{Started: pr.start, Collector: pr.collector, Item: pr.outcome,
		Warning: func(err error) { fmt.Fprintf(stderr, "scelle: warning: %s\n", visible.String(err.Error())) },
		RAM:     pr.ram})
	var oe *acquire.OptionError
	if errors.As(err, &oe) {
		return &usageError{oe.Err}
	}
	if res == nil {
		return err
	}
	pr.summary(stdout, res)
	if err != nil {
		// Sealed, but not read back: the bag on the medium is unproven.
		return withCode(exitVerifyFailed, err)
	}
	if rb := res.ReadBack; rb != nil && rb.Verdict.Status != verdict.Verified && !(res.Encrypted && rb.Verdict.Status == verdict.Encrypted) {
		return withCode(exitVerifyFailed, fmt.Errorf("the bag written to %s does not verify (%s): run 'scelle verify' on it", res.Sealed.Dir, rb.Verdict.Status))
	}
	if res.Incomplete() {
		return &printedError{code: exitIncomplete, why: "some items failed, the run was interrupted, or nothing was collected"}
	}
	return nil
}

// acquireOptions checks the flags of collect and turns them into the
// acquisition's options.
func acquireOptions(opts collectOptions) (acquire.Options, error) {
	a := acquire.Options{Case: opts.Case, Examiner: opts.Examiner, Out: opts.Out, Profile: opts.Profile,
		Definitions: opts.Definitions, PathsOnly: opts.pathsOnly, Paths: opts.Paths, MemoryPIDs: opts.MemoryPIDs, NoRAM: opts.NoRAM,
		Root: opts.Root, Image: opts.Image, MaxFileSize: opts.MaxFileSize, ItemTimeout: opts.ItemTimeout, Timeout: opts.Timeout,
		TPM: opts.TPM, NoReadBack: opts.NoReport, Version: version, Revision: vcsRevision(), Argv: os.Args}
	var err error
	if opts.Level < 0 || opts.Level > 22 {
		return a, &usageError{fmt.Errorf("--level %d: want a zstd level from 1 to 22, or 0 to adapt", opts.Level)}
	}
	a.Level = opts.Level
	if opts.WinPmem != "" {
		if runtime.GOOS != "windows" {
			return a, &usageError{errors.New("--winpmem runs WinPmem, a Windows program: on Linux the RAM is read by the triage profile itself")}
		}
		if a.WinPmem, err = filepath.Abs(opts.WinPmem); err != nil {
			return a, &usageError{fmt.Errorf("--winpmem: %w", err)}
		}
	}
	if a.People, err = peopleOf(opts); err != nil {
		return a, err
	}
	a.Reference = opts.reference
	if opts.ReferenceTime != "" && a.Reference == nil {
		now := time.Now().UTC()
		t, err := parseReferenceTime(opts.ReferenceTime, now)
		if err != nil {
			return a, &usageError{err}
		}
		a.Reference = newReference(t, now)
	}
	if opts.MaxOutput != "" {
		if a.Budget, err = profile.ParseSize(opts.MaxOutput); err != nil || a.Budget <= 0 {
			return a, &usageError{fmt.Errorf("--max-output %q: want a size such as 512MiB or 2GiB", opts.MaxOutput)}
		}
	}
	if a.Recipients, err = collectRecipients(opts); err != nil {
		return a, err
	}
	if opts.Key != "" {
		if a.Key, err = seal.ReadPrivateKey(opts.Key); err != nil {
			return a, fmt.Errorf("--key: %w", err)
		}
	}
	return a, nil
}

// collectRecipients parses --recipient and --recipients-file.
func collectRecipients(opts collectOptions) ([]age.Recipient, error) {
	var rs []age.Recipient
	for _, s := range opts.Recipients {
		r, err := seal.ParseRecipient(s)
		if err != nil {
			return nil, &usageError{fmt.Errorf("--recipient: %w", err)}
		}
		rs = append(rs, r)
	}
	for _, f := range opts.RecipientFiles {
		r, err := seal.ReadRecipientsFile(f)
		if err != nil {
			return nil, &usageError{fmt.Errorf("--recipients-file: %w", err)}
		}
		rs = append(rs, r...)
	}
	return rs, nil
}

func peopleOf(opts collectOptions) (*chain.People, error) {
	p := &chain.People{Mandator: opts.Mandator}
	if opts.Examiner != "" {
		p.Operator = &chain.Person{Name: opts.Examiner, Organisation: opts.Organisation, Role: opts.Role}
	}
	for _, w := range opts.Witnesses {
		wp, err := parseWitness(w)
		if err != nil {
			return nil, &usageError{err}
		}
		p.Witnesses = append(p.Witnesses, wp)
	}
	return p, nil
}
