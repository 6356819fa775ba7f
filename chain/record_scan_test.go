package chain

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/internal/evidence"
)

// writeRecordStream writes rec to w as Marshal would with n items made
// by item in place of rec.Items, holding one item at a time.
func writeRecordStream(w io.Writer, rec Record, n int, item func(i int) evidence.Item) error {
	rec.Items = []evidence.Item{}
	head, err := rec.Marshal()
	if err != nil {
		return err
	}
	// The items member is the only one at the top level indented by one
	// space.
	const marker = "\n \"items\": ["
	cut := bytes.Index(head, []byte(marker+"]"))
	if cut < 0 {
		return errors.New("no items member")
	}
	cut += len(marker)
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head[:cut])
	for i := range n {
		it := item(i)
		b, err := json.MarshalIndent(&it, "  ", " ")
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n  ")
		bw.Write(b)
	}
	if n > 0 {
		bw.WriteString("\n ")
	}
	bw.Write(head[cut:])
	return bw.Flush()
}

// bigItemStat is a file's stat as statx gives it.
var bigItemStat = func() *evidence.Stat {
	mtime := time.Date(2026, 10, 1, 12, 0, 0, 5e8, time.UTC)
	return &evidence.Stat{Mode: "-rw-r--r--", Perm: 33188, UID: 33, GID: 33, Size: 48213, Inode: 1835021, Nlink: 1, Dev: 2049,
		Atime: time.Date(2026, 11, 22, 9, 58, 1, 123456789, time.UTC), Mtime: mtime, Ctime: mtime, Btime: &mtime}
}()

// testClasses are the volatility classes, in the order of volatility.
var testClasses = []string{"process", "network", "system", "temp", "disk"}

// bigItem is an item of about 1 KB as JSON, like a collected file's.
func bigItem(i int) evidence.Item {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	it := evidence.Item{Collector: fmt.Sprintf("files.c%02d", i%40), Class: testClasses[i%len(testClasses)],
		Source: fmt.Sprintf("/srv/www/site-%04d/htdocs/assets/images/thumbnails/large/file-%07d.jpeg", i/100, i),
		Path:   fmt.Sprintf("data/fs/srv/www/site-%04d/htdocs/assets/images/thumbnails/large/file-%07d.jpeg", i/100, i),
		Kind:   "file", Status: evidence.Statuses()[i%4], Size: int64(i) * 1000, SHA256: strings.Repeat("ab", 32),
		Before: bigItemStat, After: bigItemStat, NoATime: true, Started: t0, Ended: t0.Add(time.Millisecond)}
	if it.Status != "collected" {
		it.Path, it.SHA256 = "", ""
		it.Reason = fmt.Sprintf("open %s: permission denied (%d)", it.Source, i%700)
	}
	return it
}

// The streamed writer of the tests writes what Marshal writes.
func TestWriteRecordStream(t *testing.T) {
	rec := fullRecord()
	for _, n := range []int{0, 1, 3} {
		rec.Items = []evidence.Item{}
		for i := range n {
			rec.Items = append(rec.Items, bigItem(i))
		}
		want, err := rec.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := writeRecordStream(&got, *rec, n, bigItem); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("%d items: %s", n, firstDiff(got.Bytes(), want))
		}
	}
}

// A member or an item larger than 16 MiB is refused when the limit is
// reached, before it is read whole.
func TestScanRecordRefusesLargeValues(t *testing.T) {
	big := strings.Repeat("a", 20<<20)
	for _, tc := range []struct {
		name, json, msg string
	}{
		{"member", `{"format":"scelle-record/1","case":"` + big + `"}`, `decode record: member "case": larger than 16 MiB`},
		{"unknown member", `{"format":"scelle-record/1","x":["` + big + `"]}`, `decode record: member "x": larger than 16 MiB`},
		{"item", `{"format":"scelle-record/1","items":[{},{"reason":"` + big + `"}]}`, `decode record: item 2: larger than 16 MiB`},
		{"item skipped", `{"format":"scelle-record/1","items":[{},{"reason":"` + big + `"}]}`, `decode record: item 2: larger than 16 MiB`},
		{"spaces", `{"format":"scelle-record/1",` + strings.Repeat(" ", 20<<20) + `"case":"x"}`, `larger than 16 MiB`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fn func(*evidence.Item) error
			if tc.name != "item skipped" {
				fn = func(*evidence.Item) error { return nil }
			}
			src := &countingReader{r: strings.NewReader(tc.json)}
			_, err := ScanRecord(src, fn)
			if !errors.Is(err, errRecordValueTooLarge) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want %q", err, tc.msg)
			}
			if src.n > maxRecordValue+1<<10 {
				t.Fatalf("%d bytes read before the refusal", src.n)
			}
		})
	}
	// Under the limit, the same is read.
	ok := `{"format":"scelle-record/1","case":"` + big[:15<<20] + `","items":[{"reason":"` + big[:15<<20] + `"}]}`
	if rec, err := ReadRecord(strings.NewReader(ok)); err != nil || len(rec.Case) != 15<<20 || len(rec.Items[0].Reason) != 15<<20 {
		t.Fatalf("15 MiB values: %v", err)
	}
}

