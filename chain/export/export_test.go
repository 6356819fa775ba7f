package export

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/internal/testtool"
	"github.com/scelle/scelle/seal"
)

var exportT0 = time.Date(2026, 11, 22, 14, 30, 0, 0, time.UTC)

const exportCollection = "0b7e4d1c-3a52-4e8f-9c61-5d2f8a9b7e10"

func exportKey(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

// exportStat is the stat_before of a fixture file.
func exportStat(perm uint32, size int64, inode uint64, mtime time.Time, btime bool) *evidence.Stat {
	st := &evidence.Stat{Mode: "-rw-r--r--", Perm: perm, UID: 1000, GID: 1000, Size: size, Inode: inode,
		Dev: 65024, Nlink: 1, Atime: mtime.Add(2 * time.Hour), Mtime: mtime, Ctime: mtime.Add(time.Hour)}
	if btime {
		b := mtime.Add(-time.Hour)
		st.Btime = &b
	}
	return st
}

// buildExportBag seals, in parent, a bag the way scelle collect does,
// with the payload the exports read: a collected file with its
// stat_before (and one with a name that needs escaping), a recorded
// symbolic link, the process table, the kernel log, parsed wtmp and btmp
// records, a bodyfile chunk and a list; then a custody log with a
// transfer and a reception by two other holders. Everything is fixed
// (keys, times), so the same bag comes out on every run. extra, when not
// nil, is stored as one more payload file of that size (zeros).
func buildExportBag(parent string, extra int64) (string, error) {
	key := exportKey(3)
	dir := filepath.Join(parent, "C-42_web01_20261122T143000Z")
	now := exportT0
	clock := func() time.Time { now = now.Add(time.Second); return now }
	w, err := seal.Create(dir, seal.Options{Key: key, Collection: exportCollection, Tool: "scelle 1.0.0", Now: clock})
	if err != nil {
		return "", err
	}
	operator := &chain.Person{Name: "Jeanne Martin", Organisation: "CERT Exemple", Role: "intervenante"}
	if _, err := chain.AppendCustody(w.PartialDir(), chain.CustodyEvent{Event: chain.EventAcquired, At: exportT0, Case: "C-42",
		Host: "web01", Tool: "scelle 1.0.0", Actor: operator}, key); err != nil {
		return "", err
	}
	type payload struct {
		name, data           string
		collector, source    string
		kind                 string
		stat                 *evidence.Stat
		status, reason       string
		class                string
		size                 int64 // for extra: zeros
		linkTarget, noStored bool
	}
	passwd := "root:x:0:0:root:/root:/bin/bash\n"
	odd := "odd\n"
	items := []payload{
		{name: "live/proc/processes.jsonl", collector: "proc.table", source: "/proc", kind: "generated", class: "process",
			data: `{"pid":1,"ppid":0,"state":"S","comm":"systemd","uid":[0,0,0,0],"cmdline":["/sbin/init"],"exe":"/usr/lib/systemd/systemd","start_time":"2026-11-12T14:29:48.5Z","boot_time":"2026-11-12T14:29:48Z"}` + "\n" +
				`{"pid":4242,"ppid":1,"state":"S","comm":"kworkerd","uid":[1000,1000,1000,1000],"cmdline":["/dev/shm/.x/kworkerd","-c","203.0.113.9:443"],"exe":"/dev/shm/.x/kworkerd (deleted)","exe_deleted":true,"start_time":"2026-11-22T13:58:07.25Z"}` + "\n" +
				"not json\n"},
		{name: "live/system/dmesg.jsonl", collector: "system.dmesg", source: "/dev/kmsg", kind: "generated", class: "system",
			data: `{"seq":0,"priority":5,"level":5,"level_name":"notice","facility":0,"facility_name":"kern","flags":"-","uptime_us":0,"time":"2026-11-12T14:29:48.000131Z","message":"Linux version 6.1.0-26-amd64"}` + "\n" +
				`{"seq":812,"priority":4,"level":4,"level_name":"warning","facility":0,"facility_name":"kern","flags":"-","uptime_us":864010000000,"time":"2026-11-22T14:29:58.000131Z","message":"kworkerd: module verification failed: signature and/or required key missing - tainting kernel"}` + "\n" +
				`{"seq":813,"priority":6,"level":6,"level_name":"info","facility":0,"facility_name":"kern","flags":"-","uptime_us":864010000001,"message":"no time base"}` + "\n"},
		{name: "fs/var/log/wtmp", collector: "users.wtmp", source: "/var/log/wtmp", kind: "file", class: "system",
			data: "raw wtmp", stat: exportStat(0o100664, 8, 130, exportT0.Add(-time.Hour), false)},
		{name: "parsed/users/wtmp.jsonl", collector: "users.wtmp", source: "/var/log/wtmp", kind: "generated", class: "system",
			data: `{"offset":0,"record_size":384,"type":"BOOT_TIME","type_code":2,"pid":0,"line":"~","id":"~~","user":"reboot","host":"6.1.0-26-amd64","session":0,"time":"2026-11-12T14:29:50.123456Z"}` + "\n" +
				`{"offset":384,"record_size":384,"type":"USER_PROCESS","type_code":7,"pid":4100,"line":"pts/0","id":"ts/0","user":"root","host":"203.0.113.9","addr":"203.0.113.9","session":0,"time":"2026-11-22T13:55:01.5Z"}` + "\n" +
				`{"offset":768,"record_size":384,"zero_records":3}` + "\n" +
				`{"offset":1920,"record_size":384,"type":"DEAD_PROCESS","type_code":8,"pid":4100,"line":"pts/0","id":"ts/0","user":"","host":"","session":0,"time":"2026-11-22T14:10:00Z"}` + "\n"},
		{name: "parsed/users/btmp.jsonl", collector: "users.btmp", source: "/var/log/btmp", kind: "generated", class: "system",
			data: `{"offset":0,"record_size":384,"type":"LOGIN_PROCESS","type_code":6,"pid":4000,"line":"ssh:notty","user":"admin","host":"198.51.100.7","addr":"198.51.100.7","session":0,"time":"2026-11-22T13:50:00Z"}` + "\n"},
		{name: "parsed/bodyfile/triage.000.body", collector: "bodyfile.fs", source: "/tmp", kind: "generated", class: "temp",
			data: "0|/dev/shm/.x/kworkerd|5001|r/rrwxr-xr-x|1000|1000|8|1795358287|1795358287|1795358287|1795358287\n" +
				"0|/tmp|2|d/drwxrwxrwt|0|0|4096|1795362000|1795361000|1795361000|0\n"},
		{name: "parsed/ntfs/C/mft-timeline.000.jsonl", collector: "ntfs.timeline", source: `C:\$MFT`, kind: "generated", class: "disk",
			data: `{"entry":185,"sequence":3,"in_use":false,"deleted":true,"dir":false,"path":"\\Users\\alice\\Desktop\\deleted-secret.txt","name":"deleted-secret.txt","size":59,"allocated":0,"link_count":0,"lsn":0,` +
				`"si":{"modified":"2026-11-21T10:00:00.1234567Z","accessed":"","changed":"2026-11-21T10:00:01.0000000Z","created":"2026-11-20T09:00:00.0000000Z"},` +
				`"fn":{"modified":"2026-11-20T09:00:00.0000000Z","accessed":"2026-11-20T09:00:00.0000000Z","changed":"2026-11-20T09:00:00.0000000Z","created":"2026-11-20T09:00:00.0000000Z"}}` + "\n" +
				`{"entry":16,"sequence":0,"in_use":false,"deleted":true,"dir":false,"size":0,"allocated":0,"link_count":0,"lsn":0,"error":"entry 16: bad fixup"}` + "\n"},
		{name: "parsed/bodyfile/mft-C.000.body", collector: "ntfs.timeline", source: `C:\$MFT`, kind: "generated", class: "disk",
			data: "0|C:/Users/alice/Desktop/deleted-secret.txt (deleted)|185-128-2|r/rrwxrwxrwx|0|0|59|0|1795255200|1795255201|1795165200\n"},
		{name: "parsed/bodyfile/triage.suid.000.jsonl", collector: "bodyfile.fs", source: "/tmp", kind: "generated", class: "temp",
			data: `{"path":"/usr/bin/sudo"}` + "\n"},
		{name: "fs/etc/passwd", collector: "files.etc", source: "/etc/passwd", kind: "file", class: "disk",
			data: passwd, stat: exportStat(0o100644, int64(len(passwd)), 2001, time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), true)},
		{name: "fs/tmp/a|b\nc%d->e", collector: "files.temp", source: "/tmp/a|b\nc%d->e", kind: "file", class: "temp",
			data: odd, stat: exportStat(0o100600, int64(len(odd)), 3003, time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC), false),
			status: "partial", reason: "changed while read (see stat_before and stat_after)"},
		{name: "", collector: "system.time", source: "/etc/localtime", kind: "symlink", class: "system", noStored: true,
			stat: exportStat(0o120777, 27, 688, time.Date(2026, 5, 9, 7, 28, 50, 0, time.UTC), false), linkTarget: true,
			reason: "link recorded, not followed"},
		{name: "", collector: "files.paths", source: "/nonexistent", kind: "file", class: "disk", noStored: true,
			status: "skipped", reason: "not present"},
	}
	if extra > 0 {
		items = append(items, payload{name: "fs/var/big.bin", collector: "files.paths", source: "/var/big.bin", kind: "file",
			class: "disk", size: extra, stat: exportStat(0o100644, extra, 4004, exportT0, false)})
	}
	rec := &chain.Record{Format: chain.RecordFormat, Collection: exportCollection, Case: "C-42", Examiner: "Jeanne Martin",
		People: &chain.People{Operator: operator, Witnesses: []chain.Person{{Name: "Me Claire Dupont", Role: "commissaire de justice", Reference: "PV 2026-118"}}},
		Tool: chain.Tool{Name: "scelle", Version: "1.0.0", Revision: "0123456789abcdef", SHA256: strings.Repeat("5e", 32),
			Path: "/media/usb/scelle", GoOS: "linux", GoArch: "amd64"},
		Argv: []string{"scelle", "collect", "--case", "C-42"}, Profile: "triage", Root: "/", Live: true,
		Started: exportT0, Ended: exportT0.Add(4*time.Minute + 12*time.Second),
		Reference: &chain.Reference{Operator: exportT0.Add(-2500 * time.Millisecond), Host: exportT0, SkewSeconds: 2.5},
		Host: json.RawMessage(`{"live":true,"hostname":"web01","machine_id":"3f9a1c2b4d5e6f708192a3b4c5d6e7f8","boot_id":"6c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f",` +
			`"os_release":{"PRETTY_NAME":"Debian GNU/Linux 12 (bookworm)"},"kernel":{"sysname":"Linux","release":"6.1.0-26-amd64","machine":"x86_64"}}`),
	}
	for _, p := range items {
		it := evidence.Item{Collector: p.collector, Class: p.class, Source: p.source, Kind: p.kind, Status: evidence.Status(p.status), Reason: p.reason,
			Before: p.stat, Started: exportT0.Add(time.Second), Ended: exportT0.Add(2 * time.Second)}
		if it.Status == "" {
			it.Status = "collected"
		}
		if p.linkTarget {
			it.LinkTarget = "/usr/share/zoneinfo/Europe/Paris"
		}
		if !p.noStored {
			var src io.Reader = strings.NewReader(p.data)
			size := int64(len(p.data))
			if p.size > 0 {
				src, size = &zeroReader{n: p.size}, p.size
			}
			res, err := w.Put(context.Background(), seal.Entry{Name: p.name, Size: size, ModTime: exportT0}, src)
			if err != nil {
				return "", err
			}
			it.Path, it.Size, it.SHA256 = res.Path, res.Size, hex.EncodeToString(res.SHA256[:])
		}
		rec.Items = append(rec.Items, it)
	}
	pub, _ := seal.PublicKeyPEM(w.PublicKey())
	rec.Key = chain.Key{Fingerprint: seal.KeyFingerprint(w.PublicKey()), PublicKey: string(pub)}
	rec.Summarize()
	b, err := rec.Marshal()
	if err != nil {
		return "", err
	}
	var info seal.BagInfo
	info.Add("External-Identifier", rec.Case)
	s, err := w.Seal(b, info)
	if err != nil {
		return "", err
	}
	sealed := chain.SealedEvent(s, rec.Summary, operator)
	sealed.At = exportT0.Add(5 * time.Minute)
	if _, err := chain.AppendCustody(dir, sealed, key); err != nil {
		return "", err
	}
	intact := true
	for i, e := range []struct {
		ev  chain.CustodyEvent
		key ed25519.PrivateKey
	}{
		{chain.CustodyEvent{Event: chain.EventTransferred, Actor: operator, From: "Jeanne Martin", To: "Laboratoire Expertise Numérique",
			Medium: "USB stick SN 0042", SealNumber: "S-2026-0042", Reason: "expertise judiciaire"}, exportKey(8)},
		{chain.CustodyEvent{Event: chain.EventReceived, Actor: &chain.Person{Name: "Dr Paul Leroy", Organisation: "Laboratoire Expertise Numérique"},
			By: "Dr Paul Leroy", SealIntact: &intact, Condition: "scellé intact", SealNumber: "S-2026-0042"}, exportKey(9)},
	} {
		e.ev.At = exportT0.Add(time.Duration(i+1) * 24 * time.Hour)
		if _, err := chain.AppendCustody(dir, e.ev, e.key); err != nil {
			return "", err
		}
	}
	return dir, nil
}

