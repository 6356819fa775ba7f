package report

import (
	"container/heap"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	sha256 "github.com/minio/sha256-simd"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/internal/fileio"
	"github.com/scelle/scelle/seal"
)

// Names of the report files in the output folder.
const (
	HTMLFile = "report.html"
	PDFFile  = "report.pdf"
)

// Files beside the bag that the report lists when present.
const (
	TPMFile           = "tpm.json"
	TimestampPrefix   = "timestamp-"
	maxExtraFileBytes = 64 << 20 // extras larger than this are listed without a hash
)

// Report is the court report of one output folder. Build fills it;
// SetVerification adds the verdict. Its fields may be read and Generated
// set before rendering; a Report is not safe for concurrent use.
type Report struct {
	// Folder is the output folder's base name (never its full path,
	// which says where the report was made, not what it is about).
	Folder string
	// Record is the collection record without its items (Items nil):
	// what the report shows of them is in Items.
	Record *chain.Record
	// Items sums up the record's items. Build fills it; a Report
	// made otherwise adds each item with Items.Add.
	Items ItemDigest
	// Root is root.txt without its line feed; empty when absent.
	Root string
	// ArchiveSHA256 is the hash in evidence.tar.zst.sha256; empty when
	// absent.
	ArchiveSHA256 string
	// KeyFingerprint is the SHA-256 of root.pub.pem's key (PKIX DER),
	// else the record's.
	KeyFingerprint string
	PublicKeyPEM   string
	// Custody is the custody log checked against the bag; nil when the
	// folder has none. CustodyError says why a log present could not be
	// read.
	Custody      *chain.CustodyCheck
	CustodyError string
	// Extras are the files added beside the bag after sealing (TPM
	// evidence, RFC 3161 tokens), by name.
	Extras []ExtraFile
	// Checks and Verdict are the verification's, from SetVerification.
	Checks   []seal.Check
	Verdict  string
	Verified bool
	// Anchors are the verification's anchors, from SetAnchors: what the
	// bag was compared with outside itself. A verified report without
	// them states every anchor as not checked.
	Anchors []verdict.Anchor
	// Signers name the signer of each custody line that holds, and
	// Trusted the keys of known holders given to the verification
	// (--trusted-key), from SetSigners. A verified report without them
	// marks only the bag's key.
	Signers []verdict.Signer
	Trusted []verdict.TrustedKey
	// Stored, when not nil, says the bag was read from an S3 store, not
	// from a local folder: where, and which versions.
	Stored *Stored
	// Generated, when not zero, is printed as the report's date and
	// used as the PDF's creation date (else the collection's end is).
	Generated time.Time
}

// Stored is where a bag read from an S3 store was read: the report
// states it.
type Stored struct {
	Endpoint string // the store's URL
	Location string // s3://BUCKET/PREFIX/BAG/
	// Line is the custody line of the stored event that pinned the
	// versions read, Objects those versions.
	Line    int64
	Objects []chain.StoredObject
}

// ExtraFile is a file beside the bag.
type ExtraFile struct {
	Name   string
	Size   int64
	SHA256 string // empty when too large to hash here
}

// Build reads the output folder dir: record.json (required),
// root.txt, evidence.tar.zst.sha256, root.pub.pem, custody.jsonl (checked
// against the bag) and the extras beside the bag. It reads the record's
// items one at a time into Items and keeps none of them. It verifies
// nothing of the bag itself: the caller runs seal.Verify and passes its
// result to SetVerification.
func Build(dir string) (*Report, error) { return BuildEach(dir, nil) }

// BuildEach is Build that also hands each item of the record
// to each (when not nil) as it reads them: a caller that needs the items
// too reads the record once.
func BuildEach(dir string, each func(*evidence.Item)) (*Report, error) {
	return build(fileio.DirFS(dir), folderName(dir), each)
}

// build is BuildEach on the output folder at the root of fsys, named
// folder.
func build(fsys fs.FS, folder string, each func(*evidence.Item)) (*Report, error) {
	r := &Report{Folder: folder}
	f, err := fsys.Open(seal.RecordFile)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	r.Record, err = chain.ScanRecord(f, func(it *evidence.Item) error {
		r.Items.Add(it)
		if each != nil {
			each(it)
		}
		return nil
	})
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w", seal.RecordFile, err)
	}
	if b, err := readSmall(fsys, seal.RootFile); err == nil {
		r.Root = strings.TrimSpace(string(b))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("report: %w", err)
	}
	if b, err := readSmall(fsys, seal.ArchiveSumFile); err == nil {
		r.ArchiveSHA256, _, _ = strings.Cut(strings.TrimSpace(string(b)), " ")
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("report: %w", err)
	}
	r.KeyFingerprint = r.Record.Key.Fingerprint
	if b, err := readSmall(fsys, seal.PubFile); err == nil {
		r.PublicKeyPEM = string(b)
		if pub, err := seal.ParsePublicKeyPEM(b); err == nil {
			r.KeyFingerprint = seal.KeyFingerprint(pub)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("report: %w", err)
	} else {
		r.PublicKeyPEM = r.Record.Key.PublicKey
	}
	c, err := chain.CheckCustodyFS(fsys)
	switch {
	case err == nil:
		r.Custody = c
	case errors.Is(err, fs.ErrNotExist):
	default:
		r.CustodyError = err.Error()
	}
	if r.Extras, err = extraFiles(fsys); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return r, nil
}

