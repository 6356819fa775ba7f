package system

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/winlive"
)

// TimeState is the host's clock as the kernel reports it.
type TimeState struct {
	// Live is false in dead-box mode: the volatile fields are then empty.
	Live bool `json:"live"`
	// WallClock is the system clock (CLOCK_REALTIME) when Clock was called.
	WallClock time.Time `json:"wall_clock,omitzero"`
	// MonotonicSeconds is CLOCK_MONOTONIC read right after WallClock; the
	// kernel log's times are offsets on (about) this clock.
	MonotonicSeconds float64 `json:"monotonic_seconds,omitempty"`
	// UptimeSeconds is /proc/uptime's first field (CLOCK_BOOTTIME); on
	// Windows, GetTickCount64.
	UptimeSeconds float64 `json:"uptime_seconds,omitempty"`
	// BootTime is /proc/stat's btime: the wall clock time of boot, to the
	// second, as the kernel computes it now (it moves if the clock is set);
	// on Windows, WallClock less UptimeSeconds.
	BootTime time.Time `json:"boot_time,omitzero"`
	// Timezone is what the host's programs use for local time (no TZ set):
	// the zone /etc/localtime links to, or its TZif footer rule.
	Timezone       string `json:"timezone,omitempty"`
	TimezoneSource string `json:"timezone_source,omitempty"`
	LocaltimeLink  string `json:"localtime_link,omitempty"`
	// EtcTimezone is the first line of /etc/timezone (Debian), which may
	// disagree with /etc/localtime.
	EtcTimezone string `json:"etc_timezone,omitempty"`
	// NTP is the kernel's clock discipline state (adjtimex).
	NTP    *NTPState `json:"ntp,omitempty"`
	Notes  []string  `json:"notes,omitempty"`
	Errors []string  `json:"errors,omitempty"`
}

// NTPState is the kernel's clock discipline state, read with adjtimex(2)
// without changing it (modes 0).
type NTPState struct {
	// Synchronised is true when STA_UNSYNC is clear and the clock state
	// is not TIME_ERROR.
	Synchronised bool     `json:"synchronised"`
	State        string   `json:"state"`      // adjtimex's return: TIME_OK ... TIME_ERROR
	Status       []string `json:"status"`     // STA_* flags set
	StatusRaw    int64    `json:"status_raw"` // the status word
	OffsetNS     int64    `json:"offset_ns"`  // time offset (µs scaled unless STA_NANO)
	FreqPPM      float64  `json:"freq_ppm"`   // frequency offset
	MaxErrorUS   int64    `json:"maxerror_us"`
	EstErrorUS   int64    `json:"esterror_us"`
	Constant     int64    `json:"constant"` // PLL time constant
	PrecisionUS  int64    `json:"precision_us"`
	ToleranceRaw int64    `json:"tolerance"` // max frequency error, ppm << 16
	TickUS       int64    `json:"tick_us"`
	TAI          int64    `json:"tai"` // TAI - UTC offset, seconds
}

// ntpRaw holds adjtimex's values as the kernel returns them.
type ntpRaw struct {
	state                          int
	status                         int64
	offset, freq                   int64
	maxerror, esterror             int64
	constant, precision, tolerance int64
	tick, tai                      int64
}

// Clock status bits (linux/timex.h).
var staFlags = []struct {
	bit  int64
	name string
}{
	{0x0001, "STA_PLL"}, {0x0002, "STA_PPSFREQ"}, {0x0004, "STA_PPSTIME"}, {0x0008, "STA_FLL"},
	{0x0010, "STA_INS"}, {0x0020, "STA_DEL"}, {0x0040, "STA_UNSYNC"}, {0x0080, "STA_FREQHOLD"},
	{0x0100, "STA_PPSSIGNAL"}, {0x0200, "STA_PPSJITTER"}, {0x0400, "STA_PPSWANDER"}, {0x0800, "STA_PPSERROR"},
	{0x1000, "STA_CLOCKERR"}, {0x2000, "STA_NANO"}, {0x4000, "STA_MODE"}, {0x8000, "STA_CLK"},
}

