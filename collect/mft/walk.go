package mft

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Entry numbers of the metadata files this package names.
const (
	rootEntry = 5 // the root folder, its own parent
)

// OrphanDir is the folder, under the volume root, that the paths of
// entries whose parent folder cannot be found are put under (as The Sleuth
// Kit does): "\$OrphanFiles\name".
const OrphanDir = "$OrphanFiles"

// Options tune a walk. The zero value is ready to use.
type Options struct {
	// RecordSize is the size of a FILE record; 0 means read it from the
	// first record (1024 on most volumes, 4096 on 4Kn disks).
	RecordSize int
	// PathCache bounds the folders whose paths are kept to resolve their
	// children's paths; 0 means 16384. A folder that is not cached is
	// read again from $MFT (random access), so the bound costs time, not
	// correctness.
	PathCache int
	// Tee, when set, receives every byte of $MFT as the walk reads it in
	// order, once (to hash the stream the timeline was made from).
	Tee io.Writer
}

// Entry is what a walk yields for one record of $MFT that is not an
// extension record: either a parsed record, or the error that stopped its
// parsing.
type Entry struct {
	// Record is the parsed record (with the names and streams of its
	// extension records); nil only when Err says why it is missing.
	Record *Record
	Entry  uint64 // the record's number in $MFT
	// Path is the entry's full path from the volume root in Windows form
	// ("\Windows\System32\config\SYSTEM", "\" for the root); an entry
	// whose parent chain does not lead to the root is under
	// "\$OrphanFiles" and has Orphan set. "" when the record has no name.
	Path   string
	Orphan bool
	// Links are the full paths of the entry's other names (hard links;
	// DOS 8.3 names are not links).
	Links []string
	// Err is the record's parsing error: the record (or part of it) could
	// not be read. Record may hold what was read before the error.
	Err error
}

// Stats counts a walk's records.
type Stats struct {
	Records    int64 // records read from $MFT
	Entries    int64 // entries yielded (base records and damaged records)
	InUse      int64 // in-use entries yielded
	Deleted    int64 // entries yielded that are not in use
	Empty      int64 // never-used records (all zero, or free without attributes)
	Extensions int64 // extension records (folded into their base record)
	Errors     int64 // entries yielded with an error
	Orphans    int64 // entries whose path is under $OrphanFiles
}

// ErrRecordSize is a $MFT whose record size cannot be found or is not
// one NTFS uses.
var ErrRecordSize = errors.New("mft: bad record size")

// maxDepth bounds a path's folders: deeper chains (or parent loops) make
// the entry an orphan.
const maxDepth = 512

// maxExtensions bounds the extension records read for one base record.
const maxExtensions = 64

// Walk reads the $MFT stream r (size bytes) record by record, in order,
// and calls fn for every entry that is not an extension record and not an
// empty record, in-use and deleted alike. Reading is sequential, in
// chunks; resolving a path or an attribute list may read other records
// at random. Memory is bounded by Options.PathCache and the chunk, not by
// the number of records. Walk stops at the first error of r or fn, or
// when ctx is done; a record that cannot be parsed is not an error of the
// walk: fn gets it with Entry.Err set.
func Walk(ctx context.Context, r io.ReaderAt, size int64, opts Options, fn func(*Entry) error) (Stats, error) {
	w, err := newWalker(r, size, opts)
	if err != nil {
		return Stats{}, err
	}
	return w.walk(ctx, fn)
}

type walker struct {
	r       io.ReaderAt
	size    int64
	recSize int
	count   uint64
	paths   pathCache
	tee     io.Writer
	scratch []byte
	stats   Stats
}

func newWalker(r io.ReaderAt, size int64, opts Options) (*walker, error) {
	rs := opts.RecordSize
	if rs == 0 {
		hdr := make([]byte, 0x20)
		if _, err := r.ReadAt(hdr, 0); err != nil {
			return nil, fmt.Errorf("%w: read the first record: %v", ErrRecordSize, err)
		}
		if string(hdr[:4]) != "FILE" {
			return nil, fmt.Errorf("%w: the first record is not a FILE record", ErrRecordSize)
		}
		rs = int(le32(hdr[0x1c:]))
	}
	if rs < minRecordSize || rs > maxRecordSize || rs&(rs-1) != 0 || rs%sectorSize != 0 {
		return nil, fmt.Errorf("%w: %d bytes", ErrRecordSize, rs)
	}
	n := opts.PathCache
	if n <= 0 {
		n = 16384
	}
	return &walker{r: r, size: size, recSize: rs, count: uint64(size / int64(rs)),
		paths: newPathCache(n), tee: opts.Tee, scratch: make([]byte, rs)}, nil
}

