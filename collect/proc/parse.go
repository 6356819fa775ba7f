package proc

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// pfKthread is PF_KTHREAD in the flags field of /proc/PID/stat.
const pfKthread = 0x00200000

// Stat holds the fields of /proc/PID/stat that records use (proc(5)).
type Stat struct {
	PID        int
	Comm       []byte // as the kernel wrote it: may hold spaces, ')' and any byte
	State      string
	PPID       int
	PGRP       int
	Session    int
	TTY        uint64
	Flags      uint64
	UTime      uint64 // clock ticks
	STime      uint64
	Nice       int
	NumThreads int
	StartTime  uint64 // clock ticks after boot
	VSize      uint64 // bytes
	RSS        uint64 // pages
}

var errShort = errors.New("too few fields")

// ParseStat parses /proc/PID/stat. The command name is taken between the
// first '(' and the last ')', since it may itself hold both.
func ParseStat(b []byte) (Stat, error) {
	var st Stat
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 1 || end < open {
		return st, fmt.Errorf("parse stat: no command name in parentheses")
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil {
		return st, fmt.Errorf("parse stat: pid: %w", err)
	}
	st.PID = pid
	st.Comm = append([]byte(nil), b[open+1:end]...)
	f := strings.Fields(string(b[end+1:]))
	// f[0] is field 3 (state) of proc(5); field n is f[n-3].
	if len(f) < 22 {
		return st, fmt.Errorf("parse stat: %d fields after the name: %w", len(f), errShort)
	}
	st.State = f[0]
	ints := []struct {
		field int
		dst   *int
	}{{4, &st.PPID}, {5, &st.PGRP}, {6, &st.Session}, {19, &st.Nice}, {20, &st.NumThreads}}
	for _, x := range ints {
		v, err := strconv.Atoi(f[x.field-3])
		if err != nil {
			return st, fmt.Errorf("parse stat: field %d: %w", x.field, err)
		}
		*x.dst = v
	}
	uints := []struct {
		field int
		dst   *uint64
	}{{7, &st.TTY}, {9, &st.Flags}, {14, &st.UTime}, {15, &st.STime}, {22, &st.StartTime}, {23, &st.VSize}, {24, &st.RSS}}
	for _, x := range uints {
		// tty_nr is printed signed by some kernels; rss may be negative
		// in a race: read both as signed when unsigned fails.
		v, err := strconv.ParseUint(f[x.field-3], 10, 64)
		if err != nil {
			sv, serr := strconv.ParseInt(f[x.field-3], 10, 64)
			if serr != nil {
				return st, fmt.Errorf("parse stat: field %d: %w", x.field, err)
			}
			v = uint64(sv)
		}
		*x.dst = v
	}
	return st, nil
}

// Status holds the fields of /proc/PID/status that records use.
type Status struct {
	Name       string // escaped by the kernel (\n, \\)
	Tgid       int
	PID        int
	PPID       int
	TracerPID  int
	UID, GID   []uint32
	Groups     []uint32
	NSPID      []int
	Threads    int
	VM         map[string]uint64 // VmSize, VmRSS ... in kB
	Caps       *Caps
	Seccomp    *int
	NoNewPrivs *int
}

// ParseStatus parses /proc/PID/status ("Key:\tvalue" lines). Unknown keys
// are ignored; a known key with a malformed value is an error.
func ParseStatus(b []byte) (Status, error) {
	st := Status{VM: map[string]uint64{}}
	var caps Caps
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		var err error
		switch k {
		case "Name":
			st.Name = v
		case "Tgid":
			st.Tgid, err = strconv.Atoi(v)
		case "Pid":
			st.PID, err = strconv.Atoi(v)
		case "PPid":
			st.PPID, err = strconv.Atoi(v)
		case "TracerPid":
			st.TracerPID, err = strconv.Atoi(v)
		case "Threads":
			st.Threads, err = strconv.Atoi(v)
		case "Uid":
			st.UID, err = uint32s(v)
		case "Gid":
			st.GID, err = uint32s(v)
		case "Groups":
			st.Groups, err = uint32s(v)
		case "NSpid":
			st.NSPID, err = ints(v)
		case "Seccomp", "NoNewPrivs":
			var n int
			n, err = strconv.Atoi(v)
			if k == "Seccomp" {
				st.Seccomp = &n
			} else {
				st.NoNewPrivs = &n
			}
		case "CapInh":
			caps.Inh = v
		case "CapPrm":
			caps.Prm = v
		case "CapEff":
			caps.Eff = v
		case "CapBnd":
			caps.Bnd = v
		case "CapAmb":
			caps.Amb = v
		default:
			if strings.HasPrefix(k, "Vm") {
				n, unit, _ := strings.Cut(v, " ")
				if unit != "kB" {
					return st, fmt.Errorf("parse status: %s: unit %q", k, unit)
				}
				var kb uint64
				kb, err = strconv.ParseUint(n, 10, 64)
				st.VM[k] = kb
			}
		}
		if err != nil {
			return st, fmt.Errorf("parse status: %s: %w", k, err)
		}
	}
	if caps != (Caps{}) {
		st.Caps = &caps
	}
	return st, nil
}