const (
	staUnsync = 0x0040
	staNano   = 0x2000
	timeError = 5
)

var clockStates = []string{"TIME_OK", "TIME_INS", "TIME_DEL", "TIME_OOP", "TIME_WAIT", "TIME_ERROR"}

// DecodeClockStatus returns the names of the STA_* flags set in status,
// and "0x..." for any unknown bits.
func DecodeClockStatus(status int64) []string {
	out := []string{}
	rest := status
	for _, f := range staFlags {
		if status&f.bit != 0 {
			out = append(out, f.name)
			rest &^= f.bit
		}
	}
	if rest != 0 {
		out = append(out, fmt.Sprintf("0x%x", rest))
	}
	return out
}

func decodeNTP(r ntpRaw) *NTPState {
	n := &NTPState{
		Synchronised: r.status&staUnsync == 0 && r.state != timeError,
		Status:       DecodeClockStatus(r.status),
		StatusRaw:    r.status,
		OffsetNS:     r.offset,
		FreqPPM:      float64(r.freq) / 65536,
		MaxErrorUS:   r.maxerror,
		EstErrorUS:   r.esterror,
		Constant:     r.constant,
		PrecisionUS:  r.precision,
		ToleranceRaw: r.tolerance,
		TickUS:       r.tick,
		TAI:          r.tai,
	}
	if r.status&staNano == 0 {
		n.OffsetNS = r.offset * 1000
	}
	if r.state >= 0 && r.state < len(clockStates) {
		n.State = clockStates[r.state]
	} else {
		n.State = strconv.Itoa(r.state)
	}
	return n
}

// Clock returns the host's clock state. It is fast and never fails: what
// cannot be read is noted in Errors. In dead-box mode only the time zone
// (from the image's files) is filled.
func Clock(env *collect.Env) TimeState {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	t := TimeState{Live: env.Live}
	if env.TargetOS() == "windows" {
		clockWindows(env, &t)
		return t
	}
	if env.Live {
		t.WallClock = time.Now().UTC()
		if mono, err := monotonic(); err != nil {
			t.Errors = append(t.Errors, fmt.Sprintf("clock_gettime(CLOCK_MONOTONIC): %v", err))
		} else {
			t.MonotonicSeconds = mono.Seconds()
		}
		if raw, err := adjtimex(); err != nil {
			t.Errors = append(t.Errors, fmt.Sprintf("adjtimex: %v", err))
		} else {
			t.NTP = decodeNTP(raw)
		}
		if b, err := collect.ReadFile(ctx, procPath(env, "uptime"), smallLimit); err != nil {
			t.Errors = append(t.Errors, err.Error())
		} else if up, err := ParseUptime(b); err != nil {
			t.Errors = append(t.Errors, err.Error())
		} else {
			t.UptimeSeconds = up
		}
		if b, err := collect.ReadFile(ctx, procPath(env, "stat"), tableLimit); err != nil {
			t.Errors = append(t.Errors, err.Error())
		} else if bt, err := ParseBootTime(b); err != nil {
			t.Errors = append(t.Errors, err.Error())
		} else {
			t.BootTime = bt
		}
	} else {
		t.Notes = append(t.Notes, deadBox+": clock, uptime, boot time and NTP state are those of the running host only")
	}
	timezone(ctx, env, &t)
	return t
}

// clockWindows fills t for a Windows host: the wall clock, and the uptime
// (GetTickCount64) and boot time it gives; the time zone, the time
// service and the clock's adjustment are win.time's, in
// live/windows/system/time.jsonl.
func clockWindows(env *collect.Env, t *TimeState) {
	if !env.Live {
		t.Notes = append(t.Notes, deadBox+`: a Windows image's time zone is in its SYSTEM hive (ControlSet001\Control\TimeZoneInformation)`)
		return
	}
	t.WallClock = time.Now().UTC()
	if up, err := winlive.Uptime(); err != nil {
		t.Errors = append(t.Errors, err.Error())
	} else {
		t.UptimeSeconds, t.BootTime = up.Seconds(), t.WallClock.Add(-up)
	}
	t.Notes = append(t.Notes, "Windows: the time zone, the time service and the clock's adjustment are in live/windows/system/time.jsonl (win.time)")
}

