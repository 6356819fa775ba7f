package system

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/scelle/scelle/collect"
)

// Module is one line of /proc/modules.
type Module struct {
	Name     string   `json:"name"`
	Size     int64    `json:"size"`
	RefCount *int64   `json:"refcount"` // null when the kernel prints "-" (no module unloading)
	UsedBy   []string `json:"used_by"`
	State    string   `json:"state"`   // Live, Loading, Unloading
	Address  string   `json:"address"` // as printed; zero when kptr_restrict hides it
	Taint    string   `json:"taint,omitempty"`
	// InSysModule reports whether /sys/module/<name> exists (set by the
	// collector); Flags holds "missing_from_sys_module" when it does not,
	// and "permanent" when the module cannot be unloaded.
	InSysModule *bool    `json:"in_sys_module,omitempty"`
	Flags       []string `json:"flags,omitempty"`
	// Error and Line are set for a line that could not be parsed.
	Error string `json:"error,omitempty"`
	Line  string `json:"line,omitempty"`
}

// ParseModules parses /proc/modules. Lines it cannot parse are returned
// as records with Error and Line set.
func ParseModules(b []byte) []Module {
	out := []Module{}
	for _, line := range lines(b) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		out = append(out, parseModule(line))
	}
	return out
}

func parseModule(line string) Module {
	f := strings.Fields(line)
	bad := func(why string) Module { return Module{Error: why, Line: line} }
	if len(f) < 6 || len(f) > 7 {
		return bad(fmt.Sprintf("%d fields, want 6 or 7", len(f)))
	}
	m := Module{Name: f[0], State: f[4], Address: f[5], UsedBy: []string{}}
	var err error
	if m.Size, err = strconv.ParseInt(f[1], 10, 64); err != nil {
		return bad("size: " + err.Error())
	}
	if f[2] != "-" {
		n, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return bad("refcount: " + err.Error())
		}
		m.RefCount = &n
	}
	if f[3] != "-" {
		for _, d := range strings.Split(strings.TrimSuffix(f[3], ","), ",") {
			if d == "[permanent]" {
				m.Flags = append(m.Flags, "permanent")
				continue
			}
			m.UsedBy = append(m.UsedBy, d)
		}
	}
	if len(f) == 7 {
		t, ok := strings.CutPrefix(f[6], "(")
		if t, ok2 := strings.CutSuffix(t, ")"); ok && ok2 {
			m.Taint = t
		} else {
			return bad("taint: not in parentheses")
		}
	}
	return m
}

// lines splits b into lines without their newline; a final line without
// one is kept.
func lines(b []byte) []string {
	s := strings.Split(string(b), "\n")
	if len(s) > 0 && s[len(s)-1] == "" {
		s = s[:len(s)-1]
	}
	return s
}

// SysModule is one folder of /sys/module: a loaded module, or a built-in
// one that has parameters or a version.
type SysModule struct {
	Name          string `json:"name"`
	InProcModules bool   `json:"in_proc_modules"`
	// InitState is the initstate attribute (live, coming, going); only
	// loadable modules have one, so Builtin is its absence.
	InitState  string `json:"initstate,omitempty"`
	Builtin    bool   `json:"builtin"`
	Taint      string `json:"taint,omitempty"`
	RefCnt     string `json:"refcnt,omitempty"`
	CoreSize   string `json:"coresize,omitempty"`
	Version    string `json:"version,omitempty"`
	SrcVersion string `json:"srcversion,omitempty"`
	// Flags holds "missing_from_proc_modules" for a loadable module that
	// /proc/modules does not list (a module hiding itself).
	Flags  []string `json:"flags,omitempty"`
	Errors []string `json:"errors,omitempty"`
}

// TaintFlag is one bit of the kernel's taint mask.
type TaintFlag struct {
	Bit     int    `json:"bit"`
	Letter  string `json:"letter"`
	Meaning string `json:"meaning"`
}

// Taint is /proc/sys/kernel/tainted decoded.
type Taint struct {
	Value   uint64      `json:"value"`
	Letters string      `json:"letters"` // the set flags' letters, in bit order
	Flags   []TaintFlag `json:"flags"`
	Error   string      `json:"error,omitempty"`
}