// ItemDigest is what the report shows of a record's items, in memory
// bounded however many there are: their count per status, per class and
// per collector, the bytes kept, the skipped items counted by reason, and
// the first failed and partial items in the order the report lists them.
// Past 500 classes, collectors or reasons, the items of the others are
// counted together; names and reasons longer than 4 KiB are cut.
// The zero ItemDigest holds no item. An ItemDigest is not safe for
// concurrent use.
type ItemDigest struct {
	// Total is the number of items added, whatever their status.
	Total int
	// Bytes is the size of the items kept (collected or partial).
	Bytes int64
	// all, classes and collectors count the items of each of evidence.Statuses;
	// an item with another status is counted only in Total.
	all        tally
	classes    tallies
	collectors tallies
	// reasons counts the skipped items per reason, for the first
	// maxListed reasons; otherReasons counts those with later ones.
	reasons      map[string]int
	otherReasons int
	// listed holds the first maxListed failed and partial items in the
	// report's order (a heap whose root is the last of them); nListed
	// counts them all.
	listed  listedItems
	nListed int
}

// Add counts the item it; the digest keeps none of it but a few of its
// strings, cut to 4 KiB.
func (d *ItemDigest) Add(it *evidence.Item) {
	d.Total++
	if it.Status.Stored() {
		d.Bytes += it.Size
	}
	st := statusRank(it.Status)
	class := clip(it.Class)
	d.all.add(st)
	d.classes.add(class, class, st)
	d.collectors.add(clip(it.Collector), class, st)
	switch it.Status {
	case evidence.Skipped:
		reason := clip(orDash(it.Reason))
		switch _, ok := d.reasons[reason]; {
		case ok || len(d.reasons) < maxListed:
			if d.reasons == nil {
				d.reasons = map[string]int{}
			}
			d.reasons[reason]++
		default:
			d.otherReasons++
		}
	case evidence.Failed, evidence.Partial:
		d.nListed++
		li := listedItem{status: it.Status, collector: clip(it.Collector), name: clip(itemName(it)), reason: clip(it.Reason)}
		switch {
		case len(d.listed) < maxListed:
			heap.Push(&d.listed, li)
		case li.before(&d.listed[0]):
			d.listed[0] = li
			heap.Fix(&d.listed, 0)
		}
	}
}

// Count returns the number of items added with the status s, one of
// evidence.Statuses.
func (d *ItemDigest) Count(s evidence.Status) int {
	if i := statusRank(s); i < len(d.all.n) {
		return d.all.n[i]
	}
	return 0
}

// failedAndPartial returns the failed and partial items kept, in the
// report's order, and how many there are in all.
func (d *ItemDigest) failedAndPartial() ([]listedItem, int) {
	items := slices.Clone(d.listed)
	slices.SortFunc(items, func(a, b listedItem) int {
		switch {
		case a.before(&b):
			return -1
		case b.before(&a):
			return 1
		}
		return 0
	})
	return items, d.nListed
}

// maxDigestText bounds a string an ItemDigest keeps.
const maxDigestText = 4 << 10

// clip cuts s to maxDigestText bytes (at a character's start) and marks
// the cut with "…"; the result shares no memory with a long s.
func clip(s string) string {
	if len(s) <= maxDigestText {
		return s
	}
	i := maxDigestText
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// tally counts items per status (the index in evidence.Statuses) under a key.
type tally struct {
	key   string
	class string
	n     []int
}

func (t *tally) add(status int) {
	if t.n == nil {
		t.n = make([]int, len(evidence.Statuses()))
	}
	if status < len(t.n) {
		t.n[status]++
	}
}

// tallies counts items per key (a class or a collector) for the first
// maxListed keys; other counts the items of later keys.
type tallies struct {
	by    map[string]*tally
	other *tally
}

// add counts an item under key; class is the class of a collector's
// first item.
func (ts *tallies) add(key, class string, status int) {
	t := ts.by[key]
	switch {
	case t != nil:
	case len(ts.by) < maxListed:
		if ts.by == nil {
			ts.by = map[string]*tally{}
		}
		t = &tally{key: key, class: class}
		ts.by[key] = t
	default:
		if ts.other == nil {
			ts.other = &tally{}
		}
		t = ts.other
	}
	t.add(status)
}

// listedItem is what the report lists of a failed or partial item.
type listedItem struct {
	status                  evidence.Status
	collector, name, reason string
}

// before orders listed items: failed before partial, then by collector,
// name and reason.
func (a *listedItem) before(b *listedItem) bool {
	if a.status != b.status {
		return a.status == evidence.Failed
	}
	if a.collector != b.collector {
		return a.collector < b.collector
	}
	if a.name != b.name {
		return a.name < b.name
	}
	return a.reason < b.reason
}

// listedItems is a heap (container/heap) whose root is the item listed
// last.
type listedItems []listedItem

func (h listedItems) Len() int           { return len(h) }
func (h listedItems) Less(i, j int) bool { return h[j].before(&h[i]) }
func (h listedItems) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *listedItems) Push(x any)        { *h = append(*h, x.(listedItem)) }
func (h *listedItems) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// SetVerification records the result of verifying the folder: the checks
// in the order they were made, and the verdict ("VERIFIED", "FAILED",
// "NOT SEALED", as scelle verify prints it).
func (r *Report) SetVerification(checks []seal.Check, verdict string) {
	r.Checks = append([]seal.Check(nil), checks...)
	r.Verdict = verdict
	r.Verified = true
}

