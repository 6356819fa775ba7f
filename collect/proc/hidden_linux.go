package proc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"runtime"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/scelle/scelle/collect"
)

// pidMaxLimit is PID_MAX_LIMIT on 64-bit kernels, scanned when pid_max
// cannot be read.
const pidMaxLimit = 4 << 20

// hiddenRounds is how many times a candidate must still answer, each time
// after a fresh listing of /proc that does not show it.
const hiddenRounds = 2

const hiddenMethod = "list the /proc folder; for every pid from 1 to pid_max that is not listed, call kill(pid, 0) " +
	"and fstatat(/proc, \"<pid>\"); a pid for which kill does not return ESRCH or the stat succeeds is a candidate. " +
	"Candidates whose /proc/<pid>/status gives a Tgid other than the pid are threads and are excluded. " +
	"Then, twice: list /proc again, drop the candidates now listed (started during the scan), and probe the others " +
	"again, dropping those that no longer answer (exited). The remaining pids are reported."

type candidate struct {
	pid        int
	kill, stat error
}

// Collect implements collect.Collector.
func (h *Hidden) Collect(ctx context.Context, s *collect.Session) error {
	if !s.Env.Live {
		s.Skip(s.Env.Proc, collect.KindGenerated, deadBox)
		return nil
	}
	list, probe := h.list, h.probe
	if list == nil {
		list = listPIDs
	}
	if probe == nil {
		probe = func(pid int) error { return unix.Kill(pid, 0) }
	}
	check := HiddenCheck{Method: hiddenMethod, Started: time.Now().UTC()}
	maxPath := path.Join(s.Env.Proc, "sys/kernel/pid_max")
	check.PIDMax = pidMaxLimit
	if b, err := collect.ReadFile(ctx, maxPath, 64); err != nil {
		s.Fail(maxPath, collect.KindKernel, fmt.Errorf("read pid_max, scanning to %d: %w", pidMaxLimit, err))
	} else if n, err := strconv.Atoi(string(bytes.TrimSpace(b))); err != nil || n < 1 || n > pidMaxLimit {
		s.Fail(maxPath, collect.KindKernel, fmt.Errorf("pid_max %q not in 1..%d, scanning to %d", bytes.TrimSpace(b), pidMaxLimit, pidMaxLimit))
	} else {
		check.PIDMax = n
	}
	procFD, err := unix.Open(s.Env.Proc, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", s.Env.Proc, err)
	}
	defer unix.Close(procFD)

	pids, err := list(s.Env.Proc)
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
	cands, err := scan(ctx, procFD, check.PIDMax, listed, probe)
	if err != nil {
		return err
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
		now, err := list(s.Env.Proc)
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
				next = append(next, candidate{c.pid, k, st})
			}
		}
		kept = next
	}
	check.Ended = time.Now().UTC()
	check.ScanMillis = check.Ended.Sub(check.Started).Milliseconds()
	check.Hidden = len(kept)

	out := newJSONL()
	for _, c := range kept {
		r := HiddenPID{PID: c.pid, Kill: result(c.kill), Stat: result(c.stat), Rechecks: hiddenRounds, Seen: check.Ended}
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
	s.PutBytes(ctx, "live/proc/hidden.jsonl", s.Env.Proc, out.buf.Bytes())
	b, err := json.MarshalIndent(check, "", "  ")
	if err != nil {
		return fmt.Errorf("encode hidden check: %w", err)
	}
	s.PutBytes(ctx, "live/proc/hidden-check.json", s.Env.Proc, append(b, '\n'))
	return nil
}

// scan probes every pid in 1..pidMax not listed, on one goroutine per CPU
// (at most 4: the /proc lookups contend in the kernel beyond that), and
// returns the candidates in pid order.
func scan(ctx context.Context, procFD, pidMax int, listed []bool, probe func(int) error) ([]candidate, error) {
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
				k, st := probe(pid), statPID(procFD, pid)
				if !errors.Is(k, unix.ESRCH) || st == nil {
					found[w] = append(found[w], candidate{pid, k, st})
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
