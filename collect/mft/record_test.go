package mft

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// rec describes a synthetic FILE record for tests and benchmarks.
type rec struct {
	seq     uint16
	inUse   bool
	dir     bool
	base    Ref
	parent  Ref
	name    string
	ns      uint8
	size    int64  // unnamed $DATA: resident when <= 256 bytes
	stream  string // a named stream of 10 bytes
	t       time.Time
	list    []ListEntry
	noName  bool
	noSI    bool
	noData  bool
	rawAttr []byte // appended as it is before the end marker
}

const testRecSize = 1024

// encode makes the record as it is on disk: fixups applied.
func (r rec) encode() []byte {
	b := make([]byte, testRecSize)
	copy(b, "FILE")
	binary.LittleEndian.PutUint16(b[0x04:], 0x30)              // update sequence array offset
	binary.LittleEndian.PutUint16(b[0x06:], testRecSize/512+1) // its entries
	binary.LittleEndian.PutUint16(b[0x10:], r.seq)
	binary.LittleEndian.PutUint16(b[0x12:], 1)
	binary.LittleEndian.PutUint16(b[0x14:], 0x38)
	var flags uint16
	if r.inUse {
		flags |= flagInUse
	}
	if r.dir {
		flags |= flagDirectory
	}
	binary.LittleEndian.PutUint16(b[0x16:], flags)
	binary.LittleEndian.PutUint32(b[0x1c:], testRecSize)
	binary.LittleEndian.PutUint64(b[0x20:], uint64(r.base))
	off := 0x38
	id := uint16(0)
	add := func(typ uint32, name string, value []byte) {
		nameLen := 2 * len(utf16.Encode([]rune(name)))
		voff := 0x18 + nameLen
		voff = (voff + 7) &^ 7
		length := (voff + len(value) + 7) &^ 7
		a := b[off : off+length]
		binary.LittleEndian.PutUint32(a, typ)
		binary.LittleEndian.PutUint32(a[4:], uint32(length))
		a[9] = byte(nameLen / 2)
		binary.LittleEndian.PutUint16(a[10:], 0x18)
		putUTF16(a[0x18:], name)
		binary.LittleEndian.PutUint16(a[14:], id)
		binary.LittleEndian.PutUint32(a[0x10:], uint32(len(value)))
		binary.LittleEndian.PutUint16(a[0x14:], uint16(voff))
		copy(a[voff:], value)
		off += length
		id++
	}
	ft := filetimeOf(r.t)
	if !r.noSI {
		si := make([]byte, 0x48)
		for i := 0; i < 4; i++ {
			binary.LittleEndian.PutUint64(si[8*i:], ft+uint64(i)*1e7)
		}
		binary.LittleEndian.PutUint32(si[0x20:], 0x20)
		add(attrStandardInformation, "", si)
	}
	if len(r.list) > 0 {
		var l []byte
		for _, e := range r.list {
			x := make([]byte, 0x20)
			binary.LittleEndian.PutUint32(x, e.Type)
			binary.LittleEndian.PutUint16(x[4:], 0x20)
			binary.LittleEndian.PutUint64(x[8:], e.StartVCN)
			binary.LittleEndian.PutUint64(x[0x10:], uint64(e.Record))
			l = append(l, x...)
		}
		add(attrAttributeList, "", l)
	}
	if !r.noName {
		u := utf16.Encode([]rune(r.name))
		fn := make([]byte, 0x42+2*len(u))
		binary.LittleEndian.PutUint64(fn, uint64(r.parent))
		for i := 0; i < 4; i++ {
			binary.LittleEndian.PutUint64(fn[8+8*i:], ft)
		}
		binary.LittleEndian.PutUint64(fn[0x30:], uint64(r.size))
		fn[0x40] = byte(len(u))
		fn[0x41] = r.ns
		putUTF16(fn[0x42:], r.name)
		add(attrFileName, "", fn)
	}
	switch {
	case r.noData || r.dir:
	case r.size <= 256:
		add(attrData, "", bytes.Repeat([]byte{'d'}, int(r.size)))
	default:
		// Non-resident: one run.
		a := b[off : off+0x48]
		binary.LittleEndian.PutUint32(a, attrData)
		binary.LittleEndian.PutUint32(a[4:], 0x48)
		a[8] = 1
		binary.LittleEndian.PutUint16(a[10:], 0x40)
		binary.LittleEndian.PutUint16(a[14:], id)
		binary.LittleEndian.PutUint16(a[0x20:], 0x40)
		alloc := (r.size + 4095) &^ 4095
		binary.LittleEndian.PutUint64(a[0x18:], uint64(alloc/4096-1))
		binary.LittleEndian.PutUint64(a[0x28:], uint64(alloc))
		binary.LittleEndian.PutUint64(a[0x30:], uint64(r.size))
		binary.LittleEndian.PutUint64(a[0x38:], uint64(r.size))
		copy(a[0x40:], []byte{0x31, 0x10, 0x20, 0x00, 0x00})
		off += 0x48
		id++
	}
	if r.stream != "" {
		add(attrData, r.stream, []byte("zone=3\r\n\r\n"))
	}
	if len(r.rawAttr) > 0 {
		copy(b[off:], r.rawAttr)
		off += len(r.rawAttr)
	}
	binary.LittleEndian.PutUint32(b[off:], attrEnd)
	off += 8
	binary.LittleEndian.PutUint32(b[0x18:], uint32(off))
	// Fixups: save each sector's last two bytes, put the USN there.
	usn := []byte{0x07, 0x00}
	copy(b[0x30:], usn)
	for i := 0; i < testRecSize/512; i++ {
		end := (i+1)*512 - 2
		copy(b[0x32+2*i:], b[end:end+2])
		copy(b[end:], usn)
	}
	return b
}