// taintBits follows Documentation/admin-guide/tainted-kernels.rst.
var taintBits = []TaintFlag{
	{0, "P", "proprietary module was loaded"},
	{1, "F", "module was force loaded"},
	{2, "S", "kernel running on an out of specification system"},
	{3, "R", "module was force unloaded"},
	{4, "M", "processor reported a machine check exception"},
	{5, "B", "bad page referenced or unexpected page flags"},
	{6, "U", "taint requested by userspace"},
	{7, "D", "kernel died recently (oops or BUG)"},
	{8, "A", "ACPI table overridden by user"},
	{9, "W", "kernel issued a warning"},
	{10, "C", "staging driver was loaded"},
	{11, "I", "workaround for a platform firmware bug applied"},
	{12, "O", "externally-built (out-of-tree) module was loaded"},
	{13, "E", "unsigned module was loaded"},
	{14, "L", "soft lockup occurred"},
	{15, "K", "kernel has been live patched"},
	{16, "X", "auxiliary taint (distribution defined)"},
	{17, "T", "kernel built with the struct randomisation plugin"},
	{18, "N", "in-kernel test has been run"},
	{19, "J", "userspace used a mutating debug operation in fwctl"},
}

// DecodeTaint decodes the text of /proc/sys/kernel/tainted.
func DecodeTaint(b []byte) Taint {
	s := strings.TrimSpace(string(b))
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return Taint{Flags: []TaintFlag{}, Error: fmt.Sprintf("tainted %q: %v", s, err)}
	}
	t := Taint{Value: v, Flags: []TaintFlag{}}
	for bit := 0; bit < 64; bit++ {
		if v&(1<<bit) == 0 {
			continue
		}
		f := TaintFlag{Bit: bit, Letter: "?", Meaning: "unknown taint bit"}
		if bit < len(taintBits) {
			f = taintBits[bit]
		}
		t.Letters += f.Letter
		t.Flags = append(t.Flags, f)
	}
	return t
}

// Sysctl is one kernel setting of interest.
type Sysctl struct {
	Key     string `json:"key"`  // kernel.kptr_restrict
	Path    string `json:"path"` // /proc/sys/kernel/kptr_restrict
	Present bool   `json:"present"`
	Value   string `json:"value,omitempty"` // without its final newline
	Error   string `json:"error,omitempty"`
}

// sysctlKeys are the settings that matter to an investigation: exploit
// mitigations, what an attacker may have loosened, and helpers the kernel
// runs (core_pattern, modprobe) that are persistence points.
var sysctlKeys = []string{
	"kernel.randomize_va_space", "kernel.kptr_restrict", "kernel.dmesg_restrict",
	"kernel.yama.ptrace_scope", "kernel.modules_disabled", "kernel.kexec_load_disabled",
	"kernel.unprivileged_bpf_disabled", "kernel.unprivileged_userns_clone", "user.max_user_namespaces",
	"kernel.perf_event_paranoid", "kernel.io_uring_disabled", "kernel.sysrq", "kernel.ftrace_enabled",
	"kernel.core_pattern", "kernel.core_pipe_limit", "kernel.core_uses_pid", "kernel.modprobe",
	"kernel.printk", "kernel.panic", "kernel.panic_on_oops", "kernel.pid_max", "kernel.tainted",
	"fs.protected_hardlinks", "fs.protected_symlinks", "fs.protected_fifos", "fs.protected_regular",
	"fs.suid_dumpable", "vm.mmap_min_addr", "vm.unprivileged_userfaultfd", "dev.tty.ldisc_autoload",
	"net.core.bpf_jit_enable", "net.core.bpf_jit_harden",
	"net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding",
	"net.ipv4.conf.all.accept_redirects", "net.ipv4.conf.all.send_redirects",
	"net.ipv4.conf.all.accept_source_route", "net.ipv4.conf.all.rp_filter",
	"net.ipv4.tcp_syncookies", "net.ipv4.icmp_echo_ignore_all",
}

// kernelFiles are further kernel settings stored raw only.
var kernelFiles = []string{
	"kernel/security/lockdown", "kernel/security/lsm", "kernel/uevent_helper",
	"kernel/kexec_loaded", "kernel/kexec_crash_loaded", "module/module/parameters/sig_enforce",
}

// BinfmtEntry is one file of /proc/sys/fs/binfmt_misc: a registered
// interpreter, or (Name "status") the whole facility's state.
type BinfmtEntry struct {
	Name        string   `json:"name"`
	Enabled     bool     `json:"enabled"`
	Interpreter string   `json:"interpreter,omitempty"`
	Flags       string   `json:"flags,omitempty"`
	Offset      *int64   `json:"offset,omitempty"`
	Magic       string   `json:"magic,omitempty"` // hexadecimal
	Mask        string   `json:"mask,omitempty"`
	Extension   string   `json:"extension,omitempty"`
	Other       []string `json:"other,omitempty"` // lines not understood
}

