package chain

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"

	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/seal"
)

// ItemSpoolFile is the scratch file in which a running collection keeps
// its record's items, in the output folder while it is ".partial". It is
// zstd-compressed JSON Lines, one item a line, unsigned: what the journal
// proves is authoritative. It is removed once the record is sealed.
const ItemSpoolFile = "record-items.jsonl.zst"

// maxItemLine bounds one spooled item read back.
const maxItemLine = 16 << 20

// maxFailuresKept bounds the failed items an ItemSpool keeps in memory to
// show at the end of a run.
const maxFailuresKept = 20

// ItemSpool holds a record's items out of memory while a collection runs:
// each is appended to a compressed file, and only counts and the first
// failures stay in memory. A million items take about 1 GB as JSON; held
// in memory they would take more. An ItemSpool is not safe for concurrent
// use.
type ItemSpool struct {
	path     string
	f        *os.File
	enc      *zstd.Encoder
	bw       *bufio.Writer
	n        int
	summary  map[string]int
	failures []evidence.Item
	nFailed  int
	err      error
	line     []byte
}

// NewItemSpool creates the spool file path, which must not exist.
func NewItemSpool(path string) (*ItemSpool, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("item spool: %w", err)
	}
	// One goroutine and a small window: the spool must not weigh on the
	// host's memory.
	enc, err := zstd.NewWriter(f, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(1<<20), zstd.WithLowerEncoderMem(true))
	if err != nil {
		f.Close()
		return nil, err
	}
	s := &ItemSpool{path: path, f: f, enc: enc, summary: map[string]int{}}
	s.bw = bufio.NewWriterSize(enc, 64<<10)
	for _, st := range evidence.Statuses() {
		s.summary[string(st)] = 0
	}
	return s, nil
}

// Add appends one item. An error is sticky: every later call returns it.
func (s *ItemSpool) Add(it *evidence.Item) error {
	if s.err != nil {
		return s.err
	}
	b, err := json.Marshal(it)
	if err != nil {
		s.err = fmt.Errorf("item spool: %w", err)
		return s.err
	}
	s.line = append(append(s.line[:0], b...), '\n')
	if _, err := s.bw.Write(s.line); err != nil {
		s.err = fmt.Errorf("item spool: %w", err)
		return s.err
	}
	s.n++
	s.summary[string(it.Status)]++
	if it.Status == evidence.Failed {
		if s.nFailed++; len(s.failures) < maxFailuresKept {
			s.failures = append(s.failures, *it)
		}
	}
	return nil
}

// Len is the number of items added.
func (s *ItemSpool) Len() int { return s.n }

// Summary is the count of items per status, as Record.Summarize makes it.
func (s *ItemSpool) Summary() map[string]int {
	m := make(map[string]int, len(s.summary))
	for k, v := range s.summary {
		m[k] = v
	}
	return m
}

// Failures returns the first failed items (at most 20) and how many
// failed in all.
func (s *ItemSpool) Failures() ([]evidence.Item, int) { return s.failures, s.nFailed }

// Close ends the spool file; the items can then be written out.
func (s *ItemSpool) Close() error {
	if s.f == nil {
		return s.err
	}
	err := s.bw.Flush()
	if e := s.enc.Close(); err == nil {
		err = e
	}
	if e := s.f.Close(); err == nil {
		err = e
	}
	s.f = nil
	if err != nil && s.err == nil {
		s.err = fmt.Errorf("item spool: %w", err)
	}
	return s.err
}

// Remove closes the spool and deletes its file.
func (s *ItemSpool) Remove() error {
	s.Close()
	return os.Remove(s.path)
}

// WriteRecord writes rec to w as Record.Marshal would with the spooled
// items as rec.Items (which must be empty) and the spool's summary: the
// same bytes, made without holding the items. It closes the spool.
func (s *ItemSpool) WriteRecord(w io.Writer, rec Record) error {
	if len(rec.Items) > 0 {
		return errors.New("write record: items both in the record and in the spool")
	}
	if err := s.Close(); err != nil {
		return err
	}
	rec.Items, rec.Summary = []evidence.Item{}, s.Summary()
	head, err := rec.Marshal()
	if err != nil {
		return err
	}
	if s.n == 0 {
		_, err := w.Write(head)
		return err
	}
	// The items member is the only one at the top level indented by one
	// space: nested members are indented more, and quotes inside strings
	// are escaped.
	const marker = "\n \"items\": ["
	i := bytes.Index(head, []byte(marker+"]"))
	if i < 0 {
		return errors.New("write record: no items member")
	}
	cut := i + len(marker)
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head[:cut])
	f, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("item spool: %w", err)
	}
	defer f.Close()
	dec, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(1<<20))
	if err != nil {
		return err
	}
	defer dec.Close()
	br := bufio.NewReaderSize(dec, 64<<10)
	var ind bytes.Buffer
	n := 0
	for {
		line, err := seal.ReadLine(br, maxItemLine)
		if err == io.EOF && len(line) == 0 {
			break
		}
		if err != nil {
			return fmt.Errorf("item spool: item %d: %w", n+1, err)
		}
		ind.Reset()
		if err := json.Indent(&ind, line, "  ", " "); err != nil {
			return fmt.Errorf("item spool: item %d: %w", n+1, err)
		}
		if n > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n  ")
		bw.Write(ind.Bytes())
		n++
	}
	if n != s.n {
		return fmt.Errorf("item spool: %d items read back, %d written", n, s.n)
	}
	bw.WriteString("\n ")
	bw.Write(head[cut:])
	return bw.Flush()
}
