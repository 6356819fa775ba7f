package netstat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/scelle/scelle/collect"
)

// Bounds on what one item may hold.
const (
	maxRaw       = 64 << 20 // bytes of one kernel table copied as is
	maxConntrack = 64 << 20 // bytes of /proc/net/nf_conntrack copied as is
	maxRecords   = 4 << 20  // records in one JSON Lines file
	maxSmall     = 64 << 10 // a sysfs attribute, a comm
)

// Reasons recorded for items not collected.
const (
	reasonDeadBox     = "dead-box collection: volatile state not available"
	reasonUnsupported = "not supported on " + runtime.GOOS + ": no /proc or netlink"
)

// dumpFunc performs one NETLINK_ROUTE dump request (netlinkDump, or a
// fixture in tests).
type dumpFunc func(ctx context.Context, typ uint16) ([]byte, error)

// base holds what all collectors of the package share.
type base struct {
	name string
	dump dumpFunc // nil: netlinkDump
}

// Name implements collect.Collector.
func (b *base) Name() string { return b.name }

// Class implements collect.Collector.
func (b *base) Class() collect.Class { return collect.ClassNetwork }

func (b *base) netlink(ctx context.Context, typ uint16) ([]byte, error) {
	if b.dump != nil {
		return b.dump(ctx, typ)
	}
	return netlinkDump(ctx, typ)
}

// skipVolatile records every planned source as skipped when the state
// cannot be read (dead-box, unsupported OS). It reports whether it did.
func skipVolatile(s *collect.Session, kind string, sources ...string) bool {
	reason := ""
	switch {
	case !supported:
		reason = reasonUnsupported
	case !s.Env.Live:
		reason = reasonDeadBox
	default:
		return false
	}
	for _, src := range sources {
		s.Skip(src, kind, reason)
	}
	return true
}

// recordWriter writes JSON Lines records, at most maxRecords.
type recordWriter struct {
	enc *json.Encoder
	n   int
}

var errSinkStopped = errors.New("sink stopped reading")

var errRecordCap = fmt.Errorf("record cap of %d reached: further records not written", maxRecords)

// Write writes v as one line.
func (w *recordWriter) Write(v any) error {
	if w.n >= maxRecords {
		return errRecordCap
	}
	w.n++
	return w.enc.Encode(v)
}

// putJSONL stores the JSON Lines records gen writes as name. gen runs in
// its own goroutine while the sink reads, so it must not use s. An error
// from gen after it wrote records makes the item partial, with the error
// as its reason; gen should therefore write all it can and return what
// was missing.
func putJSONL(ctx context.Context, s *collect.Session, name, src string, gen func(w *recordWriter) error) collect.Outcome {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		enc := json.NewEncoder(pw)
		enc.SetEscapeHTML(false)
		err := gen(&recordWriter{enc: enc})
		pw.CloseWithError(err)
	}()
	o := s.PutReader(ctx, name, src, collect.KindGenerated, -1, pr)
	pr.CloseWithError(errSinkStopped)
	<-done
	return o
}

// putRaw stores kernel bytes b (a netlink dump) as name. When err is set
// the item is partial (b is what was received) or failed (b is empty).
func putRaw(ctx context.Context, s *collect.Session, name, src string, b []byte, err error) {
	if err != nil && len(b) == 0 {
		s.Fail(src, collect.KindKernel, err)
		return
	}
	s.PutRead(ctx, name, src, collect.KindKernel, b, err)
}

// problems gathers the reasons a generated item is incomplete.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return errors.New(strings.Join(p, "; "))
}
