package export

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/seal"
)

// The jsonl export: a timeline in JSON Lines that Timesketch imports as
// it is. Each line is one event with the fields Timesketch needs,
// message, datetime (ISO 8601, UTC, microseconds), timestamp
// (microseconds since 1970) and timestamp_desc, and always source (the
// host path or kernel interface the event was read from), path (the bag
// path of the item that holds it), sha256 (that item's SHA-256, as
// sealed) and collector (the scelle collector that stored it), so that
// each event can be traced back to the sealed bytes. data_type names the
// kind of event (scelle:collection, scelle:file:stat, scelle:process,
// scelle:login, scelle:dmesg, scelle:ntfs:mft, scelle:custody); other fields are given
// where they apply.
//
// Events, in this order: the collection's start, the operator's
// reference clock reading, each time (mtime, atime, ctime, btime) of
// every record item with a stat_before, then, as the archive is read,
// process start times (live/proc/processes.jsonl), login records (the
// parsed wtmp, btmp and utmp files), kernel messages with a time
// (live/system/dmesg.jsonl), the $STANDARD_INFORMATION and $FILE_NAME
// times of every entry of an NTFS volume's $MFT timeline
// (parsed/ntfs/VOLUME/mft-timeline.NNN.jsonl, with mft_entry,
// mft_sequence, ntfs_attribute and deleted), then the collection's end and every custody
// event. Timesketch sorts by time; the order only makes the file
// reproducible.

// Timestamp descriptions (plaso's wording where plaso has one).
const (
	descMtime      = "Content Modification Time"
	descAtime      = "Last Access Time"
	descCtime      = "Metadata Modification Time"
	descBtime      = "Creation Time"
	descStart      = "Collection Start Time"
	descEnd        = "Collection End Time"
	descReference  = "Reference Clock Reading"
	descProcess    = "Process Start Time"
	descLogin      = "Login Time"
	descLogout     = "Logout Time"
	descFailed     = "Failed Login Time"
	descBoot       = "Boot Time"
	descUtmpRecord = "Record Time"
	descKernel     = "Kernel Message Time"
	descCustody    = "Custody Event Time"
)

// timelineEvent is one line of the jsonl export.
type timelineEvent struct {
	Message       string `json:"message"`
	Datetime      string `json:"datetime"`
	Timestamp     int64  `json:"timestamp"`
	TimestampDesc string `json:"timestamp_desc"`
	Source        string `json:"source"`
	Path          string `json:"path"`
	SHA256        string `json:"sha256"`
	Collector     string `json:"collector"`
	DataType      string `json:"data_type"`
	Host          string `json:"host,omitempty"`
	Case          string `json:"case,omitempty"`
	// Event-specific fields.
	PID            *int   `json:"pid,omitempty"`
	PPID           *int   `json:"ppid,omitempty"`
	UID            *int64 `json:"uid,omitempty"`
	User           string `json:"user,omitempty"`
	Terminal       string `json:"terminal,omitempty"`
	RemoteHost     string `json:"remote_host,omitempty"`
	Level          string `json:"level,omitempty"`
	Status         string `json:"status,omitempty"`
	Custody        string `json:"custody_event,omitempty"`
	Line           int    `json:"line,omitempty"`
	Actor          string `json:"actor,omitempty"`
	KeyFingerprint string `json:"key_fingerprint,omitempty"`
	// NTFS $MFT timeline events (scelle:ntfs:mft).
	MFTEntry    *uint64 `json:"mft_entry,omitempty"`
	MFTSequence *uint16 `json:"mft_sequence,omitempty"`
	Attribute   string  `json:"ntfs_attribute,omitempty"`
	Deleted     *bool   `json:"deleted,omitempty"`
}

// timelineTime is the datetime layout: ISO 8601 in UTC, to the
// microsecond (Timesketch's own precision).
const timelineTime = "2006-01-02T15:04:05.000000Z07:00"

var (
	wtmpFile = regexp.MustCompile(`^data/parsed/users/(wtmp|btmp)[^/]*\.jsonl$`)
	// mftFile matches the JSON Lines chunks of collect/mft's ntfs.timeline.
	mftFile = regexp.MustCompile(`^data/parsed/ntfs/[^/]+/mft-timeline\.[0-9]{3,}\.jsonl$`)
)

