package proc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/scelle/scelle/collect"
)

// Default caps, used where an Options field is zero.
const (
	DefaultMaxKernelFile = 16 << 20 // bytes kept of one raw /proc file
	DefaultMaxArgs       = 256 << 10
	DefaultMaxFDs        = 16384
	DefaultMaxExecutable = 64 << 20
	DefaultMaxMemory     = 1 << 30
)

// Options tunes the collectors. The zero value collects the process table,
// the executables and the hidden-process check, with the default caps, and
// no process memory.
type Options struct {
	// MemoryPIDs lists the processes whose readable memory proc.memory
	// stores. Empty (the default) leaves proc.memory out.
	MemoryPIDs []int
	// MaxMemory caps the memory bytes stored of one process (0:
	// DefaultMaxMemory); the regions past the cap are recorded as skipped.
	MaxMemory int64
	// MaxExecutable caps the bytes stored of one deleted or memfd
	// executable (0: DefaultMaxExecutable). The SHA-256 in
	// executables.jsonl is always of the whole file.
	MaxExecutable int64
	// MaxKernelFile caps the bytes kept of one raw per-process file
	// (0: DefaultMaxKernelFile).
	MaxKernelFile int64
	// MaxArgs caps the bytes of cmdline and of environ parsed into a
	// process record (0: DefaultMaxArgs); the raw files keep more.
	MaxArgs int64
	// MaxFDs caps the file descriptors listed per process (0: DefaultMaxFDs).
	MaxFDs int
}

func (o Options) withDefaults() Options {
	if o.MaxMemory <= 0 {
		o.MaxMemory = DefaultMaxMemory
	}
	if o.MaxExecutable <= 0 {
		o.MaxExecutable = DefaultMaxExecutable
	}
	if o.MaxKernelFile <= 0 {
		o.MaxKernelFile = DefaultMaxKernelFile
	}
	if o.MaxArgs <= 0 {
		o.MaxArgs = DefaultMaxArgs
	}
	if o.MaxFDs <= 0 {
		o.MaxFDs = DefaultMaxFDs
	}
	return o
}

// Collectors returns the process collectors, in the order they should
// run: proc.table, proc.executables, proc.hidden, and proc.memory when
// opts.MemoryPIDs is not empty.
func Collectors(opts Options) []collect.Collector {
	opts = opts.withDefaults()
	cs := []collect.Collector{
		&Table{opts: opts},
		&Executables{opts: opts},
		&Hidden{},
	}
	if len(opts.MemoryPIDs) > 0 {
		cs = append(cs, &Memory{opts: opts})
	}
	return cs
}

// Table collects the process table: live/proc/processes.jsonl,
// live/proc/fds.jsonl and the raw files live/proc/<pid>/<file>.
type Table struct{ opts Options }

// Executables hashes every running executable once:
// live/proc/executables.jsonl, and live/proc/exe/<pid>.bin for deleted
// and memfd executables.
type Executables struct{ opts Options }

// Hidden looks for processes that answer but are not listed in /proc:
// live/proc/hidden.jsonl and live/proc/hidden-check.json. Its probes ask
// the running kernel, so Env.Linux.Proc must be the host's /proc.
type Hidden struct {
	// list and probe replace the /proc listing and the system-call probe
	// (probePID) in tests; nil means the real ones.
	list  func(proc string) ([]int, error)
	probe func(pid int) error
}

// Memory stores the readable memory regions of selected processes:
// live/proc/<pid>/mem/<start>-<end>, live/proc/<pid>/mem/maps and
// live/proc/memory.jsonl.
type Memory struct{ opts Options }

// Name implements collect.Collector.
func (*Table) Name() string { return "proc.table" }

// Name implements collect.Collector.
func (*Executables) Name() string { return "proc.executables" }

// Name implements collect.Collector.
func (*Hidden) Name() string { return "proc.hidden" }

// Name implements collect.Collector.
func (*Memory) Name() string { return "proc.memory" }

// Class implements collect.Collector.
func (*Table) Class() collect.Class { return collect.ClassProcess }

// Class implements collect.Collector.
func (*Executables) Class() collect.Class { return collect.ClassProcess }

// Class implements collect.Collector.
func (*Hidden) Class() collect.Class { return collect.ClassProcess }

// Class implements collect.Collector.
func (*Memory) Class() collect.Class { return collect.ClassProcess }

