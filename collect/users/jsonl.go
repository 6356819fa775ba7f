package users

import (
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/scelle/scelle/collect"
)

// newEncoder returns a JSON Lines encoder that keeps <, > and & as they
// are.
func newEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

var errSinkDone = errors.New("sink stopped reading")

// putJSONL stores the JSON Lines gen writes as the artifact name, whose
// source is the host path source. gen runs twice over the same bytes of
// the source: once to count its output, once to stream it, so that the
// sink is given the exact size and never has to buffer a large output.
// When the counting run fails part way, the output is stored with an
// unknown size and the sink records the read error (partial).
func putJSONL(ctx context.Context, s *collect.Session, name, source string, gen func(io.Writer) error) {
	var cw countWriter
	size := int64(-1)
	if err := gen(&cw); err == nil {
		size = cw.n
	} else if ctx.Err() != nil {
		// Interrupted: the stored form would say nothing more.
		s.Fail(source, collect.KindGenerated, err)
		return
	}
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(gen(pw))
	}()
	s.PutReader(ctx, name, source, collect.KindGenerated, size, pr)
	pr.CloseWithError(errSinkDone)
	<-done
}

// partialLine is the JSON line that reports bytes after the last whole
// record of a file.
type partialLine struct {
	Offset       int64  `json:"offset"`
	RecordSize   int    `json:"record_size"`
	PartialBytes int    `json:"partial_record_bytes"`
	PartialRaw   []byte `json:"partial_record_raw"`
}

func newPartialLine(e *PartialRecordError) partialLine {
	return partialLine{Offset: e.Offset, RecordSize: e.RecordSize, PartialBytes: len(e.Data), PartialRaw: e.Data}
}

// zeroRun is the JSON line that stands for consecutive all-zero records.
type zeroRun struct {
	Offset     int64 `json:"offset"`
	RecordSize int   `json:"record_size"`
	Count      int64 `json:"zero_records"`
}

// writeUtmp writes the records of r as JSON Lines to w: one line per
// record, one line per run of all-zero records, and a last line for a
// partial record.
func writeUtmp(w io.Writer, r *UtmpReader) error {
	enc := newEncoder(w)
	var run zeroRun
	flush := func() error {
		if run.Count == 0 {
			return nil
		}
		err := enc.Encode(run)
		run = zeroRun{}
		return err
	}
	for {
		rec, err := r.Next()
		var pe *PartialRecordError
		switch {
		case errors.Is(err, io.EOF):
			return flush()
		case errors.As(err, &pe):
			if err := flush(); err != nil {
				return err
			}
			if err := enc.Encode(newPartialLine(pe)); err != nil {
				return err
			}
			continue
		case err != nil:
			if ferr := flush(); ferr != nil {
				return ferr
			}
			return err
		}
		if rec.Zero {
			if run.Count == 0 {
				run.Offset, run.RecordSize = rec.Offset, rec.RecordSize
			}
			run.Count++
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		if err := enc.Encode(rec); err != nil {
			return err
		}
	}
}
