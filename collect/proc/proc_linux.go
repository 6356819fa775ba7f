package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/scelle/scelle/collect"
)

// rawFiles are the per-process files stored as read, in this order.
var rawFiles = []string{"stat", "status", "cmdline", "environ", "limits", "cgroup", "maps", "mountinfo", "loginuid", "sessionid"}

const readFlags = unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOCTTY

// errExited marks a read that failed because the process had exited.
var errExited = errors.New("process exited")

// exitedReason is the reason of an item skipped because its process
// ended between the listing and the read.
const exitedReason = "process exited before it was read"

// errNoMemory marks a read refused because the process has no user address
// space: a kernel thread (its environ, maps and mem do not exist).
var errNoMemory = errors.New("no user address space (kernel thread)")

// listPIDs returns the numeric entries of the /proc folder, sorted.
func listPIDs(proc string) ([]int, error) {
	f, err := os.Open(proc)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", proc, err)
	}
	defer f.Close()
	var pids []int
	for {
		names, err := f.Readdirnames(1024)
		for _, n := range names {
			if pid, err := strconv.Atoi(n); err == nil && pid > 0 && strconv.Itoa(pid) == n {
				pids = append(pids, pid)
			}
		}
		if err == io.EOF || (err == nil && len(names) == 0) {
			break
		}
		if err != nil {
			return pids, fmt.Errorf("list %s: %w", proc, err)
		}
	}
	sort.Ints(pids)
	return pids, nil
}

// livePIDs lists the host's processes for a collector of live state. On
// a dead box it records the skip and says done; a listing cut short is
// recorded as failed and what it gave is used; no listing at all is the
// collector's error.
func livePIDs(s *collect.Session) (pids []int, done bool, err error) {
	if !s.Env.Live {
		s.Skip(s.Env.Linux.Proc, collect.KindGenerated, deadBox)
		return nil, true, nil
	}
	pids, err = listPIDs(s.Env.Linux.Proc)
	if err != nil && len(pids) == 0 {
		return nil, true, err
	}
	if err != nil {
		s.Fail(s.Env.Linux.Proc, collect.KindDir, err)
	}
	return pids, false, nil
}

// pidDir is an open /proc/PID folder. Every file of the process is opened
// relative to it, so that all of them come from the same process even if
// its pid is reused while it is read.
type pidDir struct {
	pid    int
	path   string // Env.Linux.Proc/PID
	fd     int
	zombie bool // its stat said state Z: exited, not yet reaped
}

func openPID(proc string, pid int) (*pidDir, error) {
	p := path.Join(proc, strconv.Itoa(pid))
	fd, err := unix.Open(p, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
			return nil, errExited
		}
		return nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	return &pidDir{pid: pid, path: p, fd: fd}, nil
}

func (d *pidDir) close() { unix.Close(d.fd) }

// gone reports whether the process has exited (its stat file is gone).
func (d *pidDir) gone() bool {
	var st unix.Stat_t
	err := unix.Fstatat(d.fd, "stat", &st, unix.AT_SYMLINK_NOFOLLOW)
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH)
}

// open opens a regular file of the process for reading.
func (d *pidDir) open(name string) (*os.File, error) {
	p := path.Join(d.path, name)
	for {
		fd, err := unix.Openat(d.fd, name, readFlags, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: p, Err: d.exitErr(err)}
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			unix.Close(fd)
			return nil, &os.PathError{Op: "open", Path: p, Err: fs.ErrInvalid}
		}
		return os.NewFile(uintptr(fd), p), nil
	}
}

// exitErr wraps err with errExited when the process is gone or a zombie.
func (d *pidDir) exitErr(err error) error {
	switch {
	case d.zombie:
		return fmt.Errorf("%w (zombie, not yet reaped): %w", errExited, err)
	case errors.Is(err, unix.ESRCH) && !d.gone():
		return fmt.Errorf("%w: %w", errNoMemory, err)
	case errors.Is(err, unix.ESRCH) || ((errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EACCES)) && d.gone()):
		return fmt.Errorf("%w: %w", errExited, err)
	}
	return err
}