// timezone fills t's time zone fields from /etc/localtime and
// /etc/timezone under env.Root.
func timezone(ctx context.Context, env *collect.Env, t *TimeState) {
	if b, err := readHost(ctx, env, "/etc/timezone", smallLimit); err == nil {
		t.EtcTimezone = strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Errors = append(t.Errors, fmt.Sprintf("/etc/timezone: %v", err))
	}
	st, err := collect.Lstat(env.HostPath("/etc/localtime"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		t.Notes = append(t.Notes, "/etc/localtime not present: local time is UTC for the host's programs")
		t.Timezone, t.TimezoneSource = "UTC", "no /etc/localtime"
		return
	case err != nil:
		t.Errors = append(t.Errors, fmt.Sprintf("/etc/localtime: %v", err))
		return
	case strings.HasPrefix(st.Mode, "L"):
		link, err := readLink(env, "/etc/localtime")
		if err != nil {
			t.Errors = append(t.Errors, fmt.Sprintf("/etc/localtime: %v", err))
			return
		}
		t.LocaltimeLink = link
		if i := strings.LastIndex(link, "zoneinfo/"); i >= 0 {
			t.Timezone, t.TimezoneSource = link[i+len("zoneinfo/"):], "/etc/localtime link target"
		} else {
			t.Errors = append(t.Errors, fmt.Sprintf("/etc/localtime links to %q, not into a zoneinfo folder", link))
		}
		return
	}
	b, err := readHost(ctx, env, "/etc/localtime", 1<<20)
	if err != nil {
		t.Errors = append(t.Errors, fmt.Sprintf("/etc/localtime: %v", err))
		return
	}
	if rule, ok := TZifFooter(b); ok {
		t.Timezone, t.TimezoneSource = rule, "/etc/localtime TZif footer (POSIX TZ rule)"
	} else {
		t.Errors = append(t.Errors, "/etc/localtime: not a TZif version 2+ file with a footer")
	}
}

// TZifFooter returns the POSIX TZ rule that ends a TZif version 2 or later
// file (RFC 8536 section 3.3), such as "CET-1CEST,M3.5.0,M10.5.0/3".
func TZifFooter(b []byte) (string, bool) {
	if len(b) < 6 || string(b[:4]) != "TZif" || b[4] < '2' || b[len(b)-1] != '\n' {
		return "", false
	}
	i := bytes.LastIndexByte(b[:len(b)-1], '\n')
	if i < 0 {
		return "", false
	}
	rule := string(b[i+1 : len(b)-1])
	for _, c := range rule {
		if c < 0x20 || c > 0x7e {
			return "", false
		}
	}
	return rule, true
}

// ParseUptime returns /proc/uptime's first field, in seconds.
func ParseUptime(b []byte) (float64, error) {
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, errors.New("uptime: empty")
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0, fmt.Errorf("uptime: %w", err)
	}
	return v, nil
}

// ParseBootTime returns the btime line of /proc/stat as a UTC time.
func ParseBootTime(b []byte) (time.Time, error) {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if v, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			sec, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("stat: btime: %w", err)
			}
			return time.Unix(sec, 0).UTC(), nil
		}
	}
	return time.Time{}, errors.New("stat: no btime line")
}

