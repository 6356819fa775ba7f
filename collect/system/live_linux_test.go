package system

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/collect"
)

func liveEnv() *collect.Env {
	env := collect.LinuxEnv("/")
	return &env
}

func TestLiveIdentifyClock(t *testing.T) {
	env := liveEnv()
	start := time.Now()
	id := Identify(env)
	ts := Clock(env)
	took := time.Since(start)
	if took > 50*time.Millisecond {
		t.Errorf("Identify and Clock took %v", took)
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	if id.Hostname != host {
		t.Errorf("hostname %q, want %q", id.Hostname, host)
	}
	if !uuidRE.MatchString(id.BootID) {
		t.Errorf("boot id %q is not a UUID", id.BootID)
	}
	if id.Kernel == nil || id.Kernel.Sysname != "Linux" || id.Kernel.Nodename != host {
		t.Errorf("kernel %+v", id.Kernel)
	}
	if _, err := os.Stat("/etc/os-release"); err == nil && id.OSRelease["ID"] == "" {
		t.Errorf("os-release not read: %+v", id)
	}
	now := time.Now()
	if ts.BootTime.IsZero() || !ts.BootTime.Before(now) || ts.WallClock.After(now) || now.Sub(ts.WallClock) > time.Second {
		t.Errorf("boot %v, wall %v, now %v", ts.BootTime, ts.WallClock, now)
	}
	// btime is whole seconds; uptime counts suspend like btime does.
	if d := ts.WallClock.Sub(ts.BootTime).Seconds() - ts.UptimeSeconds; math.Abs(d) > 2 {
		t.Errorf("wall - boot time differs from uptime by %.2fs", d)
	}
	if ts.MonotonicSeconds <= 0 || ts.MonotonicSeconds > ts.UptimeSeconds+1 {
		t.Errorf("monotonic %v, uptime %v", ts.MonotonicSeconds, ts.UptimeSeconds)
	}
	if ts.NTP == nil || ts.NTP.State == "" || ts.NTP.Synchronised == strings.Contains(strings.Join(ts.NTP.Status, " "), "STA_UNSYNC") {
		t.Errorf("ntp %+v (errors %q)", ts.NTP, ts.Errors)
	}
	if ts.Timezone == "" {
		t.Errorf("no time zone: %+v", ts)
	}
}

func TestLiveKmsgDoesNotBlock(t *testing.T) {
	type result struct {
		res kmsgResult
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		r, err := readKmsg(context.Background(), "/dev/kmsg", kmsgLimit)
		done <- result{r, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("reading /dev/kmsg blocked")
	}
	if errors.Is(r.err, fs.ErrPermission) || errors.Is(r.err, fs.ErrNotExist) {
		t.Skipf("/dev/kmsg not readable here: %v", r.err)
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Logf("read %d bytes in %v", len(r.res.raw), time.Since(start))
	recs := ParseKmsg(r.res.raw, time.Now())
	if len(recs) == 0 {
		t.Fatal("no kernel log records")
	}
	var last uint64
	for i, rec := range recs {
		if rec.Error != "" {
			t.Errorf("record %d: %s: %q", i, rec.Error, rec.Line)
		}
		if i > 0 && rec.Seq <= last {
			t.Errorf("record %d: seq %d after %d", i, rec.Seq, last)
		}
		last = rec.Seq
	}
}

func TestLiveCollectors(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to read the whole kernel state")
	}
	env := liveEnv()
	env.ItemTimeout = 10 * time.Second
	for _, c := range Collectors() {
		start := time.Now()
		r := runCollector(t, c, env)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %v", c.Name(), d)
		}
		for _, o := range r.outs.All {
			if o.Status == collect.Failed {
				t.Errorf("%s: %s failed: %s", c.Name(), o.Source, o.Reason)
			}
		}
	}
}
