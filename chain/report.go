package chain

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	sha256 "github.com/minio/sha256-simd"

	"github.com/scelle/scelle/seal"
)

// The court report: one bilingual (French, then English) document built
// from an output folder, for the legal team and the commissaire de
// justice. It says who collected what, where, when and with which tool,
// what could not be collected and why, the root fingerprint (in type and
// as a QR code), the custody events and their signers, the verdict of
// verification and how to repeat it with standard tools.
//
// The report is rendered twice from one model, as a self-contained HTML
// file (WriteHTML) and as a PDF (WritePDF). Both are deterministic: the
// same folder and verification give the same bytes, and nothing in them
// depends on when or where the report was made unless Generated is set.

// Names of the report files in the output folder.
const (
	ReportHTMLFile = "report.html"
	ReportPDFFile  = "report.pdf"
)

// Files beside the bag that the report lists when present.
const (
	TPMFile           = "tpm.json"
	TimestampPrefix   = "timestamp-"
	maxExtraFileBytes = 64 << 20 // extras larger than this are listed without a hash
)

// Report is the court report of one output folder. BuildReport fills it;
// SetVerification adds the verdict. Its fields may be read and Generated
// set before rendering; a Report is not safe for concurrent use.
type Report struct {
	// Folder is the output folder's base name (never its full path,
	// which says where the report was made, not what it is about).
	Folder string
	Record *Record
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
	Custody      *CustodyCheck
	CustodyError string
	// Extras are the files added beside the bag after sealing (TPM
	// evidence, RFC 3161 tokens), by name.
	Extras []ExtraFile
	// Checks and Verdict are the verification's, from SetVerification.
	Checks   []seal.Check
	Verdict  string
	Verified bool
	// Generated, when not zero, is printed as the report's date and
	// used as the PDF's creation date (else the collection's end is).
	Generated time.Time
}

// ExtraFile is a file beside the bag.
type ExtraFile struct {
	Name   string
	Size   int64
	SHA256 string // empty when too large to hash here
}

// BuildReport reads the output folder dir: record.json (required),
// root.txt, evidence.tar.zst.sha256, root.pub.pem, custody.jsonl (checked
// against the bag) and the extras beside the bag. It verifies nothing of
// the bag itself: the caller runs seal.Verify and passes its result to
// SetVerification.
func BuildReport(dir string) (*Report, error) {
	r := &Report{Folder: filepath.Base(filepath.Clean(dir))}
	f, err := os.Open(filepath.Join(dir, seal.RecordFile))
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	r.Record, err = ReadRecord(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w", seal.RecordFile, err)
	}
	if b, err := readSmall(filepath.Join(dir, seal.RootFile)); err == nil {
		r.Root = strings.TrimSpace(string(b))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("report: %w", err)
	}
	if b, err := readSmall(filepath.Join(dir, seal.ArchiveSumFile)); err == nil {
		r.ArchiveSHA256, _, _ = strings.Cut(strings.TrimSpace(string(b)), " ")
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("report: %w", err)
	}
	r.KeyFingerprint = r.Record.Key.Fingerprint
	if b, err := readSmall(filepath.Join(dir, seal.PubFile)); err == nil {
		r.PublicKeyPEM = string(b)
		if pub, err := seal.ParsePublicKeyPEM(b); err == nil {
			r.KeyFingerprint = seal.KeyFingerprint(pub)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("report: %w", err)
	} else {
		r.PublicKeyPEM = r.Record.Key.PublicKey
	}
	c, err := CheckCustodyDir(dir)
	switch {
	case err == nil:
		r.Custody = c
	case errors.Is(err, fs.ErrNotExist):
	default:
		r.CustodyError = err.Error()
	}
	if r.Extras, err = extraFiles(dir); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return r, nil
}

// SetVerification records the result of verifying the folder: the checks
// in the order they were made, and the verdict ("VERIFIED", "FAILED",
// "NOT SEALED", as scelle verify prints it).
func (r *Report) SetVerification(checks []seal.Check, verdict string) {
	r.Checks = append([]seal.Check(nil), checks...)
	r.Verdict = verdict
	r.Verified = true
}

// readSmall reads a file of the folder that is at most 1 MiB.
func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
	if err != nil {
		return nil, err
	}
	if len(b) > 1<<20 {
		return nil, fmt.Errorf("%s: larger than 1 MiB", filepath.Base(path))
	}
	return b, nil
}

// extraFiles lists tpm.json and timestamp-* beside the bag, by name.
func extraFiles(dir string) ([]ExtraFile, error) {
	des, err := os.ReadDir(dir)
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
			if e.SHA256, err = fileSHA256(filepath.Join(dir, n)); err != nil {
				return nil, err
			}
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
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
