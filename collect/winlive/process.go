package winlive

import (
	"fmt"
	"slices"
	"time"
)

// Process is one record of live/windows/processes.jsonl.
type Process struct {
	PID       uint32     `json:"pid"`
	PPID      uint32     `json:"ppid"`
	SessionID *uint32    `json:"session_id,omitempty"`
	Name      string     `json:"name"`
	ImagePath string     `json:"image_path,omitempty"`
	ImageGone bool       `json:"image_gone,omitempty"`
	User      string     `json:"user,omitempty"`
	SID       string     `json:"sid,omitempty"`
	Integrity string     `json:"integrity,omitempty"`
	StartTime *time.Time `json:"start_time,omitempty"`
	Threads   uint32     `json:"threads"`
	Handles   *uint32    `json:"handle_count,omitempty"`
	Wow64     *bool      `json:"wow64,omitempty"`
	ProcessParams
	ModuleCount int `json:"module_count"`
	// SeenBy names the views that listed the process: "ntquery"
	// (NtQuerySystemInformation) and "toolhelp" (Toolhelp32). A process
	// listed by one and not the other, in both rounds, is Hidden.
	SeenBy []string `json:"seen_by"`
	Hidden bool     `json:"hidden"`
	Errors []string `json:"errors,omitempty"`
}

// Module is one record of live/windows/modules.jsonl.
type Module struct {
	PID  uint32 `json:"pid"`
	Name string `json:"name"`
	Path string `json:"path"`
	Base string `json:"base"` // hex
	Size uint32 `json:"size"`
}

// Views is the single object of live/windows/process-views.json: how the
// two process lists compared.
type Views struct {
	Method string `json:"method"`
	// NtQuery and Toolhelp count the pids each view listed (first round).
	NtQuery  int `json:"ntquery"`
	Toolhelp int `json:"toolhelp"`
	// Hidden lists the pids one view listed and the other did not, in
	// both rounds; OnlyOnce those that differed in one round only
	// (started or exited between the two lists).
	Hidden   []HiddenPID `json:"hidden"`
	OnlyOnce []uint32    `json:"differed_once"`
	// DebugPrivilege says whether SeDebugPrivilege was enabled in
	// scelle's own token ("enabled"), or why not: without it, the
	// processes of other accounts keep only what the views give.
	DebugPrivilege string `json:"debug_privilege"`
}

// HiddenPID is a pid listed by one view only.
type HiddenPID struct {
	PID    uint32 `json:"pid"`
	Name   string `json:"name"`
	SeenBy string `json:"seen_by"`
}

const viewsMethod = "list processes with NtQuerySystemInformation(SystemProcessInformation) and with a " +
	"Toolhelp32 snapshot, twice each, alternating; a pid in one list and not in the other in both rounds is " +
	"reported hidden from the other view"

// compareViews compares two rounds of the two views (pid to name) and
// returns the pids hidden from one view in both rounds, and those that
// differed in one round only.
func compareViews(nt1, th1, nt2, th2 map[uint32]string) (hidden []HiddenPID, once []uint32) {
	diff := func(a, b map[uint32]string) map[uint32]bool {
		d := map[uint32]bool{}
		for pid := range a {
			if _, ok := b[pid]; !ok {
				d[pid] = true
			}
		}
		return d
	}
	ntOnly1, thOnly1 := diff(nt1, th1), diff(th1, nt1)
	ntOnly2, thOnly2 := diff(nt2, th2), diff(th2, nt2)
	add := func(only1, only2 map[uint32]bool, names map[uint32]string, view string) {
		for pid := range only1 {
			if only2[pid] {
				hidden = append(hidden, HiddenPID{PID: pid, Name: names[pid], SeenBy: view})
			} else {
				once = append(once, pid)
			}
		}
		for pid := range only2 {
			if !only1[pid] {
				once = append(once, pid)
			}
		}
	}
	add(ntOnly1, ntOnly2, nt1, "ntquery")
	add(thOnly1, thOnly2, th1, "toolhelp")
	slices.SortFunc(hidden, func(a, b HiddenPID) int { return int(a.PID) - int(b.PID) })
	slices.Sort(once)
	once = slices.Compact(once)
	if hidden == nil {
		hidden = []HiddenPID{}
	}
	if once == nil {
		once = []uint32{}
	}
	return hidden, once
}