const (
	processesFile = seal.PayloadDir + "/live/proc/processes.jsonl"
	dmesgFile     = seal.PayloadDir + "/live/system/dmesg.jsonl"
	utmpFile      = seal.PayloadDir + "/live/users/utmp.jsonl"
)

type jsonlExport struct {
	enc *json.Encoder
}

func (x *jsonlExport) emit(b *exportBag, t time.Time, e timelineEvent) error {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	e.Datetime = t.Format(timelineTime)
	e.Timestamp = t.UnixMicro()
	e.Host, e.Case = b.host(), b.rec.Case
	b.stats.Records++
	return x.enc.Encode(&e)
}

func (x *jsonlExport) begin(b *exportBag) error {
	x.enc = json.NewEncoder(b.w)
	x.enc.SetEscapeHTML(false)
	rec := b.rec
	base := timelineEvent{Source: seal.RecordFile, Path: seal.BagRecordFile, SHA256: b.recSum, Collector: "scelle",
		DataType: "scelle:collection"}
	e := base
	e.TimestampDesc = descStart
	e.Message = fmt.Sprintf("scelle collection %s started: case %q, host %q, examiner %q, %s %s (executable SHA-256 %s), root %s",
		rec.Collection, rec.Case, b.host(), rec.Examiner, rec.Tool.Name, rec.Tool.Version, orNone(rec.Tool.SHA256), b.root)
	e.Actor = rec.Examiner
	if err := x.emit(b, rec.Started, e); err != nil {
		return err
	}
	if ref := rec.Reference; ref != nil {
		e := base
		e.TimestampDesc = descReference
		e.Message = fmt.Sprintf("operator read the reference clock at %s; the host clock read %s (host minus reference: %+.3f s)",
			ref.Operator.UTC().Format(time.RFC3339Nano), ref.Host.UTC().Format(time.RFC3339Nano), ref.SkewSeconds)
		if err := x.emit(b, ref.Operator, e); err != nil {
			return err
		}
	}
	return nil
}

func (x *jsonlExport) item(b *exportBag, it *evidence.Item) error {
	st := it.Before
	if st == nil {
		return nil
	}
	name := it.Source
	detail := fmt.Sprintf("%s uid %d gid %d, %d bytes, inode %d", st.Mode, st.UID, st.GID, st.Size, st.Inode)
	if it.LinkTarget != "" {
		detail += ", link to " + it.LinkTarget
	}
	if it.Status != evidence.Collected {
		detail += ", " + string(it.Status)
		if it.Reason != "" {
			detail += ": " + it.Reason
		}
	}
	for _, t := range []struct {
		at         time.Time
		desc, verb string
	}{
		{st.Mtime, descMtime, "content modified (mtime)"},
		{st.Atime, descAtime, "last accessed (atime)"},
		{st.Ctime, descCtime, "metadata changed (ctime)"},
		{btime(st), descBtime, "created (btime)"},
	} {
		e := timelineEvent{Message: fmt.Sprintf("%s: %s [%s]", name, t.verb, detail), TimestampDesc: t.desc,
			Source: it.Source, Path: it.Path, SHA256: it.SHA256, Collector: it.Collector, DataType: "scelle:file:stat",
			Status: string(it.Status)}
		if err := x.emit(b, t.at, e); err != nil {
			return err
		}
	}
	return nil
}

func (x *jsonlExport) wants(p string) bool {
	return p == processesFile || p == dmesgFile || p == utmpFile || wtmpFile.MatchString(p) || mftFile.MatchString(p)
}

func (x *jsonlExport) entry(b *exportBag, p string, s storedItem, r io.Reader) error {
	var parse func(n int, line []byte) error
	switch {
	case p == processesFile:
		parse = func(n int, line []byte) error { return x.process(b, p, s, n, line) }
	case p == dmesgFile:
		parse = func(n int, line []byte) error { return x.dmesg(b, p, s, n, line) }
	case mftFile.MatchString(p):
		parse = func(n int, line []byte) error { return x.mft(b, p, s, n, line) }
	default:
		parse = func(n int, line []byte) error { return x.login(b, p, s, n, line) }
	}
	return jsonLines(r, parse, func(n int, why string) { b.warn("%s line %d: %s; left out", p, n, why) })
}