// ParseBinfmt parses one binfmt_misc entry file.
func ParseBinfmt(name string, b []byte) BinfmtEntry {
	e := BinfmtEntry{Name: name}
	for i, l := range lines(b) {
		k, v, _ := strings.Cut(l, " ")
		switch {
		case i == 0 && (l == "enabled" || l == "disabled"):
			e.Enabled = l == "enabled"
		case k == "interpreter":
			e.Interpreter = v
		case k == "flags:":
			e.Flags = v
		case k == "offset":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				e.Offset = &n
			} else {
				e.Other = append(e.Other, l)
			}
		case k == "magic":
			e.Magic = v
		case k == "mask":
			e.Mask = v
		case k == "extension":
			e.Extension = v
		default:
			e.Other = append(e.Other, l)
		}
	}
	return e
}

type kernelCollector struct{}

func (*kernelCollector) Name() string         { return "system.kernel" }
func (*kernelCollector) Class() collect.Class { return collect.ClassSystem }

func (*kernelCollector) Collect(ctx context.Context, s *collect.Session) error {
	if !s.Env.Live {
		skipAll(s, collect.KindKernel, deadBox, procPath(s.Env, "modules"), sysPath(s.Env, "module"),
			procPath(s.Env, "sys/kernel/tainted"), procPath(s.Env, "cmdline"), procPath(s.Env, "sys"),
			procPath(s.Env, "sys/fs/binfmt_misc"), sysPath(s.Env, "kernel"))
	} else {
		collectModules(ctx, s)
		if b, ok := procItem(ctx, s, "sys/kernel/tainted", smallLimit); ok {
			putJSONL(ctx, s, "taint", procPath(s.Env, "sys/kernel/tainted"), []Taint{DecodeTaint(b)})
		}
		procItem(ctx, s, "cmdline", smallLimit)
		collectSysctl(ctx, s)
		for _, rel := range kernelFiles {
			sysItem(ctx, s, rel, smallLimit)
		}
		collectBinfmt(ctx, s)
	}
	s.CopyFile(ctx, "/etc/ld.so.preload", 0)
	return ctx.Err()
}

// collectModules stores /proc/modules raw and parsed, and the /sys/module
// listing cross-checked against it.
func collectModules(ctx context.Context, s *collect.Session) {
	var mods []Module
	procMods := map[string]bool{}
	raw, haveProc := procItem(ctx, s, "modules", tableLimit)
	if haveProc {
		mods = ParseModules(raw)
		for _, m := range mods {
			if m.Error == "" {
				procMods[m.Name] = true
			}
		}
	}
	dir := sysPath(s.Env, "module")
	entries, err := listDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.Skip(dir, collect.KindDir, "not present")
	case err != nil && len(entries) == 0:
		s.Fail(dir, collect.KindDir, err)
	case len(entries) == 0:
		s.Skip(dir, collect.KindDir, "empty")
	}
	inSys := map[string]bool{}
	sysMods := []SysModule{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		inSys[e.Name()] = true
		sm := readSysModule(ctx, s.Env, e.Name(), haveProc && procMods[e.Name()])
		if !haveProc && !sm.Builtin {
			sm.Errors = append(sm.Errors, "/proc/modules not read: in_proc_modules unknown")
		}
		if haveProc && !sm.Builtin && !sm.InProcModules {
			sm.Flags = append(sm.Flags, "missing_from_proc_modules")
			// Keep what the kernel shows of a module that hides itself.
			copySysTree(ctx, s, "module/"+e.Name(), 2)
		}
		sysMods = append(sysMods, sm)
	}
	if err != nil && len(entries) > 0 {
		s.Fail(dir, collect.KindDir, err)
	}
	if haveProc {
		sysRead := err == nil
		for i := range mods {
			if mods[i].Error != "" || !sysRead {
				continue
			}
			in := inSys[mods[i].Name]
			mods[i].InSysModule = &in
			if !in {
				mods[i].Flags = append(mods[i].Flags, "missing_from_sys_module")
			}
		}
		putJSONL(ctx, s, "modules", procPath(s.Env, "modules"), mods)
	}
	if len(entries) > 0 {
		putJSONL(ctx, s, "sys_modules", dir, sysMods)
	}
}

