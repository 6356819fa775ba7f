package acquire

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"
	"github.com/klauspost/compress/zstd"
	sha256 "github.com/minio/sha256-simd"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/chain/report"
	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/netstat"
	"github.com/scelle/scelle/collect/ntfs"
	"github.com/scelle/scelle/collect/profile"
	"github.com/scelle/scelle/collect/system"
	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/internal/hint"
	"github.com/scelle/scelle/internal/safeopen"
	"github.com/scelle/scelle/seal"
	"github.com/scelle/scelle/seal/tpm"
)

// Options says what to collect, where, and for whom. The zero value of
// a field is its default where one is given.
type Options struct {
	Case     string // default "case"
	Examiner string
	People   *chain.People
	// Reference is the operator's reading of a trusted clock.
	Reference *chain.Reference
	// Out is the folder the bag folder is made in.
	Out string
	// Key signs the bag and the custody events; nil: a key made for this
	// collection, which never touches a disk.
	Key ed25519.PrivateKey
	// Profile and Definitions choose the collectors; PathsOnly leaves the
	// profile out and collects only Paths.
	Profile     string
	Definitions string
	PathsOnly   bool
	Paths       []string
	MemoryPIDs  []int
	// NoRAM leaves the host's physical memory out (recorded as skipped).
	NoRAM bool
	// WinPmem is the examiner's WinPmem (absolute path) that captures the
	// RAM of a live Windows host (collect/winpmem); "" records it skipped.
	WinPmem string
	// Root is the file system collected: "/" for this live host, or a
	// mounted image's folder (volatile items are then skipped).
	Root string
	// Image, when set, is a disk image, partition image or block device
	// holding NTFS volumes: they are collected raw (read only, never
	// mounted), as a Windows host, and Root is not used.
	Image       string
	MaxFileSize int64
	ItemTimeout time.Duration
	// Timeout bounds one collector.
	Timeout time.Duration
	// Budget bounds the output folder's size (0: none).
	Budget int64
	// Recipients encrypt the archive with age.
	Recipients []age.Recipient
	// TPM names the TPM to quote ("" for the default device).
	TPM string
	// NoReadBack skips reading the bag back and writing its reports.
	NoReadBack bool
	// Level is the zstd level of the archive, 1 to 22; 0 moves it with
	// the output's pace (seal.Options.Adaptive).
	Level int
	// Version and Revision name this program in the record; Argv is its
	// command line.
	Version, Revision string
	Argv              []string
}

// Progress follows a collection. Every field may be nil. Calls are made
// one at a time, some from the collectors' goroutines.
type Progress struct {
	// Started: the bag folder is made and the signing key known.
	Started func(partialDir, keyFingerprint string)
	// Collector: collector i of n starts.
	Collector func(c collect.Collector, i, n int)
	// Item: an item ended (collected, partial, skipped or failed).
	Item func(o collect.Outcome)
	// Warning: something that does not stop the collection (a TPM that
	// does not answer).
	Warning func(err error)
	// RAM: the plan of the host's physical memory, before the bag is
	// made, when the profile captures it (RAMPlan.Planned).
	RAM func(p RAMPlan)
}

// Result is what a collection made.
type Result struct {
	Record *chain.Record
	Sealed *seal.Sealed
	// Failures are the first failed items, of Failed in all.
	Failures []evidence.Item
	Failed   int
	// ReadBack is the verdict on the bag as read back from the medium,
	// and its reports; nil with NoReadBack or when reading back failed.
	ReadBack *report.Written
	// Encrypted: the archive is encrypted, so the read-back could check
	// only the ciphertext.
	Encrypted bool
	// Missing lists the paths given in Options.Paths that were not
	// present on the host (a typo, or a path that is gone).
	Missing []string
	// NotRun lists the collectors that never ran: the run was interrupted
	// before their turn.
	NotRun []string
}

// Empty reports whether nothing at all was collected.
func (r *Result) Empty() bool {
	return r.Record.Summary[string(evidence.Collected)]+r.Record.Summary[string(evidence.Partial)] == 0
}

// Incomplete reports whether some items failed, the run was cut short,
// or nothing was collected.
func (r *Result) Incomplete() bool {
	return r.Record.Summary[string(evidence.Failed)] > 0 || r.Record.Interrupted != "" || r.Empty()
}

// OptionError is an error in the Options (a profile that does not load,
// a root that is not a folder): nothing was collected.
type OptionError struct{ Err error }