// readlink returns the target of the link name in the process folder.
func (d *pidDir) readlink(name string) ([]byte, error) {
	for size := 4096; size <= 1<<16; size *= 4 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(d.fd, name, buf)
		if err != nil {
			return nil, &os.PathError{Op: "readlink", Path: path.Join(d.path, name), Err: d.exitErr(err)}
		}
		if n < size {
			return buf[:n], nil
		}
	}
	return nil, &os.PathError{Op: "readlink", Path: path.Join(d.path, name), Err: unix.ENAMETOOLONG}
}

// readDirNames lists the folder name of the process, calling fn for each
// entry in the kernel's order.
func (d *pidDir) readDirNames(name string, fn func(string)) error {
	p := path.Join(d.path, name)
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: p, Err: d.exitErr(err)}
	}
	f := os.NewFile(uintptr(fd), p)
	defer f.Close()
	for {
		names, err := f.Readdirnames(1024)
		for _, n := range names {
			fn(n)
		}
		if err == io.EOF || (err == nil && len(names) == 0) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list %s: %w", p, d.exitErr(err))
		}
	}
}

// capture keeps the first max bytes written to it.
type capture struct {
	buf []byte
	max int64
	cut bool
}

func (c *capture) Write(p []byte) (int, error) {
	room := c.max - int64(len(c.buf))
	if int64(len(p)) > room {
		c.buf = append(c.buf, p[:room]...)
		c.cut = true
	} else {
		c.buf = append(c.buf, p...)
	}
	return len(p), nil
}

// capReader reads at most max bytes of a kernel file and then fails if
// more remain, so that the stored item is marked partial.
type capReader struct {
	d    *pidDir
	r    io.Reader
	left int64
	max  int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			return 0, fmt.Errorf("file larger than the %d-byte cap", c.max)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if err != nil && err != io.EOF && c.d != nil {
		err = c.d.exitErr(err)
	}
	return n, err
}

func itemContext(ctx context.Context, env *collect.Env) (context.Context, context.CancelFunc) {
	if env.ItemTimeout > 0 {
		return context.WithTimeout(ctx, env.ItemTimeout)
	}
	return context.WithCancel(ctx)
}

// copyRaw stores the process file name as bagName, keeping at most limit
// bytes, and returns its first keep bytes (cut tells whether there were
// more) and the item's outcome.
func copyRaw(ctx context.Context, s *collect.Session, d *pidDir, name, bagName string, limit, keep int64) (b []byte, cut bool, o collect.Outcome) {
	src := path.Join(d.path, name)
	f, err := d.open(name)
	if err != nil {
		o = collect.Outcome{Source: src, Kind: collect.KindKernel, Status: collect.Failed, Reason: err.Error()}
		var pe *os.PathError
		switch {
		case (errors.Is(err, errExited) || errors.Is(err, errNoMemory)) && errors.As(err, &pe):
			// The process ended between the listing and the read, or it
			// has nothing to read: nothing is lost that existed.
			o.Status, o.Reason = collect.Skipped, pe.Err.Error() // without the path
		case errors.Is(err, fs.ErrNotExist):
			o.Status, o.Reason = collect.Skipped, "not present"
		}
		s.Record(o)
		return nil, false, o
	}
	defer f.Close()
	rctx, cancel := itemContext(ctx, s.Env)
	defer cancel()
	c := &capture{max: keep}
	r := io.TeeReader(&capReader{d: d, r: collect.NewContextReader(rctx, f), left: limit, max: limit}, c)
	o = s.PutReader(rctx, bagName, src, collect.KindKernel, -1, r)
	return c.buf, c.cut, o
}

// bootTime returns the boot time from Env.Linux.Proc/stat.
func bootTime(ctx context.Context, proc string) (time.Time, error) {
	b, err := collect.ReadFile(ctx, path.Join(proc, "stat"), 1<<20)
	if err != nil {
		return time.Time{}, err
	}
	sec, err := parseBtime(b)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(sec, 0).UTC(), nil
}

// clockTicks returns USER_HZ, as sysconf(_SC_CLK_TCK) would: the kernel's
// AT_CLKTCK auxiliary vector entry, or 100.
func clockTicks() int64 {
	const atClkTck = 17
	if av, err := unix.Auxv(); err == nil {
		for _, kv := range av {
			if kv[0] == atClkTck && kv[1] > 0 {
				return int64(kv[1])
			}
		}
	}
	return 100
}

