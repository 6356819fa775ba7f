package mft

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strconv"
	"time"

	"github.com/scelle/scelle/internal/bodyfmt"
)

// TimeLayout is the layout of the JSON Lines times: RFC 3339 in UTC with
// the seven fraction digits of an NTFS time (100 ns).
const TimeLayout = "2006-01-02T15:04:05.0000000Z"

// TimelineEntry is one line of the JSON Lines timeline: an $MFT entry
// with its $STANDARD_INFORMATION and $FILE_NAME times side by side.
type TimelineEntry struct {
	Entry      uint64  `json:"entry"`
	Sequence   uint16  `json:"sequence"`
	InUse      bool    `json:"in_use"`
	Deleted    bool    `json:"deleted"`
	Dir        bool    `json:"dir"`
	Path       string  `json:"path,omitempty"`
	Orphan     bool    `json:"orphan,omitempty"`
	Name       string  `json:"name,omitempty"`
	Namespace  string  `json:"namespace,omitempty"`
	Parent     *uint64 `json:"parent_entry,omitempty"`
	ParentSeq  *uint16 `json:"parent_sequence,omitempty"`
	Size       int64   `json:"size"`
	Allocated  int64   `json:"allocated"`
	Resident   bool    `json:"resident,omitempty"`
	Sparse     bool    `json:"sparse,omitempty"`
	Compressed bool    `json:"compressed,omitempty"`
	Encrypted  bool    `json:"encrypted,omitempty"`
	Runs       int     `json:"runs,omitempty"`
	Attributes string  `json:"attributes,omitempty"`
	LinkCount  uint16  `json:"link_count"`
	LSN        uint64  `json:"lsn"`
	SI         *MACB   `json:"si,omitempty"`
	FN         *MACB   `json:"fn,omitempty"`
	// Links are the entry's other names (hard links), as full paths.
	Links   []string     `json:"links,omitempty"`
	Streams []StreamInfo `json:"streams,omitempty"`
	Error   string       `json:"error,omitempty"`
}

// MACB are four times in TimeLayout; "" for a zero time.
type MACB struct {
	Modified string `json:"modified"`
	Accessed string `json:"accessed"`
	Changed  string `json:"changed"`
	Created  string `json:"created"`
}

// StreamSize returns the size of the entry's data stream name ("" for
// the unnamed one), or -1 when it has none of that name.
func (e TimelineEntry) StreamSize(name string) int64 {
	if name == "" {
		return e.Size
	}
	for _, s := range e.Streams {
		if s.Name == name {
			return s.Size
		}
	}
	return -1
}

// StreamInfo is a named data stream of an entry.
type StreamInfo struct {
	Name     string `json:"name"`
	Size     int64  `json:"size"`
	Resident bool   `json:"resident,omitempty"`
}

// Timeline writes the $MFT stream r (size bytes) as a Sleuth Kit bodyfile
// to body and as JSON Lines (one TimelineEntry per line) to jsonl; either
// writer may be nil. Prefix is put before every bodyfile name ("C:" or a
// volume's name). The writers are buffered here and flushed before
// Timeline returns; errors of the writers end the walk.
//
// Bodyfile lines, as fls -m writes them for NTFS: for each entry, one
// line with its $STANDARD_INFORMATION times, one "name ($FILE_NAME)"
// line with the $FILE_NAME times, one "name:stream" line for each named
// stream; a deleted entry's names end with " (deleted)". The inode field
// is entry-type-id (type 128 for $DATA, 48 for $FILE_NAME); the mode is
// "r/rrwxrwxrwx" or "d/drwxrwxrwx", without the write bits for a
// read-only file. Paths use '/' (fls's form); names are escaped as
// internal/bodyfmt escapes them.
func Timeline(ctx context.Context, r io.ReaderAt, size int64, opts Options, prefix string, body, jsonl io.Writer) (Stats, error) {
	t := newTimelineWriter(prefix, body, jsonl)
	st, err := Walk(ctx, r, size, opts, t.write)
	if ferr := t.flush(); err == nil {
		err = ferr
	}
	return st, err
}

type timelineWriter struct {
	prefix string
	body   *bufio.Writer
	jsonl  *bufio.Writer
	line   bytes.Buffer
	js     []byte
}

func newTimelineWriter(prefix string, body, jsonl io.Writer) *timelineWriter {
	t := &timelineWriter{prefix: prefix}
	if body != nil {
		t.body = bufio.NewWriterSize(body, 64<<10)
	}
	if jsonl != nil {
		t.jsonl = bufio.NewWriterSize(jsonl, 64<<10)
	}
	return t
}