// processRecord is the part of a processes.jsonl line the timeline uses
// (docs/schema/proc.md).
type processRecord struct {
	PID          int       `json:"pid"`
	PPID         int       `json:"ppid"`
	Comm         string    `json:"comm"`
	KernelThread bool      `json:"kernel_thread"`
	UID          []int64   `json:"uid"`
	Cmdline      []string  `json:"cmdline"`
	Exe          string    `json:"exe"`
	StartTime    time.Time `json:"start_time"`
}

func (x *jsonlExport) process(b *exportBag, p string, s storedItem, n int, line []byte) error {
	var pr processRecord
	if err := json.Unmarshal(line, &pr); err != nil {
		b.warn("%s line %d: %v; left out", p, n, err)
		return nil
	}
	if pr.StartTime.IsZero() {
		b.warn("%s line %d: pid %d has no start_time; left out", p, n, pr.PID)
		return nil
	}
	what := strings.Join(pr.Cmdline, " ")
	switch {
	case pr.KernelThread:
		what = "[kernel thread]"
	case what == "" && pr.Exe != "":
		what = pr.Exe
	}
	e := timelineEvent{TimestampDesc: descProcess, Source: s.source, Path: p, SHA256: s.sha256, Collector: s.collector,
		DataType: "scelle:process", PID: &pr.PID, PPID: &pr.PPID, Line: n}
	var uid string
	if len(pr.UID) > 0 {
		e.UID = &pr.UID[0]
		uid = fmt.Sprintf(", uid %d", pr.UID[0])
	}
	e.Message = fmt.Sprintf("process %d (%s) started: %s [ppid %d%s, exe %s]", pr.PID, pr.Comm, what, pr.PPID, uid, orNone(pr.Exe))
	return x.emit(b, pr.StartTime, e)
}

// loginRecord is the part of a utmp, wtmp or btmp line the timeline uses
// (docs/schema/users.md).
type loginRecord struct {
	Type string    `json:"type"`
	PID  int       `json:"pid"`
	Line string    `json:"line"`
	User string    `json:"user"`
	Host string    `json:"host"`
	Addr string    `json:"addr"`
	Time time.Time `json:"time"`
}

func (x *jsonlExport) login(b *exportBag, p string, s storedItem, n int, line []byte) error {
	var lr loginRecord
	if err := json.Unmarshal(line, &lr); err != nil {
		b.warn("%s line %d: %v; left out", p, n, err)
		return nil
	}
	if lr.Type == "" || lr.Type == "EMPTY" {
		return nil // a run of zero records, a partial record, an empty slot
	}
	if lr.Time.IsZero() || lr.Time.Unix() == 0 {
		b.warn("%s line %d: %s record without a time; left out", p, n, lr.Type)
		return nil
	}
	file := strings.TrimSuffix(path.Base(p), ".jsonl")
	from := lr.Host
	if lr.Addr != "" && lr.Addr != lr.Host {
		from = strings.TrimSpace(from + " " + lr.Addr)
	}
	desc, what := descUtmpRecord, strings.ToLower(lr.Type)
	switch {
	case strings.HasPrefix(file, "btmp"):
		desc, what = descFailed, "failed login"
	case lr.Type == "USER_PROCESS":
		desc, what = descLogin, "login"
	case lr.Type == "DEAD_PROCESS":
		desc, what = descLogout, "logout"
	case lr.Type == "BOOT_TIME":
		desc, what = descBoot, "system boot"
	}
	msg := fmt.Sprintf("%s: %s", file, what)
	if lr.User != "" {
		msg += " " + lr.User
	}
	if lr.Line != "" {
		msg += " on " + lr.Line
	}
	if from != "" {
		if lr.Type == "BOOT_TIME" {
			msg += " (kernel " + from + ")"
		} else {
			msg += " from " + from
		}
	}
	msg += fmt.Sprintf(" (pid %d, %s)", lr.PID, lr.Type)
	e := timelineEvent{Message: msg, TimestampDesc: desc, Source: s.source, Path: p, SHA256: s.sha256, Collector: s.collector,
		DataType: "scelle:login", PID: &lr.PID, User: lr.User, Terminal: lr.Line, RemoteHost: from, Line: n}
	return x.emit(b, lr.Time, e)
}

