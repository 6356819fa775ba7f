package system

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/scelle/scelle/collect"
)

// Mount is one line of /proc/<pid>/mountinfo (proc(5)). Path fields are
// decoded from the kernel's octal escapes (\040 for a space ...); when the
// decoded bytes are not valid UTF-8, the matching _raw field holds them
// exactly (base64 in JSON).
type Mount struct {
	MountID       int64    `json:"mount_id"`
	ParentID      int64    `json:"parent_id"`
	Major         uint64   `json:"major"`
	Minor         uint64   `json:"minor"`
	Root          string   `json:"root"`
	RootRaw       []byte   `json:"root_raw,omitempty"`
	MountPoint    string   `json:"mount_point"`
	MountPointRaw []byte   `json:"mount_point_raw,omitempty"`
	MountOptions  string   `json:"mount_options"`
	Optional      []string `json:"optional_fields"` // shared:N, master:N, propagate_from:N, unbindable
	FSType        string   `json:"fstype"`
	Source        string   `json:"source"`
	SourceRaw     []byte   `json:"source_raw,omitempty"`
	SuperOptions  string   `json:"super_options"`
	// Flags holds "proc_pid_overmount" for a mount on /proc/<pid>, a way
	// to hide a process from tools that read /proc.
	Flags []string `json:"flags,omitempty"`
	// Error and Line are set for a line that could not be parsed.
	Error string `json:"error,omitempty"`
	Line  string `json:"line,omitempty"`
}

var procPidRE = regexp.MustCompile(`^/proc/[0-9]+(/|$)`)

// ParseMountinfo parses /proc/<pid>/mountinfo. Lines it cannot parse are
// returned as records with Error and Line set.
func ParseMountinfo(b []byte) []Mount {
	out := []Mount{}
	for _, line := range lines(b) {
		if line == "" {
			continue
		}
		out = append(out, parseMount(line))
	}
	return out
}

func parseMount(line string) Mount {
	bad := func(why string) Mount { return Mount{Error: why, Line: line} }
	f := strings.Split(line, " ")
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if sep < 0 {
		return bad("no \" - \" separator after 6 fields")
	}
	if len(f)-sep-1 != 3 {
		return bad(fmt.Sprintf("%d fields after the separator, want 3", len(f)-sep-1))
	}
	var m Mount
	var err error
	if m.MountID, err = strconv.ParseInt(f[0], 10, 64); err != nil {
		return bad("mount id: " + err.Error())
	}
	if m.ParentID, err = strconv.ParseInt(f[1], 10, 64); err != nil {
		return bad("parent id: " + err.Error())
	}
	maj, min, ok := strings.Cut(f[2], ":")
	if !ok {
		return bad("device: no ':'")
	}
	if m.Major, err = strconv.ParseUint(maj, 10, 32); err != nil {
		return bad("major: " + err.Error())
	}
	if m.Minor, err = strconv.ParseUint(min, 10, 32); err != nil {
		return bad("minor: " + err.Error())
	}
	m.Root, m.MountPoint, m.MountOptions = unoctal(f[3]), unoctal(f[4]), f[5]
	m.Optional = append([]string{}, f[6:sep]...)
	m.FSType, m.Source, m.SuperOptions = unoctal(f[sep+1]), unoctal(f[sep+2]), f[sep+3]
	m.RootRaw, m.MountPointRaw, m.SourceRaw = rawIfInvalid(m.Root), rawIfInvalid(m.MountPoint), rawIfInvalid(m.Source)
	if procPidRE.MatchString(m.MountPoint) {
		m.Flags = append(m.Flags, "proc_pid_overmount")
	}
	return m
}

