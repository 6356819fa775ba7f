package ntfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/internal/evidence"
)

// Tree collects the files and streams that its patterns match on each
// NTFS volume of the collection (Env.Windows.Volumes), reading them raw
// from the volume, or on a live host through the operating system first
// (see ReadVia).
//
// A pattern is a slash-separated path from the volume's root; each
// component may hold path.Match wildcards and is matched without regard
// to case, as Windows does; a component "**" matches any number of
// folders, and a pattern that names a folder takes every file below it.
// The last component may end in ":stream" (a stream name or a wildcard):
// the pattern then takes that alternate data stream of each file it
// matches, and not the file's data ("/$Extend/$UsnJrnl:$J",
// "/Users/*/Downloads/**:Zone.Identifier").
//
// Each file is stored as "ntfs/VOLUME/PATH[:STREAM]", with the names the
// volume's index holds (their case kept), and recorded with the source
// "VOLUME\PATH[:STREAM]" (backslashes) and its MFT metadata. A sparse
// stream is stored as its allocated extents only, listed in the item.
// A pattern that matches nothing on a volume is recorded as skipped,
// not present.
type Tree struct {
	ID       string
	Vol      collect.Class
	Patterns []string
	// Exclude holds patterns (same syntax) of paths not to collect.
	Exclude []string
	// MaxFileSize caps each stream (0: the session's default; -1: no cap).
	MaxFileSize int64
	// MaxFiles bounds the number of streams taken (0: no bound); the
	// rest are recorded as skipped.
	MaxFiles int
}

// maxDepth bounds the folders a pattern walks down.
const maxDepth = 64

// Name implements collect.Collector.
func (t *Tree) Name() string { return t.ID }

// Class implements collect.Collector.
func (t *Tree) Class() collect.Class { return t.Vol }