// Collect implements collect.Collector.
func (t *Table) Collect(ctx context.Context, s *collect.Session) error {
	pids, done, err := livePIDs(s)
	if done {
		return err
	}
	boot, berr := bootTime(ctx, s.Env.Linux.Proc)
	if berr != nil {
		s.Fail(path.Join(s.Env.Linux.Proc, "stat"), collect.KindKernel, fmt.Errorf("boot time: %w", berr))
	}
	hz := clockTicks()
	procs, fds := newJSONL(), newJSONL()
	for i, pid := range pids {
		if ctx.Err() != nil {
			s.Fail(s.Env.Linux.Proc, collect.KindGenerated, fmt.Errorf("interrupted after %d of %d processes: %w", i, len(pids), ctx.Err()))
			break
		}
		p, statOK := t.one(ctx, s, pid, fds)
		p.ClkTck = hz
		if statOK && berr == nil {
			st := boot.Add(ticks(p.StartTicks, hz))
			p.StartTime, p.BootTime = &st, &boot
		}
		if err := procs.add(p); err != nil {
			return err
		}
	}
	// What was read is stored even when interrupted: the raw files of
	// these processes are already in the bag.
	sctx := context.WithoutCancel(ctx)
	s.PutBytes(sctx, "live/proc/processes.jsonl", s.Env.Linux.Proc, procs.buf.Bytes())
	s.PutBytes(sctx, "live/proc/fds.jsonl", s.Env.Linux.Proc, fds.buf.Bytes())
	return ctx.Err()
}

// ticks converts clock ticks at hz per second to a duration, without
// overflow for any uptime below 290 years.
func ticks(n uint64, hz int64) time.Duration {
	h := uint64(hz)
	return time.Duration(n/h)*time.Second + time.Duration(n%h)*time.Second/time.Duration(h)
}