func (w *walker) walk(ctx context.Context, fn func(*Entry) error) (Stats, error) {
	const chunkRecords = 256
	buf := make([]byte, chunkRecords*w.recSize)
	for first := uint64(0); first < w.count; first += chunkRecords {
		if err := ctx.Err(); err != nil {
			return w.stats, err
		}
		n := min(uint64(chunkRecords), w.count-first)
		chunk := buf[:int(n)*w.recSize]
		if _, err := w.r.ReadAt(chunk, int64(first)*int64(w.recSize)); err != nil && !(err == io.EOF && len(chunk) > 0) {
			return w.stats, fmt.Errorf("mft: read records %d-%d: %w", first, first+n-1, err)
		}
		if w.tee != nil {
			if _, err := w.tee.Write(chunk); err != nil {
				return w.stats, err
			}
		}
		for i := uint64(0); i < n; i++ {
			e := w.entry(first+i, chunk[int(i)*w.recSize:int(i+1)*w.recSize])
			if e == nil {
				continue
			}
			if err := fn(e); err != nil {
				return w.stats, err
			}
		}
	}
	return w.stats, nil
}

// entry parses record b of number num; nil for a record not yielded.
func (w *walker) entry(num uint64, b []byte) *Entry {
	w.stats.Records++
	rec, err := ParseRecord(b, num)
	switch {
	case errors.Is(err, ErrEmpty):
		w.stats.Empty++
		return nil
	case rec != nil && rec.Base != 0:
		w.stats.Extensions++
		return nil
	case err == nil && !rec.InUse && !rec.HasSI && len(rec.Names) == 0 && len(rec.Streams) == 0:
		w.stats.Empty++ // formatted, never used: a FILE record without attributes
		return nil
	}
	e := &Entry{Record: rec, Entry: num, Err: err}
	w.stats.Entries++
	if err != nil {
		w.stats.Errors++
	}
	if rec == nil {
		return e
	}
	if rec.InUse {
		w.stats.InUse++
	} else {
		w.stats.Deleted++
	}
	if len(rec.List) > 0 {
		if err := w.extend(rec); err != nil && e.Err == nil {
			e.Err = err
			w.stats.Errors++
		}
	}
	e.Path, e.Orphan = w.path(rec)
	e.Links = w.links(rec)
	if e.Orphan {
		w.stats.Orphans++
	}
	if rec.Dir && e.Path != "" {
		w.paths.put(num, dirInfo{seq: rec.Sequence, inUse: rec.InUse, path: e.Path, orphan: e.Orphan})
	}
	return e
}

// extend adds to rec the names and streams its attribute list places in
// extension records.
func (w *walker) extend(rec *Record) error {
	var seen []uint64
	for _, l := range rec.List {
		if l.Record.Entry() == rec.Entry || (l.Type != attrFileName && l.Type != attrData) {
			continue
		}
		if containsUint(seen, l.Record.Entry()) {
			continue
		}
		if len(seen) == maxExtensions {
			return fmt.Errorf("entry %d: attribute list names more than %d extension records: %w", rec.Entry, maxExtensions, ErrAttribute)
		}
		seen = append(seen, l.Record.Entry())
		ext, err := w.read(l.Record.Entry())
		if err != nil {
			return fmt.Errorf("entry %d: extension record %d: %w", rec.Entry, l.Record.Entry(), err)
		}
		if ext.Base.Entry() != rec.Entry || ext.Sequence != l.Record.Sequence() {
			return fmt.Errorf("entry %d: extension record %d belongs to entry %d: %w", rec.Entry, l.Record.Entry(), ext.Base.Entry(), ErrAttribute)
		}
		rec.Names = append(rec.Names, ext.Names...)
		rec.Streams = append(rec.Streams, ext.Streams...)
	}
	return nil
}