const deadBox = "dead-box collection: volatile state not available"

// Process is one record of live/proc/processes.jsonl.
type Process struct {
	PID           int        `json:"pid"`
	PPID          int        `json:"ppid"`
	State         string     `json:"state,omitempty"`
	Comm          string     `json:"comm"`
	CommRaw       []byte     `json:"comm_raw,omitempty"`
	KernelThread  bool       `json:"kernel_thread"`
	UID           []uint32   `json:"uid,omitempty"` // real, effective, saved, file system
	GID           []uint32   `json:"gid,omitempty"`
	Groups        []uint32   `json:"groups,omitempty"`
	LoginUID      *uint32    `json:"loginuid,omitempty"`
	SessionID     *uint32    `json:"sessionid,omitempty"`
	PGID          int        `json:"pgid"`
	SID           int        `json:"sid"`
	TTY           uint64     `json:"tty_nr"`
	TracerPID     int        `json:"tracer_pid"`
	NSPID         []int      `json:"ns_pid,omitempty"`
	StartTicks    uint64     `json:"start_ticks"`
	StartTime     *time.Time `json:"start_time,omitempty"`
	BootTime      *time.Time `json:"boot_time,omitempty"`
	ClkTck        int64      `json:"clk_tck"`
	Threads       int        `json:"threads"`
	Nice          int        `json:"nice"`
	UTimeTicks    uint64     `json:"utime_ticks"`
	STimeTicks    uint64     `json:"stime_ticks"`
	Cmdline       []string   `json:"cmdline"`
	CmdlineRaw    []byte     `json:"cmdline_raw,omitempty"`
	CmdlineCut    bool       `json:"cmdline_truncated,omitempty"`
	Environ       []string   `json:"environ,omitempty"`
	EnvironRaw    []byte     `json:"environ_raw,omitempty"`
	EnvironCut    bool       `json:"environ_truncated,omitempty"`
	Exe           string     `json:"exe,omitempty"`
	ExeRaw        []byte     `json:"exe_raw,omitempty"`
	ExeDeleted    bool       `json:"exe_deleted"`
	ExeMemfd      bool       `json:"exe_memfd"`
	ExeNlink      *uint64    `json:"exe_nlink,omitempty"`
	Cwd           string     `json:"cwd,omitempty"`
	CwdRaw        []byte     `json:"cwd_raw,omitempty"`
	Root          string     `json:"root,omitempty"`
	RootRaw       []byte     `json:"root_raw,omitempty"`
	Cgroup        []Cgroup   `json:"cgroup,omitempty"`
	Namespaces    Namespaces `json:"namespaces,omitempty"`
	FDCount       int        `json:"fd_count"`
	FDsCut        bool       `json:"fds_truncated,omitempty"`
	Caps          *Caps      `json:"caps,omitempty"`
	Seccomp       *int       `json:"seccomp,omitempty"`
	NoNewPrivs    *int       `json:"no_new_privs,omitempty"`
	VMSizeKB      *uint64    `json:"vm_size_kb,omitempty"`
	VMRSSKB       *uint64    `json:"vm_rss_kb,omitempty"`
	VMPeakKB      *uint64    `json:"vm_peak_kb,omitempty"`
	VMSwapKB      *uint64    `json:"vm_swap_kb,omitempty"`
	RSSPages      uint64     `json:"rss_pages"`
	VSizeBytes    uint64     `json:"vsize_bytes"`
	Exited        bool       `json:"exited,omitempty"`
	Errors        []string   `json:"errors,omitempty"`
	CollectedTime time.Time  `json:"collected_at"`
}

// Namespaces maps a namespace's name (the entry in /proc/PID/ns) to its
// link target ("mnt:[4026531841]").
type Namespaces map[string]string

// Caps holds the capability sets of /proc/PID/status, as hex masks.
type Caps struct {
	Inh string `json:"inh"`
	Prm string `json:"prm"`
	Eff string `json:"eff"`
	Bnd string `json:"bnd"`
	Amb string `json:"amb,omitempty"`
}

