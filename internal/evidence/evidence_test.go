package evidence

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// itemJSON is an item as scelle wrote it into records before this
// package existed (collect.Outcome, then chain.Item with the stats as
// raw JSON), indented as in record.json: the record's bytes must not
// change.
const itemJSON = `{
   "collector": "files.paths",
   "class": "disk",
   "source": "/etc/\ufffdpasswd\u003c\u0026\u003e",
   "source_raw": "L2V0Yy//cGFzc3dkPCY+",
   "path": "data/fs/etc/passwd",
   "kind": "file",
   "status": "partial",
   "reason": "changed while read",
   "size": 42,
   "sha256": "ab",
   "link_target": "x",
   "noatime": true,
   "stat_before": {
    "mode": "-rw-r--r--",
    "perm": 33188,
    "uid": 1000,
    "gid": 100,
    "size": 42,
    "inode": 1835021,
    "dev": 2049,
    "nlink": 1,
    "atime": "2026-11-22T10:00:00.123456789Z",
    "mtime": "2026-11-22T09:59:00.123456789Z",
    "ctime": "2026-11-22T09:59:59.123456789Z",
    "btime": "2026-11-22T09:00:00.123456789Z"
   },
   "stat_after": {
    "mode": "Lrwxrwxrwx",
    "perm": 0,
    "uid": 0,
    "gid": 0,
    "size": 0,
    "atime": "0001-01-01T00:00:00Z",
    "mtime": "0001-01-01T00:00:00Z",
    "ctime": "0001-01-01T00:00:00Z"
   },
   "started": "2026-11-22T10:00:00.123456789Z",
   "ended": "2026-11-22T10:00:00.124456789Z"
  }`

func fullItem() Item {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)
	b := t0.Add(-time.Hour)
	it := Item{Collector: "files.paths", Class: "disk", Path: "data/fs/etc/passwd",
		Kind: KindFile, Status: Partial, Reason: "changed while read", Size: 42, SHA256: "ab", LinkTarget: "x", NoATime: true,
		Before: &Stat{Mode: "-rw-r--r--", Perm: 0o100644, UID: 1000, GID: 100, Size: 42, Inode: 1835021, Dev: 2049, Nlink: 1,
			Atime: t0, Mtime: t0.Add(-time.Minute), Ctime: t0.Add(-time.Second), Btime: &b},
		After:   &Stat{Mode: "Lrwxrwxrwx"},
		Started: t0, Ended: t0.Add(time.Millisecond)}
	it.SetSource("/etc/\xffpasswd<&>")
	return it
}

func TestItemJSON(t *testing.T) {
	it := fullItem()
	got, err := json.MarshalIndent(&it, "  ", " ")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != itemJSON {
		t.Fatalf("item JSON changed:\n%s\nwant:\n%s", got, itemJSON)
	}
	var back Item
	if err := json.Unmarshal(got, &back); err != nil || back.Status != Partial || back.Before.Btime == nil || back.SourceRaw == nil {
		t.Fatalf("read back: %+v, %v", back, err)
	}
}

// The Windows members are absent from a POSIX stat, and present whole in
// a Windows one.
func TestStatWindows(t *testing.T) {
	if b, _ := json.Marshal(&Stat{}); bytes.Contains(b, []byte("windows")) {
		t.Fatalf("POSIX stat: %s", b)
	}
	si := MACB{Modified: FromFiletime(133000000000000001)}
	b, err := json.Marshal(&Stat{Windows: &WindowsStat{Attributes: 0x20, MFTSequence: 1, StandardInformation: si}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"windows":{"attributes":32,"mft_entry":0,"mft_sequence":1,"standard_information":{"modified":"2022-06-18T04:26:40`,
		`.0000001Z","accessed":"0001-01-01T00:00:00Z"`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	if bytes.Contains(b, []byte("stream")) || bytes.Contains(b, []byte("file_name")) {
		t.Errorf("empty optional members: %s", b)
	}
}

func TestFromFiletime(t *testing.T) {
	for ft, want := range map[uint64]string{
		0:                  "1601-01-01T00:00:00Z",
		116444736000000000: "1970-01-01T00:00:00Z",
		116444736000000001: "1970-01-01T00:00:00.0000001Z",
		133000000000000001: "2022-06-18T04:26:40",
	} {
		if got := FromFiletime(ft).Format(time.RFC3339Nano); got[:min(len(got), len(want))] != want {
			t.Errorf("%d: %s, want %s", ft, got, want)
		}
	}
}

func TestStatus(t *testing.T) {
	for _, s := range Statuses() {
		b, _ := json.Marshal(s)
		var back Status
		if err := json.Unmarshal(b, &back); err != nil || back != s || string(b) != `"`+string(s)+`"` || !s.Valid() {
			t.Errorf("%s: %s %v", s, b, err)
		}
	}
	if Status("lost").Valid() || !Partial.Stored() || Skipped.Stored() {
		t.Error("Valid or Stored")
	}
}