// one reads the process pid into a record, storing its raw files and
// adding its descriptors to fds; statOK tells whether its stat was parsed.
func (t *Table) one(ctx context.Context, s *collect.Session, pid int, fds *jsonl) (p *Process, statOK bool) {
	p = &Process{PID: pid, Cmdline: []string{}, Environ: []string{}, CollectedTime: time.Now().UTC()}
	note := func(what string, err error) {
		if errors.Is(err, errExited) {
			p.Exited = true
		}
		p.Errors = append(p.Errors, fmt.Sprintf("%s: %v", what, err))
	}
	d, err := openPID(s.Env.Linux.Proc, pid)
	if err != nil {
		for _, name := range rawFiles {
			src := path.Join(s.Env.Linux.Proc, strconv.Itoa(pid), name)
			if errors.Is(err, errExited) {
				s.Skip(src, collect.KindKernel, err.Error())
			} else {
				s.Fail(src, collect.KindKernel, err)
			}
		}
		note("open", err)
		return p, false
	}
	defer d.close()

	raw := map[string][]byte{}
	for _, name := range rawFiles {
		keep := int64(1 << 20)
		switch name {
		case "cmdline", "environ":
			keep = t.opts.MaxArgs
		case "limits", "maps", "mountinfo":
			keep = 0
		}
		b, cut, o := copyRaw(ctx, s, d, name, fmt.Sprintf("live/proc/%d/%s", pid, name), t.opts.MaxKernelFile, keep)
		raw[name] = b
		if o.Status != collect.Collected {
			p.Errors = append(p.Errors, fmt.Sprintf("%s: %s: %s", name, o.Status, o.Reason))
		}
		switch name {
		case "stat":
			// Parsed first: a zombie's or a kernel thread's other files
			// fail or are empty in known ways.
			if st, err := ParseStat(b); err == nil {
				statOK = true
				p.PPID, p.State, p.PGID, p.SID, p.TTY = st.PPID, st.State, st.PGRP, st.Session, st.TTY
				p.Comm, p.CommRaw = text(st.Comm)
				p.KernelThread = st.Flags&pfKthread != 0
				p.StartTicks, p.Threads, p.Nice = st.StartTime, st.NumThreads, st.Nice
				p.UTimeTicks, p.STimeTicks, p.VSizeBytes, p.RSSPages = st.UTime, st.STime, st.VSize, st.RSS
				d.zombie = st.State == "Z"
			} else if b != nil {
				note("stat", err)
			}
		case "cmdline":
			p.CmdlineCut = cut || o.Status != collect.Collected
		case "environ":
			p.EnvironCut = cut || o.Status != collect.Collected
		}
	}
	if d.gone() || d.zombie {
		p.Exited = true
	}
	if st, err := ParseStatus(raw["status"]); err == nil {
		p.UID, p.GID, p.Groups, p.NSPID = st.UID, st.GID, st.Groups, st.NSPID
		p.TracerPID, p.Caps, p.Seccomp, p.NoNewPrivs = st.TracerPID, st.Caps, st.Seccomp, st.NoNewPrivs
		p.VMSizeKB, p.VMRSSKB, p.VMPeakKB, p.VMSwapKB = vm(st, "VmSize"), vm(st, "VmRSS"), vm(st, "VmPeak"), vm(st, "VmSwap")
		if p.Comm == "" && raw["stat"] == nil {
			p.Comm = st.Name
		}
	} else if raw["status"] != nil {
		note("status", err)
	}
	p.Cmdline, p.CmdlineRaw = list(raw["cmdline"])
	p.Environ, p.EnvironRaw = list(raw["environ"])
	if c, err := ParseCgroup(raw["cgroup"]); err == nil {
		p.Cgroup = c
	} else {
		note("cgroup", err)
	}
	for name, dst := range map[string]**uint32{"loginuid": &p.LoginUID, "sessionid": &p.SessionID} {
		if raw[name] == nil {
			continue
		}
		if v, err := parseID(raw[name]); err == nil {
			*dst = &v
		} else {
			note(name, err)
		}
	}

	// A kernel thread or a zombie has no exe, cwd or root: ENOENT there
	// is expected, not an error.
	noMM := p.KernelThread || p.State == "Z"
	links := []struct {
		name     string
		dst      *string
		dstRaw   *[]byte
		optional bool
	}{{"exe", &p.Exe, &p.ExeRaw, noMM}, {"cwd", &p.Cwd, &p.CwdRaw, noMM}, {"root", &p.Root, &p.RootRaw, noMM}}
	for _, l := range links {
		b, err := d.readlink(l.name)
		if err != nil {
			if !(l.optional && errors.Is(err, fs.ErrNotExist)) {
				note(l.name, err)
			}
			continue
		}
		*l.dst, *l.dstRaw = text(b)
		if l.name == "exe" {
			pl := ParseLink(b)
			p.ExeDeleted, p.ExeMemfd = pl.Deleted, pl.Memfd
			var st unix.Stat_t
			if err := unix.Fstatat(d.fd, "exe", &st, 0); err == nil {
				n := uint64(st.Nlink)
				p.ExeNlink = &n
			}
		}
	}

	p.Namespaces = Namespaces{}
	if err := d.readDirNames("ns", func(n string) {
		if b, err := d.readlink("ns/" + n); err == nil {
			p.Namespaces[n], _ = text(b)
		} else if !(noMM && errors.Is(err, fs.ErrNotExist)) {
			note("ns/"+n, err)
		}
	}); err != nil {
		note("ns", err)
	}

	var nums []int
	if err := d.readDirNames("fd", func(n string) {
		p.FDCount++
		if len(nums) >= t.opts.MaxFDs {
			p.FDsCut = true
			return
		}
		if fd, err := strconv.Atoi(n); err == nil {
			nums = append(nums, fd)
		}
	}); err != nil && !(noMM && errors.Is(err, fs.ErrNotExist)) {
		note("fd", err)
	}
	sort.Ints(nums)
	for _, fd := range nums {
		r := FD{PID: pid, FD: fd}
		b, err := d.readlink("fd/" + strconv.Itoa(fd))
		if err != nil {
			r.Error = err.Error()
		} else {
			r.Target, r.TargetRaw = text(b)
			l := ParseLink(b)
			r.Type, r.Inode, r.Deleted = l.Type, l.Inode, l.Deleted
		}
		if err := fds.add(r); err != nil {
			note("fd", err)
		}
	}
	return p, statOK
}

func vm(st Status, k string) *uint64 {
	v, ok := st.VM[k]
	if !ok {
		return nil
	}
	return &v
}
