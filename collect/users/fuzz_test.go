package users

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

func FuzzUtmp(f *testing.F) {
	for name := range fixtures {
		f.Add(readFixture(f, name))
	}
	f.Add(encodeUtmp(Layout64, wtmpEntries[4])[:399])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		l := DetectUtmpLayout(b[:min(len(b), DetectHeadSize)], int64(len(b)))
		if l != Layout32 && l != Layout64 {
			t.Fatalf("layout %v", l)
		}
		for _, l := range []Layout{Layout32, Layout64} {
			var out bytes.Buffer
			if err := writeUtmp(&out, NewUtmpReader(bytes.NewReader(b), l)); err != nil {
				t.Fatalf("writeUtmp: %v", err)
			}
			// Every line is JSON, and the records, zero runs and the
			// partial record account for every byte.
			var covered int64
			for line := range bytes.Lines(out.Bytes()) {
				if !json.Valid(line) {
					t.Fatalf("line %q is not JSON", line)
				}
				var v struct {
					Zero    int64 `json:"zero_records"`
					Partial *int  `json:"partial_record_bytes"`
				}
				if bytes.Contains(line, []byte(`"zero_records"`)) || bytes.Contains(line, []byte(`"partial_record_bytes"`)) {
					if err := json.Unmarshal(line, &v); err != nil {
						t.Fatal(err)
					}
				}
				switch {
				case v.Zero > 0:
					covered += v.Zero * int64(l.UtmpSize())
				case v.Partial != nil:
					covered += int64(*v.Partial)
				default:
					covered += int64(l.UtmpSize())
				}
			}
			if covered != int64(len(b)) {
				t.Fatalf("%v: lines cover %d of %d bytes", l, covered, len(b))
			}
		}
	})
}

func FuzzLastlog(f *testing.F) {
	f.Add(append(make([]byte, 292), encodeLastlog(Layout32, at("2024-03-04T05:06:07Z"), "pts/4", "192.0.2.44")...))
	f.Add(append(make([]byte, 296), encodeLastlog(Layout64, at("2024-03-04T05:06:07Z"), "tty\xff", "::1")...))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		size := int64(len(b))
		DetectLastlogLayout(bytes.NewReader(b), size, WholeFile(size))
		for _, l := range []Layout{Layout32, Layout64} {
			rs := int64(l.LastlogSize())
			last := int64(-1)
			err := ScanLastlog(bytes.NewReader(b), size, l, WholeFile(size), func(r LastlogRecord) error {
				if r.Offset <= last || r.Offset%rs != 0 || uint64(r.Offset)/uint64(rs) != r.UID {
					t.Fatalf("record at %d (uid %d) after %d", r.Offset, r.UID, last)
				}
				last = r.Offset
				if _, err := json.Marshal(r); err != nil {
					t.Fatal(err)
				}
				return nil
			})
			var pe *PartialRecordError
			switch {
			case size%rs != 0 && (!errors.As(err, &pe) || int64(len(pe.Data)) != size%rs):
				t.Fatalf("%v: error %v for %d trailing bytes", l, err, size%rs)
			case size%rs == 0 && err != nil:
				t.Fatalf("%v: %v", l, err)
			}
		}
	})
}

func FuzzAccounts(f *testing.F) {
	f.Add([]byte(testPasswd), []byte(testShadow), []byte(testGroup), "x")
	f.Add([]byte("a:x:0:0::/:/bin/sh\n"), []byte("a:"), []byte(":::\n"), "$6$saltsaltsaltsalt$hashhashhashhash")
	f.Fuzz(func(t *testing.T, passwd, shadow, group []byte, pw string) {
		// Any input: no panic, and every record encodes.
		enc := json.NewEncoder(io.Discard)
		for _, r := range buildAccounts(passwd, shadow, group, "") {
			if err := enc.Encode(r); err != nil {
				t.Fatal(err)
			}
		}
		// A password field never reaches the output.
		if len(pw) < 16 || strings.Trim(pw, "$!./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
			return
		}
		var out bytes.Buffer
		enc = json.NewEncoder(&out)
		for _, r := range buildAccounts([]byte("u:x:1000:1000::/home/u:/bin/sh\nv:"+pw+":1:1::/:/bin/sh\n"),
			[]byte("u:"+pw+":19000:0:99999:7:::\n"), nil, "") {
			if err := enc.Encode(r); err != nil {
				t.Fatal(err)
			}
		}
		if strings.Contains(out.String(), pw) {
			t.Fatalf("password field %q in output:\n%s", pw, out.String())
		}
	})
}