// Collect implements collect.Collector.
func (t *Tree) Collect(ctx context.Context, s *collect.Session) error {
	vols := s.Env.Windows.Volumes
	if len(vols) == 0 {
		s.Skip(strings.Join(t.Patterns, " "), collect.KindFile, "no NTFS volume to collect from")
		return nil
	}
	count := 0
	for i := range vols {
		if err := t.collectVolume(ctx, s, &vols[i], &count); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (t *Tree) collectVolume(ctx context.Context, s *collect.Session, vol *collect.WindowsVolume, count *int) error {
	v, closer, err := OpenVolume(ctx, vol)
	if err != nil {
		for _, p := range t.Patterns {
			s.Fail(Source(vol, splitPath(p)), collect.KindFile, err)
		}
		return nil
	}
	defer closer.Close()
	w := &walker{t: t, s: s, vol: vol, v: v, count: count, seen: map[string]bool{}}
	for _, p := range t.Patterns {
		if err := ctx.Err(); err != nil {
			return err
		}
		comps, stream := splitPattern(p)
		w.matched = 0
		err := w.match(ctx, Entry{Dir: true, Ref: RootEntry}, nil, comps, stream, 0)
		if err != nil && ctx.Err() == nil {
			s.Fail(Source(vol, comps), collect.KindFile, err)
			continue
		}
		if w.matched == 0 && ctx.Err() == nil {
			s.Skip(Source(vol, splitPath(p)), collect.KindFile, collect.ReasonNotPresent)
		}
	}
	return ctx.Err()
}

// OpenVolume opens vol for reading raw: its Device read only, never
// written. The caller closes the returned io.Closer when done.
func OpenVolume(ctx context.Context, vol *collect.WindowsVolume) (*Volume, io.Closer, error) {
	r, size, err := openDevice(vol.Device)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", vol.Device, err)
	}
	n := vol.Size
	if n == 0 || (size > 0 && n > size-vol.Offset) {
		n = size - vol.Offset
	}
	v, err := Open(ctx, r, vol.Offset, n)
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	return v, r, nil
}

// splitPattern splits a pattern into its components and its stream part.
func splitPattern(p string) ([]string, string) {
	comps := splitPath(p)
	if len(comps) == 0 {
		return comps, ""
	}
	last, stream, _ := strings.Cut(comps[len(comps)-1], ":")
	comps[len(comps)-1] = last
	return comps, stream
}

func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(strings.ReplaceAll(p, `\`, "/"), "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// Source is the Windows form of a path of vol: "C:\Windows\System32".
func Source(vol *collect.WindowsVolume, comps []string) string {
	return vol.Name + `\` + strings.Join(comps, `\`)
}

// BagName is the name of a stream of vol in the bag:
// "ntfs/C/Windows/System32/config/SYSTEM".
func BagName(vol *collect.WindowsVolume, comps []string, stream string) string {
	n := "ntfs/" + strings.TrimSuffix(vol.Name, ":") + "/" + strings.Join(comps, "/")
	if stream != "" {
		n += ":" + stream
	}
	return n
}

type walker struct {
	t       *Tree
	s       *collect.Session
	vol     *collect.WindowsVolume
	v       *Volume
	count   *int
	seen    map[string]bool
	matched int
}

func matchName(pat, name string) bool {
	ok, err := path.Match(strings.ToLower(pat), strings.ToLower(name))
	return err == nil && ok
}

// match walks dir (at the components prefix) for the components comps.
func (w *walker) match(ctx context.Context, dir Entry, prefix, comps []string, stream string, depth int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(comps) == 0 {
		return w.take(ctx, dir, prefix, stream, depth)
	}
	if depth > maxDepth {
		return fmt.Errorf("%s: folder depth limit of %d levels reached: not walked", Source(w.vol, prefix), maxDepth)
	}
	c := comps[0]
	list, err := w.v.ReadDir(ctx, dir.Ref)
	if err != nil {
		return fmt.Errorf("%s: %w", Source(w.vol, prefix), err)
	}
	if c == "**" {
		if len(comps) > 1 {
			if err := w.match(ctx, dir, prefix, comps[1:], stream, depth); err != nil {
				w.s.Fail(Source(w.vol, prefix), collect.KindDir, err)
			}
		}
		for _, e := range list {
			p := append(append([]string(nil), prefix...), e.Name)
			var err error
			switch {
			case len(comps) == 1:
				err = w.take(ctx, e, p, stream, depth+1)
			case e.Dir:
				err = w.match(ctx, e, p, comps, stream, depth+1)
			}
			if err != nil && ctx.Err() == nil {
				w.s.Fail(Source(w.vol, p), collect.KindDir, err)
			}
		}
		return ctx.Err()
	}
	for _, e := range list {
		if !matchName(c, e.Name) || (len(comps) > 1 && !e.Dir) {
			continue
		}
		p := append(append([]string(nil), prefix...), e.Name)
		if err := w.match(ctx, e, p, comps[1:], stream, depth+1); err != nil && ctx.Err() == nil {
			w.s.Fail(Source(w.vol, p), collect.KindDir, err)
		}
	}
	return ctx.Err()
}

// take collects e: a file's stream(s), or every file below a folder.
func (w *walker) take(ctx context.Context, e Entry, p []string, stream string, depth int) error {
	if e.Dir {
		if e.Ref == RootEntry && len(p) > 0 {
			return nil // the root's "." entry
		}
		return w.match(ctx, e, p, []string{"**"}, stream, depth)
	}
	if w.excluded(p) {
		return nil
	}
	in, err := w.v.Stat(ctx, e.Ref)
	if err == nil && (!in.InUse || (e.Seq != 0 && in.Seq != e.Seq)) {
		err = fmt.Errorf("%w: the folder's index names MFT record %d, sequence %d, which is free or reused (sequence %d)",
			ErrCorrupt, e.Ref, e.Seq, in.Seq)
	}
	if err != nil {
		w.matched++
		w.s.Fail(Source(w.vol, p), collect.KindFile, err)
		return nil
	}
	for _, st := range in.Streams {
		if (stream == "" && st.Name != "") || (stream != "" && (st.Name == "" || !matchName(stream, st.Name))) {
			continue
		}
		key := fmt.Sprintf("%d:%s", e.Ref, st.Name)
		if w.seen[key] {
			continue
		}
		w.seen[key] = true
		w.matched++
		src := Source(w.vol, p)
		if st.Name != "" {
			src += ":" + st.Name
		}
		if w.t.MaxFiles > 0 && *w.count >= w.t.MaxFiles {
			w.s.Skip(src, collect.KindFile, fmt.Sprintf("file count cap of %d reached", w.t.MaxFiles))
			continue
		}
		*w.count++
		w.copy(ctx, p, in, st.Name, src)
	}
	return nil
}

func (w *walker) excluded(p []string) bool {
	full := "/" + strings.Join(p, "/")
	for _, x := range w.t.Exclude {
		comps, _ := splitPattern(x)
		if ok, _ := path.Match(strings.ToLower("/"+strings.Join(comps, "/")), strings.ToLower(full)); ok {
			return true
		}
	}
	return false
}

// Stat returns the file stat of an MFT record, for stream.
func (in *Info) Stat(stream string, size int64) *collect.FileStat {
	perm, mode := uint32(0o100666), "-rw-rw-rw-"
	if in.Attributes&1 != 0 { // FILE_ATTRIBUTE_READONLY
		perm, mode = 0o100444, "-r--r--r--"
	}
	born := in.SI.Born
	return &collect.FileStat{Mode: mode, Perm: perm, Size: size, Inode: in.Ref,
		Atime: in.SI.Accessed, Mtime: in.SI.Modified, Ctime: in.SI.Changed, Btime: &born,
		Windows: &evidence.WindowsStat{Attributes: in.Attributes, Stream: stream, MFTEntry: in.Ref,
			MFTSequence: in.Seq, StandardInformation: in.SI, FileName: in.FN}}
}

// copy stores one stream.
func (w *walker) copy(ctx context.Context, p []string, in *Info, stream, src string) {
	ff := collect.ForeignFile{Name: BagName(w.vol, p, stream), Source: src, ReadVia: evidence.ReadViaRawNTFS}
	max := w.t.MaxFileSize
	if max == 0 {
		max = w.s.Env.MaxFileSize
	}
	if max < 0 {
		max = 0
	}
	if w.vol.Drive != "" && !metafile(p) {
		r, size, err := osOpen(w.vol.Drive + strings.Join(p, `\`) + streamSuffix(stream))
		if err == nil {
			defer r.Close()
			ff.ReadVia, ff.Stat = evidence.ReadViaOS, in.Stat(stream, size)
			ff.Size = capped(&ff, size, max)
			w.s.PutFile(ctx, ff, io.LimitReader(r, ff.Size))
			return
		}
		if !osLocked(err) {
			// The volume's index holds a file that Windows does not open
			// (hidden by a driver, or gone since): read raw, and say so.
			ff.Remark = fmt.Sprintf("read raw: Windows refused to open it (%v)", err)
		}
	}
	f, err := w.v.OpenStream(ctx, in.Ref, stream)
	if err != nil {
		o := collect.Outcome{Source: src, Kind: collect.KindFile, Status: collect.Failed, Reason: err.Error(),
			Before: in.Stat(stream, 0), ReadVia: evidence.ReadViaRawNTFS}
		if errors.Is(err, fs.ErrNotExist) {
			o.Status, o.Reason = collect.Skipped, collect.ReasonNotPresent
		}
		w.s.Record(o)
		return
	}
	ff.Stat = in.Stat(stream, f.Size)
	r := f.Reader(ctx)
	ff.Size = f.Size
	if f.Sparse && !f.Compressed && f.AllocatedSize() < f.Size {
		for _, x := range f.Allocated {
			ff.Extents = append(ff.Extents, evidence.Extent{Offset: x.Offset, Length: x.Length})
		}
		r, ff.Size = f.AllocatedReader(ctx), f.AllocatedSize()
		ff.Note = fmt.Sprintf("sparse stream: stored its %d allocated bytes of %d, in %d extents (listed); the rest is unallocated and reads as zeros",
			ff.Size, f.Size, len(f.Allocated))
	}
	ff.Size = capped(&ff, ff.Size, max)
	w.s.PutFile(ctx, ff, io.LimitReader(r, ff.Size))
}

// osOpen and osLocked are openOS and locked; tests replace them to
// play a live Windows host.
var (
	osOpen   = openOS
	osLocked = locked
)

// capped applies the size cap max (0: none) to a stream of size bytes,
// noting it in ff.
func capped(ff *collect.ForeignFile, size, max int64) int64 {
	if max <= 0 || size <= max {
		return size
	}
	note := fmt.Sprintf("size cap: first %d of %d bytes", max, size)
	if ff.Note != "" {
		note = ff.Note + "; " + note
	}
	ff.Note = note
	if len(ff.Extents) > 0 {
		var kept []evidence.Extent
		left := max
		for _, x := range ff.Extents {
			if left <= 0 {
				break
			}
			x.Length = min(x.Length, left)
			left -= x.Length
			kept = append(kept, x)
		}
		ff.Extents = kept
	}
	return max
}

func streamSuffix(stream string) string {
	if stream == "" {
		return ""
	}
	return ":" + stream
}

// metafiles are the NTFS metafiles of the root folder.
var metafiles = map[string]bool{"$mft": true, "$mftmirr": true, "$logfile": true, "$volume": true, "$attrdef": true,
	"$bitmap": true, "$boot": true, "$badclus": true, "$secure": true, "$upcase": true, "$extend": true}

// metafile reports whether p names an NTFS metafile ($MFT, $Extend\...),
// which the operating system never opens: they are read raw at once.
func metafile(p []string) bool {
	return len(p) > 0 && metafiles[strings.ToLower(p[0])]
}
