//go:build linux

package main

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sample is one run of a command.
type sample struct {
	Wall   float64 `json:"wall_s"`
	User   float64 `json:"user_s"`
	Sys    float64 `json:"sys_s"`
	MaxRSS int64   `json:"max_rss_bytes"`
	// Stall is the share of the wall time during which some runnable
	// task of the machine waited for a CPU (/proc/pressure/cpu "some"):
	// near 0 on a quiet machine. Other work on the machine inflates the
	// wall time of a run with a high Stall, not its CPU time.
	Stall float64 `json:"cpu_stall"`
}

// CPU is user plus system time.
func (s sample) CPU() float64 { return s.User + s.Sys }

// bench is one measured command.
type bench struct {
	Name   string   `json:"name"`
	Kind   string   `json:"kind"` // scelle, pipeline, floor, go-floor
	Argv   []string `json:"argv"`
	Runs   []sample `json:"runs"`   // the measured runs, after the warm-up
	Median sample   `json:"median"` // the run with the median wall time
	// PeakRSS is the highest MaxRSS of all measured runs. For a bash
	// pipeline it is the largest single process, not their sum: that is
	// what wait4 reports.
	PeakRSS  int64  `json:"peak_rss_bytes"`
	OutBytes int64  `json:"out_bytes,omitempty"` // compressed output, where there is one
	Note     string `json:"note,omitempty"`

	before func() error           // before every run, not timed
	after  func(out []byte) error // after every run, not timed
}

// run starts argv and waits for it. The rusage is the one wait4 returns
// for the child (exec's ProcessState.SysUsage): its own CPU time plus that
// of the children it waited for, and the largest MaxRSS among them.
func run(argv []string) (sample, []byte, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	stall0 := cpuStall()
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	stall := cpuStall() - stall0
	if err != nil {
		return sample{}, out.Bytes(), fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, tail(out.String(), 2000))
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return sample{}, nil, fmt.Errorf("no rusage on this system")
	}
	return sample{
		Wall:   wall.Seconds(),
		User:   time.Duration(ru.Utime.Nano()).Seconds(),
		Sys:    time.Duration(ru.Stime.Nano()).Seconds(),
		MaxRSS: int64(ru.Maxrss) << 10, // KiB on Linux
		Stall:  stall.Seconds() / wall.Seconds(),
	}, out.Bytes(), nil
}

// cpuStall returns the total "some" CPU pressure stall time, or zero
// where the kernel does not report it.
func cpuStall() time.Duration {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return 0
	}
	_, rest, ok := strings.Cut(string(b), "total=")
	if !ok {
		return 0
	}
	us, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
	return time.Duration(us) * time.Microsecond
}

// measureRounds runs every bench once to warm up, then n rounds of every
// bench in turn, so that a busy spell of the machine falls on all of them
// alike; each bench keeps its median run.
func measureRounds(bs []*bench, n int, logf func(string, ...any)) error {
	for i := 0; i <= n; i++ {
		for _, b := range bs {
			if err := b.once(i, n, logf); err != nil {
				return err
			}
		}
	}
	for _, b := range bs {
		runs := slices.Clone(b.Runs)
		slices.SortFunc(runs, func(x, y sample) int { return cmp.Compare(x.Wall, y.Wall) })
		b.Median = runs[len(runs)/2]
	}
	return nil
}

// once runs b; round 0 is the warm-up.
func (b *bench) once(round, n int, logf func(string, ...any)) error {
	if b.before != nil {
		if err := b.before(); err != nil {
			return fmt.Errorf("%s: %w", b.Name, err)
		}
	}
	s, out, err := run(b.Argv)
	if err != nil {
		return fmt.Errorf("%s: %w", b.Name, err)
	}
	if b.after != nil {
		if err := b.after(out); err != nil {
			return fmt.Errorf("%s: %w", b.Name, err)
		}
	}
	what := "warm-up"
	if round > 0 {
		what = fmt.Sprintf("run %d/%d", round, n)
		b.Runs = append(b.Runs, s)
		b.PeakRSS = max(b.PeakRSS, s.MaxRSS)
	}
	logf("  %-30s %-9s %6.2f s wall %6.2f s cpu %6.1f MiB  cpu stall %3.0f%%", b.Name, what, s.Wall, s.CPU(), mib(s.MaxRSS), 100*s.Stall)
	return nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// shellQuote quotes s for bash.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
