package memory

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseIomemFixtures(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []Range
	}{
		// An Amazon Firecracker guest: the first range ends mid-page.
		{"firecracker.txt", []Range{{0x1000, 0x9fbff}, {0x100000, 0xbfffffff}, {0x100000000, 0x63fffffff}}},
		// A QEMU guest with 1 GiB: nested kernel lines are ignored.
		{"qemu-1g.txt", []Range{{0x1000, 0x9fbff}, {0x100000, 0x3ffdefff}}},
		// Holes between ranges, a nested "System RAM" (ignored), ranges
		// beyond 4 GiB, a one-page range at the end.
		{"holes.txt", []Range{{0x1000, 0x9ffff}, {0x100000, 0x3fffffff}, {0x40000000, 0x7fffffff},
			{0x100000000, 0x13fffffff}, {0x1c0000000, 0x1c0000fff}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open("testdata/iomem/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := ParseIomem(f)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestParseIomemHidden(t *testing.T) {
	f, err := os.Open("testdata/iomem/hidden.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = ParseIomem(f)
	if !errors.Is(err, ErrIomemHidden) {
		t.Fatalf("got %v, want ErrIomemHidden", err)
	}
	if !strings.Contains(err.Error(), "root") {
		t.Errorf("the error does not say what to do: %v", err)
	}
}

func TestParseIomemErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "no System RAM line"},
		{"no RAM", "00000000-00000fff : Reserved\n", "no System RAM line"},
		{"no separator", "00001000-0009fbff System RAM\n", "line 1: no \" : \""},
		{"no dash", "00001000 : System RAM\n", "line 1: no \"-\""},
		{"bad hex", "0000100g-0009fbff : System RAM\n", "line 1: start"},
		{"prefixed", "0x1000-0x9fbff : System RAM\n", "line 1: start"},
		{"signed", "+1000-9fbff : System RAM\n", "line 1: start"},
		{"empty end", "1000- : System RAM\n", "line 1: end"},
		{"overflow", "1000-10000000000000000 : System RAM\n", "out of range"},
		{"reversed", "00002000-00001fff : System RAM\n", "ends before it starts"},
		{"bad top line", "00001000-0009fbff : System RAM\nrubbish\n", "line 2"},
		{"overlap", "00001000-0009ffff : System RAM\n00090000-000fffff : System RAM\n", "overlaps"},
		{"zero among real", "00000000-00000000 : System RAM\n00100000-001fffff : System RAM\n", "0-0 among real"},
		{"long line", "00001000-0009fbff : System RAM " + strings.Repeat("x", maxIomemLine) + "\n", "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseIomem(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, %v; want an error with %q", got, err, tc.want)
			}
		})
	}
}

func TestParseIomemOddButValid(t *testing.T) {
	// Out of order top-level lines are sorted; touching ranges stay apart;
	// upper-case hex, CRLF-free names holding " : ", nested lines that are
	// not well formed, and blank lines are accepted.
	in := "00100000-001FFFFF : System RAM\n" +
		"  garbage nested line\n" +
		"\n" +
		"00001000-00001fff : System RAM\n" +
		"00002000-00002fff : System RAM\n" +
		"00003000-00003fff : Name : with a colon\n"
	got, err := ParseIomem(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Range{{0x1000, 0x1fff}, {0x2000, 0x2fff}, {0x100000, 0x1fffff}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