func TestScanRecordChecks(t *testing.T) {
	fnErr := errors.New("stop")
	for _, tc := range []struct {
		name, json string
		items      int // fn calls before the error
		msg        string
	}{
		{"format after the items", `{"items":[{},{}],"format":"scelle-record/1"}`, 2, ""},
		{"format wrong after the items", `{"items":[{},{}],"format":"scelle-record/2"}`, 2, `record format "scelle-record/2", want "scelle-record/1"`},
		{"no format", `{"items":[{}]}`, 1, `record format "", want`},
		{"trailing data", `{"format":"scelle-record/1"} {}`, 0, "decode record: trailing data"},
		{"not an object", `[{"format":"scelle-record/1"}]`, 0, "decode record: not a JSON object"},
		{"items twice", `{"format":"scelle-record/1","items":[{}],"Items":[{}]}`, 1, `decode record: member "Items": named twice`},
		{"format twice", `{"format":"x","FORMAT":"scelle-record/1"}`, 0, `decode record: member "FORMAT": named twice`},
		{"items not an array", `{"format":"scelle-record/1","items":{}}`, 0, "decode record: items: not an array"},
		{"item not an item", `{"format":"scelle-record/1","items":[{},{"size":"1"}]}`, 1, "decode record: item 2: json: cannot unmarshal"},
		{"fn's error", `{"format":"scelle-record/1","items":[{},{"status":"stop"},{}]}`, 2, "stop"},
		{"truncated", `{"format":"scelle-record/1","items":[{}`, 1, "decode record: items: unexpected EOF"},
		{"truncated item", `{"format":"scelle-record/1","items":[{}, {"kind"`, 1, "decode record: item 2: unexpected EOF"},
		{"truncated member", `{"format":"scelle-record/1"`, 0, "decode record: unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			rec, err := ScanRecord(strings.NewReader(tc.json), func(it *evidence.Item) error {
				if calls++; it.Status == "stop" {
					return fnErr
				}
				return nil
			})
			switch {
			case calls != tc.items:
				t.Errorf("fn called %d times, want %d", calls, tc.items)
			case tc.msg == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.msg == "":
			case err == nil || rec != nil:
				t.Errorf("accepted, want %q", tc.msg)
			case tc.msg == "stop" && err != fnErr:
				t.Errorf("fn's error returned as %v", err)
			case !strings.Contains(err.Error(), tc.msg):
				t.Errorf("got %q, want %q", err, tc.msg)
			}
		})
	}
}

// ReadRecord keeps an empty items array apart from none.
func TestReadRecordEmptyItems(t *testing.T) {
	for in, want := range map[string][]evidence.Item{
		`{"format":"scelle-record/1","items":[]}`:   {},
		`{"format":"scelle-record/1","items":null}`: nil,
		`{"format":"scelle-record/1"}`:              nil,
	} {
		rec, err := ReadRecord(strings.NewReader(in))
		if err != nil || (rec.Items == nil) != (want == nil) || len(rec.Items) != 0 {
			t.Errorf("%s: %#v, %v", in, rec, err)
		}
	}
}

// The reader under the decoder stops at MaxRecord bytes, and tells a
// record that ends there from one that goes on; and it stops a value
// at maxRecordValue bytes past its mark.
func TestRecordReaderLimits(t *testing.T) {
	for _, tc := range []struct {
		size int64
		want error
	}{
		{MaxRecord, nil},
		{MaxRecord + 1, errRecordTooLarge},
	} {
		// As if MaxRecord - 100 bytes had been read.
		const done = MaxRecord - 100
		r := &recordReader{r: &zeroReader{n: tc.size - done}, n: done}
		r.mark(done - 10)
		got, err := io.ReadAll(r)
		if len(got) != 100 || err != tc.want {
			t.Errorf("%d bytes: %d read to the limit, %v", tc.size, len(got), err)
		}
	}
	r := &recordReader{r: &zeroReader{n: 1 << 40}}
	r.mark(10)
	got, err := io.ReadAll(r)
	if len(got) != 10+maxRecordValue || err != errRecordValueTooLarge {
		t.Errorf("%d read past the mark, %v", len(got), err)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// zeroReader reads n zero bytes.
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
