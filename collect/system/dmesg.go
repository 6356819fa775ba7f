package system

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scelle/scelle/collect"
)

// KmsgRecord is one record of the kernel log as /dev/kmsg gives it
// (Documentation/ABI/testing/dev-kmsg): "pri,seq,ts_usec,flags[,...];text"
// followed by " KEY=value" dictionary lines.
type KmsgRecord struct {
	Seq          uint64 `json:"seq"`
	Priority     int    `json:"priority"` // facility*8 + level, as the kernel gives it
	Level        int    `json:"level"`
	LevelName    string `json:"level_name"`
	Facility     int    `json:"facility"`
	FacilityName string `json:"facility_name"`
	// Flags is "-", or "c" / "+" for the start and continuation of a
	// message printed in parts (kept as separate records).
	Flags string `json:"flags"`
	// Fields holds further prefix fields, such as "caller=T1".
	Fields []string `json:"fields,omitempty"`
	// UptimeUS is the kernel's timestamp in microseconds since boot, on the
	// printk clock; Time is it added to the time base (see the schema).
	UptimeUS uint64    `json:"uptime_us"`
	Time     time.Time `json:"time,omitzero"`
	// Message is the text with the kernel's \xNN escapes decoded. When the
	// result is not valid UTF-8, MessageEscaped keeps the kernel's form.
	Message        string            `json:"message"`
	MessageEscaped string            `json:"message_escaped,omitempty"`
	Dict           map[string]string `json:"dict,omitempty"`
	// Error and Line are set for a line that could not be parsed.
	Error string `json:"error,omitempty"`
	Line  string `json:"line,omitempty"`
}

var levelNames = []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

var facilityNames = []string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
	"authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

// ParseKmsg parses the records read from /dev/kmsg. base is the wall clock
// time the printk clock counts from (zero: Time is left empty). Lines that
// start with a space are dictionary lines of the record before them; empty
// lines are skipped.
func ParseKmsg(b []byte, base time.Time) []KmsgRecord {
	out := []KmsgRecord{}
	for _, line := range lines(b) {
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, " ") {
			if len(out) == 0 || out[len(out)-1].Error != "" {
				out = append(out, KmsgRecord{Error: "dictionary line without a record", Line: line})
				continue
			}
			r := &out[len(out)-1]
			k, v, _ := strings.Cut(line[1:], "=")
			if r.Dict == nil {
				r.Dict = map[string]string{}
			}
			r.Dict[unescapeKmsg(k)] = unescapeKmsg(v)
			continue
		}
		out = append(out, parseKmsgLine(line, base))
	}
	return out
}

func parseKmsgLine(line string, base time.Time) KmsgRecord {
	bad := func(why string) KmsgRecord { return KmsgRecord{Error: why, Line: line} }
	prefix, text, ok := strings.Cut(line, ";")
	if !ok {
		return bad("no ';' after the prefix")
	}
	f := strings.Split(prefix, ",")
	if len(f) < 4 {
		return bad(fmt.Sprintf("%d prefix fields, want at least 4", len(f)))
	}
	pri, err := strconv.ParseUint(f[0], 10, 31)
	if err != nil {
		return bad("priority: " + err.Error())
	}
	r := KmsgRecord{Priority: int(pri), Level: int(pri & 7), Facility: int(pri >> 3), Flags: f[3]}
	if r.Seq, err = strconv.ParseUint(f[1], 10, 64); err != nil {
		return bad("sequence: " + err.Error())
	}
	if r.UptimeUS, err = strconv.ParseUint(f[2], 10, 64); err != nil {
		return bad("timestamp: " + err.Error())
	}
	r.LevelName = levelNames[r.Level]
	if r.Facility < len(facilityNames) {
		r.FacilityName = facilityNames[r.Facility]
	} else {
		r.FacilityName = strconv.Itoa(r.Facility)
	}
	if len(f) > 4 {
		r.Fields = f[4:]
	}
	if !base.IsZero() && r.UptimeUS <= 1<<62/1000 {
		r.Time = base.Add(time.Duration(r.UptimeUS) * time.Microsecond).UTC()
	}
	r.Message = unescapeKmsg(text)
	if !utf8.ValidString(r.Message) {
		r.MessageEscaped = text
	}
	return r
}

// unescapeKmsg decodes the kernel's \xNN escapes (used for control
// characters, bytes above 0x7e and the backslash itself).
func unescapeKmsg(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// kmsgResult is what one pass over /dev/kmsg read.
type kmsgResult struct {
	raw    []byte // the records, as the kernel returned them
	lost   int    // reads that failed with EPIPE: records overwritten before read
	capped bool   // stopped at the byte cap
}

const kmsgLimit = 32 << 20

type dmesgCollector struct {
	path  string // "/dev/kmsg" unless a test sets it
	limit int
}

func (*dmesgCollector) Name() string         { return "system.dmesg" }
func (*dmesgCollector) Class() collect.Class { return collect.ClassSystem }

// Collect reads the kernel log once, without blocking, and stores it raw
// as live/dev/kmsg and parsed as live/system/dmesg.jsonl.
func (c *dmesgCollector) Collect(ctx context.Context, s *collect.Session) error {
	p, limit := c.path, c.limit
	if p == "" {
		p = "/dev/kmsg"
	}
	if limit <= 0 {
		limit = kmsgLimit
	}
	if !s.Env.Live {
		s.Skip(p, collect.KindKernel, deadBox)
		return nil
	}
	// The printk clock counts from about when CLOCK_MONOTONIC was zero.
	var base time.Time
	wall := time.Now()
	if mono, err := monotonic(); err == nil {
		base = wall.Add(-mono).UTC()
	}
	rctx, cancel := itemContext(ctx, s.Env)
	res, err := readKmsg(rctx, p, limit)
	cancel()
	if err != nil && len(res.raw) == 0 {
		if errors.Is(err, fs.ErrPermission) {
			err = fmt.Errorf("%w (kernel.dmesg_restrict is set and the process lacks CAP_SYSLOG)", err)
		}
		s.Fail(p, collect.KindKernel, err)
		return ctx.Err()
	}
	partial := err
	if partial == nil && res.capped {
		partial = fmt.Errorf("stopped at the %d byte cap; later records not read", limit)
	}
	s.PutRead(ctx, "live/dev/kmsg", p, collect.KindKernel, res.raw, partial)
	recs := ParseKmsg(res.raw, base)
	if res.lost > 0 {
		recs = append(recs, KmsgRecord{Error: fmt.Sprintf("%d records overwritten in the kernel's buffer while being read (EPIPE); see the gaps in seq", res.lost)})
	}
	putJSONL(ctx, s, "dmesg", p, recs)
	return ctx.Err()
}

// MarshalJSON writes a record of a line that could not be parsed, or a
// note about records lost, as its error and line only.
func (r KmsgRecord) MarshalJSON() ([]byte, error) {
	type plain KmsgRecord
	return marshalRecord(plain(r), r.Error, r.Line)
}