type zeroReader struct{ n int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.n {
		p = p[:z.n]
	}
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

func exportBagT(t testing.TB) string {
	t.Helper()
	dir, err := buildExportBag(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func exportRun(t testing.TB, dir, format string) ([]byte, []string) {
	t.Helper()
	var out bytes.Buffer
	var warnings []string
	_, err := Write(dir, &out, Options{Format: format, Warn: func(m string) { warnings = append(warnings, m) }})
	if err != nil {
		t.Fatalf("export %s: %v", format, err)
	}
	return out.Bytes(), warnings
}

func TestExportJSONL(t *testing.T) {
	dir := exportBagT(t)
	out, warnings := exportRun(t, dir, JSONL)
	required := []string{"message", "datetime", "timestamp", "timestamp_desc", "source", "path", "sha256", "collector"}
	var events []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	for n := 1; sc.Scan(); n++ {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %d: %v: %s", n, err, sc.Text())
		}
		for _, f := range required {
			if _, ok := e[f]; !ok {
				t.Fatalf("line %d: no %q: %s", n, f, sc.Text())
			}
		}
		for _, f := range []string{"message", "datetime", "timestamp_desc", "source", "path", "sha256", "collector"} {
			if _, ok := e[f].(string); !ok {
				t.Fatalf("line %d: %q is not a string", n, f)
			}
		}
		if e["message"] == "" || e["timestamp_desc"] == "" {
			t.Fatalf("line %d: empty message or timestamp_desc", n)
		}
		at, err := time.Parse(time.RFC3339Nano, e["datetime"].(string))
		if err != nil {
			t.Fatalf("line %d: datetime: %v", n, err)
		}
		if ts, ok := e["timestamp"].(float64); !ok || int64(ts) != at.UnixMicro() {
			t.Fatalf("line %d: timestamp %v is not datetime %s in microseconds", n, e["timestamp"], at)
		}
		events = append(events, e)
	}
	find := func(desc, datetime, msgPart string) map[string]any {
		t.Helper()
		for _, e := range events {
			if e["timestamp_desc"] == desc && e["datetime"] == datetime && strings.Contains(e["message"].(string), msgPart) {
				return e
			}
		}
		t.Errorf("no %s event at %s with %q", desc, datetime, msgPart)
		return map[string]any{}
	}
	find(descStart, "2026-11-22T14:30:00.000000Z", "case \"C-42\"")
	find(descEnd, "2026-11-22T14:34:12.000000Z", "root ")
	find(descReference, "2026-11-22T14:29:57.500000Z", "+2.500 s")
	e := find(descMtime, "2026-11-01T10:00:00.000000Z", "/etc/passwd: content modified")
	if e["path"] != "data/fs/etc/passwd" || e["collector"] != "files.etc" || len(e["sha256"].(string)) != 64 {
		t.Errorf("passwd mtime event: %v", e)
	}
	find(descBtime, "2026-11-01T09:00:00.000000Z", "/etc/passwd: created")
	find(descCtime, "2026-11-01T11:00:00.000000Z", "/etc/passwd")
	find(descAtime, "2026-11-01T12:00:00.000000Z", "/etc/passwd")
	find(descMtime, "2026-05-09T07:28:50.000000Z", "/etc/localtime: content modified (mtime) [-rw-r--r-- uid 1000 gid 1000, 27 bytes, inode 688, link to /usr/share/zoneinfo/Europe/Paris]")
	find(descMtime, "2026-11-20T08:00:00.000000Z", "partial: changed while read")
	p := find(descProcess, "2026-11-22T13:58:07.250000Z", "process 4242 (kworkerd) started: /dev/shm/.x/kworkerd -c 203.0.113.9:443")
	if p["pid"] != float64(4242) || p["path"] != "data/live/proc/processes.jsonl" || p["collector"] != "proc.table" || p["source"] != "/proc" {
		t.Errorf("process event: %v", p)
	}
	find(descLogin, "2026-11-22T13:55:01.500000Z", "wtmp: login root on pts/0 from 203.0.113.9")
	find(descLogout, "2026-11-22T14:10:00.000000Z", "wtmp: logout on pts/0")
	find(descBoot, "2026-11-12T14:29:50.123456Z", "wtmp: system boot reboot on ~ (kernel 6.1.0-26-amd64)")
	find(descFailed, "2026-11-22T13:50:00.000000Z", "btmp: failed login admin on ssh:notty from 198.51.100.7")
	find(descKernel, "2026-11-22T14:29:58.000131Z", "kernel: kworkerd: module verification failed")
	m := find(descMtime, "2026-11-21T10:00:00.123456Z", `C:\Users\alice\Desktop\deleted-secret.txt: content modified ($STANDARD_INFORMATION) [MFT entry 185-3, 59 bytes, deleted]`)
	if m["mft_entry"] != float64(185) || m["mft_sequence"] != float64(3) || m["deleted"] != true || m["ntfs_attribute"] != "$STANDARD_INFORMATION" ||
		m["data_type"] != "scelle:ntfs:mft" || m["source"] != `C:\$MFT` || m["path"] != "data/parsed/ntfs/C/mft-timeline.000.jsonl" || m["line"] != float64(1) {
		t.Errorf("$MFT event: %v", m)
	}
	find(descBtime, "2026-11-20T09:00:00.000000Z", `deleted-secret.txt: created ($FILE_NAME)`)
	mftEvents := 0
	for _, e := range events {
		if e["data_type"] == "scelle:ntfs:mft" {
			mftEvents++
		}
	}
	if mftEvents != 7 { // 3 $STANDARD_INFORMATION times (one is unset), 4 $FILE_NAME times; none for the line without a path
		t.Errorf("%d $MFT events, want 7", mftEvents)
	}
	c := find(descCustody, "2026-11-23T14:30:00.000000Z", "custody transferred by Jeanne Martin (CERT Exemple): from Jeanne Martin, to Laboratoire Expertise Numérique")
	if c["source"] != chain.CustodyFile || c["custody_event"] != chain.EventTransferred || c["line"] != float64(3) {
		t.Errorf("custody event: %v", c)
	}
	find(descCustody, "2026-11-24T14:30:00.000000Z", "seal intact")
	find(descCustody, "2026-11-22T14:30:00.000000Z", "custody acquired")
	for _, e := range events {
		if strings.Contains(e["message"].(string), "no time base") || e["path"] == "data/parsed/bodyfile/triage.000.body" {
			t.Errorf("unexpected event: %v", e)
		}
	}
	// What was left out is said: the line that is not JSON, the kernel
	// record without a time.
	if len(warnings) != 2 || !strings.Contains(warnings[0], "processes.jsonl line 3") || !strings.Contains(warnings[1], "dmesg.jsonl line 3: kernel record 813 has no wall-clock time") {
		t.Errorf("warnings: %q", warnings)
	}
}

func TestExportBodyfile(t *testing.T) {
	dir := exportBagT(t)
	out, warnings := exportRun(t, dir, Bodyfile)
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warnings)
	}
	want := "0|/etc/passwd|2001|r/rrw-r--r--|1000|1000|32|1793534400|1793527200|1793530800|1793523600\n" +
		"0|/tmp/a%7Cb\\012c%25d-%3Ee|3003|r/rrw-------|1000|1000|4|1795168800|1795161600|1795165200|0\n" +
		"0|/etc/localtime -> /usr/share/zoneinfo/Europe/Paris|688|l/lrwxrwxrwx|1000|1000|27|1778318930|1778311730|1778315330|0\n" +
		"0|/var/log/wtmp|130|r/rrw-rw-r--|1000|1000|8|1795361400|1795354200|1795357800|0\n" +
		"0|/dev/shm/.x/kworkerd|5001|r/rrwxr-xr-x|1000|1000|8|1795358287|1795358287|1795358287|1795358287\n" +
		"0|/tmp|2|d/drwxrwxrwt|0|0|4096|1795362000|1795361000|1795361000|0\n" +
		"0|C:/Users/alice/Desktop/deleted-secret.txt (deleted)|185-128-2|r/rrwxrwxrwx|0|0|59|0|1795255200|1795255201|1795165200\n"
	lines := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.SplitAfter(s, "\n") {
			if l != "" {
				m[l] = true
			}
		}
		return m
	}
	got, exp := lines(string(out)), lines(want)
	if len(got) != len(exp) || strings.Count(string(out), "\n") != len(exp) {
		t.Fatalf("bodyfile:\n%s\nwant (any order):\n%s", out, want)
	}
	for l := range exp {
		if !got[l] {
			t.Errorf("missing line %q in\n%s", l, out)
		}
	}
	// The record's lines come first, then the stored chunks, as stored.
	if !bytes.HasSuffix(out, []byte("0|/dev/shm/.x/kworkerd|5001|r/rrwxr-xr-x|1000|1000|8|1795358287|1795358287|1795358287|1795358287\n"+
		"0|/tmp|2|d/drwxrwxrwt|0|0|4096|1795362000|1795361000|1795361000|0\n"+
		"0|C:/Users/alice/Desktop/deleted-secret.txt (deleted)|185-128-2|r/rrwxrwxrwx|0|0|59|0|1795255200|1795255201|1795165200\n")) {
		t.Errorf("the stored chunks are not last, as stored:\n%s", out)
	}

	// The real mactime makes a timeline of it.
	mactime := testtool.Need(t, "mactime", "sleuthkit")
	body := filepath.Join(t.TempDir(), "bag.body")
	if err := os.WriteFile(body, out, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(mactime, "-b", body, "-d", "-y", "-z", "UTC")
	tl, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mactime: %v\n%s", err, tl)
	}
	for _, want := range []string{
		`2026-11-01T10:00:00Z,32,m...,r/rrw-r--r--,1000,1000,2001,"/etc/passwd"`,
		`2026-11-01T09:00:00Z,32,...b,r/rrw-r--r--,1000,1000,2001,"/etc/passwd"`,
		`2026-11-22T14:38:07Z,8,macb,r/rrwxr-xr-x,1000,1000,5001,"/dev/shm/.x/kworkerd"`,
		`"/tmp/a|b\012c%d->e"`,
		`"/etc/localtime -> /usr/share/zoneinfo/Europe/Paris"`,
		`2026-11-21T10:00:00Z,59,m...,r/rrwxrwxrwx,0,0,185-128-2,"C:/Users/alice/Desktop/deleted-secret.txt (deleted)"`,
	} {
		if !bytes.Contains(tl, []byte(want)) {
			t.Errorf("mactime timeline lacks %s:\n%s", want, tl)
		}
	}
}