func uint32s(v string) ([]uint32, error) {
	var out []uint32
	for _, f := range strings.Fields(v) {
		n, err := strconv.ParseUint(f, 10, 32)
		if err != nil {
			return nil, err
		}
		out = append(out, uint32(n))
	}
	return out, nil
}

func ints(v string) ([]int, error) {
	var out []int
	for _, f := range strings.Fields(v) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// SplitNUL splits a NUL-separated list (/proc/PID/cmdline, environ). The
// kernel ends each element with a NUL; a process that rewrote its argument
// area may leave no final NUL, and empty elements are kept.
func SplitNUL(b []byte) [][]byte {
	if len(b) == 0 {
		return nil
	}
	b = bytes.TrimSuffix(b, []byte{0})
	return bytes.Split(b, []byte{0})
}

// Cgroup is one line of /proc/PID/cgroup.
type Cgroup struct {
	Hierarchy   int    `json:"hierarchy"`
	Controllers string `json:"controllers"`
	Path        string `json:"path"`
	PathRaw     []byte `json:"path_raw,omitempty"`
}

// ParseCgroup parses /proc/PID/cgroup ("id:controllers:path" lines).
func ParseCgroup(b []byte) ([]Cgroup, error) {
	var out []Cgroup
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		id, rest, ok1 := bytes.Cut(line, []byte{':'})
		ctrl, p, ok2 := bytes.Cut(rest, []byte{':'})
		if !ok1 || !ok2 {
			return out, fmt.Errorf("parse cgroup: line %q: no two colons", line)
		}
		n, err := strconv.Atoi(string(id))
		if err != nil {
			return out, fmt.Errorf("parse cgroup: hierarchy: %w", err)
		}
		c := Cgroup{Hierarchy: n}
		c.Controllers, _ = text(ctrl)
		c.Path, c.PathRaw = text(p)
		out = append(out, c)
	}
	return out, nil
}

// Mapping is one line of /proc/PID/maps.
type Mapping struct {
	Start, End uint64
	Perms      string
	Offset     uint64
	Dev        string // major:minor in hex, as maps prints it
	Inode      uint64
	Path       []byte // may hold spaces; ends in " (deleted)" when unlinked
}

// ParseMaps parses /proc/PID/maps.
func ParseMaps(b []byte) ([]Mapping, error) {
	var out []Mapping
	for i, line := range bytes.Split(b, []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		m, err := parseMapping(line)
		if err != nil {
			return out, fmt.Errorf("parse maps: line %d: %w", i+1, err)
		}
		out = append(out, m)
	}
	return out, nil
}

