package winlive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"

	"github.com/scelle/scelle/collect"
)

// Reasons recorded for items not collected.
const (
	reasonDeadBox     = "dead-box collection: volatile state not available"
	reasonUnsupported = "not supported on " + runtime.GOOS + ": no Windows API"
)

// Bounds.
const (
	maxString     = 32 << 10 // bytes of one string read from another process (a command line)
	maxJSONL      = 256 << 20
	maxHostsFile  = 16 << 20
	maxImageBytes = 4 << 30 // bytes hashed of one image file
)

// collector is one native of the package: its name, class and the
// function that collects it on a live host.
type collector struct {
	name  string
	class collect.Class
	// sources are the items it plans, recorded as skipped when the host
	// cannot be read live.
	sources []string
	run     func(ctx context.Context, s *collect.Session) error
}

// Name implements collect.Collector.
func (c *collector) Name() string { return c.name }

// Class implements collect.Collector.
func (c *collector) Class() collect.Class { return c.class }

// Collect implements collect.Collector.
func (c *collector) Collect(ctx context.Context, s *collect.Session) error {
	reason := ""
	switch {
	case c.run == nil:
		reason = reasonUnsupported
	case !s.Env.Live:
		reason = reasonDeadBox
	}
	if reason != "" {
		for _, src := range c.sources {
			s.Skip(src, collect.KindGenerated, reason)
		}
		return nil
	}
	return c.run(ctx, s)
}

// lines encodes records as JSON Lines, without HTML escaping.
type lines struct {
	buf bytes.Buffer
	enc *json.Encoder
	err error
}

func newLines() *lines {
	l := &lines{}
	l.enc = json.NewEncoder(&l.buf)
	l.enc.SetEscapeHTML(false)
	return l
}

func (l *lines) add(v any) {
	if l.err != nil {
		return
	}
	if l.buf.Len() > maxJSONL {
		l.err = fmt.Errorf("records cut at %d bytes", maxJSONL)
		return
	}
	if err := l.enc.Encode(v); err != nil {
		l.err = fmt.Errorf("encode %T: %w", v, err)
	}
}

// putLines stores each record of recs as one JSON line, as name. err,
// when set, says what the records lack: the item is then partial, or
// failed when there is no record.
func putLines[T any](ctx context.Context, s *collect.Session, name, source string, recs []T, err error) collect.Outcome {
	l := newLines()
	for i := range recs {
		l.add(&recs[i])
	}
	err = errors.Join(err, l.err)
	if len(recs) == 0 && err != nil {
		o := collect.Outcome{Source: source, Kind: collect.KindGenerated, Status: collect.Failed, Reason: err.Error()}
		s.Record(o)
		return o
	}
	return s.PutRead(ctx, name, source, collect.KindGenerated, l.buf.Bytes(), err)
}

// putJSON stores v as one JSON document.
func putJSON(ctx context.Context, s *collect.Session, name, source string, v any, err error) collect.Outcome {
	l := newLines()
	l.add(v)
	return s.PutRead(ctx, name, source, collect.KindGenerated, l.buf.Bytes(), errors.Join(err, l.err))
}

// putRaw stores the bytes b an API returned, as name; a call that failed
// with nothing returned is recorded as failed.
func putRaw(ctx context.Context, s *collect.Session, name, source string, b []byte, err error) {
	if err != nil && len(b) == 0 {
		s.Fail(source, collect.KindKernel, err)
		return
	}
	s.PutRead(ctx, name, source, collect.KindKernel, b, err)
}