// dmesgRecord is the part of a dmesg.jsonl line the timeline uses
// (docs/schema/system.md).
type dmesgRecord struct {
	Seq       *int64    `json:"seq"`
	Level     string    `json:"level_name"`
	Facility  string    `json:"facility_name"`
	UptimeUS  int64     `json:"uptime_us"`
	Time      time.Time `json:"time"`
	Message   string    `json:"message"`
	Error     string    `json:"error"`
	ErrorLine string    `json:"line"`
}

func (x *jsonlExport) dmesg(b *exportBag, p string, s storedItem, n int, line []byte) error {
	var dr dmesgRecord
	if err := json.Unmarshal(line, &dr); err != nil {
		b.warn("%s line %d: %v; left out", p, n, err)
		return nil
	}
	if dr.Error != "" || dr.Seq == nil {
		b.warn("%s line %d: not a kernel record (%s); left out", p, n, orNone(dr.Error))
		return nil
	}
	if dr.Time.IsZero() {
		b.warn("%s line %d: kernel record %d has no wall-clock time (uptime %d µs); left out", p, n, *dr.Seq, dr.UptimeUS)
		return nil
	}
	e := timelineEvent{Message: fmt.Sprintf("kernel: %s [%s.%s, seq %d, uptime %d µs]", dr.Message, dr.Facility, dr.Level, *dr.Seq, dr.UptimeUS),
		TimestampDesc: descKernel, Source: s.source, Path: p, SHA256: s.sha256, Collector: s.collector,
		DataType: "scelle:dmesg", Level: dr.Level, Line: n}
	return x.emit(b, dr.Time, e)
}

// mftRecord is the part of an ntfs.timeline line the timeline uses
// (collect/mft TimelineEntry).
type mftRecord struct {
	Entry    uint64 `json:"entry"`
	Sequence uint16 `json:"sequence"`
	InUse    bool   `json:"in_use"`
	Dir      bool   `json:"dir"`
	Path     string `json:"path"`
	Size     int64  `json:"size"`
	SI, FN   *struct {
		Modified, Accessed, Changed, Created string
	}
}