// read reads and parses record num out of order.
func (w *walker) read(num uint64) (*Record, error) {
	if num >= w.count {
		return nil, fmt.Errorf("entry %d: past the end of $MFT (%d records): %w", num, w.count, ErrAttribute)
	}
	if _, err := w.r.ReadAt(w.scratch, int64(num)*int64(w.recSize)); err != nil {
		return nil, err
	}
	return ParseRecord(w.scratch, num)
}

// path is rec's full path and whether it is an orphan's.
func (w *walker) path(rec *Record) (string, bool) {
	if rec.Entry == rootEntry {
		return `\`, false
	}
	n, ok := rec.Name()
	if !ok {
		return "", false
	}
	parent, orphan := w.dirPath(n.Parent, rec.Entry, 0)
	return parent + `\` + n.Name, orphan
}

// links are the paths of rec's names other than its preferred one.
func (w *walker) links(rec *Record) []string {
	if len(rec.Names) < 2 {
		return nil
	}
	first, _ := rec.Name()
	var links []string
	for _, n := range rec.Names {
		if n.Namespace == NamespaceDOS || (n.Parent == first.Parent && n.Name == first.Name) {
			continue
		}
		parent, _ := w.dirPath(n.Parent, rec.Entry, 0)
		links = append(links, parent+`\`+n.Name)
	}
	return links
}

// dirPath is the path of folder ref, asked for by child: "" for the
// root, `\$OrphanFiles` when the folder cannot be found.
func (w *walker) dirPath(ref Ref, child uint64, depth int) (string, bool) {
	num := ref.Entry()
	if num == rootEntry {
		return "", false
	}
	const orphan = `\` + OrphanDir
	if num == child || depth >= maxDepth {
		return orphan, true
	}
	if d, ok := w.paths.get(num); ok {
		if parentMatches(d.seq, d.inUse, ref.Sequence()) {
			return d.path, d.orphan
		}
		return orphan, true
	}
	rec, err := w.read(num)
	if rec == nil || (err != nil && len(rec.Names) == 0) || !rec.Dir || rec.Base != 0 ||
		!parentMatches(rec.Sequence, rec.InUse, ref.Sequence()) {
		return orphan, true
	}
	n, ok := rec.Name()
	if !ok {
		return orphan, true
	}
	parent, isOrphan := w.dirPath(n.Parent, num, depth+1)
	p := parent + `\` + n.Name
	w.paths.put(num, dirInfo{seq: rec.Sequence, inUse: rec.InUse, path: p, orphan: isOrphan})
	return p, isOrphan
}

// parentMatches says whether a folder record of sequence number seq is
// the one a reference of sequence number want points to: the same
// sequence, or, for a folder deleted since, the next one (freeing a
// record increments its sequence number).
func parentMatches(seq uint16, inUse bool, want uint16) bool {
	return seq == want || (!inUse && seq == want+1) || want == 0
}

func containsUint(s []uint64, v uint64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// dirInfo is a folder's resolved path.
type dirInfo struct {
	seq    uint16
	inUse  bool
	orphan bool
	path   string
}

// pathCache keeps at most about 2*max folders: two generations of max
// entries; when the current one fills up, the older one is dropped.
type pathCache struct {
	max       int
	cur, prev map[uint64]dirInfo
}

func newPathCache(max int) pathCache {
	return pathCache{max: max, cur: make(map[uint64]dirInfo)}
}

func (c *pathCache) get(num uint64) (dirInfo, bool) {
	if d, ok := c.cur[num]; ok {
		return d, true
	}
	d, ok := c.prev[num]
	if ok {
		c.put(num, d)
	}
	return d, ok
}

func (c *pathCache) put(num uint64, d dirInfo) {
	if len(c.cur) >= c.max {
		c.prev, c.cur = c.cur, make(map[uint64]dirInfo, c.max)
	}
	c.cur[num] = d
}

// windowsToSlash turns a Windows path into the slash form the bodyfile
// uses.
func windowsToSlash(p string) string { return strings.ReplaceAll(p, `\`, "/") }
