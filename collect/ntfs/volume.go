package ntfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"unicode/utf16"

	"www.velocidex.com/golang/go-ntfs/parser"

	"github.com/scelle/scelle/internal/evidence"
)

// RootEntry is the MFT entry of a volume's root folder.
const RootEntry = 5

// Cache sizes: go-ntfs's page cache (pageSize x pages) is the bulk of a
// Volume's memory.
const (
	pageSize = 4096
	pages    = 1024 // 4 MiB
)

// Bounds on one folder: go-ntfs reads a folder's whole index into
// memory, about its index's size again in entries. A larger folder is an
// error (no Windows triage path holds one).
const (
	maxIndex      = 32 << 20 // bytes of index allocation
	maxDirEntries = 1 << 18  // names returned
)

// Volume is an NTFS file system read from an io.ReaderAt. Its methods are
// safe for concurrent use; they run one at a time.
type Volume struct {
	Boot Boot
	// Offset is where the volume starts in the device or image; Size is
	// the number of bytes read from there (the boot sector's volume
	// size, less when the device is shorter).
	Offset, Size int64

	mu     sync.Mutex
	g      *guard // metadata reads, through the page cache
	direct *guard // file content reads, around the page cache
	ntfs   *parser.NTFSContext
}

// Open opens the NTFS volume at offset in r, of which size bytes are
// available from offset (the partition's size, or the image's). It
// checks the boot sector and the $MFT's first record.
func Open(ctx context.Context, r io.ReaderAt, offset, size int64) (*Volume, error) {
	s := make([]byte, 512)
	if err := readFull(r, s, offset, offset+size); err != nil {
		return nil, fmt.Errorf("read boot sector: %w", err)
	}
	b, err := ParseBoot(s)
	if err != nil {
		return nil, err
	}
	n := min(size, b.VolumeSize()+b.SectorSize) // the backup boot sector follows the volume
	if b.MFTCluster*b.ClusterSize >= n {
		return nil, fmt.Errorf("%w: $MFT at cluster %d is past the end of the device (%d bytes)", ErrCorrupt, b.MFTCluster, n)
	}
	v := &Volume{Boot: *b, Offset: offset, Size: n, direct: &guard{r: r, base: offset, size: n}}
	paged, err := parser.NewPagedReader(&guard{r: r, base: offset, size: n}, pageSize, pages)
	if err != nil {
		return nil, err
	}
	v.g = &guard{r: paged, size: n}
	err = v.do(ctx, func() error {
		c, err := parser.GetNTFSContext(v.g, 0)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		v.ntfs = c
		if _, err := c.GetMFT(RootEntry); err != nil {
			return fmt.Errorf("%w: root folder record: %v", ErrCorrupt, err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open NTFS volume at offset %d: %w", offset, err)
	}
	return v, nil
}

// do runs f under the guard: reads bounded, panics recovered.
func (v *Volume) do(ctx context.Context, f func() error) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.g.begin(ctx)
	v.direct.begin(ctx)
	defer v.g.begin(nil)
	defer v.direct.begin(nil)
	return protect(f)
}

// Entry is one name in a folder.
type Entry struct {
	Name string // as the index stores it (Win32 or POSIX name; DOS 8.3 names are left out)
	Dir  bool
	Ref  uint64 // MFT entry number
	Seq  uint16 // sequence number the index expects
}

// ReadDir lists the folder whose MFT entry is ref, from its index. Names
// are unique (the DOS alias of a long name is left out).
func (v *Volume) ReadDir(ctx context.Context, ref uint64) ([]Entry, error) {
	var out []Entry
	err := v.do(ctx, func() error {
		e, err := v.entry(ref)
		if err != nil {
			return err
		}
		if err := v.checkIndex(e); err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, rec := range e.Dir(v.ntfs) {
			if len(out) >= maxDirEntries {
				return fmt.Errorf("%w: folder %d has more than %d entries", ErrCorrupt, ref, maxDirEntries)
			}
			fn := rec.File()
			if fn.NameType().Value == 2 { // DOS: the 8.3 alias of another entry
				continue
			}
			name := fn.Name()
			key := fmt.Sprintf("%d/%s", rec.MftReference(), name)
			if name == "" || seen[key] || name == "." {
				continue
			}
			seen[key] = true
			out = append(out, Entry{Name: name, Dir: fn.Flags().Value&0x10000000 != 0,
				Ref: rec.MftReference(), Seq: rec.Seq_num()})
		}
		return nil
	})
	return out, err
}

// checkIndex refuses a folder whose index allocation is larger than the
// volume (go-ntfs walks it 4 KiB at a time whatever its size) or than
// maxIndex.
func (v *Volume) checkIndex(e *parser.MFT_ENTRY) error {
	for _, a := range e.EnumerateAttributes(v.ntfs) {
		if a.Type().Value != parser.ATTR_TYPE_INDEX_ALLOCATION {
			continue
		}
		if a.DataSize() < 0 || a.DataSize() > v.Size {
			return fmt.Errorf("%w: folder index of %d bytes on a volume of %d", ErrCorrupt, a.DataSize(), v.Size)
		}
		if a.DataSize() > maxIndex {
			return fmt.Errorf("folder index of %d bytes, more than the %d read at most", a.DataSize(), maxIndex)
		}
	}
	return nil
}

func (v *Volume) entry(ref uint64) (*parser.MFT_ENTRY, error) {
	if ref >= 1<<48 || int64(ref)*v.Boot.RecordSize >= 1<<62 {
		return nil, fmt.Errorf("%w: MFT entry %d out of range", ErrCorrupt, ref)
	}
	e, err := v.ntfs.GetMFT(int64(ref))
	if err != nil {
		return nil, fmt.Errorf("%w: MFT entry %d: %v", ErrCorrupt, ref, err)
	}
	if string(readN(e.Reader, e.Offset, 4)) != "FILE" {
		return nil, fmt.Errorf("%w: MFT entry %d: no FILE signature", ErrCorrupt, ref)
	}
	return e, nil
}

func readN(r io.ReaderAt, off int64, n int) []byte {
	b := make([]byte, n)
	m, _ := r.ReadAt(b, off)
	return b[:m]
}

// Lookup finds the file or folder at p, a path from the volume's root
// with "/" or "\" separators, matched without regard to case as Windows
// does. A ":stream" suffix is ignored.
func (v *Volume) Lookup(ctx context.Context, p string) (Entry, error) {
	p, _, _ = strings.Cut(strings.ReplaceAll(p, `\`, "/"), ":")
	cur := Entry{Name: "", Dir: true, Ref: RootEntry}
	for _, c := range strings.Split(p, "/") {
		if c == "" {
			continue
		}
		if !cur.Dir {
			return Entry{}, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
		}
		list, err := v.ReadDir(ctx, cur.Ref)
		if err != nil {
			return Entry{}, err
		}
		found := false
		for _, e := range list {
			if strings.EqualFold(e.Name, c) {
				cur, found = e, true
				break
			}
		}
		if !found {
			return Entry{}, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
		}
	}
	return cur, nil
}

// Stream is one $DATA attribute of a file.
type Stream struct {
	Name       string // "" for the unnamed stream
	Size       int64  // logical size
	Resident   bool
	Sparse     bool
	Compressed bool
}

// Info is what the MFT record of a file says.
type Info struct {
	Ref        uint64
	Seq        uint16
	InUse, Dir bool
	// Attributes are the $STANDARD_INFORMATION file attributes
	// (FILE_ATTRIBUTE_*).
	Attributes uint32
	SI         evidence.MACB
	// FN are the times of the $FILE_NAME attribute of the name the file
	// was found by, or of its first long name; nil when it has none.
	FN      *evidence.MACB
	Streams []Stream
}

// Stat reads the MFT record ref.
func (v *Volume) Stat(ctx context.Context, ref uint64) (*Info, error) {
	var in *Info
	err := v.do(ctx, func() error {
		e, err := v.entry(ref)
		if err != nil {
			return err
		}
		in = &Info{Ref: ref, Seq: e.Sequence_value()}
		flags := e.Flags().Value
		in.InUse, in.Dir = flags&1 != 0, flags&2 != 0
		for _, a := range e.EnumerateAttributes(v.ntfs) {
			switch a.Type().Value {
			case parser.ATTR_TYPE_STANDARD_INFORMATION:
				si := v.ntfs.Profile.STANDARD_INFORMATION(a.Data(v.ntfs), 0)
				p := si.Profile
				in.SI = macb(si.Reader, si.Offset+p.Off_STANDARD_INFORMATION_File_altered_time,
					si.Offset+p.Off_STANDARD_INFORMATION_File_accessed_time,
					si.Offset+p.Off_STANDARD_INFORMATION_Mft_altered_time,
					si.Offset+p.Off_STANDARD_INFORMATION_Create_time)
				in.Attributes = uint32(si.Flags().Value)
			case parser.ATTR_TYPE_FILE_NAME:
				fn := v.ntfs.Profile.FILE_NAME(a.Data(v.ntfs), 0)
				if in.FN != nil && fn.NameType().Value == 2 {
					continue
				}
				p := fn.Profile
				m := macb(fn.Reader, fn.Offset+p.Off_FILE_NAME_File_modified, fn.Offset+p.Off_FILE_NAME_File_accessed,
					fn.Offset+p.Off_FILE_NAME_Mft_modified, fn.Offset+p.Off_FILE_NAME_Created)
				in.FN = &m
			case parser.ATTR_TYPE_DATA:
				if !a.IsResident() && a.Runlist_vcn_start() != 0 {
					continue // a later piece of a stream already listed
				}
				f := uint64(*a.Flags())
				in.Streams = append(in.Streams, Stream{Name: a.Name(), Size: a.DataSize(), Resident: a.IsResident(),
					Compressed: f&0x00ff != 0, Sparse: f&0x8000 != 0})
			}
		}
		return nil
	})
	return in, err
}

func macb(r io.ReaderAt, m, a, c, b int64) evidence.MACB {
	t := func(off int64) uint64 { return parser.ParseUint64(r, off) }
	return evidence.MACB{Modified: evidence.FromFiletime(t(m)), Accessed: evidence.FromFiletime(t(a)),
		Changed: evidence.FromFiletime(t(c)), Born: evidence.FromFiletime(t(b))}
}

// Extent is a range of a stream, in bytes from its start.
type Extent struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
}

// File is an open stream of a file.
type File struct {
	v    *Volume
	data parser.RangeReaderAt
	// Size is the stream's logical size.
	Size int64
	// Sparse and Compressed are the stream's attribute flags.
	Sparse, Compressed bool
	// Allocated are the extents that hold data, in order, within Size;
	// the rest of a sparse stream reads as zeros.
	Allocated []Extent
}

// ErrTooLarge is returned for a stream whose size cannot be true.
var ErrTooLarge = errors.New("stream larger than the volume allows")

// OpenStream opens the stream named stream ("" for the file's data) of
// the file whose MFT entry is ref.
func (v *Volume) OpenStream(ctx context.Context, ref uint64, stream string) (*File, error) {
	var f *File
	err := v.do(ctx, func() error {
		e, err := v.entry(ref)
		if err != nil {
			return err
		}
		var st *Stream
		for _, a := range e.EnumerateAttributes(v.ntfs) {
			if a.Type().Value == parser.ATTR_TYPE_DATA && a.Name() == stream && (a.IsResident() || a.Runlist_vcn_start() == 0) {
				fl := uint64(*a.Flags())
				st = &Stream{Name: stream, Size: a.DataSize(), Resident: a.IsResident(), Compressed: fl&0x00ff != 0, Sparse: fl&0x8000 != 0}
				break
			}
		}
		if st == nil {
			return fmt.Errorf("stream %q: %w", stream, fs.ErrNotExist)
		}
		// File content is read around the page cache.
		direct := v.ntfs.Copy()
		direct.DiskReader = v.direct
		d, err := parser.OpenStream(direct, e, parser.ATTR_TYPE_DATA, parser.WILDCARD_STREAM_ID, stream)
		if err != nil {
			return fmt.Errorf("%w: stream %q: %v", ErrCorrupt, stream, err)
		}
		f = &File{v: v, data: d, Size: st.Size, Sparse: st.Sparse, Compressed: st.Compressed}
		if f.Size < 0 {
			return fmt.Errorf("%w: stream %q: negative size", ErrCorrupt, stream)
		}
		var alloc int64
		for _, r := range d.Ranges() {
			if r.IsSparse || r.Offset >= f.Size || r.Length <= 0 {
				continue
			}
			x := Extent{Offset: r.Offset, Length: min(r.Length, f.Size-r.Offset)}
			if n := len(f.Allocated); n > 0 && f.Allocated[n-1].Offset+f.Allocated[n-1].Length == x.Offset {
				f.Allocated[n-1].Length += x.Length
			} else {
				f.Allocated = append(f.Allocated, x)
			}
			alloc += x.Length
		}
		if st.Resident {
			f.Allocated = []Extent{{0, f.Size}}
			alloc = f.Size
		}
		// Stored data cannot exceed the volume; compression gains at
		// most 16 times (one compression unit in one cluster).
		if alloc > v.Size || (!st.Compressed && !st.Sparse && f.Size > v.Size) || f.Size > 16*v.Size && !st.Sparse {
			return fmt.Errorf("%w: stream %q of %d bytes (%d allocated) on a volume of %d", ErrTooLarge, stream, f.Size, alloc, v.Size)
		}
		return nil
	})
	return f, err
}

// ReadAt reads the stream's logical content (zeros in sparse holes).
func (f *File) ReadAt(ctx context.Context, b []byte, off int64) (int, error) {
	if off >= f.Size {
		return 0, io.EOF
	}
	if int64(len(b)) > f.Size-off {
		b = b[:f.Size-off]
	}
	var n int
	err := f.v.do(ctx, func() error {
		var err error
		n, err = f.data.ReadAt(b, off)
		for n < len(b) && err == nil {
			var m int
			m, err = f.data.ReadAt(b[n:], off+int64(n))
			if m == 0 && err == nil {
				err = io.ErrUnexpectedEOF
			}
			n += m
		}
		return err
	})
	if n == len(b) && (err == nil || errors.Is(err, io.EOF)) {
		if off+int64(n) == f.Size {
			return n, io.EOF
		}
		return n, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = fmt.Errorf("%w: stream ends at %d bytes of %d", ErrCorrupt, off+int64(n), f.Size)
	}
	return n, err
}

// Reader returns a reader of the stream's logical content, from off to
// the end, that stops when ctx is done.
func (f *File) Reader(ctx context.Context) io.Reader {
	return &extentReader{ctx: ctx, f: f, ext: []Extent{{0, f.Size}}}
}

// AllocatedReader returns a reader of the allocated extents only, one
// after the other: AllocatedSize bytes.
func (f *File) AllocatedReader(ctx context.Context) io.Reader {
	return &extentReader{ctx: ctx, f: f, ext: f.Allocated}
}

// AllocatedSize is the number of bytes in the allocated extents.
func (f *File) AllocatedSize() int64 {
	var n int64
	for _, x := range f.Allocated {
		n += x.Length
	}
	return n
}

type extentReader struct {
	ctx context.Context
	f   *File
	ext []Extent
	pos int64 // within ext[0]
}

// chunk bounds one guarded read.
const chunk = 1 << 20

func (r *extentReader) Read(b []byte) (int, error) {
	for len(r.ext) > 0 && r.pos >= r.ext[0].Length {
		r.ext, r.pos = r.ext[1:], 0
	}
	if len(r.ext) == 0 {
		return 0, io.EOF
	}
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	x := r.ext[0]
	n := min(int64(len(b)), x.Length-r.pos, chunk)
	m, err := r.f.ReadAt(r.ctx, b[:n], x.Offset+r.pos)
	r.pos += int64(m)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return m, err
}

// Label reads the volume's label from $Volume; "" when it has none.
func (v *Volume) Label(ctx context.Context) (string, error) {
	var label string
	err := v.do(ctx, func() error {
		e, err := v.entry(3)
		if err != nil {
			return err
		}
		for _, a := range e.EnumerateAttributes(v.ntfs) {
			if a.Type().Value == 0x60 && a.IsResident() { // $VOLUME_NAME
				b := readN(a.Data(v.ntfs), 0, int(min(a.DataSize(), 256)))
				u := make([]uint16, len(b)/2)
				for i := range u {
					u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
				}
				label = string(utf16.Decode(u))
			}
		}
		return nil
	})
	return label, err
}
