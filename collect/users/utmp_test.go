package users

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// readAll reads every record of b, returning the records and the final
// error other than io.EOF.
func readAll(b []byte, l Layout) ([]UtmpRecord, error) {
	r := NewUtmpReader(bytes.NewReader(b), l)
	var out []UtmpRecord
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			if _, err2 := r.Next(); !errors.Is(err2, io.EOF) {
				return out, errors.New("no io.EOF after the error")
			}
			return out, err
		}
		out = append(out, rec)
	}
}

// strip clears what the table does not state: offsets and sizes are
// checked apart, sec and usec are unexported.
func strip(r UtmpRecord) UtmpRecord {
	r.Offset, r.RecordSize, r.sec, r.usec = 0, 0, 0, 0
	return r
}

func TestParseWtmp(t *testing.T) {
	want := []UtmpRecord{
		{Type: "BOOT_TIME", TypeCode: 2, Line: "~", ID: "~~", User: "reboot", Host: "6.1.0-18-amd64",
			Time: "2024-03-01T08:00:00Z"},
		{Type: "USER_PROCESS", TypeCode: 7, PID: 1234, Line: "pts/0", ID: "ts/0", User: "alice", Host: "192.0.2.10",
			Addr: "192.0.2.10", Session: 1234, Time: "2024-03-01T08:05:00.123456Z"},
		{Type: "USER_PROCESS", TypeCode: 7, PID: 1300, Line: "pts/1", ID: "ts/1", User: "bob", Host: "2001:db8::1",
			Addr: "2001:db8::1", Session: 1300, Time: "2024-03-01T09:00:00.5Z"},
		{Type: "DEAD_PROCESS", TypeCode: 8, PID: 1234, Line: "pts/0", ID: "ts/0", Time: "2024-03-01T10:00:00Z"},
		{Type: "USER_PROCESS", TypeCode: 7, PID: 1400, Line: "pts/2", ID: "ts/2", User: `ev\xffil`,
			UserRaw: []byte("ev\xffil"), Host: "198.51.100.7", Addr: "198.51.100.7", Session: 1400, Time: "2024-03-01T11:00:00Z"},
		{Type: "EMPTY", Time: "1970-01-01T00:00:00Z", Zero: true},
		{Type: "EMPTY", Time: "1970-01-01T00:00:00Z", Zero: true},
		{Type: "USER_PROCESS", TypeCode: 7, PID: 1500, Line: "tty1", ID: "tty1", User: "root", Time: "2024-03-02T00:00:00Z"},
	}
	for _, tc := range []struct {
		file   string
		layout Layout
	}{
		{"wtmp-384.bin", Layout32},
		{"wtmp-400.bin", Layout64},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b := readFixture(t, tc.file)
			head := b[:min(len(b), DetectHeadSize)]
			if got := DetectUtmpLayout(head, int64(len(b))); got != tc.layout {
				t.Fatalf("DetectUtmpLayout = %v, want %v", got, tc.layout)
			}
			recs, err := readAll(b, tc.layout)
			var pe *PartialRecordError
			if !errors.As(err, &pe) {
				t.Fatalf("final error = %v, want a *PartialRecordError", err)
			}
			size := tc.layout.UtmpSize()
			if pe.Offset != int64(len(want)*size) || len(pe.Data) != 100 || pe.RecordSize != size {
				t.Errorf("partial record = offset %d, %d bytes of %d; want offset %d, 100 bytes of %d",
					pe.Offset, len(pe.Data), pe.RecordSize, len(want)*size, size)
			}
			if len(recs) != len(want) {
				t.Fatalf("got %d records, want %d", len(recs), len(want))
			}
			for i, r := range recs {
				if r.Offset != int64(i*size) || r.RecordSize != size {
					t.Errorf("record %d: offset %d size %d, want %d %d", i, r.Offset, r.RecordSize, i*size, size)
				}
				if got := strip(r); !reflect.DeepEqual(got, want[i]) {
					t.Errorf("record %d:\n got %+v\nwant %+v", i, got, want[i])
				}
			}
		})
	}
}

func TestParseBtmp(t *testing.T) {
	b := readFixture(t, "btmp-384.bin")
	recs, err := readAll(b, Layout32)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2", len(recs))
	}
	if r := recs[0]; r.Type != "LOGIN_PROCESS" || r.User != "root" || r.Line != "ssh:notty" || r.Addr != "203.0.113.5" ||
		r.Time != "2024-03-03T03:03:03Z" {
		t.Errorf("record 0 = %+v", r)
	}
	if r := recs[1]; r.User != "admin" || r.Addr != "2001:db8:bad::66" {
		t.Errorf("record 1 = %+v", r)
	}
}