func (t *timelineWriter) flush() error {
	for _, w := range []*bufio.Writer{t.body, t.jsonl} {
		if w != nil {
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *timelineWriter) write(e *Entry) error {
	if t.jsonl != nil {
		t.js = appendJSON(t.js[:0], NewTimelineEntry(e))
		if _, err := t.jsonl.Write(t.js); err != nil {
			return err
		}
	}
	if t.body != nil && e.Record != nil && e.Path != "" {
		t.bodyLines(e)
		if _, err := t.body.Write(t.line.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// NewTimelineEntry is e as a line of the JSON Lines timeline.
func NewTimelineEntry(e *Entry) *TimelineEntry {
	te := &TimelineEntry{Entry: e.Entry, Path: e.Path, Orphan: e.Orphan, Links: e.Links}
	if e.Err != nil {
		te.Error = e.Err.Error()
	}
	rec := e.Record
	if rec == nil {
		return te
	}
	te.Sequence, te.InUse, te.Deleted, te.Dir = rec.Sequence, rec.InUse, !rec.InUse, rec.Dir
	te.LinkCount, te.LSN = rec.LinkCount, rec.LSN
	if rec.ListNonResident && te.Error == "" {
		te.Error = "attribute list not resident: the names and streams of its extension records are not read"
	}
	if rec.HasSI {
		te.SI = macb(rec.SI)
		te.Attributes = "0x" + strconv.FormatUint(uint64(rec.Attributes), 16)
	}
	if n, ok := rec.Name(); ok {
		te.Name, te.Namespace = n.Name, namespaceName(n.Namespace)
		p, s := n.Parent.Entry(), n.Parent.Sequence()
		te.Parent, te.ParentSeq = &p, &s
		te.FN = macb(n.Times)
		te.Size, te.Allocated = n.Size, n.Allocated
	}
	if d, ok := rec.Data(); ok {
		te.Size, te.Allocated, te.Resident, te.Runs = d.Size, d.Allocated, d.Resident, d.Runs
		te.Sparse, te.Compressed, te.Encrypted = d.Sparse, d.Compressed, d.Encrypted
	}
	for _, s := range rec.Streams {
		if s.Name != "" {
			te.Streams = append(te.Streams, StreamInfo{Name: s.Name, Size: s.Size, Resident: s.Resident})
		}
	}
	return te
}

func macb(t Times) *MACB {
	return &MACB{Modified: timeString(t.Modified), Accessed: timeString(t.Accessed),
		Changed: timeString(t.Changed), Created: timeString(t.Created)}
}

func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	var b [28]byte
	return string(appendTime(b[:0], t.UTC()))
}

func namespaceName(ns uint8) string {
	switch ns {
	case NamespacePOSIX:
		return "posix"
	case NamespaceWin32:
		return "win32"
	case NamespaceDOS:
		return "dos"
	case NamespaceWin32DOS:
		return "win32+dos"
	}
	return strconv.Itoa(int(ns))
}

// bodyLines writes e's bodyfile lines into t.line.
func (t *timelineWriter) bodyLines(e *Entry) {
	t.line.Reset()
	rec := e.Record
	name := t.prefix + windowsToSlash(e.Path)
	deleted := ""
	if !rec.InUse {
		deleted = " (deleted)"
	}
	mode := modes[0]
	if rec.Dir {
		mode = modes[2]
	}
	if rec.Attributes&0x1 != 0 { // FILE_ATTRIBUTE_READONLY
		mode = modes[1]
		if rec.Dir {
			mode = modes[3]
		}
	}
	var size int64
	var dataID uint16
	if d, ok := rec.Data(); ok {
		size, dataID = d.Size, d.ID
	}
	n, hasName := rec.Name()
	if !rec.HasSI && hasName {
		size = n.Size
	}
	if rec.HasSI {
		t.bodyLine(name, "", "", deleted, rec.Entry, 128, dataID, mode, size, rec.SI)
	}
	if hasName {
		t.bodyLine(name, " ($FILE_NAME)", "", deleted, rec.Entry, 48, n.ID, mode, size, n.Times)
	}
	for _, s := range rec.Streams {
		if s.Name != "" && rec.HasSI {
			t.bodyLine(name, ":", s.Name, deleted, rec.Entry, 128, s.ID, mode, s.Size, rec.SI)
		}
	}
}

// modes are the bodyfile modes of a file, a read-only file, a folder and
// a read-only folder.
var modes = [4]string{bodyfmt.Mode(0o100777), bodyfmt.Mode(0o100555), bodyfmt.Mode(0o040777), bodyfmt.Mode(0o040555)}

// bodyLine writes one line for name, then sep and sub (both escaped),
// then deleted.
func (t *timelineWriter) bodyLine(name, sep, sub, deleted string, entry uint64, typ int, id uint16, mode string, size int64, tm Times) {
	b := &t.line
	b.WriteString("0|")
	bodyfmt.EscapeName(b, name)
	if sep != "" {
		bodyfmt.EscapeName(b, sep)
		bodyfmt.EscapeName(b, sub)
	}
	b.WriteString(deleted)
	b.WriteByte('|')
	b.Write(strconv.AppendUint(b.AvailableBuffer(), entry, 10))
	b.WriteByte('-')
	b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(typ), 10))
	b.WriteByte('-')
	b.Write(strconv.AppendUint(b.AvailableBuffer(), uint64(id), 10))
	b.WriteByte('|')
	b.WriteString(mode)
	b.WriteString("|0|0|")
	b.Write(strconv.AppendInt(b.AvailableBuffer(), size, 10))
	for _, v := range [4]time.Time{tm.Accessed, tm.Modified, tm.Changed, tm.Created} {
		b.WriteByte('|')
		if v.IsZero() {
			b.WriteByte('0')
		} else {
			b.Write(strconv.AppendInt(b.AvailableBuffer(), v.Unix(), 10))
		}
	}
	b.WriteByte('\n')
}