func putUTF16(b []byte, s string) {
	for i, u := range utf16.Encode([]rune(s)) {
		binary.LittleEndian.PutUint16(b[2*i:], u)
	}
}

func filetimeOf(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano()/100 + 116444736000000000)
}

func ref(entry uint64, seq uint16) Ref { return Ref(uint64(seq)<<48 | entry) }

var t0 = time.Date(2024, 5, 6, 7, 8, 9, 123456700, time.UTC)

func TestParseRecord(t *testing.T) {
	b := rec{seq: 3, inUse: true, parent: ref(5, 5), name: "évidence.txt", ns: NamespaceWin32, size: 5000, stream: "Zone.Identifier", t: t0}.encode()
	r, err := ParseRecord(b, 42)
	if err != nil {
		t.Fatal(err)
	}
	if r.Entry != 42 || r.Sequence != 3 || !r.InUse || r.Dir || !r.HasSI {
		t.Errorf("header: %+v", r)
	}
	if !r.SI.Created.Equal(t0) || !r.SI.Modified.Equal(t0.Add(time.Second)) || !r.SI.Changed.Equal(t0.Add(2*time.Second)) || !r.SI.Accessed.Equal(t0.Add(3*time.Second)) {
		t.Errorf("si %+v", r.SI)
	}
	n, ok := r.Name()
	if !ok || n.Name != "évidence.txt" || n.Parent != ref(5, 5) || !n.Times.Created.Equal(t0) {
		t.Errorf("name %+v", n)
	}
	d, ok := r.Data()
	if !ok || d.Size != 5000 || d.Resident || d.Runs != 1 || d.Allocated != 8192 {
		t.Errorf("data %+v", d)
	}
	if len(r.Streams) != 2 || r.Streams[1].Name != "Zone.Identifier" || r.Streams[1].Size != 10 {
		t.Errorf("streams %+v", r.Streams)
	}
}

