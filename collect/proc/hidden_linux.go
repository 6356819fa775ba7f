package proc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/system"
)

// pidMaxLimit is PID_MAX_LIMIT on 64-bit kernels, scanned when pid_max
// cannot be read.
const pidMaxLimit = 4 << 20

// hiddenRounds is how many times a candidate must still answer, each time
// after a fresh listing of /proc that does not show it.
const hiddenRounds = 2

const hiddenMethod = "list the /proc folder; for every pid from 1 to pid_max that is not listed, call kill(pid, 0), " +
	"getpgid(pid) and sched_getscheduler(pid) (three system calls that find a process by pid apart from /proc); " +
	"a pid for which one of them does not return ESRCH is a candidate. Two more views name processes without listing " +
	"/proc: the children files of every task of every listed process (/proc/<pid>/task/<tid>/children) and the " +
	"cgroup.procs files of one cgroup hierarchy (cgroup2 if mounted); a pid they name that is not listed is a " +
	"candidate too. Each candidate is also looked up with fstatat(/proc, \"<pid>\"). Candidates whose " +
	"/proc/<pid>/status gives a Tgid other than the pid are threads and are excluded. Then, twice: list /proc again, " +
	"drop the candidates now listed (started during the scan), and probe the others again, dropping those that " +
	"no longer answer to the system calls or the lookup (exited). The remaining pids are reported."

type candidate struct {
	pid         int
	probe, stat error
	views       []string // the views that named it: "probe", "children", "cgroup"
}

// probePID asks the kernel for pid by three system calls that do not go
// through /proc: kill(pid, 0), then getpgid, then sched_getscheduler. It
// returns nil or the first error other than ESRCH (EPERM: the process
// exists), or ESRCH when all three say no such process.
func probePID(pid int) error {
	err := unix.Kill(pid, 0)
	if !errors.Is(err, unix.ESRCH) {
		return err
	}
	if _, err := unix.Getpgid(pid); !errors.Is(err, unix.ESRCH) {
		return err
	}
	_, _, e := unix.Syscall(unix.SYS_SCHED_GETSCHEDULER, uintptr(pid), 0, 0)
	switch e {
	case 0:
		return nil
	case unix.ESRCH:
		return unix.ESRCH
	}
	return e
}

// Collect implements collect.Collector.
func (h *Hidden) Collect(ctx context.Context, s *collect.Session) error {
	if !s.Env.Live {
		s.Skip(s.Env.Linux.Proc, collect.KindGenerated, deadBox)
		return nil
	}
	list, probe := h.list, h.probe
	if list == nil {
		list = listPIDs
	}
	if probe == nil {
		probe = probePID
	}
	check := HiddenCheck{Method: hiddenMethod, Started: time.Now().UTC()}
	maxPath := path.Join(s.Env.Linux.Proc, "sys/kernel/pid_max")
	check.PIDMax = pidMaxLimit
	if b, err := collect.ReadFile(ctx, maxPath, 64); err != nil {
		s.Fail(maxPath, collect.KindKernel, fmt.Errorf("read pid_max, scanning to %d: %w", pidMaxLimit, err))
	} else if n, err := strconv.Atoi(string(bytes.TrimSpace(b))); err != nil || n < 1 || n > pidMaxLimit {
		s.Fail(maxPath, collect.KindKernel, fmt.Errorf("pid_max %q not in 1..%d, scanning to %d", bytes.TrimSpace(b), pidMaxLimit, pidMaxLimit))
	} else {
		check.PIDMax = n
	}
	procFD, err := unix.Open(s.Env.Linux.Proc, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", s.Env.Linux.Proc, err)
	}
	defer unix.Close(procFD)

	pids, err := list(s.Env.Linux.Proc)
	if err != nil {
		return err
	}
	check.Listed = len(pids)
	listed := make([]bool, check.PIDMax+1)
	for _, p := range pids {
		if p <= check.PIDMax {
			listed[p] = true
		}
	}
	cands, err := scan(ctx, check.PIDMax, listed, probe)
	if err != nil {
		return err
	}
	// The views that name processes without listing /proc.
	named := map[int][]string{}
	add := func(view string, ps []int) {
		for _, p := range ps {
			// 0 stands, in cgroup.procs, for a process of another pid
			// namespace.
			if p > 0 && !slices.Contains(named[p], view) {
				named[p] = append(named[p], view)
			}
		}
	}
	add("children", childrenView(s.Env.Linux.Proc, pids))
	cg, root := cgroupView(ctx, s.Env.Linux.Proc)
	check.CgroupRoot = root
	add("cgroup", cg)
	check.Named = len(named)
	for i := range cands {
		cands[i].views = append([]string{"probe"}, named[cands[i].pid]...)
		delete(named, cands[i].pid)
	}
	for p, views := range named {
		if p >= len(listed) || !listed[p] {
			cands = append(cands, candidate{pid: p, probe: probe(p), views: views})
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].pid < cands[j].pid })
	for i := range cands {
		cands[i].stat = statPID(procFD, cands[i].pid)
	}
	// Threads answer kill and stat but are not listed.
	var kept []candidate
	for _, c := range cands {
		if st, err := readStatus(procFD, c.pid); err == nil && st.Tgid != 0 && st.Tgid != c.pid {
			check.Threads++
			continue
		}
		kept = append(kept, c)
	}
	for range hiddenRounds {
		if len(kept) == 0 {
			break
		}
		now, err := list(s.Env.Linux.Proc)
		if err != nil {
			return err
		}
		in := map[int]bool{}
		for _, p := range now {
			in[p] = true
		}
		var next []candidate
		for _, c := range kept {
			k, st := probe(c.pid), statPID(procFD, c.pid)
			switch {
			case in[c.pid]:
				check.Appeared++
			case errors.Is(k, unix.ESRCH) && st != nil:
				check.Vanished++
			default:
				next = append(next, candidate{c.pid, k, st, c.views})
			}
		}
		kept = next
	}
	check.Ended = time.Now().UTC()
	check.ScanMillis = check.Ended.Sub(check.Started).Milliseconds()
	check.Hidden = len(kept)

	out := newJSONL()
	for _, c := range kept {
		r := HiddenPID{PID: c.pid, Probe: result(c.probe), Stat: result(c.stat), FoundBy: c.views, Rechecks: hiddenRounds, Seen: check.Ended}
		if st, err := readStatus(procFD, c.pid); err != nil {
			r.Status = err.Error()
		} else {
			r.Tgid = st.Tgid
			r.Name, r.NameRaw = text([]byte(st.Name))
		}
		if err := out.add(r); err != nil {
			return err
		}
	}
	s.PutBytes(ctx, "live/proc/hidden.jsonl", s.Env.Linux.Proc, out.buf.Bytes())
	b, err := json.MarshalIndent(check, "", "  ")
	if err != nil {
		return fmt.Errorf("encode hidden check: %w", err)
	}
	s.PutBytes(ctx, "live/proc/hidden-check.json", s.Env.Linux.Proc, append(b, '\n'))
	return nil
}