func (e *OptionError) Error() string { return e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

// run is one collection under way.
type run struct {
	opts       Options
	prog       Progress
	started    time.Time
	root       string
	live       bool
	env        collect.Env
	key        ed25519.PrivateKey
	id, host   string
	tool       chain.Tool
	ident      system.Identity
	clock      system.TimeState
	w          *seal.Writer
	tpm        *tpm.Session
	collectors []collect.Collector
	// ifs and ifsErr are the interfaces read at start; connected names
	// what shows the host still on a network.
	ifs       []netstat.Interface
	ifsErr    error
	connected []string
	// missing lists the explicit paths (Options.Paths) found absent.
	missing []string
	// notRun lists the collectors an interrupt kept from running.
	notRun []string
	// beforeSealLine is set once the record is known (see seal).
	beforeSealLine func(partial string, s *seal.Sealed) error
}

// Run collects into a new bag under opts.Out and seals it. The Result is
// set once the bag is sealed, even when the error is not nil (the
// read-back failed).
func Run(ctx context.Context, opts Options, prog Progress) (*Result, error) {
	r, err := begin(opts, prog)
	if err != nil {
		return nil, err
	}
	defer r.tpm.Close()
	items, rec, err := r.collect(ctx)
	if err != nil {
		return nil, err
	}
	defer items.Close()
	sealed, err := r.seal(rec, items)
	if err != nil {
		return nil, err
	}
	res := &Result{Record: rec, Sealed: sealed, Encrypted: len(opts.Recipients) > 0, Missing: r.missing, NotRun: r.notRun}
	res.Failures, res.Failed = items.Failures()
	if !opts.NoReadBack {
		if res.ReadBack, err = report.Write(sealed.Dir, sealed.Dir, time.Time{}, nil); err != nil {
			return res, fmt.Errorf("sealed %s, but reading it back failed: %w", sealed.Dir, err)
		}
	}
	return res, nil
}

func (r *run) warn(err error) {
	if r.prog.Warning != nil {
		r.prog.Warning(err)
	}
}

// begin checks the options and makes the bag folder, the key, the TPM
// session and the custody log's acquired event.
func begin(opts Options, prog Progress) (*run, error) {
	r := &run{opts: opts, prog: prog, started: time.Now().UTC()}
	if r.opts.Case == "" {
		r.opts.Case = "case"
	}
	if r.opts.People == nil {
		r.opts.People = &chain.People{}
	}
	var err error
	var layout *ntfs.Layout
	if opts.Image != "" {
		if r.root, err = filepath.Abs(opts.Image); err != nil {
			return nil, &OptionError{err}
		}
		// Read before anything is made: a missing, unreadable or non-NTFS
		// image leaves no folder behind.
		if layout, err = ntfs.ImageLayout(context.Background(), r.root); err != nil {
			return nil, &OptionError{hint.Wrap(err, "--image takes a raw disk image, a raw partition image or a block device holding NTFS (E01 and VHDX images must be converted to raw first)")}
		}
		r.env = collect.WindowsImageEnv(r.root, layout.Volumes)
	} else {
		if r.root, err = filepath.Abs(collect.LiveRoot(opts.Root)); err != nil {
			return nil, &OptionError{err}
		}
		if fi, err := os.Stat(r.root); err != nil || !fi.IsDir() {
			return nil, &OptionError{fmt.Errorf("--root %s: not a folder", opts.Root)}
		}
		r.env = collect.HostEnv(r.root)
		if runtime.GOOS == "windows" {
			r.env.Windows.Volumes = ntfs.LiveVolumes()
		}
	}
	if r.opts.Profile == "" {
		r.opts.Profile = profile.DefaultFor(r.env.TargetOS())
	}
	r.env.MaxFileSize, r.env.ItemTimeout = opts.MaxFileSize, opts.ItemTimeout
	r.live = r.env.Live
	if r.key = opts.Key; r.key == nil {
		// Made here, not by seal.Create, so that the custody log's acquired
		// and sealed events can be signed with it; it still never touches a disk.
		if r.key, err = seal.NewKey(); err != nil {
			return nil, err
		}
	}
	if layout == nil {
		r.ident = system.Identify(&r.env)
	}
	r.clock = system.Clock(&r.env)
	if r.live {
		r.ifs, r.connected, r.ifsErr = hostNetwork(&r.env)
	}
	switch {
	case r.ident.Hostname != "":
		r.host = r.ident.Hostname
	case layout != nil:
		r.host = filepath.Base(r.root) // the image's name stands for the host's
	default:
		r.host = hostName(&r.env)
	}
	out, err := filepath.Abs(opts.Out)
	if err != nil {
		return nil, err
	}
	r.opts.Out = out
	if err := checkVolume(out, opts.Budget); err != nil {
		return nil, err
	}
	// Plan before anything is made or announced: a bad profile leaves no
	// folder and prints no key fingerprint.
	if r.collectors, err = plan(&r.opts, &r.env, out, r.root); err != nil {
		return nil, err
	}
	if layout != nil {
		r.collectors = append(r.collectors, ntfs.LayoutCollector{Layout: layout})
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	if ram := ramCollector(r.collectors); ram != nil {
		p := planRAM(ram, &r.env, out, opts.Budget)
		ram.Skip = p.Skip
		if p.Planned && prog.RAM != nil {
			prog.RAM(p)
		}
	}
	r.tool = ToolIdentity(opts.Version, opts.Revision)
	r.id = uuid.NewString()
	if err := r.create(); err != nil {
		return nil, err
	}
	return r, nil
}

// level is the fixed zstd level of --level, or zero to adapt.
func (r *run) level() zstd.EncoderLevel {
	if r.opts.Level == 0 {
		return 0
	}
	return zstd.EncoderLevelFromZstd(r.opts.Level)
}

// create makes the bag writer, begins the TPM session and writes the
// acquired event.
func (r *run) create() error {
	var err error
	dir := filepath.Join(r.opts.Out, FolderName(r.opts.Case, r.host, r.started))
	r.w, err = seal.Create(dir, seal.Options{Key: r.key, Collection: r.id, Tool: "scelle " + r.tool.Version,
		BeforeSealLine: func(partial string, s *seal.Sealed) error { return r.beforeSealLine(partial, s) },
		Recipients:     r.opts.Recipients, Level: r.level(), Adaptive: r.opts.Level == 0})
	if err != nil {
		return err
	}
	fp := seal.KeyFingerprint(r.w.PublicKey())
	// TPM quotes bind the bag to this machine and show no reboot between
	// start and sealing; no TPM is recorded as absent, not an error.
	r.tpm = tpm.Begin(r.opts.TPM, r.id, fp)
	if r.tpm.Err != nil && !errors.Is(r.tpm.Err, tpm.ErrNoTPM) {
		r.warn(fmt.Errorf("%w (the bag will not be bound to this machine's TPM)", r.tpm.Err))
	}
	if r.prog.Started != nil {
		r.prog.Started(r.w.PartialDir(), fp)
	}
	if len(r.connected) > 0 {
		r.warn(fmt.Errorf("the host is still on a network (%s): volatile state may change while it is collected; cut the network if the case allows",
			strings.Join(r.connected, "; ")))
	}
	ev := chain.AcquiredEvent(r.id, r.opts.Case, r.host, "scelle "+r.tool.Version, r.opts.People.Operator)
	if _, err := chain.AppendCustody(r.w.PartialDir(), ev, r.key); err != nil {
		r.w.Abort(err.Error())
		r.tpm.Close()
		return fmt.Errorf("custody log: %w", err)
	}
	return nil
}

// outputError is what a failure of the output medium returns.
func (r *run) outputError(err error) error {
	return hint.Wrap(err, "the journal in %s proves every item completed before the failure; check the output medium", r.w.PartialDir())
}

// collect runs the plan's collectors into the bag and returns the
// record, its items kept on the output medium. An interrupted run is
// noted in the record; err is for a run that cannot be sealed.
func (r *run) collect(ctx context.Context) (items *chain.ItemSpool, rec *chain.Record, err error) {
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sink := &bagSink{w: r.w, cancel: cancel, budget: r.opts.Budget}
	rec = r.newRecord()
	// The record's items wait in the output folder, not in memory: a
	// million files must not weigh on the host.
	items, err = chain.NewItemSpool(filepath.Join(r.w.PartialDir(), chain.ItemSpoolFile))
	if err != nil {
		r.w.Abort(err.Error())
		return nil, nil, err
	}
	var mu sync.Mutex
	runner := collect.Runner{Env: r.env, Sink: sink, Timeout: r.opts.Timeout, OnStart: r.prog.Collector,
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
				r.w.Event(o)
			}
			switch {
			case o.Collector == PathsCollector && o.Status == collect.Skipped && o.Reason == collect.ReasonNotPresent:
				r.missing = append(r.missing, o.Source)
			case o.Kind == evidence.KindCollector && o.Reason == collect.ReasonNotRun:
				r.notRun = append(r.notRun, o.Collector)
			}
			if r.prog.Item != nil {
				r.prog.Item(o)
			}
		}}
	runErr := runner.Run(cctx, r.collectors)
	if cause := context.Cause(cctx); errors.Is(cause, seal.ErrOutput) {
		r.w.Abort(cause.Error())
		items.Close()
		return nil, nil, r.outputError(cause)
	}
	mu.Lock()
	defer mu.Unlock()
	if runErr != nil {
		rec.Interrupted = fmt.Sprintf("%v at %s", runErr, time.Now().UTC().Format(time.RFC3339))
	}
	rec.Ended = time.Now().UTC()
	rec.ClockStart, _ = json.Marshal(r.clock)
	rec.ClockEnd, _ = json.Marshal(system.Clock(&r.env))
	rec.Summary = items.Summary()
	return items, rec, nil
}