// mft emits the $STANDARD_INFORMATION and $FILE_NAME times of one $MFT
// entry: up to eight events. The volume is the item's source without its
// "\$MFT" ("C:", "partition2").
func (x *jsonlExport) mft(b *exportBag, p string, s storedItem, n int, line []byte) error {
	var mr mftRecord
	if err := json.Unmarshal(line, &mr); err != nil {
		b.warn("%s line %d: %v; left out", p, n, err)
		return nil
	}
	if mr.Path == "" {
		return nil // an entry without a name (its error is in the line)
	}
	name := strings.TrimSuffix(s.source, `\$MFT`) + mr.Path
	detail := fmt.Sprintf("MFT entry %d-%d, %d bytes", mr.Entry, mr.Sequence, mr.Size)
	deleted := !mr.InUse
	if deleted {
		detail += ", deleted"
	}
	for _, a := range []struct {
		attr  string
		times *struct{ Modified, Accessed, Changed, Created string }
	}{{"$STANDARD_INFORMATION", mr.SI}, {"$FILE_NAME", mr.FN}} {
		if a.times == nil {
			continue
		}
		for _, t := range []struct{ at, desc, verb string }{
			{a.times.Modified, descMtime, "content modified"},
			{a.times.Accessed, descAtime, "last accessed"},
			{a.times.Changed, descCtime, "MFT entry changed"},
			{a.times.Created, descBtime, "created"},
		} {
			if t.at == "" {
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, t.at)
			if err != nil {
				b.warn("%s line %d: %s time %q: %v; left out", p, n, a.attr, t.at, err)
				continue
			}
			e := timelineEvent{Message: fmt.Sprintf("%s: %s (%s) [%s]", name, t.verb, a.attr, detail), TimestampDesc: t.desc,
				Source: s.source, Path: p, SHA256: s.sha256, Collector: s.collector, DataType: "scelle:ntfs:mft", Line: n,
				MFTEntry: &mr.Entry, MFTSequence: &mr.Sequence, Attribute: a.attr, Deleted: &deleted}
			if err := x.emit(b, at, e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (x *jsonlExport) end(b *exportBag) error {
	rec := b.rec
	e := timelineEvent{TimestampDesc: descEnd, Source: seal.RecordFile, Path: seal.BagRecordFile, SHA256: b.recSum,
		Collector: "scelle", DataType: "scelle:collection", Actor: rec.Examiner}
	e.Message = fmt.Sprintf("scelle collection %s ended: %s; root %s", rec.Collection, summaryLine(rec.Summary), b.root)
	if rec.Interrupted != "" {
		e.Message += "; interrupted: " + rec.Interrupted
	}
	if err := x.emit(b, rec.Ended, e); err != nil {
		return err
	}
	for i := range b.custody.Entries {
		ce := &b.custody.Entries[i]
		at, err := time.Parse(time.RFC3339, ce.Time)
		if err != nil {
			b.warn("%s line %d: time %q: %v; left out", chain.CustodyFile, i+1, ce.Time, err)
			continue
		}
		e := timelineEvent{Message: custodyEventText(ce), TimestampDesc: descCustody, Source: chain.CustodyFile, Path: chain.CustodyFile,
			SHA256: seal.LineHash(b.custody.Lines[i]), Collector: "custody", DataType: "scelle:custody",
			Custody: ce.Event, Line: i + 1, Actor: actorName(ce.Actor), KeyFingerprint: ce.KeyFingerprint}
		if err := x.emit(b, at, e); err != nil {
			return err
		}
	}
	return nil
}

// custodyText says what a custody event states, in one line.
func custodyDetails(ce *chain.CustodyEntry) string {
	var parts []string
	add := func(label, v string) {
		if v != "" {
			parts = append(parts, label+" "+v)
		}
	}
	add("collection", ce.Collection)
	add("case", ce.Case)
	add("host", ce.Host)
	add("tool", ce.Tool)
	add("archive SHA-256", ce.ArchiveSHA256)
	if ce.Items != nil {
		parts = append(parts, fmt.Sprintf("%d payload files", *ce.Items))
	}
	add("from", ce.From)
	add("to", ce.To)
	add("medium", ce.Medium)
	add("seal number", ce.SealNumber)
	add("reason", ce.Reason)
	add("by", ce.By)
	if ce.SealIntact != nil {
		parts = append(parts, map[bool]string{true: "seal intact", false: "seal NOT intact"}[*ce.SealIntact])
	}
	add("condition", ce.Condition)
	add("verdict", ce.Verdict)
	if len(ce.Failed) > 0 {
		parts = append(parts, "failed: "+strings.Join(ce.Failed, "; "))
	}
	add("TSA", ce.TSA)
	add("token", ce.TokenFile)
	add("token SHA-256", ce.TokenSHA256)
	add("text", ce.Text)
	add("root", ce.Root)
	return strings.Join(parts, ", ")
}

func custodyEventText(ce *chain.CustodyEntry) string {
	who := actorName(ce.Actor)
	if who == "" {
		who = "unnamed"
	}
	return fmt.Sprintf("custody %s by %s: %s [signed by key %s]", ce.Event, who, custodyDetails(ce), ce.KeyFingerprint)
}

func actorName(p *chain.Person) string {
	if p == nil {
		return ""
	}
	if p.Organisation != "" {
		return p.Name + " (" + p.Organisation + ")"
	}
	return p.Name
}

func summaryLine(s map[string]int) string {
	return fmt.Sprintf("%d collected, %d partial, %d skipped, %d failed", s["collected"], s["partial"], s["skipped"], s["failed"])
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// host is the host name the record gives.
func (b *exportBag) host() string {
	if b.hostname == nil {
		var h struct {
			Hostname string `json:"hostname"`
		}
		if len(b.rec.Host) > 0 {
			_ = json.Unmarshal(b.rec.Host, &h)
		}
		b.hostname = &h.Hostname
	}
	return *b.hostname
}