// rdflibPython returns a Python that imports rdflib (Debian's
// python3-rdflib is in /usr/bin/python3, which a python3 earlier in PATH
// may hide).
func rdflibPython(t *testing.T) string {
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if p, err := exec.LookPath(py); err == nil && exec.Command(p, "-c", "import rdflib").Run() == nil {
			return p
		}
	}
	testtool.Missing(t, "no python3 with rdflib: install the Debian package python3-rdflib")
	return ""
}

func TestExportCaseUCO(t *testing.T) {
	dir := exportBagT(t)
	out, warnings := exportRun(t, dir, CaseUCO)
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warnings)
	}
	var doc struct {
		Context map[string]string `json:"@context"`
		Graph   []map[string]any  `json:"@graph"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc.Context["uco-core"] != "https://ontology.unifiedcyberontology.org/uco/core/" ||
		doc.Context["case-investigation"] != "https://ontology.caseontology.org/case/investigation/" {
		t.Errorf("@context: %v", doc.Context)
	}
	types := map[string]int{}
	ids := map[string]bool{}
	for _, n := range doc.Graph {
		id, _ := n["@id"].(string)
		if !strings.HasPrefix(id, "kb:"+exportCollection+"-") || ids[id] {
			t.Errorf("@id %q: not stable or not unique", id)
		}
		ids[id] = true
		types[n["@type"].(string)]++
	}
	// 4 custody actions + the collection; 11 stored payload files + tool
	// executable + bag + tag manifest; 4 custody records + 1.
	if types["case-investigation:InvestigativeAction"] != 5 || types["uco-observable:File"] != 14 ||
		types["case-investigation:ProvenanceRecord"] != 5 || types["uco-identity:Person"] != 3 {
		t.Errorf("node types: %v", types)
	}
	root, _ := os.ReadFile(filepath.Join(dir, seal.RootFile))
	if !bytes.Contains(out, []byte(`"@value": "`+strings.TrimSpace(string(root))+`"`)) {
		t.Error("the root fingerprint is not in the graph")
	}

	py := rdflibPython(t)
	f := filepath.Join(t.TempDir(), "out.jsonld")
	if err := os.WriteFile(f, out, 0o644); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, rdflib
g = rdflib.Graph()
g.parse(sys.argv[1], format='json-ld')
print("triples", len(g))
P = """PREFIX uco-types: <https://ontology.unifiedcyberontology.org/uco/types/>
PREFIX uco-core: <https://ontology.unifiedcyberontology.org/uco/core/>
PREFIX uco-action: <https://ontology.unifiedcyberontology.org/uco/action/>
PREFIX uco-observable: <https://ontology.unifiedcyberontology.org/uco/observable/>
PREFIX case-investigation: <https://ontology.caseontology.org/case/investigation/>
"""
for r in g.query(P + """SELECT ?file WHERE { ?file uco-core:hasFacet ?f . ?f uco-observable:hash ?h .
  ?h uco-types:hashValue ?v . FILTER(LCASE(STR(?v)) = "%s") }""" % sys.argv[2]):
    print("root", r.file)
for r in g.query(P + """SELECT ?a ?start ?who WHERE { ?a a case-investigation:InvestigativeAction ;
  uco-action:startTime ?start ; uco-action:performer ?p . ?p uco-core:name ?who } ORDER BY ?start ?a"""):
    print("action", r.start, r.who)
for r in g.query(P + """SELECT (COUNT(?f) AS ?n) WHERE { ?a uco-core:name ?name ; uco-action:result ?f . ?f a uco-observable:File .
  FILTER(STRSTARTS(STR(?name), "scelle collection")) }"""):
    print("results", r.n)
`
	cmd := exec.Command(py, "-c", script, f, strings.TrimSpace(string(root)))
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("rdflib: %v\n%s", err, got)
	}
	text := string(got)
	if m := regexp.MustCompile(`triples (\d+)`).FindStringSubmatch(text); m == nil || m[1] == "0" {
		t.Errorf("no triples: %s", text)
	}
	for _, want := range []string{
		"root urn:scelle:kb:" + exportCollection + "-tag-manifest\n",
		"action 2026-11-22T14:30:00+00:00 Jeanne Martin\n", // the collection and the acquired event
		"action 2026-11-24T14:30:00+00:00 Dr Paul Leroy\n",
		"action 2026-11-22T14:35:00+00:00 Jeanne Martin\n", // sealed
		"results 12\n", // the bag and the 11 payload files
	} {
		if !strings.Contains(text, want) {
			t.Errorf("SPARQL: no %q in\n%s", want, text)
		}
	}
}