// newRecord starts the collection record.
func (r *run) newRecord() *chain.Record {
	hostBlock := struct {
		system.Identity
		Interfaces      []netstat.Interface `json:"interfaces,omitempty"`
		InterfacesError string              `json:"interfaces_error,omitempty"`
		NetworkUp       []string            `json:"network_up,omitempty"`
	}{Identity: r.ident, Interfaces: r.ifs, NetworkUp: r.connected}
	if r.ifsErr != nil {
		hostBlock.InterfacesError = r.ifsErr.Error()
	}
	pub, _ := seal.PublicKeyPEM(r.w.PublicKey())
	rec := &chain.Record{Format: chain.RecordFormat, Collection: r.id, Case: r.opts.Case, Examiner: r.opts.Examiner,
		People: r.opts.People, Reference: r.opts.Reference, Tool: r.tool, Argv: r.opts.Argv, Root: r.root, Live: r.live,
		Started: r.started, Extra: map[string]json.RawMessage{tpm.RecordKey: r.tpm.StartJSON()},
		Key: chain.Key{Fingerprint: seal.KeyFingerprint(r.w.PublicKey()), PublicKey: string(pub), Ephemeral: r.opts.Key == nil}}
	rec.Host, _ = json.Marshal(hostBlock)
	if !r.opts.PathsOnly {
		rec.Profile = r.opts.Profile
	}
	return rec
}