// scan probes every pid in 1..pidMax not listed, on one goroutine per CPU
// (at most 4), and returns the candidates in pid order.
func scan(ctx context.Context, pidMax int, listed []bool, probe func(int) error) ([]candidate, error) {
	workers := min(max(runtime.NumCPU(), 1), 4)
	found := make([][]candidate, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Contiguous blocks: each worker keeps its results in order.
			lo, hi := 1+w*pidMax/workers, 1+(w+1)*pidMax/workers
			for pid := lo; pid < hi; pid++ {
				if pid&0xffff == 0 && ctx.Err() != nil {
					return
				}
				if listed[pid] {
					continue
				}
				if k := probe(pid); !errors.Is(k, unix.ESRCH) {
					found[w] = append(found[w], candidate{pid: pid, probe: k})
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []candidate
	for _, f := range found {
		out = append(out, f...)
	}
	return out, nil
}

// childrenView returns the pids named by the children files of every
// task of the listed processes: a process whose parent is listed shows
// there even if it is not listed itself.
func childrenView(proc string, pids []int) []int {
	var out []int
	for _, pid := range pids {
		task := path.Join(proc, strconv.Itoa(pid), "task")
		tids, err := listPIDs(task)
		if err != nil {
			continue // exited, or no task folder: nothing to see
		}
		for _, tid := range tids {
			b, err := collect.ReadFile(context.Background(), path.Join(task, strconv.Itoa(tid), "children"), 1<<20)
			if err != nil {
				continue
			}
			for _, f := range bytes.Fields(b) {
				if p, err := strconv.Atoi(string(f)); err == nil {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// maxCgroups bounds the cgroup folders read for the cgroup view.
const maxCgroups = 100000

// cgroupView returns the pids named by the cgroup.procs files of one
// cgroup hierarchy (the cgroup2 one if mounted, else the first cgroup v1
// one, from proc's self/mountinfo), which hold every process, and the
// hierarchy's mount point ("" when there is none).
func cgroupView(ctx context.Context, proc string) ([]int, string) {
	b, err := collect.ReadFile(ctx, path.Join(proc, "self/mountinfo"), 16<<20)
	if err != nil {
		return nil, ""
	}
	root := ""
	for _, m := range system.ParseMountinfo(b) {
		if m.Error != "" {
			continue
		}
		if m.FSType == "cgroup2" {
			root = m.MountPoint
			break
		}
		if m.FSType == "cgroup" && root == "" {
			root = m.MountPoint
		}
	}
	if root == "" {
		return nil, ""
	}
	var out []int
	dirs, seen := []string{root}, 0
	for len(dirs) > 0 && seen < maxCgroups && ctx.Err() == nil {
		dir := dirs[len(dirs)-1]
		dirs = dirs[:len(dirs)-1]
		seen++
		if b, err := collect.ReadFile(ctx, path.Join(dir, "cgroup.procs"), 64<<20); err == nil {
			for _, f := range bytes.Fields(b) {
				if p, err := strconv.Atoi(string(f)); err == nil {
					out = append(out, p)
				}
			}
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.IsDir() { // a cgroup; symbolic links are not followed
				dirs = append(dirs, path.Join(dir, e.Name()))
			}
		}
	}
	return out, root
}

func statPID(procFD, pid int) error {
	var st unix.Stat_t
	return unix.Fstatat(procFD, strconv.Itoa(pid), &st, unix.AT_SYMLINK_NOFOLLOW)
}

// readStatus reads and parses /proc/<pid>/status, which the kernel serves
// for threads and unlisted pids alike.
func readStatus(procFD, pid int) (Status, error) {
	name := strconv.Itoa(pid) + "/status"
	fd, err := unix.Openat(procFD, name, readFlags, 0)
	if err != nil {
		return Status{}, fmt.Errorf("open %s: %w", name, err)
	}
	defer unix.Close(fd)
	buf := make([]byte, 16<<10)
	n, err := unix.Read(fd, buf)
	if err != nil {
		return Status{}, fmt.Errorf("read %s: %w", name, err)
	}
	return ParseStatus(buf[:n])
}

func result(err error) string {
	if err == nil {
		return "ok"
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		return unix.ErrnoName(errno)
	}
	return err.Error()
}