// unoctal decodes the kernel's \ooo escapes; a backslash not followed by
// three octal digits is kept as is.
func unoctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			v := (s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0')
			if s[i+1] <= '3' {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// Swap is one line of /proc/swaps.
type Swap struct {
	Filename    string `json:"filename"`
	FilenameRaw []byte `json:"filename_raw,omitempty"`
	Type        string `json:"type"`
	SizeKiB     int64  `json:"size_kib"`
	UsedKiB     int64  `json:"used_kib"`
	Priority    int64  `json:"priority"`
	Error       string `json:"error,omitempty"`
	Line        string `json:"line,omitempty"`
}

// ParseSwaps parses /proc/swaps, skipping its header line.
func ParseSwaps(b []byte) []Swap {
	out := []Swap{}
	for i, line := range lines(b) {
		f := strings.Fields(line)
		if len(f) == 0 || (i == 0 && f[0] == "Filename") {
			continue
		}
		if len(f) != 5 {
			out = append(out, Swap{Error: fmt.Sprintf("%d fields, want 5", len(f)), Line: line})
			continue
		}
		sw := Swap{Filename: unoctal(f[0]), Type: f[1]}
		var errs []error
		for j, p := range []*int64{&sw.SizeKiB, &sw.UsedKiB, &sw.Priority} {
			v, err := strconv.ParseInt(f[2+j], 10, 64)
			errs = append(errs, err)
			*p = v
		}
		if err := errors.Join(errs...); err != nil {
			out = append(out, Swap{Error: err.Error(), Line: line})
			continue
		}
		sw.FilenameRaw = rawIfInvalid(sw.Filename)
		out = append(out, sw)
	}
	return out
}

// loadMounts reads and parses env's /proc/self/mountinfo without storing it.
func loadMounts(ctx context.Context, env *collect.Env) ([]Mount, error) {
	b, err := collect.ReadFile(ctx, procPath(env, "self/mountinfo"), tableLimit)
	if err != nil {
		return nil, err
	}
	return ParseMountinfo(b), nil
}

// topMount returns the last (uppermost) mount on the host path mp, or nil.
func topMount(ms []Mount, mp string) *Mount {
	var top *Mount
	for i := range ms {
		if ms[i].Error == "" && ms[i].MountPoint == mp {
			top = &ms[i]
		}
	}
	return top
}

// localPath returns where the host path p is found in env: under
// env.Linux.Proc or env.Linux.Sys for kernel file systems, under env.Root
// otherwise.
func localPath(env *collect.Env, p string) string {
	switch {
	case p == "/proc" || strings.HasPrefix(p, "/proc/"):
		return procPath(env, strings.TrimPrefix(p, "/proc"))
	case p == "/sys" || strings.HasPrefix(p, "/sys/"):
		return sysPath(env, strings.TrimPrefix(p, "/sys"))
	}
	return env.HostPath(p)
}

type mountsCollector struct{}

func (*mountsCollector) Name() string         { return "system.mounts" }
func (*mountsCollector) Class() collect.Class { return collect.ClassSystem }

func (*mountsCollector) Collect(ctx context.Context, s *collect.Session) error {
	if !s.Env.Live {
		skipAll(s, collect.KindKernel, deadBox, procPath(s.Env, "self/mountinfo"), procPath(s.Env, "swaps"))
		return nil
	}
	if b, ok := procItem(ctx, s, "self/mountinfo", tableLimit); ok {
		putJSONL(ctx, s, "mounts", procPath(s.Env, "self/mountinfo"), ParseMountinfo(b))
	}
	if b, ok := procItem(ctx, s, "swaps", tableLimit); ok {
		putJSONL(ctx, s, "swaps", procPath(s.Env, "swaps"), ParseSwaps(b))
	}
	return ctx.Err()
}

// BPFEntry is one file or folder in a bpf file system: a pinned map,
// program or link, or a folder holding them.
type BPFEntry struct {
	Mount      string            `json:"mount"` // the bpf mount point walked
	Path       string            `json:"path"`  // host path
	PathRaw    []byte            `json:"path_raw,omitempty"`
	Stat       *collect.FileStat `json:"stat,omitempty"`
	LinkTarget string            `json:"link_target,omitempty"`
	Error      string            `json:"error,omitempty"`
}

const maxBPFEntries = 100000

type bpfCollector struct{}

func (*bpfCollector) Name() string         { return "system.bpf" }
func (*bpfCollector) Class() collect.Class { return collect.ClassSystem }

// Collect lists every bpf file system mounted (per /proc/self/mountinfo)
// and /sys/fs/bpf, with each entry's stat; pinned objects are never opened.
func (*bpfCollector) Collect(ctx context.Context, s *collect.Session) error {
	src := "bpf file systems (/sys/fs/bpf and mountinfo)"
	if !s.Env.Live {
		s.Skip(src, collect.KindGenerated, deadBox)
		return nil
	}
	roots := []string{"/sys/fs/bpf"}
	var notes []string
	ms, err := loadMounts(ctx, s.Env)
	if err != nil {
		notes = append(notes, fmt.Sprintf("mount table not read (%v): only /sys/fs/bpf listed", err))
	}
	mounted := false
	seen := map[string]bool{"/sys/fs/bpf": true}
	for _, m := range ms {
		if m.FSType != "bpf" || m.Error != "" {
			continue
		}
		mounted = true
		if !seen[m.MountPoint] {
			seen[m.MountPoint] = true
			roots = append(roots, m.MountPoint)
		}
	}
	recs := []BPFEntry{}
	for _, root := range roots {
		walkBPF(ctx, s.Env, root, root, 0, &recs)
	}
	if err == nil && !mounted && len(recs) <= 1 {
		s.Skip(src, collect.KindGenerated, "no bpf file system mounted: no pinned objects to list")
		return ctx.Err()
	}
	for _, n := range notes {
		recs = append(recs, BPFEntry{Mount: "/sys/fs/bpf", Error: n})
	}
	putJSONL(ctx, s, "bpf", src, recs)
	return ctx.Err()
}

// walkBPF appends the entry p (a host path) and, for a folder, what it
// holds, up to 32 folders deep and maxBPFEntries in all.
func walkBPF(ctx context.Context, env *collect.Env, mount, p string, depth int, recs *[]BPFEntry) {
	if ctx.Err() != nil || len(*recs) >= maxBPFEntries {
		return
	}
	local := localPath(env, p)
	e := BPFEntry{Mount: mount, Path: p, PathRaw: rawIfInvalid(p)}
	st, err := collect.Lstat(local)
	if err != nil {
		if depth == 0 && errors.Is(err, fs.ErrNotExist) {
			return
		}
		e.Error = err.Error()
		*recs = append(*recs, e)
		return
	}
	e.Stat = st
	if strings.HasPrefix(st.Mode, "L") {
		e.LinkTarget, _ = os.Readlink(local)
	}
	*recs = append(*recs, e)
	if !strings.HasPrefix(st.Mode, "d") || depth >= 32 {
		return
	}
	entries, err := listDir(local)
	if err != nil {
		*recs = append(*recs, BPFEntry{Mount: mount, Path: p, PathRaw: rawIfInvalid(p), Error: err.Error()})
	}
	for _, d := range entries {
		walkBPF(ctx, env, mount, path.Join(p, d.Name()), depth+1, recs)
	}
}

// MarshalJSON writes a record of a line that could not be parsed as its
// error and line only.
func (m Mount) MarshalJSON() ([]byte, error) {
	type plain Mount
	return marshalRecord(plain(m), m.Error, m.Line)
}

// MarshalJSON writes a record of a line that could not be parsed as its
// error and line only.
func (s Swap) MarshalJSON() ([]byte, error) {
	type plain Swap
	return marshalRecord(plain(s), s.Error, s.Line)
}