// TestExportDeterministic: the same bag gives the same bytes.
func TestExportDeterministic(t *testing.T) {
	a, b := exportBagT(t), exportBagT(t)
	for _, f := range Formats {
		x, _ := exportRun(t, a, f)
		y, _ := exportRun(t, b, f)
		if !bytes.Equal(x, y) {
			t.Errorf("%s: two exports of the same bag differ", f)
		}
	}
}

// TestExportRefuses: whatever does not match its record, root or
// archive hash, and a custody log that does not hold, end the export
// with ErrMismatch; a folder that is not sealed with
// ErrNotSealed.
func TestExportRefuses(t *testing.T) {
	edit := func(name string, f func([]byte) []byte) func(string) error {
		return func(dir string) error {
			p := filepath.Join(dir, name)
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(p, f(b), 0o644)
		}
	}
	for _, tc := range []struct {
		name    string
		change  func(dir string) error
		formats []string // formats that must fail; the others succeed
		want    error
		msg     string
	}{
		{"record changed", edit(seal.RecordFile, func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"case": "C-42"`), []byte(`"case": "C-43"`), 1)
		}), Formats, ErrMismatch, "record.json is not the bag's scelle/record.json"},
		{"record item hash changed", edit(seal.RecordFile, func(b []byte) []byte {
			return regexp.MustCompile(`"sha256": "[0-9a-f]`).ReplaceAll(b, []byte(`"sha256": "f`))
		}), Formats, ErrMismatch, "is not what the record says"},
		{"archive changed", func(dir string) error {
			p := filepath.Join(dir, seal.ArchiveFile)
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b = append(b, 0x28, 0xb5, 0x2f, 0xfd) // bytes after the end
			return os.WriteFile(p, b, 0o644)
		}, Formats, ErrMismatch, "evidence.tar.zst"},
		{"root changed", edit(seal.RootFile, func(b []byte) []byte {
			return []byte(strings.Repeat("0", 64) + "\n")
		}), Formats, ErrMismatch, "root.txt"},
		{"signature changed", edit(seal.SigFile, func(b []byte) []byte {
			b[0] ^= 1
			return b
		}), Formats, ErrMismatch, "root.sig does not verify"},
		{"custody line changed", edit(chain.CustodyFile, func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"seal_intact":true`), []byte(`"seal_intact":false`), 1)
		}), []string{CaseUCO, JSONL}, ErrMismatch, "custody.jsonl line 4: changed"},
		{"custody log removed", func(dir string) error { return os.Remove(filepath.Join(dir, chain.CustodyFile)) },
			[]string{CaseUCO, JSONL}, ErrMismatch, "no custody log"},
		{"not sealed", func(dir string) error { return os.Remove(filepath.Join(dir, seal.RootFile)) },
			Formats, ErrNotSealed, "root.txt is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := exportBagT(t)
			if err := tc.change(dir); err != nil {
				t.Fatal(err)
			}
			for _, f := range Formats {
				_, err := Write(dir, new(bytes.Buffer), Options{Format: f})
				mustFail := false
				for _, g := range tc.formats {
					mustFail = mustFail || g == f
				}
				switch {
				case !mustFail && err != nil:
					t.Errorf("%s: %v", f, err)
				case mustFail && !errors.Is(err, tc.want):
					t.Errorf("%s: error %v, want %v", f, err, tc.want)
				case mustFail && !strings.Contains(err.Error(), tc.msg):
					t.Errorf("%s: error %q lacks %q", f, err, tc.msg)
				}
			}
		})
	}
	if _, err := Write(t.TempDir(), new(bytes.Buffer), Options{Format: "csv"}); err == nil || !strings.Contains(err.Error(), `unknown export format "csv"`) {
		t.Errorf("format csv: %v", err)
	}
}