// TestParseRecordHostile: each damaged record gets the error that names
// its damage, and nothing else happens.
func TestParseRecordHostile(t *testing.T) {
	good := func() []byte { return rec{seq: 1, inUse: true, parent: ref(5, 5), name: "a", t: t0}.encode() }
	attr := func(b []byte) int { return int(binary.LittleEndian.Uint16(b[0x14:])) }
	for _, tc := range []struct {
		name string
		mod  func(b []byte) []byte
		want error
	}{
		{"zero", func(b []byte) []byte { return make([]byte, len(b)) }, ErrEmpty},
		{"baad", func(b []byte) []byte { copy(b, "BAAD"); return b }, ErrBadMagic},
		{"short", func(b []byte) []byte { return b[:100] }, ErrBadMagic},
		{"torn sector", func(b []byte) []byte { b[1022] ^= 0xff; return b }, ErrFixup},
		{"usa count", func(b []byte) []byte { binary.LittleEndian.PutUint16(b[6:], 9); return b }, ErrFixup},
		{"usa offset", func(b []byte) []byte { binary.LittleEndian.PutUint16(b[4:], 0x1f0); return b }, ErrFixup},
		{"first attribute outside", func(b []byte) []byte { binary.LittleEndian.PutUint16(b[0x14:], 0xfff0); return b }, ErrAttribute},
		{"huge attribute length", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[attr(b)+4:], 0xfffffff8)
			return b
		}, ErrAttribute},
		{"zero attribute length", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[attr(b)+4:], 0); return b }, ErrAttribute},
		{"value outside", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[attr(b)+0x10:], 0x7fffffff)
			return b
		}, ErrAttribute},
		{"name outside", func(b []byte) []byte { b[attr(b)+9] = 0xff; return b }, ErrAttribute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRecord(tc.mod(good()), 7)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), "entry 7") {
				t.Errorf("error %q does not name the entry", err)
			}
		})
	}
}

// mftOf lays out records by entry number; missing entries are zero.
func mftOf(recs map[uint64]rec, n int) []byte {
	b := make([]byte, n*testRecSize)
	for num, r := range recs {
		copy(b[int(num)*testRecSize:], r.encode())
	}
	return b
}