// RTC is one real-time clock as sysfs shows it (/sys/class/rtc/rtcN).
type RTC struct {
	Device string `json:"device"`
	Name   string `json:"name,omitempty"`
	Date   string `json:"date,omitempty"` // as the RTC holds it
	Time   string `json:"time,omitempty"`
	// SinceEpoch is the RTC's reading in seconds since 1970, taking its
	// date and time as UTC (wrong by the zone offset if rtc_mode is LOCAL).
	SinceEpoch *int64    `json:"since_epoch,omitempty"`
	Reading    time.Time `json:"reading,omitzero"`
	HCToSys    bool      `json:"hctosys"` // the system clock was set from it at boot
	// WallClock is the system clock right after the RTC was read, and
	// SkewSeconds the RTC reading minus it (the RTC counts whole seconds).
	WallClock   time.Time `json:"wall_clock,omitzero"`
	SkewSeconds *float64  `json:"skew_seconds,omitempty"`
	Errors      []string  `json:"errors,omitempty"`
}

// timeRecord is the record of live/system/time.jsonl.
type timeRecord struct {
	TimeState
	// RTCMode is /etc/adjtime's third line: UTC or LOCAL.
	RTCMode string `json:"rtc_mode,omitempty"`
	RTC     []RTC  `json:"rtc"`
}

type timeCollector struct{}

func (*timeCollector) Name() string         { return "system.time" }
func (*timeCollector) Class() collect.Class { return collect.ClassSystem }

func (*timeCollector) Collect(ctx context.Context, s *collect.Session) error {
	if !s.Env.Live {
		skipAll(s, collect.KindKernel, deadBox, procPath(s.Env, "uptime"), procPath(s.Env, "stat"), sysPath(s.Env, "class/rtc"))
		s.Skip("syscall:adjtimex", collect.KindGenerated, deadBox)
	} else {
		rec := timeRecord{TimeState: Clock(s.Env)}
		procItem(ctx, s, "uptime", smallLimit)
		procItem(ctx, s, "stat", tableLimit)
		rec.RTC = collectRTC(ctx, s)
		if b, err := readHost(ctx, s.Env, "/etc/adjtime", smallLimit); err == nil {
			rec.RTCMode = adjtimeMode(b)
		}
		putJSONL(ctx, s, "time", "syscall:clock_gettime,adjtimex; /proc/uptime; /proc/stat; /sys/class/rtc", []timeRecord{rec})
	}
	for _, p := range []string{"/etc/localtime", "/etc/timezone", "/etc/adjtime"} {
		s.CopyFile(ctx, p, 1<<20)
	}
	return ctx.Err()
}

// adjtimeMode returns /etc/adjtime's third line (UTC or LOCAL).
func adjtimeMode(b []byte) string {
	lines := strings.Split(string(b), "\n")
	if len(lines) < 3 {
		return ""
	}
	return strings.TrimSpace(lines[2])
}

// collectRTC stores and parses every /sys/class/rtc/rtcN. It never
// touches /dev/rtc.
func collectRTC(ctx context.Context, s *collect.Session) []RTC {
	dir := sysPath(s.Env, "class/rtc")
	entries, err := listDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		s.Skip(dir, collect.KindDir, "not present: no real-time clock driver")
		return []RTC{}
	}
	if err != nil {
		s.Fail(dir, collect.KindDir, err)
	}
	out := []RTC{}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "rtc") {
			continue
		}
		r := RTC{Device: e.Name()}
		rel := "class/rtc/" + e.Name() + "/"
		for _, f := range []string{"name", "date", "time", "since_epoch", "hctosys"} {
			b, ok := sysItem(ctx, s, rel+f, smallLimit)
			if !ok {
				r.Errors = append(r.Errors, f+": not read (see the item's outcome)")
				continue
			}
			v := strings.TrimSpace(string(b))
			switch f {
			case "name":
				r.Name = v
			case "date":
				r.Date = v
			case "time":
				r.Time = v
			case "hctosys":
				r.HCToSys = v == "1"
			case "since_epoch":
				wall := time.Now().UTC()
				sec, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					r.Errors = append(r.Errors, fmt.Sprintf("since_epoch: %v", err))
					continue
				}
				skew := float64(sec) - float64(wall.UnixNano())/1e9
				r.SinceEpoch, r.Reading, r.WallClock, r.SkewSeconds = &sec, time.Unix(sec, 0).UTC(), wall, &skew
			}
		}
		out = append(out, r)
	}
	return out
}