// SetAnchors records the anchors of the verification (verdict.Verdict's
// Anchors), for the report to state which were checked.
func (r *Report) SetAnchors(anchors []verdict.Anchor) {
	r.Anchors = append([]verdict.Anchor(nil), anchors...)
}

// SetSigners records whose key signed each custody line (verdict.Verdict's
// Signers) and the trusted keys the verification was given.
func (r *Report) SetSigners(signers []verdict.Signer, trusted []verdict.TrustedKey) {
	r.Signers = append([]verdict.Signer(nil), signers...)
	r.Trusted = append([]verdict.TrustedKey(nil), trusted...)
}

// readSmall reads a file of the folder that is at most 1 MiB.
func readSmall(fsys fs.FS, name string) ([]byte, error) { return fileio.ReadSmallFS(fsys, name, 1<<20) }

// extraFiles lists tpm.json and timestamp-* beside the bag, by name.
func extraFiles(fsys fs.FS) ([]ExtraFile, error) {
	var des []fs.DirEntry
	var err error
	if local, ok := fsys.(fileio.DirFS); ok {
		des, err = os.ReadDir(string(local))
	} else {
		des, err = fs.ReadDir(fsys, ".")
	}
	if err != nil {
		return nil, err
	}
	var out []ExtraFile
	for _, de := range des {
		n := de.Name()
		if n != TPMFile && !strings.HasPrefix(n, TimestampPrefix) || !de.Type().IsRegular() {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			return nil, err
		}
		e := ExtraFile{Name: n, Size: fi.Size()}
		if fi.Size() <= maxExtraFileBytes {
			if e.SHA256, err = sha256Of(fsys, n); err != nil {
				return nil, err
			}
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// reportHost is the part of the record's host identity the report shows
// (docs/schema/system.md, system.identity; interfaces from netstat).
type reportHost struct {
	Live           bool              `json:"live"`
	Hostname       string            `json:"hostname"`
	HostnameSource string            `json:"hostname_source"`
	Domainname     string            `json:"domainname"`
	MachineID      string            `json:"machine_id"`
	BootID         string            `json:"boot_id"`
	OSRelease      map[string]string `json:"os_release"`
	OSSource       string            `json:"os_release_source"`
	Kernel         *struct {
		Sysname, Nodename, Release, Version, Machine string
	} `json:"kernel"`
	DMI        map[string]string `json:"dmi"`
	Notes      []string          `json:"notes"`
	Errors     []string          `json:"errors"`
	Interfaces []struct {
		Name      string `json:"name"`
		MAC       string `json:"mac"`
		OperState string `json:"operstate"`
		Addresses []struct {
			Address   string `json:"address"`
			PrefixLen int    `json:"prefix_len"`
		} `json:"addresses"`
	} `json:"interfaces"`
	InterfacesError string `json:"interfaces_error"`
	// NetworkUp names what showed the host still on a network at start.
	NetworkUp []string `json:"network_up"`
}

// reportClock is the part of the record's clock state the report shows
// (docs/schema/system.md, system.time).
type reportClock struct {
	Live          bool      `json:"live"`
	WallClock     time.Time `json:"wall_clock"`
	UptimeSeconds float64   `json:"uptime_seconds"`
	BootTime      time.Time `json:"boot_time"`
	Timezone      string    `json:"timezone"`
	NTP           *struct {
		Synchronised bool     `json:"synchronised"`
		State        string   `json:"state"`
		Status       []string `json:"status"`
		OffsetNS     int64    `json:"offset_ns"`
		MaxErrorUS   int64    `json:"maxerror_us"`
		EstErrorUS   int64    `json:"esterror_us"`
	} `json:"ntp"`
	Notes  []string `json:"notes"`
	Errors []string `json:"errors"`
}

// decodeLoose decodes raw into v; an absent or malformed block leaves v
// zero and says why.
func decodeLoose(raw json.RawMessage, v any) string {
	if len(raw) == 0 || string(raw) == "null" {
		return "absent"
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return "illisible / unreadable: " + err.Error()
	}
	return ""
}

// folderName is the base name of the output folder dir, also when dir is
// given as "." or "..".
func folderName(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return filepath.Base(filepath.Clean(dir))
}

// sha256Of returns the SHA-256 of the file name of fsys, in hex.
func sha256Of(fsys fs.FS, name string) (string, error) {
	if local, ok := fsys.(fileio.DirFS); ok {
		return fileio.SHA256File(filepath.Join(string(local), name))
	}
	f, err := fsys.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