// seal writes the record and seals the bag, then has the TPM quote its
// root.
func (r *run) seal(rec *chain.Record, items *chain.ItemSpool) (*seal.Sealed, error) {
	var info seal.BagInfo
	info.Add("Bag-Software-Agent", "scelle "+r.tool.Version)
	info.Add("Bagging-Date", rec.Ended.Format("2006-01-02"))
	info.Add("External-Identifier", r.opts.Case)
	if r.opts.Examiner != "" {
		info.Add("Contact-Name", r.opts.Examiner)
	}
	info.Add("Scelle-Collection-Id", r.id)
	info.Add("Scelle-Host", r.host)
	info.Add("Scelle-Started", r.started.Format(time.RFC3339))
	info.Add("Scelle-Ended", rec.Ended.Format(time.RFC3339))
	// The custody log's sealed event goes in before the journal's seal
	// line: a run killed in between leaves a bag that is not sealed, never
	// a sealed bag whose custody log lacks its sealed event.
	r.beforeSealLine = func(partial string, s *seal.Sealed) error {
		if _, err := chain.AppendCustody(partial, chain.SealedEvent(s, rec.Summary, r.opts.People.Operator), r.key); err != nil {
			return fmt.Errorf("custody log: %w", err)
		}
		// The items are in record.json now: the scratch copy goes.
		return items.Remove()
	}
	sealed, err := r.w.SealFrom(func(out io.Writer) error { return items.WriteRecord(out, *rec) }, info)
	if err != nil {
		r.w.Abort(err.Error())
		if errors.Is(err, seal.ErrOutput) {
			return nil, r.outputError(err)
		}
		return nil, err
	}
	if err := r.tpm.Seal(sealed.Dir, sealed.Root); err != nil {
		r.warn(err)
	} else if r.tpm.EndErr != nil && !errors.Is(r.tpm.EndErr, tpm.ErrNoTPM) {
		r.warn(r.tpm.EndErr)
	}
	return sealed, nil
}

// hostName reads the host name from the kernel (live) or the image.
func hostName(env *collect.Env) string {
	path := "/proc/sys/kernel/hostname"
	if !env.Live {
		path = filepath.Join(env.Root, "etc/hostname")
	}
	b, err := collect.ReadFile(context.Background(), path, 4096)
	if err != nil || strings.TrimSpace(string(b)) == "" {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// ToolIdentity describes this program, with the SHA-256 of its own
// executable as it runs.
func ToolIdentity(version, revision string) chain.Tool {
	t := chain.Tool{Name: "scelle", Version: version, Revision: revision, GoOS: runtime.GOOS, GoArch: runtime.GOARCH}
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