// TestExportBoundedMemory: a payload file is streamed, never held: the
// export of a bag with a 96 MiB file allocates much less than that.
func TestExportBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const size = 96 << 20
	dir, err := buildExportBag(t.TempDir(), size)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Formats {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var out countWriter
		if _, err := Write(dir, &out, Options{Format: f}); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/2 {
			t.Errorf("%s: %d MiB allocated to export a bag holding a %d MiB file", f, alloc>>20, size>>20)
		}
	}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func ExampleWrite() {
	parent, err := os.MkdirTemp("", "scelle-export")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(parent)
	dir, err := buildExportBag(parent, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	var body bytes.Buffer
	stats, err := Write(dir, &body, Options{Format: Bodyfile})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d archive entries checked, %d bodyfile lines\n", stats.Entries, stats.Records)
	fmt.Print(strings.SplitAfter(body.String(), "\n")[0])
	// Output:
	// 17 archive entries checked, 7 bodyfile lines
	// 0|/var/log/wtmp|130|r/rrw-rw-r--|1000|1000|8|1795361400|1795354200|1795357800|0
}

// FuzzExportLines feeds arbitrary bytes to the parsers that read the
// bag's JSON Lines for the timeline, and to the record walker: a bag is
// untrusted input (its hashes can be made to match), so neither may
// panic or loop, whatever it holds.
func FuzzExportLines(f *testing.F) {
	f.Add([]byte(`{"pid":1,"ppid":0,"comm":"x","uid":[0],"cmdline":["a"],"start_time":"2026-11-22T14:30:00Z"}` + "\n"))
	f.Add([]byte(`{"type":"USER_PROCESS","pid":1,"user":"root","time":"2026-11-22T14:30:00Z"}` + "\n{}\n"))
	f.Add([]byte(`{"seq":1,"time":"2026-11-22T14:30:00Z","message":"m"}` + "\n" + `{"error":"x"}`))
	f.Add([]byte(`{"format":"scelle-record/1","items":[{"path":"data/a"},{}],"x":[[{}]]}`))
	f.Add([]byte("\n\n\x00{\"pid\":"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b := &exportBag{rec: &chain.Record{}, stats: &Stats{}, w: bufio.NewWriter(io.Discard), stored: map[string]*storedItem{}}
		x := &jsonlExport{enc: json.NewEncoder(io.Discard)}
		for _, p := range []string{processesFile, dmesgFile, utmpFile, "data/parsed/users/wtmp.jsonl", "data/parsed/users/btmp.1.jsonl"} {
			if !x.wants(p) {
				t.Fatalf("%s not wanted", p)
			}
			if err := x.entry(b, p, storedItem{}, bytes.NewReader(data)); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
		}
		_, _ = chain.ScanRecord(bytes.NewReader(data), nil)
		_, _ = chain.ScanRecord(bytes.NewReader(data), func(*evidence.Item) error { return nil })
	})
}