// FD is one record of live/proc/fds.jsonl.
type FD struct {
	PID       int    `json:"pid"`
	FD        int    `json:"fd"`
	Target    string `json:"target"`
	TargetRaw []byte `json:"target_raw,omitempty"`
	Type      string `json:"type"`
	Inode     uint64 `json:"inode,omitempty"`
	Deleted   bool   `json:"deleted,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Executable is one record of live/proc/executables.jsonl: one file
// (device and inode) that one or more processes run.
type Executable struct {
	Dev      string   `json:"dev"` // major:minor, as in mountinfo
	Inode    uint64   `json:"inode"`
	Size     int64    `json:"size"`
	Nlink    uint64   `json:"nlink"`
	SHA256   string   `json:"sha256,omitempty"`
	Hashed   int64    `json:"hashed_bytes"`
	Paths    []string `json:"paths"`
	PathsRaw [][]byte `json:"paths_raw,omitempty"`
	PIDs     []int    `json:"pids"`
	Deleted  bool     `json:"deleted"`
	Memfd    bool     `json:"memfd"`
	Stored   string   `json:"stored,omitempty"` // bag name of the copied bytes
	Changed  bool     `json:"changed_while_read,omitempty"`
	NoATime  bool     `json:"noatime"`
	Error    string   `json:"error,omitempty"`
}

// HiddenPID is one record of live/proc/hidden.jsonl.
type HiddenPID struct {
	PID   int    `json:"pid"`
	Probe string `json:"probe"` // kill(pid, 0), getpgid, sched_getscheduler: "ok", or the first errno but ESRCH, or "ESRCH"
	Stat  string `json:"stat"`  // result of fstatat(/proc, "<pid>"): "ok" or the errno
	// FoundBy names the views that found it: "probe" (the system calls),
	// "children" (a listed task's children file), "cgroup" (cgroup.procs).
	FoundBy  []string  `json:"found_by"`
	Tgid     int       `json:"tgid,omitempty"`
	Name     string    `json:"name,omitempty"`
	NameRaw  []byte    `json:"name_raw,omitempty"`
	Status   string    `json:"status_error,omitempty"`
	Rechecks int       `json:"rechecks"`
	Seen     time.Time `json:"seen_at"`
}

// HiddenCheck is the single object of live/proc/hidden-check.json: how the
// hidden-process check was made.
type HiddenCheck struct {
	Method string `json:"method"`
	PIDMax int    `json:"pid_max"`
	Listed int    `json:"listed"`
	// Named counts the distinct pids the children and cgroup views named;
	// CgroupRoot is the hierarchy read ("" when none is mounted).
	Named      int       `json:"named_by_views"`
	CgroupRoot string    `json:"cgroup_root"`
	Threads    int       `json:"threads_excluded"`
	Appeared   int       `json:"appeared_during_scan"`
	Vanished   int       `json:"vanished_before_recheck"`
	Hidden     int       `json:"hidden"`
	Started    time.Time `json:"started"`
	Ended      time.Time `json:"ended"`
	ScanMillis int64     `json:"scan_ms"`
}

// Region is one record of live/proc/memory.jsonl.
type Region struct {
	PID     int    `json:"pid"`
	Start   string `json:"start"` // hex, as in maps
	End     string `json:"end"`
	Perms   string `json:"perms"`
	Offset  uint64 `json:"offset"`
	Dev     string `json:"dev"`
	Inode   uint64 `json:"inode"`
	Path    string `json:"path,omitempty"`
	PathRaw []byte `json:"path_raw,omitempty"`
	Stored  string `json:"stored,omitempty"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
}

// text returns b as a valid UTF-8 string, each byte that is not part of a
// valid UTF-8 sequence written as \xNN, and b itself when it had to be
// escaped (nil otherwise).
func text(b []byte) (string, []byte) {
	if utf8.Valid(b) {
		return string(b), nil
	}
	raw := append([]byte(nil), b...)
	var sb bytes.Buffer
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			fmt.Fprintf(&sb, `\x%02x`, b[0])
		} else {
			sb.Write(b[:n])
		}
		b = b[n:]
	}
	return sb.String(), raw
}

// jsonl accumulates JSON Lines.
type jsonl struct {
	buf bytes.Buffer
	enc *json.Encoder
	n   int
}

func newJSONL() *jsonl {
	j := &jsonl{}
	j.enc = json.NewEncoder(&j.buf)
	j.enc.SetEscapeHTML(false)
	return j
}

func (j *jsonl) add(v any) error {
	if err := j.enc.Encode(v); err != nil {
		return fmt.Errorf("encode %T: %w", v, err)
	}
	j.n++
	return nil
}
