// Package collecttest provides an in-memory collect.Sink and outcome recorder
// for collector tests.
package collecttest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"sync"

	"github.com/scelle/scelle/collect"
)

// Sink keeps every artifact in memory. It follows the collect.Sink
// contract: a known size is padded or cut to that size.
type Sink struct {
	mu    sync.Mutex
	Files map[string][]byte // by Meta.Name
	Order []string
}

// Put implements collect.Sink.
func (s *Sink) Put(ctx context.Context, m collect.Meta, r io.Reader) (collect.Stored, error) {
	var buf bytes.Buffer
	var err error
	st := collect.Stored{Path: "data/" + m.Name}
	if m.Size >= 0 {
		var n int64
		n, err = io.Copy(&buf, io.LimitReader(r, m.Size))
		if n < m.Size {
			st.Padded = m.Size - n
			buf.Write(make([]byte, st.Padded))
		} else if err == nil {
			var one [1]byte
			if k, _ := r.Read(one[:]); k > 0 {
				st.Truncated = true
			}
		}
	} else {
		_, err = io.Copy(&buf, r)
	}
	st.Size = int64(buf.Len())
	st.SHA256 = sha256.Sum256(buf.Bytes())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Files == nil {
		s.Files = map[string][]byte{}
	}
	s.Files[m.Name] = buf.Bytes()
	s.Order = append(s.Order, m.Name)
	return st, err
}

// Outcomes records outcomes; its Add method is a Session's callback.
type Outcomes struct {
	mu  sync.Mutex
	All []collect.Outcome
}

// Add records o.
func (o *Outcomes) Add(x collect.Outcome) {
	o.mu.Lock()
	o.All = append(o.All, x)
	o.mu.Unlock()
}

// BySource returns the outcomes whose Source is src.
func (o *Outcomes) BySource(src string) []collect.Outcome {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []collect.Outcome
	for _, x := range o.All {
		if x.Source == src {
			out = append(out, x)
		}
	}
	return out
}
