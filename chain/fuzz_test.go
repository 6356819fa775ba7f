package chain

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/internal/vectors"
)

// fullRecord fills every field of a record.
func fullRecord() *Record {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)
	r := &Record{
		Format: RecordFormat, Collection: "c-1", Case: "affaire 2026/42", Examiner: "É. Durand",
		People: &People{Operator: &Person{Name: "A", Organisation: "CERT", Role: "responder", Reference: "PV 12"},
			Witnesses: []Person{{Name: "B"}}, Mandator: "Société X"},
		Tool: Tool{Name: "scelle", Version: "v1.2.3", Revision: "abc", SHA256: strings.Repeat("ab", 32),
			Path: "/media/usb/scelle", GoOS: "linux", GoArch: "amd64"},
		Argv: []string{"scelle", "collect", "--out", "/media/usb"}, Profile: "default", Root: "/", Live: true,
		Started: t0, Ended: t0.Add(time.Minute),
		Reference:  &Reference{Operator: t0, Host: t0.Add(-3 * time.Second).In(time.FixedZone("", 3600)), SkewSeconds: -3.25},
		Host:       json.RawMessage(`{"hostname":"victim","ifaces":[1,2.5e3,null,true,"\u2028<&>"]}`),
		ClockStart: json.RawMessage(`{"ntp":"synchronised"}`), ClockEnd: json.RawMessage(`"x"`),
		Key:         Key{Fingerprint: strings.Repeat("cd", 32), PublicKey: "-----BEGIN PUBLIC KEY-----\n...", Ephemeral: true},
		Interrupted: "SIGINT",
		Items: []evidence.Item{{Collector: "files", Class: "logs", Source: "/var/log/auth.log", SourceRaw: []byte{0xff, 0},
			Path: "data/fs/var/log/auth.log", Kind: "file", Status: "collected", Size: 42, SHA256: strings.Repeat("00", 32),
			LinkTarget: "x", NoATime: true, Before: &evidence.Stat{Mode: "-rw-r--r--", Perm: 0o100644}, After: &evidence.Stat{},
			Started: t0, Ended: t0}},
		Extra: map[string]json.RawMessage{"tpm": json.RawMessage(`{"quote":"AAAA"}`)},
	}
	r.Summarize()
	return r
}

