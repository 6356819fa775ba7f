package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"
	sha256 "github.com/minio/sha256-simd"
	"github.com/spf13/cobra"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/files"
	"github.com/scelle/scelle/collect/netstat"
	"github.com/scelle/scelle/collect/proc"
	"github.com/scelle/scelle/collect/profile"
	"github.com/scelle/scelle/collect/system"
	"github.com/scelle/scelle/internal/safeopen"
	"github.com/scelle/scelle/seal"
	"github.com/scelle/scelle/seal/tpm"
)

type collectOptions struct {
	Case, Examiner string
	Out            string
	Key            string
	Paths          []string
	Root           string
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
	// age recipients, and files of them: encrypt the archive to each.
	Recipients     []string
	RecipientFiles []string
	TPM            string
	pathsOnly      bool // --path given without --profile: only those paths

	reference *chain.Reference // from --reference-time or the prompt
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
			if !opts.NoPrompt && (opts.Case == "" || opts.Examiner == "") && stdinIsTerminal() {
				if err := askMissing(os.Stdin, cmd.ErrOrStderr(), &opts); err != nil {
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
	f.StringVar(&opts.Profile, "profile", profile.DefaultProfile, "collection profile (see 'scelle profiles')")
	f.StringVar(&opts.Definitions, "definitions", "", "load definition files from this folder too (same names replace embedded ones)")
	f.StringArrayVarP(&opts.Paths, "path", "p", nil, "file, folder or glob to collect (repeatable; \"**\" matches any folders); alone, only these are collected")
	f.IntSliceVar(&opts.MemoryPIDs, "memory", nil, "also store the readable memory of these processes (size-capped)")
	f.StringVar(&opts.Root, "root", "/", "collect from this folder as if it were / (a mounted image); volatile items are skipped")
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
	return c
}

// plan returns the collectors of the run: the profile's items, plus the
// --path items (or only those, when --path is given without --profile).
// The output folder is never collected.
func plan(opts collectOptions, env *collect.Env, out, root string) ([]collect.Collector, error) {
	var exclude []string
	if rel, ok := strings.CutPrefix(out, root); ok && (root == "/" || strings.HasPrefix(rel, "/")) {
		exclude = append(exclude, "/"+strings.TrimPrefix(rel, "/"))
	}
	var cs []collect.Collector
	if !opts.pathsOnly {
		set, err := profile.Load(opts.Definitions)
		if err != nil {
			return nil, &usageError{err}
		}
		cs, err = set.Build(opts.Profile, natives(proc.Options{MemoryPIDs: opts.MemoryPIDs}), env, exclude...)
		if err != nil {
			return nil, &usageError{err}
		}
	}
	if len(opts.Paths) > 0 {
		var ex []string
		for _, e := range exclude {
			ex = append(ex, e, e+"/**")
		}
		cs = append(cs, &files.Tree{ID: "files.paths", Vol: collect.ClassDisk, Patterns: opts.Paths, Exclude: ex})
	}
	return cs, nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func folderName(caseID, host string, t time.Time) string {
	clean := func(s string) string {
		s = strings.Trim(unsafeName.ReplaceAllString(s, "-"), "-.")
		if s == "" {
			return "unknown"
		}
		return s
	}
	return clean(caseID) + "_" + clean(host) + "_" + t.UTC().Format("20060102T150405Z")
}

func runCollect(ctx context.Context, opts collectOptions, stdout, stderr io.Writer) error {
	started := time.Now().UTC()
	if opts.Case == "" {
		opts.Case = "case"
	}
	people, err := peopleOf(opts)
	if err != nil {
		return err
	}
	if opts.ReferenceTime != "" {
		t, err := parseReferenceTime(opts.ReferenceTime, started)
		if err != nil {
			return &usageError{err}
		}
		opts.reference = newReference(t, started)
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return &usageError{err}
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return &usageError{fmt.Errorf("--root %s: not a folder", opts.Root)}
	}
	live := root == "/"
	env := collect.Env{Root: root, Live: live, Proc: "/proc", Sys: "/sys", MaxFileSize: opts.MaxFileSize, ItemTimeout: opts.ItemTimeout}

	var budget int64
	if opts.MaxOutput != "" {
		if budget, err = profile.ParseSize(opts.MaxOutput); err != nil || budget <= 0 {
			return &usageError{fmt.Errorf("--max-output %q: want a size such as 512MiB or 2GiB", opts.MaxOutput)}
		}
	}
	recipients, err := collectRecipients(opts)
	if err != nil {
		return err
	}
	var key ed25519.PrivateKey
	if opts.Key != "" {
		if key, err = seal.ReadPrivateKey(opts.Key); err != nil {
			return fmt.Errorf("--key: %w", err)
		}
	} else if key, err = seal.NewKey(); err != nil {
		// Made here, not by seal.Create, so that the custody log's acquired
		// and sealed events can be signed with it; it still never touches a disk.
		return err
	}
	ident := system.Identify(&env)
	clockStart := system.Clock(&env)
	host := ident.Hostname
	if host == "" {
		host = hostName(root, live)
	}
	out, err := filepath.Abs(opts.Out)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	dir := filepath.Join(out, folderName(opts.Case, host, started))
	tool := toolIdentity()
	id := uuid.NewString()
	var beforeSealLine func(partial string, s *seal.Sealed) error // set once the record is known
	w, err := seal.Create(dir, seal.Options{Key: key, Collection: id, Tool: "scelle " + tool.Version,
		BeforeSealLine: func(partial string, s *seal.Sealed) error { return beforeSealLine(partial, s) },
		Recipients:     recipients})
	if err != nil {
		return err
	}
	// TPM quotes bind the bag to this machine and show no reboot between
	// start and sealing; no TPM is recorded as absent, not an error.
	tpmSess := tpm.Begin(opts.TPM, id, seal.KeyFingerprint(w.PublicKey()))
	defer tpmSess.Close()
	if tpmSess.Err != nil && !errors.Is(tpmSess.Err, tpm.ErrNoTPM) {
		fmt.Fprintf(stderr, "scelle: warning: %v (the bag will not be bound to this machine's TPM)\n", tpmSess.Err)
	}
	pr := newProgress(stderr, opts.JSON)
	pr.start(w.PartialDir(), seal.KeyFingerprint(w.PublicKey()))
	if _, err := chain.AppendCustody(w.PartialDir(), chain.AcquiredEvent(id, opts.Case, host, "scelle "+tool.Version, people.Operator), key); err != nil {
		w.Abort(err.Error())
		return fmt.Errorf("custody log: %w", err)
	}

	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sink := &bagSink{w: w, cancel: cancel, budget: budget}

	collectors, err := plan(opts, &env, out, root)
	if err != nil {
		w.Abort(err.Error())
		os.RemoveAll(w.PartialDir())
		return err
	}

	hostBlock := struct {
		system.Identity
		Interfaces      []netstat.Interface `json:"interfaces,omitempty"`
		InterfacesError string              `json:"interfaces_error,omitempty"`
	}{Identity: ident}
	if live {
		ifs, err := netstat.Interfaces(&env)
		hostBlock.Interfaces = ifs
		if err != nil {
			hostBlock.InterfacesError = err.Error()
		}
	}
	rec := &chain.Record{Format: chain.RecordFormat, Collection: id, Case: opts.Case, Examiner: opts.Examiner,
		People: people, Reference: opts.reference, Tool: tool, Argv: os.Args, Root: root, Live: live, Started: started,
		Extra: map[string]json.RawMessage{tpm.RecordKey: tpmSess.StartJSON()}}
	if !opts.pathsOnly {
		rec.Profile = opts.Profile
	}
	// The record's items wait in the output folder, not in memory: a
	// million files must not weigh on the host.
	items, err := chain.NewItemSpool(filepath.Join(w.PartialDir(), chain.ItemSpoolFile))
	if err != nil {
		w.Abort(err.Error())
		return err
	}
	defer items.Close()
	var mu sync.Mutex
	runner := collect.Runner{Env: env, Sink: sink, Timeout: opts.Timeout,
		OnStart: pr.collector,
		OnOutcome: func(o collect.Outcome) {
			mu.Lock()
			defer mu.Unlock()
			if err := items.Add(&o); err != nil {
				cancel(fmt.Errorf("%w: %w", seal.ErrOutput, err))
			}
			sink.recorded()
			if o.Path == "" || o.Status != collect.Collected {
				// The journal keeps every outcome that its item lines do
				// not tell: items that stored nothing, and partial ones.
				w.Event(o)
			}
			pr.outcome(o)
		}}
	runErr := runner.Run(cctx, collectors)
	if cause := context.Cause(cctx); errors.Is(cause, seal.ErrOutput) {
		w.Abort(cause.Error())
		return fmt.Errorf("%w\nhint: the journal in %s proves every item completed before the failure; check the output medium", cause, w.PartialDir())
	}
	mu.Lock()
	defer mu.Unlock()
	if runErr != nil {
		rec.Interrupted = fmt.Sprintf("%v at %s", runErr, time.Now().UTC().Format(time.RFC3339))
	}
	rec.Ended = time.Now().UTC()
	rec.Host, _ = json.Marshal(hostBlock)
	rec.ClockStart, _ = json.Marshal(clockStart)
	rec.ClockEnd, _ = json.Marshal(system.Clock(&env))
	pub, _ := seal.PublicKeyPEM(w.PublicKey())
	rec.Key = chain.Key{Fingerprint: seal.KeyFingerprint(w.PublicKey()), PublicKey: string(pub), Ephemeral: opts.Key == ""}
	rec.Summary = items.Summary()
	var info seal.BagInfo
	info.Add("Bag-Software-Agent", "scelle "+tool.Version)
	info.Add("Bagging-Date", rec.Ended.Format("2006-01-02"))
	info.Add("External-Identifier", opts.Case)
	if opts.Examiner != "" {
		info.Add("Contact-Name", opts.Examiner)
	}
	info.Add("Scelle-Collection-Id", id)
	info.Add("Scelle-Host", host)
	info.Add("Scelle-Started", started.Format(time.RFC3339))
	info.Add("Scelle-Ended", rec.Ended.Format(time.RFC3339))
	// The custody log's sealed event goes in before the journal's seal
	// line: a run killed in between leaves a bag that is not sealed, never
	// a sealed bag whose custody log lacks its sealed event.
	beforeSealLine = func(partial string, s *seal.Sealed) error {
		if _, err := chain.AppendCustody(partial, chain.SealedEvent(s, rec.Summary, people.Operator), key); err != nil {
			return fmt.Errorf("custody log: %w", err)
		}
		// The items are in record.json now: the scratch copy goes.
		return items.Remove()
	}
	sealed, err := w.SealFrom(func(out io.Writer) error { return items.WriteRecord(out, *rec) }, info)
	if err != nil {
		w.Abort(err.Error())
		if errors.Is(err, seal.ErrOutput) {
			return fmt.Errorf("%w\nhint: the journal in %s proves every item completed before the failure; check the output medium", err, w.PartialDir())
		}
		return err
	}
	if err := tpmSess.Seal(sealed.Dir, sealed.Root); err != nil {
		fmt.Fprintf(stderr, "scelle: warning: %v\n", err)
	} else if tpmSess.EndErr != nil && !errors.Is(tpmSess.EndErr, tpm.ErrNoTPM) {
		fmt.Fprintf(stderr, "scelle: warning: %v\n", tpmSess.EndErr)
	}
	// Read the bag back from the medium, verify it, and write the court
	// report: a bad write on a failing stick shows here, not in court.
	var rr *reportResult
	if !opts.NoReport {
		if rr, err = buildReports(sealed.Dir, sealed.Dir, time.Time{}, seal.VerifyOptions{}); err != nil {
			pr.summary(stdout, rec, items, sealed, nil)
			return fmt.Errorf("sealed %s, but reading it back failed: %w", sealed.Dir, err)
		}
	}
	pr.summary(stdout, rec, items, sealed, rr)
	if rr != nil && rr.code != exitOK && !(len(recipients) > 0 && rr.verdict == verdictEncrypted) {
		return withCode(exitVerifyFailed, fmt.Errorf("the bag written to %s does not verify (%s): run 'scelle verify' on it", sealed.Dir, rr.verdict))
	}
	if rec.Summary["failed"] > 0 || rec.Interrupted != "" {
		return withCode(exitIncomplete, errors.New(""))
	}
	return nil
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

// hostName reads the host name from the kernel (live) or the image.
func hostName(root string, live bool) string {
	path := "/proc/sys/kernel/hostname"
	if !live {
		path = filepath.Join(root, "etc/hostname")
	}
	b, err := collect.ReadFile(context.Background(), path, 4096)
	if err != nil || strings.TrimSpace(string(b)) == "" {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// toolIdentity describes this program, with the SHA-256 of its own
// executable as it runs.
func toolIdentity() chain.Tool {
	t := chain.Tool{Name: "scelle", Version: version, Revision: vcsRevision(), GoOS: runtime.GOOS, GoArch: runtime.GOARCH}
	exe, err := os.Executable()
	if err != nil {
		return t
	}
	t.Path = exe
	f, err := safeopen.Open(exe)
	if err != nil {
		return t
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err == nil {
		t.SHA256 = fmt.Sprintf("%x", h.Sum(nil))
	}
	return t
}
