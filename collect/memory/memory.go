package memory

import (
	"errors"
	"io"
	"io/fs"
	"strings"
)

// Paths says where the kernel's interfaces are: "/proc", "/sys" and "/dev"
// on a live host, fixture trees in tests.
type Paths struct {
	Proc, Sys, Dev string
}

// HostPaths are the live host's.
var HostPaths = Paths{Proc: "/proc", Sys: "/sys", Dev: "/dev"}

// The sources of physical memory, in the order Open tries them.
const (
	SourceKcore = "/proc/kcore" // an ELF core view of the kernel's memory, RAM included
	SourceCrash = "/dev/crash"  // the crash utility's driver (RHEL): one aligned page per read
	SourceMem   = "/dev/mem"    // physical memory; STRICT_DEVMEM leaves nothing of RAM
)

// Why Open refuses a source (Refusal.Reason).
const (
	RefusedAbsent     = "absent"
	RefusedLockdown   = "kernel lockdown"
	RefusedPermission = "permission denied (needs root: CAP_SYS_RAWIO)"
	RefusedStrict     = "STRICT_DEVMEM: the kernel refuses System RAM through /dev/mem"
	RefusedNotDevice  = "not the kernel's memory device: not opened"
	RefusedNotRegular = "not a regular file: not opened"
	RefusedFormat     = "not a readable ELF core"
	RefusedNoRAM      = "maps no System RAM"
	RefusedRead       = "its first range cannot be read"
	RefusedOther      = "cannot be opened"
)

// Refusal records why Open did not use a source.
type Refusal struct {
	Source string // SourceKcore, SourceCrash or SourceMem
	Path   string // the path tried
	Reason string // one of the Refused... reasons, with the lockdown mode for RefusedLockdown
	Err    error  // the error behind it, if any
}

func (r Refusal) String() string {
	s := r.Source + ": " + r.Reason
	if r.Err != nil {
		s += " (" + r.Err.Error() + ")"
	}
	return s
}

// ErrNoSource is wrapped by the *NoSourceError Open returns when it
// refuses every source.
var ErrNoSource = errors.New("no physical memory source")

// NoSourceError lists why each source was refused.
type NoSourceError struct {
	Refused []Refusal
}

func (e *NoSourceError) Error() string {
	parts := make([]string, len(e.Refused))
	for i, r := range e.Refused {
		parts[i] = r.String()
	}
	return ErrNoSource.Error() + ": " + strings.Join(parts, "; ")
}

func (e *NoSourceError) Unwrap() error { return ErrNoSource }

// Source is an open source of physical memory and the plan of its reading.
// Its methods are not safe for concurrent use; the caller must Close it.
type Source struct {
	Name string // SourceKcore, SourceCrash or SourceMem
	Path string // the path opened
	// RAM is the System RAM of /proc/iomem; Extents and Gaps tile it:
	// Extents are read, Gaps are not (and say why).
	RAM      []Range
	Extents  []Extent
	Gaps     []Gap
	PageSize uint64
	// Lockdown is the kernel lockdown mode ("none", "integrity",
	// "confidentiality"), "" when /sys/kernel/security/lockdown is absent.
	Lockdown string
	// Refused lists the sources tried before this one, and why.
	Refused []Refusal
	// VMCOREINFOAddr and VMCOREINFOSize locate the VMCOREINFO note in
	// physical memory (/sys/kernel/vmcoreinfo); zero when unknown.
	VMCOREINFOAddr, VMCOREINFOSize uint64
	// VMCOREINFO is the note's text (parse it with ParseVMCOREINFO): from
	// the PT_NOTE of /proc/kcore, or read from memory at VMCOREINFOAddr.
	// VMCOREINFOErr says why it is nil, when it is.
	VMCOREINFO    []byte
	VMCOREINFOErr error

	r         io.ReaderAt
	closer    io.Closer
	pageReads bool // the device wants one aligned page per read
}

// Reader returns a reader of the bytes of e, one of s.Extents, from its
// first byte to its last. Wrap it to bound it in time.
func (s *Source) Reader(e Extent) io.Reader {
	var r io.Reader = io.NewSectionReader(s.r, e.Offset, int64(e.Size()))
	if s.pageReads {
		r = &smallReads{r: r, max: int(s.PageSize)}
	}
	return r
}

// Close closes the source.
func (s *Source) Close() error {
	if s.closer == nil {
		return nil
	}
	err := s.closer.Close()
	s.closer = nil
	return err
}

// smallReads hands at most max bytes to each Read of r.
type smallReads struct {
	r   io.Reader
	max int
}

func (s *smallReads) Read(p []byte) (int, error) {
	if len(p) > s.max {
		p = p[:s.max]
	}
	return s.r.Read(p)
}

// ParseLockdown returns the active mode of /sys/kernel/security/lockdown
// ("none [integrity] confidentiality": the bracketed word), or "".
func ParseLockdown(b []byte) string {
	for _, w := range strings.Fields(string(b)) {
		if len(w) > 2 && w[0] == '[' && w[len(w)-1] == ']' {
			return w[1 : len(w)-1]
		}
	}
	return ""
}

// refusedError is an opener's refusal with its reason.
type refusedError struct {
	reason string
	err    error
}

func (e *refusedError) Error() string {
	if e.err == nil {
		return e.reason
	}
	return e.reason + ": " + e.err.Error()
}

func (e *refusedError) Unwrap() error { return e.err }

// refusal turns an opener's error into a Refusal. lockdown is the kernel's
// lockdown mode: "integrity" closes /dev/mem, "confidentiality" closes
// /proc/kcore as well.
func refusal(source, path string, err error, lockdown string) Refusal {
	r := Refusal{Source: source, Path: path, Err: err}
	var re *refusedError
	switch {
	case errors.As(err, &re):
		r.Reason, r.Err = re.reason, re.err
	case errors.Is(err, fs.ErrNotExist):
		r.Reason, r.Err = RefusedAbsent, nil
	case errors.Is(err, ErrNotKcore):
		r.Reason = RefusedFormat
	case errors.Is(err, fs.ErrPermission):
		r.Reason = RefusedPermission
		if lockdown == "confidentiality" || lockdown == "integrity" && source != SourceKcore {
			r.Reason = RefusedLockdown + " (" + lockdown + ")"
		}
	default:
		r.Reason = RefusedOther
	}
	return r
}