func TestParseUtmpFields(t *testing.T) {
	// Oddities a damaged or forged record may hold.
	rec := encodeUtmp(Layout32, utmpEntry{typ: 42, user: "root", line: "pts/9"})
	copy(rec[44+5:], "hidden") // bytes after the user name's NUL
	rec[344] = 0xff            // tv_usec = -1
	rec[345], rec[346], rec[347] = 0xff, 0xff, 0xff
	copy(rec[348:], []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1}) // IPv4-mapped IPv6
	r := ParseUtmp(rec, Layout32)
	if r.Type != "UNKNOWN(42)" || r.TypeCode != 42 {
		t.Errorf("type = %q %d", r.Type, r.TypeCode)
	}
	if r.User != "root" || string(r.UserRaw) != "root\x00hidden" {
		t.Errorf("user = %q raw %q, want root with the hidden bytes in user_raw", r.User, r.UserRaw)
	}
	if r.Addr != "::ffff:10.0.0.1" {
		t.Errorf("addr = %q", r.Addr)
	}
	if len(r.Notes) != 2 || !strings.Contains(r.Notes[0], "not defined") || !strings.Contains(r.Notes[1], "microseconds") {
		t.Errorf("notes = %q", r.Notes)
	}
	// A 32-bit time past 2038 is read unsigned, as glibc 2.40 does.
	rec = encodeUtmp(Layout32, utmpEntry{typ: 7})
	copy(rec[340:], []byte{0, 0, 0, 0x90})
	if r := ParseUtmp(rec, Layout32); r.Time != "2046-07-23T00:38:24Z" {
		t.Errorf("time past 2038 = %q", r.Time)
	}
	// A 64-bit time beyond year 9999 is not rendered, and said so.
	rec = encodeUtmp(Layout64, utmpEntry{typ: 7})
	copy(rec[344:], []byte{0, 0, 0, 0, 0, 0, 0, 0x7f})
	if r := ParseUtmp(rec, Layout64); r.Time != "" || len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "outside years") {
		t.Errorf("huge time = %q, notes %q", r.Time, r.Notes)
	}
}

func TestDetectUtmpLayout(t *testing.T) {
	for _, l := range []Layout{Layout32, Layout64} {
		one := encodeUtmp(l, wtmpEntries[1])
		if got := DetectUtmpLayout(one, int64(len(one))); got != l {
			t.Errorf("one %d-byte record: got %v", len(one), got)
		}
		// 25 records of 384 bytes and 24 of 400 both make 9600 bytes:
		// the content decides.
		var b []byte
		for len(b) < 9600 {
			b = append(b, encodeUtmp(l, wtmpEntries[len(b)/l.UtmpSize()%len(wtmpEntries)])...)
		}
		if got := DetectUtmpLayout(b, 9600); got != l {
			t.Errorf("9600 bytes of %d-byte records: got %v", l.UtmpSize(), got)
		}
	}
	if got := DetectUtmpLayout(nil, 0); got != NativeLayout() {
		t.Errorf("empty file: got %v, want the native layout", got)
	}
}

func TestWriteUtmp(t *testing.T) {
	var buf bytes.Buffer
	if err := writeUtmp(&buf, NewUtmpReader(bytes.NewReader(readFixture(t, "wtmp-384.bin")), Layout32)); err != nil {
		t.Fatal(err)
	}
	golden(t, "wtmp-384.jsonl", buf.Bytes())
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 8 {
		t.Fatalf("got %d lines, want 8 (5 records, 1 zero run, 1 record, 1 partial)", len(lines))
	}
	if want := `{"offset":1920,"record_size":384,"zero_records":2}`; lines[5] != want {
		t.Errorf("zero run line = %s, want %s", lines[5], want)
	}
	if !strings.HasPrefix(lines[7], `{"offset":3072,"record_size":384,"partial_record_bytes":100,"partial_record_raw":"`) {
		t.Errorf("partial line = %s", lines[7])
	}
	if !strings.Contains(lines[4], `"user":"ev\\xffil","user_raw":"ZXb/aWw="`) {
		t.Errorf("non-UTF-8 user line = %s", lines[4])
	}
}