func parseMapping(line []byte) (Mapping, error) {
	var m Mapping
	// Five space-separated fields, then spaces, then the path (if any),
	// which is taken as is up to the end of the line.
	rest := line
	var f [5][]byte
	for i := range f {
		rest = bytes.TrimLeft(rest, " ")
		j := bytes.IndexByte(rest, ' ')
		if j < 0 {
			if i < 4 {
				return m, errShort
			}
			j = len(rest)
		}
		f[i], rest = rest[:j], rest[j:]
	}
	if p := bytes.TrimLeft(rest, " "); len(p) > 0 {
		m.Path = append([]byte(nil), p...)
	}
	lo, hi, ok := bytes.Cut(f[0], []byte{'-'})
	if !ok {
		return m, fmt.Errorf("address %q", f[0])
	}
	var err error
	if m.Start, err = strconv.ParseUint(string(lo), 16, 64); err != nil {
		return m, fmt.Errorf("start: %w", err)
	}
	if m.End, err = strconv.ParseUint(string(hi), 16, 64); err != nil {
		return m, fmt.Errorf("end: %w", err)
	}
	if m.End < m.Start {
		return m, fmt.Errorf("end %x before start %x", m.End, m.Start)
	}
	if len(f[1]) != 4 {
		return m, fmt.Errorf("perms %q", f[1])
	}
	m.Perms = string(f[1])
	if m.Offset, err = strconv.ParseUint(string(f[2]), 16, 64); err != nil {
		return m, fmt.Errorf("offset: %w", err)
	}
	if !bytes.Contains(f[3], []byte{':'}) {
		return m, fmt.Errorf("dev %q", f[3])
	}
	m.Dev = string(f[3])
	if m.Inode, err = strconv.ParseUint(string(f[4]), 10, 64); err != nil {
		return m, fmt.Errorf("inode: %w", err)
	}
	return m, nil
}

const deletedSuffix = " (deleted)"

// Link describes the target of a /proc/PID/{exe,cwd,root,fd/N} link.
type Link struct {
	Deleted bool   // the kernel appended " (deleted)": the file was unlinked
	Memfd   bool   // an anonymous memory file (memfd_create)
	Type    string // "path", "memfd", or the prefix of "socket:[N]", "anon_inode:..."
	Inode   uint64 // N of "type:[N]" targets (sockets, pipes, namespaces)
}

// ParseLink classifies a magic link's target. Note that a file may be
// named with the " (deleted)" suffix: callers check the link count.
func ParseLink(t []byte) Link {
	var l Link
	s := string(t)
	l.Deleted = strings.HasSuffix(s, deletedSuffix)
	switch {
	case strings.HasPrefix(s, "/memfd:"):
		l.Type, l.Memfd = "memfd", true
	case strings.HasPrefix(s, "/"):
		l.Type = "path"
	case strings.HasPrefix(s, "anon_inode:"):
		l.Type = "anon_inode"
	default:
		typ, rest, ok := strings.Cut(s, ":[")
		if !ok || !strings.HasSuffix(rest, "]") || typ == "" {
			l.Type = "other"
			break
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64)
		if err != nil {
			l.Type = "other"
			break
		}
		l.Type, l.Inode = typ, n
	}
	return l
}

// parseID parses /proc/PID/loginuid or sessionid (a decimal number;
// 4294967295 means unset).
func parseID(b []byte) (uint32, error) {
	n, err := strconv.ParseUint(string(bytes.TrimSpace(b)), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("parse id: %w", err)
	}
	return uint32(n), nil
}

// parseBtime returns the btime line of /proc/stat (seconds since the
// epoch at boot).
func parseBtime(b []byte) (int64, error) {
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse btime: %w", err)
			}
			return n, nil
		}
	}
	return 0, errors.New("parse btime: no btime line")
}

// list returns a NUL-separated list as strings, and its exact bytes when
// any element was not valid UTF-8.
func list(b []byte) ([]string, []byte) {
	out := []string{}
	var bad bool
	for _, e := range SplitNUL(b) {
		s, r := text(e)
		bad = bad || r != nil
		out = append(out, s)
	}
	if bad {
		return out, append([]byte(nil), b...)
	}
	return out, nil
}