// integrityName names a mandatory integrity level RID.
func integrityName(rid uint32) string {
	switch {
	case rid < 0x1000:
		return "untrusted"
	case rid < 0x2000:
		return "low"
	case rid < 0x2100:
		return "medium"
	case rid < 0x3000:
		return "medium-plus"
	case rid < 0x4000:
		return "high"
	case rid < 0x5000:
		return "system"
	}
	return "protected"
}

// Image is one record of live/windows/images.jsonl: one file on disk
// that processes run (an image) or load (a module), hashed once.
type Image struct {
	Path string `json:"path"`
	// Kind is "image" when a process runs it (its Authenticode status is
	// checked), "module" when it is only loaded.
	Kind    string   `json:"kind"`
	PIDs    []uint32 `json:"pids"`
	Size    int64    `json:"size"`
	SHA256  string   `json:"sha256,omitempty"`
	Hashed  int64    `json:"hashed_bytes"`
	Gone    bool     `json:"gone"`
	Changed bool     `json:"changed_while_read,omitempty"`
	// Authenticode is the WinVerifyTrust verdict on the file's embedded
	// signature, for images.
	Authenticode *Authenticode `json:"authenticode,omitempty"`
	Error        string        `json:"error,omitempty"`
}

// Authenticode is a WinVerifyTrust verdict.
type Authenticode struct {
	// Status is "signed" (the signature verified and its chain is
	// trusted), "unsigned" (no embedded signature and no catalog entry),
	// or the error's name.
	Status string `json:"status"`
	Code   string `json:"code"` // the HRESULT, hex
	// Source is where the signature checked is: "embedded" in the file,
	// or "catalog" (a catalog file of the system, named by Catalog, that
	// lists the file's hash).
	Source  string `json:"source"`
	Catalog string `json:"catalog,omitempty"`
	Note    string `json:"note,omitempty"`
}

// trustNoSignature is TRUST_E_NOSIGNATURE.
const trustNoSignature = 0x800B0100

// trustResults name the HRESULTs WinVerifyTrust returns.
var trustResults = map[uint32]string{
	0:          "signed",
	0x800B0100: "unsigned",                  // TRUST_E_NOSIGNATURE
	0x80096010: "bad-digest",                // TRUST_E_BAD_DIGEST
	0x800B0109: "untrusted-root",            // CERT_E_UNTRUSTEDROOT
	0x800B0111: "explicitly-distrusted",     // TRUST_E_EXPLICIT_DISTRUST
	0x800B0101: "certificate-expired",       // CERT_E_EXPIRED
	0x800B010C: "certificate-revoked",       // CERT_E_REVOKED
	0x800B0004: "subject-not-trusted",       // TRUST_E_SUBJECT_NOT_TRUSTED
	0x800B0001: "provider-unknown",          // TRUST_E_PROVIDER_UNKNOWN
	0x800B0003: "subject-form-unknown",      // TRUST_E_SUBJECT_FORM_UNKNOWN
	0x80092026: "security-settings",         // CRYPT_E_SECURITY_SETTINGS
	0x800B010A: "chain-incomplete",          // CERT_E_CHAINING
	0x80096019: "bad-basic-constraints",     // TRUST_E_BASIC_CONSTRAINTS
	0x80092003: "file-error",                // CRYPT_E_FILE_ERROR
	0x800B0110: "certificate-wrong-usage",   // CERT_E_WRONG_USAGE
	0x80096004: "bad-signature",             // TRUST_E_CERT_SIGNATURE
	0x800B010F: "certificate-name-mismatch", // CERT_E_CN_NO_MATCH
}

// authenticodeOf names a WinVerifyTrust result.
func authenticodeOf(hr uint32) *Authenticode {
	a := &Authenticode{Code: fmt.Sprintf("0x%08x", hr), Status: trustResults[hr]}
	if a.Status == "" {
		a.Status = "error"
	}
	if hr == trustNoSignature {
		a.Note = "no embedded signature, and no catalog of the system lists the file"
	}
	return a
}