// readSysModule reads the attributes of /sys/module/<name>.
func readSysModule(ctx context.Context, env *collect.Env, name string, inProc bool) SysModule {
	sm := SysModule{Name: name, InProcModules: inProc}
	for _, attr := range []string{"initstate", "taint", "refcnt", "coresize", "version", "srcversion"} {
		v, err := readSmall(ctx, sysPath(env, "module/"+name+"/"+attr))
		if err != nil {
			if attr == "initstate" && errors.Is(err, fs.ErrNotExist) {
				sm.Builtin = true
			} else if !errors.Is(err, fs.ErrNotExist) {
				sm.Errors = append(sm.Errors, fmt.Sprintf("%s: %v", attr, err))
			}
			continue
		}
		switch attr {
		case "initstate":
			sm.InitState = v
		case "taint":
			sm.Taint = v
		case "refcnt":
			sm.RefCnt = v
		case "coresize":
			sm.CoreSize = v
		case "version":
			sm.Version = v
		case "srcversion":
			sm.SrcVersion = v
		}
	}
	return sm
}

// copySysTree stores the regular files under /sys/<rel>, depth folders
// deep, without following links.
func copySysTree(ctx context.Context, s *collect.Session, rel string, depth int) {
	entries, err := listDir(sysPath(s.Env, rel))
	if err != nil {
		s.Fail(sysPath(s.Env, rel), collect.KindDir, err)
	}
	for _, e := range entries {
		if ctx.Err() != nil {
			return
		}
		r := path.Join(rel, e.Name())
		switch {
		case e.Type().IsRegular():
			sysItem(ctx, s, r, smallLimit)
		case e.IsDir() && depth > 1:
			copySysTree(ctx, s, r, depth-1)
		}
	}
}

// collectSysctl stores each setting of interest raw and as sysctl.jsonl.
func collectSysctl(ctx context.Context, s *collect.Session) {
	recs := make([]Sysctl, 0, len(sysctlKeys))
	for _, key := range sysctlKeys {
		rel := "sys/" + strings.ReplaceAll(key, ".", "/")
		rec := Sysctl{Key: key, Path: "/proc/" + rel}
		b, err := storeKernelErr(ctx, s, "live/proc/"+rel, procPath(s.Env, rel), smallLimit)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil && len(b) == 0:
			rec.Present, rec.Error = true, err.Error()
		default:
			rec.Present, rec.Value = true, strings.TrimSuffix(string(b), "\n")
			if err != nil {
				rec.Error = err.Error()
			}
		}
		recs = append(recs, rec)
	}
	putJSONL(ctx, s, "sysctl", procPath(s.Env, "sys"), recs)
}

// collectBinfmt stores every binfmt_misc entry raw and parsed.
func collectBinfmt(ctx context.Context, s *collect.Session) {
	dir := procPath(s.Env, "sys/fs/binfmt_misc")
	// On systemd hosts the folder is an automount point: listing it would
	// mount binfmt_misc, a change to the host.
	ms, err := loadMounts(ctx, s.Env)
	if err != nil {
		s.Skip(dir, collect.KindDir, fmt.Sprintf("not listed: mount table not read (%v), and listing an automount point would mount binfmt_misc", err))
		return
	}
	if top := topMount(ms, "/proc/sys/fs/binfmt_misc"); top != nil && top.FSType == "autofs" {
		s.Skip(dir, collect.KindDir, "not listed: untriggered automount point; listing it would mount binfmt_misc (a change to the host); no binfmt_misc is mounted there now")
		return
	}
	entries, err := listDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.Skip(dir, collect.KindDir, "not present")
		return
	case err != nil && len(entries) == 0:
		s.Fail(dir, collect.KindDir, err)
		return
	case err != nil:
		s.Fail(dir, collect.KindDir, err) // the entries listed are still taken
	case len(entries) == 0:
		s.Skip(dir, collect.KindDir, "empty: binfmt_misc file system not mounted here")
		return
	}
	recs := []BinfmtEntry{}
	for _, e := range entries {
		rel := "sys/fs/binfmt_misc/" + e.Name()
		switch {
		case e.Name() == "register":
			s.Skip(procPath(s.Env, rel), collect.KindKernel, "write-only control file")
		case !e.Type().IsRegular():
			s.Skip(procPath(s.Env, rel), collect.KindKernel, "not a regular file")
		default:
			if b, ok := procItem(ctx, s, rel, smallLimit); ok {
				recs = append(recs, ParseBinfmt(e.Name(), b))
			}
		}
	}
	putJSONL(ctx, s, "binfmt_misc", dir, recs)
}

// MarshalJSON writes a record of a line that could not be parsed as its
// error and line only.
func (m Module) MarshalJSON() ([]byte, error) {
	type plain Module
	return marshalRecord(plain(m), m.Error, m.Line)
}
