package collect

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
)

// memSink keeps what is put, in order.
type memSink struct {
	names []string
	data  [][]byte
}

func (m *memSink) Put(_ context.Context, meta Meta, r io.Reader) (Stored, error) {
	b, err := io.ReadAll(r)
	m.names = append(m.names, meta.Name)
	m.data = append(m.data, b)
	return Stored{Path: "data/" + meta.Name, Size: int64(len(b))}, err
}

// TestChunks: the chunks, joined in number order, are what was written;
// each holds at most the limit and ends after a newline unless one line
// is longer than the limit; chunk 000 is stored for an empty output; and
// the buffer never grows past the limit, however much is written.
func TestChunks(t *testing.T) {
	var text strings.Builder
	for i := range 4000 {
		fmt.Fprintf(&text, "0|/var/log/file-%d|%s\n", i, strings.Repeat("x", i%97))
	}
	long := strings.Repeat("L", 2500) + "\n" // longer than a chunk
	cases := []struct {
		name, in string
		writes   int // the input is written in this many pieces
	}{
		{"lines", text.String(), 4000},
		{"one write", text.String(), 1},
		{"a line longer than a chunk", "a\n" + long + "b\n", 3},
		{"empty", "", 0},
	}
	const limit = 1000
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sink := &memSink{}
			s := NewSession(&Env{}, fake{name: "bodyfile"}, sink, nil)
			ch := NewChunks(context.Background(), s, "parsed/x", "body", "walk", limit)
			in := []byte(c.in)
			for i := range c.writes {
				lo, hi := len(in)*i/c.writes, len(in)*(i+1)/c.writes
				if _, err := ch.Write(in[lo:hi]); err != nil {
					t.Fatal(err)
				}
				if cap(ch.buf) > limit {
					t.Fatalf("buffer of %d bytes for chunks of %d", cap(ch.buf), limit)
				}
			}
			ch.Close(context.Background())
			if len(sink.names) == 0 {
				t.Fatal("nothing stored")
			}
			for i, n := range sink.names {
				if want := fmt.Sprintf("parsed/x.%03d.body", i); n != want {
					t.Errorf("chunk %d named %q, want %q", i, n, want)
				}
				d := sink.data[i]
				if len(d) > limit {
					t.Errorf("%s: %d bytes", n, len(d))
				}
				if i < len(sink.names)-1 && len(d) < limit && !bytes.HasSuffix(d, []byte("\n")) {
					t.Errorf("%s is cut inside a line: ends %q", n, d[max(0, len(d)-20):])
				}
			}
			if got := bytes.Join(sink.data, nil); string(got) != c.in {
				t.Errorf("joined chunks: %d bytes, want the %d written", len(got), len(c.in))
			}
		})
	}
}