func walkAll(t *testing.T, mft []byte, opts Options) (map[uint64]*Entry, Stats) {
	t.Helper()
	got := map[uint64]*Entry{}
	st, err := Walk(context.Background(), bytes.NewReader(mft), int64(len(mft)), opts, func(e *Entry) error {
		got[e.Entry] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, st
}

// TestWalkPaths: paths through folders before and after their children,
// through a cache of one folder, deleted parents, reused parents,
// parent loops and a parent that is a file.
func TestWalkPaths(t *testing.T) {
	recs := map[uint64]rec{
		0:  {seq: 1, inUse: true, parent: ref(5, 5), name: "$MFT", size: 4 << 20},
		5:  {seq: 5, inUse: true, dir: true, parent: ref(5, 5), name: "."},
		20: {seq: 1, inUse: true, parent: ref(30, 2), name: "late-parent.txt"},  // parent after it
		30: {seq: 2, inUse: true, dir: true, parent: ref(31, 1), name: "Users"}, // its parent after it too
		31: {seq: 1, inUse: true, dir: true, parent: ref(5, 5), name: "Top"},    //
		32: {seq: 1, inUse: true, parent: ref(31, 1), name: "file"},             //
		40: {seq: 4, dir: true, parent: ref(5, 5), name: "gone"},                // deleted folder (seq bumped from 3)
		41: {seq: 2, parent: ref(40, 3), name: "deleted.txt"},                   // deleted child of the deleted folder
		42: {seq: 1, inUse: true, parent: ref(30, 1), name: "stale"},            // parent reused since: sequence 1, not 2
		50: {seq: 1, inUse: true, dir: true, parent: ref(51, 1), name: "loopA"}, //
		51: {seq: 1, inUse: true, dir: true, parent: ref(50, 1), name: "loopB"}, //
		52: {seq: 1, inUse: true, parent: ref(50, 1), name: "in-loop"},          //
		53: {seq: 1, inUse: true, dir: true, parent: ref(53, 1), name: "self"},  //
		54: {seq: 1, inUse: true, parent: ref(32, 1), name: "child-of-a-file"},  //
		55: {seq: 1, inUse: true, parent: ref(9999, 1), name: "past-the-end"},   //
		56: {seq: 1, inUse: true, parent: ref(31, 1), name: "a\\b|c%d", ns: 0},  //
		57: {seq: 1, inUse: true, noName: true},                                 // no name: no path
		58: {seq: 1, inUse: true, parent: ref(31, 1), name: "link1", ns: 1},     //
	}
	mft := mftOf(recs, 64)
	for _, cache := range []int{1, 1000} {
		got, st := walkAll(t, mft, Options{PathCache: cache})
		want := map[uint64]string{
			0: `\$MFT`, 5: `\`, 20: `\Top\Users\late-parent.txt`, 30: `\Top\Users`, 32: `\Top\file`,
			40: `\gone`, 41: `\gone\deleted.txt`, 42: `\$OrphanFiles\stale`,
			52: `\$OrphanFiles\loopB\loopA\in-loop`, 53: `\$OrphanFiles\self`,
			54: `\$OrphanFiles\child-of-a-file`, 55: `\$OrphanFiles\past-the-end`, 56: `\Top\a\b|c%d`, 57: "",
		}
		for num, p := range want {
			e, ok := got[num]
			if !ok {
				t.Errorf("cache %d: entry %d not yielded", cache, num)
				continue
			}
			if num == 52 {
				// Where a loop is cut depends on which folder is met first; it is an orphan either way.
				if !e.Orphan || !strings.HasSuffix(e.Path, `\in-loop`) || !strings.HasPrefix(e.Path, `\$OrphanFiles\`) {
					t.Errorf("cache %d: entry 52: %q orphan %v", cache, e.Path, e.Orphan)
				}
				continue
			}
			if e.Path != p || e.Orphan != strings.HasPrefix(p, `\$OrphanFiles`) {
				t.Errorf("cache %d: entry %d: path %q orphan %v, want %q", cache, num, e.Path, e.Orphan, p)
			}
		}
		if got[41].Record.InUse || !got[20].Record.InUse {
			t.Errorf("in use: 41 %v, 20 %v", got[41].Record.InUse, got[20].Record.InUse)
		}
		if st.Entries != int64(len(recs)) || st.Deleted != 2 || st.Empty != int64(64-len(recs)) {
			t.Errorf("cache %d: stats %+v", cache, st)
		}
	}
}

// TestWalkAttributeList: names and streams in extension records are
// folded into the base entry; an extension record is not yielded; a list
// that points at records of another entry, at itself or past the end is
// an error of that entry only.
func TestWalkAttributeList(t *testing.T) {
	recs := map[uint64]rec{
		0:  {seq: 1, inUse: true, parent: ref(5, 5), name: "$MFT"},
		5:  {seq: 5, inUse: true, dir: true, parent: ref(5, 5), name: "."},
		10: {seq: 1, inUse: true, noName: true, noData: true, list: []ListEntry{{Type: attrStandardInformation, Record: ref(10, 1)}, {Type: attrFileName, Record: ref(11, 1)}, {Type: attrData, Record: ref(12, 1)}}},
		11: {seq: 1, inUse: true, base: ref(10, 1), noSI: true, parent: ref(5, 5), name: "big.bin", size: 0, dir: true},
		12: {seq: 1, inUse: true, base: ref(10, 1), noSI: true, noName: true, size: 100000},
		13: {seq: 1, inUse: true, noName: true, list: []ListEntry{{Type: attrFileName, Record: ref(11, 1)}}}, // 11 is 10's
		14: {seq: 1, inUse: true, noName: true, list: []ListEntry{{Type: attrFileName, Record: ref(14, 1)}, {Type: attrData, Record: ref(1<<40, 1)}}},
	}
	got, st := walkAll(t, mftOf(recs, 16), Options{})
	e := got[10]
	if e == nil || e.Err != nil || e.Path != `\big.bin` {
		t.Fatalf("entry 10: %+v", e)
	}
	if d, ok := e.Record.Data(); !ok || d.Size != 100000 {
		t.Errorf("entry 10: data %+v", e.Record.Streams)
	}
	if got[11] != nil || got[12] != nil || st.Extensions != 2 {
		t.Errorf("extension records yielded, stats %+v", st)
	}
	for _, n := range []uint64{13, 14} {
		if got[n] == nil || !errors.Is(got[n].Err, ErrAttribute) {
			t.Errorf("entry %d: %+v", n, got[n])
		}
	}
}

// TestWalkRecordSize: a first record that is not a FILE record, or a
// record size NTFS does not use, stops the walk with ErrRecordSize.
func TestWalkRecordSize(t *testing.T) {
	good := rec{seq: 1, inUse: true, parent: ref(5, 5), name: "$MFT"}.encode()
	for _, b := range [][]byte{make([]byte, 4096), append([]byte("BAAD"), good[4:]...), func() []byte {
		c := append([]byte(nil), good...)
		binary.LittleEndian.PutUint32(c[0x1c:], 1000)
		return c
	}()} {
		_, err := Walk(context.Background(), bytes.NewReader(b), int64(len(b)), Options{}, func(*Entry) error { return nil })
		if !errors.Is(err, ErrRecordSize) {
			t.Errorf("error %v, want ErrRecordSize", err)
		}
	}
}

func FuzzParseRecord(f *testing.F) {
	f.Add(rec{seq: 1, inUse: true, parent: ref(5, 5), name: "a", size: 9000, stream: "Zone.Identifier", t: t0}.encode())
	f.Add(rec{seq: 1, inUse: true, noName: true, list: []ListEntry{{Type: attrFileName, Record: ref(3, 1)}}}.encode())
	torn := rec{seq: 2, parent: ref(5, 5), name: "b"}.encode()
	torn[510] ^= 1
	f.Add(torn)
	huge := rec{seq: 1, inUse: true, parent: ref(5, 5), name: "c"}.encode()
	binary.LittleEndian.PutUint32(huge[0x38+4:], 0xfffffff0)
	f.Add(huge)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRecord(b, 1)
		if err == nil && r == nil {
			t.Fatal("no record and no error")
		}
		if r != nil {
			r.Name()
			r.Data()
		}
	})
}

// FuzzWalk walks a hostile $MFT of a few records: it ends, with an error
// or a path for each entry, and never panics.
func FuzzWalk(f *testing.F) {
	f.Add(mftOf(map[uint64]rec{
		0: {seq: 1, inUse: true, parent: ref(5, 5), name: "$MFT"},
		1: {seq: 1, inUse: true, dir: true, parent: ref(2, 1), name: "x"},
		2: {seq: 1, inUse: true, dir: true, parent: ref(1, 1), name: "y"},
		3: {seq: 1, inUse: true, noName: true, list: []ListEntry{{Type: attrFileName, Record: ref(3, 1)}, {Type: attrData, Record: ref(2, 1)}}},
	}, 4))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 64*testRecSize {
			return
		}
		_, _ = Walk(context.Background(), bytes.NewReader(b), int64(len(b)), Options{PathCache: 2}, func(e *Entry) error {
			if e.Record == nil && e.Err == nil {
				t.Fatal("entry without record or error")
			}
			return nil
		})
	})
}

// TestAppendTime: the timeline's own time formatting is time.Format's
// with TimeLayout, over the range of NTFS times.
func TestAppendTime(t *testing.T) {
	for _, tm := range []time.Time{filetime(1), t0, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 999999900, time.UTC),
		filetime(2650467743999999999), time.Date(2024, 2, 29, 12, 34, 56, 700, time.UTC)} {
		if got, want := timeString(tm), tm.UTC().Format(TimeLayout); got != want {
			t.Errorf("%s, want %s", got, want)
		}
	}
}

// TestAppendJSON: the timeline's own JSON encoding is encoding/json's,
// on entries with every field set and hostile strings.
func TestAppendJSON(t *testing.T) {
	p, s := uint64(5), uint16(5)
	for _, te := range []TimelineEntry{
		{},
		{Entry: 1 << 40, Sequence: 65535, InUse: true, Dir: true, Path: "\\a\"b\\\x01\x1f\t\n\r\b\f<>&\u2028\u2029é\xff\xfe", Orphan: true,
			Name: "n", Namespace: "win32", Parent: &p, ParentSeq: &s, Size: -1, Allocated: 1 << 62, Resident: true, Sparse: true,
			Compressed: true, Encrypted: true, Runs: 3, Attributes: "0x20", LinkCount: 2, LSN: 1 << 63,
			SI: &MACB{Modified: "m", Accessed: "a", Changed: "c", Created: "b"}, FN: &MACB{},
			Links: []string{"x", "y"}, Streams: []StreamInfo{{Name: "Zone.Identifier", Size: 3, Resident: true}, {Name: "s"}}, Error: "e"},
	} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&te); err != nil {
			t.Fatal(err)
		}
		if got := appendJSON(nil, &te); string(got) != want.String() {
			t.Errorf("appendJSON:\n%s\nencoding/json:\n%s", got, want.String())
		}
	}
}

// FuzzAppendString: the timeline's JSON strings are encoding/json's for
// any bytes (names come from hostile records).
func FuzzAppendString(f *testing.F) {
	f.Add("\\Users\\a\"b\x00\x1f\u2028é\xff")
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := string(appendString(nil, s)) + "\n"; got != want.String() {
			t.Fatalf("%q: %s, encoding/json %s", s, got, want.String())
		}
	})
}