// FuzzReadRecord decodes arbitrary bytes as a record: ReadRecord never
// panics; a record it accepts has the format it requires; marshalling it
// and reading it back is stable: the second encoding is the first.
func FuzzReadRecord(f *testing.F) {
	full, err := fullRecord().Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(full)
	f.Add([]byte(`{"format":"scelle-record/1"}`))
	f.Add([]byte(`{"format":"scelle-record/1"} {}`))
	f.Add([]byte(`{"format":"scelle-record/1","FORMAT":"x","started":"2026-11-22T10:00:00+14:00"}`))
	f.Add([]byte(`{"format":"scelle-record/1","ended":"0000-01-01T00:00:00-00:30","host":null,"summary":{}}`))
	f.Add([]byte(`{"format":"scelle-record/1","items":[{"source_raw":"/w==","stat_before":1e999}]}`))
	f.Add([]byte(`{"format":"scelle-record/2"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte{})
	frozen, err := vectors.Files("record.json") // the frozen v1 bags, testdata/bags/v1
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range frozen {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := ReadRecord(bytes.NewReader(data))
		if err != nil {
			if rec != nil {
				t.Fatalf("ReadRecord returned a record and an error: %v", err)
			}
			return
		}
		if rec.Format != RecordFormat {
			t.Fatalf("accepted format %q", rec.Format)
		}
		m1, err := rec.Marshal()
		if err != nil {
			t.Fatalf("a record ReadRecord accepted does not marshal: %v", err)
		}
		if !bytes.HasSuffix(m1, []byte("}\n")) || !json.Valid(m1) {
			t.Fatalf("Marshal: not one JSON object and a line feed:\n%s", m1)
		}
		rec2, err := ReadRecord(bytes.NewReader(m1))
		if err != nil {
			t.Fatalf("a marshalled record does not read back: %v\n%s", err, m1)
		}
		m2, err := rec2.Marshal()
		if err != nil {
			t.Fatalf("Marshal again: %v", err)
		}
		if !bytes.Equal(m1, m2) {
			t.Fatalf("marshal/read is not stable:\n%s\nthen\n%s", m1, m2)
		}
		if len(rec2.Items) != len(rec.Items) || len(rec2.Argv) != len(rec.Argv) || !rec2.Started.Equal(rec.Started) ||
			!rec2.Ended.Equal(rec.Ended) || rec2.Collection != rec.Collection {
			t.Fatalf("the record changed on a marshal/read round trip")
		}
	})
}

// TestRecordRoundTrip checks that a full record reads back equal.
func TestRecordRoundTrip(t *testing.T) {
	r := fullRecord()
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadRecord(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	b2, err := got.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Fatalf("round trip differs:\n%s\n%s", b, b2)
	}
	if bad := got.CheckItems(map[string]string{"data/fs/var/log/auth.log": strings.Repeat("00", 32)}); len(bad) != 0 {
		t.Fatalf("CheckItems: %v", bad)
	}
}

// FuzzScanRecord holds ScanRecord to the reader it replaces, one
// json.Decoder.Decode of the whole record (decodeRecordWhole): on any
// bytes both accept or both refuse, and what they accept they read alike,
// header and items. ReadRecord and ScanRecord without fn agree with
// ScanRecord. Two differences are allowed: ScanRecord refuses a member
// named twice, which the whole decode lets the last one win; and its
// nesting limit holds per member and per item, not for the whole record.
func FuzzScanRecord(f *testing.F) {
	full, err := fullRecord().Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(full)
	f.Add([]byte(`{"items":[{"status":"failed","reason":"x"},null,{}],"format":"scelle-record/1"}`))
	f.Add([]byte(`{"format":"scelle-record/1","items":[]}`))
	f.Add([]byte(`{"format":"scelle-record/1","items":null,"x":{"items":[1]}}`))
	f.Add([]byte(`{"format":"scelle-record/1","ITEMS":[{"SIZE":3}],"Argv":["a"],"unknown":[[{"a":[]}]]}`))
	f.Add([]byte(`{"format":"scelle-record/1","items":[{}],"items":[{},{}]}`))
	f.Add([]byte(`{"format":"scelle-record/1","summary":{"a":1},"Summary":{"b":2}}`))
	f.Add([]byte(`{"format":"scelle-record/1","items":{}}`))
	f.Add([]byte(`{"format":"scelle-record/1","items":[1]}`))
	f.Add([]byte(`{"format":"scelle-record/1","items":[{"size":"1"}]}`))
	f.Add([]byte(`{"format":"scelle-record/1","items":[{"source_raw":"/w==","stat_before":{"a":[1,{}]}}]} `))
	f.Add([]byte(`{"format":"scelle-record/1","items":[]}]`))
	f.Add([]byte(`{"format":"scelle-record/2","items":[{}]}`))
	f.Add([]byte(`{"format":"scelle-record/1","people":null,"host":null,"started":null,"itemſ":[{}]}`))
	f.Add([]byte(`{"format":"scelle-record/1","live":"true"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{`))
	frozen, err := vectors.Files("record.json") // the frozen v1 bags, testdata/bags/v1
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range frozen {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var items []evidence.Item
		head, err := ScanRecord(bytes.NewReader(data), func(it *evidence.Item) error {
			items = append(items, *it)
			return nil
		})
		headOnly, errHeadOnly := ScanRecord(bytes.NewReader(data), nil)
		rec, errRead := ReadRecord(bytes.NewReader(data))
		want, errWant := decodeRecordWhole(data)

		switch {
		case (err == nil) != (head != nil), (errRead == nil) != (rec != nil), (errHeadOnly == nil) != (headOnly != nil):
			t.Fatalf("a record and an error, or neither: %v, %v, %v", err, errRead, errHeadOnly)
		case (err == nil) != (errRead == nil):
			t.Fatalf("ScanRecord: %v; ReadRecord: %v", err, errRead)
		case err == nil && errHeadOnly != nil:
			t.Fatalf("ScanRecord without fn refuses what it accepts with fn: %v", errHeadOnly)
		case err == nil && errWant != nil:
			if !strings.Contains(errWant.Error(), "exceeded max depth") {
				t.Fatalf("ScanRecord accepts what the whole decode refuses: %v", errWant)
			}
			return
		case err != nil && errWant == nil:
			if !errors.Is(err, errRecordMemberTwice) {
				t.Fatalf("ScanRecord refuses what the whole decode accepts: %v", err)
			}
			return
		case err != nil:
			return
		}
		if head.Items != nil || headOnly.Items != nil {
			t.Fatal("ScanRecord returned items")
		}
		if !reflect.DeepEqual(rec, want) {
			t.Fatalf("ReadRecord and the whole decode differ:\n%+v\n%+v", rec, want)
		}
		if len(items) != len(want.Items) || len(items) > 0 && !reflect.DeepEqual(items, want.Items) {
			t.Fatalf("ScanRecord's items differ from the whole decode's:\n%+v\n%+v", items, want.Items)
		}
		want.Items = nil
		if !reflect.DeepEqual(head, want) || !reflect.DeepEqual(headOnly, want) {
			t.Fatalf("ScanRecord's header differs from the whole decode's:\n%+v\n%+v\n%+v", head, headOnly, want)
		}
	})
}

// decodeRecordWhole is how ReadRecord read a record before ScanRecord:
// one decode of the whole document.
func decodeRecordWhole(data []byte) (*Record, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var rec Record
	if err := dec.Decode(&rec); err != nil {
		return nil, err
	}
	if rec.Format != RecordFormat {
		return nil, errors.New("format")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	return &rec, nil
}
