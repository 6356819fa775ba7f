package collect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/internal/safeopen"
)

// Env says where and how to collect. Its fields are read by every
// collector, whatever the OS, except Linux, which only the collectors of
// a Linux host read. LinuxEnv makes the Env of a Linux collection, HostEnv
// that of a collection on the host scelle runs on.
type Env struct {
	// Root is the file system root to collect disk items from: "/" on a
	// live host, or a mounted image's folder (dead-box).
	Root string
	// Live is false for dead-box collection: volatile collectors then
	// record their items as skipped.
	Live bool
	// OS is the operating system of the host collected, as a GOOS value
	// ("linux", "windows"); "" means the OS scelle runs on (TargetOS).
	OS string
	// MaxFileSize caps the bytes stored of one file; 0 means no cap.
	MaxFileSize int64
	// ItemTimeout bounds the reading of one item; 0 means none.
	ItemTimeout time.Duration
	// Linux locates the kernel interfaces of a Linux host. Collectors
	// for other OSes ignore it.
	Linux LinuxPaths
	// Windows lists the NTFS volumes of a Windows host or disk image.
	// Collectors for other OSes ignore it.
	Windows WindowsPaths
}

// WindowsPaths are where the collectors of a Windows host or image find
// its volumes.
type WindowsPaths struct {
	// Image is the disk image, partition image or block device collected
	// (read only); "" for a live host.
	Image   string
	Volumes []WindowsVolume
}

// WindowsVolume is one NTFS volume to collect files from.
type WindowsVolume struct {
	// Name names the volume in sources and bag names: the drive ("C:")
	// on a live host, "partitionN" (the partition table's entry N) or
	// "volume" (an image without a partition table) in an image.
	Name string `json:"name"`
	// Device is what is read raw: the image's or block device's path, or
	// the volume's device (\\.\C:) on a live host.
	Device string `json:"device"`
	// Offset and Size locate the volume in Device (Size 0: to its end).
	Offset int64 `json:"offset"`
	Size   int64 `json:"size"`
	// Drive is the folder a live host mounts the volume on (`C:\`):
	// files are opened through the operating system first there, and read
	// raw only when it holds them locked. Empty in an image.
	Drive string `json:"drive,omitempty"`
	// Serial and Label are the volume's serial number and label.
	Serial uint64 `json:"serial"`
	Label  string `json:"label"`
}

// WindowsImageEnv returns the Env of a collection of the NTFS volumes
// of a disk image (dead-box): OS windows, not live, Root the image.
func WindowsImageEnv(image string, vols []WindowsVolume) Env {
	return Env{Root: image, OS: "windows", Windows: WindowsPaths{Image: image, Volumes: vols}}
}

// LinuxPaths are where the collectors of a Linux host find the kernel's
// interfaces.
type LinuxPaths struct {
	// Proc and Sys are the kernel's /proc and /sys (fixture trees in
	// tests). In a dead-box collection they are still the running
	// kernel's: volatile collectors name them in the items they skip.
	Proc, Sys string
}

// LinuxEnv returns the Env of a collection of a Linux host from root:
// "/" is a live collection, any other folder a mounted image (dead-box).
// The kernel's interfaces are /proc and /sys; the caps and timeouts are
// zero (none), for the caller to set.
func LinuxEnv(root string) Env {
	return Env{Root: root, Live: root == "/", OS: "linux", Linux: LinuxPaths{Proc: "/proc", Sys: "/sys"}}
}

// HostEnv returns the Env of a collection run on this host from root,
// "/" for a live collection or a mounted image's folder: LinuxEnv(root) on
// Linux; on another OS, an Env for runtime.GOOS without Linux paths (a
// mounted Linux image is then collected with LinuxEnv).
func HostEnv(root string) Env {
	if runtime.GOOS == "linux" {
		return LinuxEnv(root)
	}
	return Env{Root: root, Live: root == "/", OS: runtime.GOOS}
}

// TargetOS returns the OS of the host collected: e.OS, or runtime.GOOS
// when e.OS is "".
func (e *Env) TargetOS() string {
	if e.OS == "" {
		return runtime.GOOS
	}
	return e.OS
}

// HostPath returns where the host path p (absolute, slash-separated) is
// found under Env.Root.
func (e *Env) HostPath(p string) string {
	if e.Root == "" || e.Root == "/" {
		return p
	}
	return filepath.Join(e.Root, filepath.FromSlash(p))
}

// Session is a collector's handle on the sink and the outcome record.
// The Runner makes one per collector; its methods must not be called
// after the collector returns.
type Session struct {
	Env       *Env
	collector string
	class     Class
	sink      *lockedSink
	onOutcome func(Outcome)

	mu     sync.Mutex
	closed bool // the runner abandoned this collector (timeout)
}

// NewSession returns a session for collector c writing to sink. It is for
// tests and for callers that run a collector outside a Runner.
func NewSession(env *Env, c Collector, sink Sink, onOutcome func(Outcome)) *Session {
	return &Session{Env: env, collector: c.Name(), class: c.Class(), sink: &lockedSink{s: sink}, onOutcome: onOutcome}
}

var errAbandoned = errors.New("collector abandoned after its time limit")

func (s *Session) abandon() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

func (s *Session) newOutcome(source, kind string) Outcome {
	o := Outcome{Collector: s.collector, Class: s.class.String(), Kind: kind, Started: time.Now().UTC()}
	o.SetSource(source)
	return o
}

// Record records an outcome for an item that stored nothing (skipped or
// failed), or that the collector stored by other means.
func (s *Session) Record(o Outcome) {
	if o.Collector == "" {
		o.Collector = s.collector
	}
	if o.Class == "" {
		o.Class = s.class.String()
	}
	if o.Started.IsZero() {
		o.Started = time.Now().UTC()
	}
	if o.Ended.IsZero() {
		o.Ended = time.Now().UTC()
	}
	if o.SourceRaw == nil {
		o.SetSource(o.Source)
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return
	}
	if s.onOutcome != nil {
		s.onOutcome(o)
	}
}

// Skip records that the item at source was deliberately not collected.
func (s *Session) Skip(source, kind, reason string) {
	o := s.newOutcome(source, kind)
	o.Status, o.Reason = Skipped, reason
	s.Record(o)
}

// Fail records that the item at source could not be collected.
func (s *Session) Fail(source, kind string, err error) {
	o := s.newOutcome(source, kind)
	o.Status, o.Reason = Failed, err.Error()
	s.Record(o)
}

// PutBytes stores b, produced by scelle from kernel data, as name.
func (s *Session) PutBytes(ctx context.Context, name, source string, b []byte) Outcome {
	return s.PutReader(ctx, name, source, KindGenerated, int64(len(b)), bytes.NewReader(b))
}

// PutRead stores b, bytes scelle read from source (a kernel file, a
// netlink dump), as name. readErr, when set, is the error that ended the
// read: b holds what came before it, and the item is recorded as partial
// with that reason.
func (s *Session) PutRead(ctx context.Context, name, source, kind string, b []byte, readErr error) Outcome {
	o := s.newOutcome(source, kind)
	st, err := s.put(ctx, Meta{Name: name, Size: int64(len(b)), ModTime: o.Started, Mode: 0o444}, bytes.NewReader(b))
	s.finish(&o, st, err)
	if o.Status == Collected && readErr != nil {
		o.Status, o.Reason = Partial, readErr.Error()
	}
	s.Record(o)
	return o
}

// PutReader stores size bytes from r (size -1 if unknown) as name and
// records the outcome.
func (s *Session) PutReader(ctx context.Context, name, source, kind string, size int64, r io.Reader) Outcome {
	o := s.newOutcome(source, kind)
	st, err := s.put(ctx, Meta{Name: name, Size: size, ModTime: o.Started, Mode: 0o444}, r)
	s.finish(&o, st, err)
	s.Record(o)
	return o
}

func (s *Session) put(ctx context.Context, m Meta, r io.Reader) (Stored, error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return Stored{}, errAbandoned
	}
	return s.sink.Put(ctx, m, r)
}

// finish fills o from what the sink stored.
func (s *Session) finish(o *Outcome, st Stored, err error) {
	o.Ended = time.Now().UTC()
	o.Path, o.Size = st.Path, st.Size
	if st.Path != "" {
		o.SHA256 = fmt.Sprintf("%x", st.SHA256)
	}
	var skip *SkipError
	switch {
	case st.Path == "" && errors.As(err, &skip):
		o.Status, o.Reason = Skipped, skip.Reason
	case st.Path == "" && errors.Is(err, context.Canceled):
		o.Status, o.Reason = Failed, "interrupted while this item was read"
	case st.Path == "" && err != nil:
		o.Status, o.Reason = Failed, err.Error()
	case err != nil && o.Kind == KindGenerated && st.Padded == 0:
		// A generator's error says what its records lack.
		o.Status, o.Reason = Partial, err.Error()
	case err != nil:
		o.Status, o.Reason = Partial, fmt.Sprintf("read failed after %d bytes: %v", st.Size-st.Padded, err)
		if st.Padded > 0 {
			o.Reason += fmt.Sprintf("; %d bytes zero-padded", st.Padded)
		}
	case st.Padded > 0:
		o.Status, o.Reason = Partial, fmt.Sprintf("source ended %d bytes early; zero-padded to its size at open", st.Padded)
	case st.Truncated:
		o.Status, o.Reason = Partial, fmt.Sprintf("truncated at %d bytes", st.Size)
	default:
		o.Status = Collected
	}
}

// CopyFile stores the host file at p (absolute, slash-separated, taken
// under Env.Root) as "fs"+p, recording its stat before and after reading.
// Links, FIFOs, sockets and devices are recorded and never opened.
// maxSize caps the bytes stored (0: Env.MaxFileSize).
func (s *Session) CopyFile(ctx context.Context, p string, maxSize int64) Outcome {
	return s.CopyFileAs(ctx, path.Join("fs", p), p, maxSize)
}

// CopyFileAs is CopyFile storing the file as name.
func (s *Session) CopyFileAs(ctx context.Context, name, p string, maxSize int64) Outcome {
	return s.copyFile(ctx, name, p, maxSize, func() (*FileStat, string, error) { return LstatIn(s.Env.Root, p) },
		func() (*safeopen.File, error) {
			if s.Env.Root == "" || s.Env.Root == "/" {
				return safeopen.Open(p)
			}
			return safeopen.OpenIn(s.Env.Root, p)
		})
}

// CopyFileAt is CopyFile for the file base, one path component, in the
// open folder dir, whose host path is p (dir's host path joined with
// base): only base is resolved, in dir, so a file nested deeper than the
// longest path the kernel resolves is copied too. The caller keeps dir
// open until CopyFileAt returns; the outcome's source is p.
func (s *Session) CopyFileAt(ctx context.Context, dir *os.File, base, p string, maxSize int64) Outcome {
	return s.copyFile(ctx, path.Join("fs", p), p, maxSize, func() (*FileStat, string, error) { return LstatAt(dir, base) },
		func() (*safeopen.File, error) { return safeopen.OpenAt(dir, base) })
}

// copyFile copies the file at p as name: lstat gives its metadata and a
// link's target, open opens it.
func (s *Session) copyFile(ctx context.Context, name, p string, maxSize int64,
	lstat func() (*FileStat, string, error), open func() (*safeopen.File, error)) Outcome {
	if maxSize == 0 {
		maxSize = s.Env.MaxFileSize
	}
	o := s.newOutcome(p, KindFile)
	defer func() { s.Record(o) }()
	before, target, err := lstat()
	if err != nil {
		o.Status, o.Reason, o.Ended = Failed, err.Error(), time.Now().UTC()
		if errors.Is(err, fs.ErrNotExist) {
			o.Status, o.Reason = Skipped, ReasonNotPresent
		}
		return o
	}
	o.Before = before
	if kind, reason := special(before); kind != "" {
		o.Kind, o.Status, o.Reason, o.Ended = kind, Skipped, reason, time.Now().UTC()
		if kind == KindSymlink {
			// Reading a link's target updates the link's access time:
			// the kernel offers no way around it; the stat before it is kept.
			o.LinkTarget = target
			o.Status, o.Reason = Collected, "link recorded, not followed"
		}
		return o
	}
	f, err := open()
	if err != nil {
		o.Status, o.Reason, o.Ended = Failed, err.Error(), time.Now().UTC()
		if errors.Is(err, safeopen.ErrNotRegular) {
			o.Status, o.Reason = Skipped, "replaced by a non-regular file before opening; not opened"
		}
		return o
	}
	defer f.Close()
	o.NoATime = f.NoATime
	if st, err := Fstat(f.File); err == nil {
		o.Before = st
	}
	size := o.Before.Size
	capped := maxSize > 0 && size > maxSize
	if capped {
		size = maxSize
	}
	rctx, cancel := s.itemContext(ctx)
	defer cancel()
	st, rerr := s.put(rctx, Meta{Name: name, Size: size, ModTime: o.Before.Mtime, Mode: modeOf(o.Before)},
		NewContextReader(rctx, f))
	s.finish(&o, st, rerr)
	o.After, _ = Fstat(f.File)
	switch {
	case o.Path == "" || rerr != nil || st.Padded > 0:
	case capped:
		o.Status, o.Reason = Partial, fmt.Sprintf("size cap: first %d of %d bytes", size, o.Before.Size)
	case o.Before.Changed(o.After):
		o.Status, o.Reason = Partial, "changed while read (see stat_before and stat_after)"
	}
	return o
}

// ForeignFile is a file read by other means than Env.Root's file
// system (a raw NTFS volume), for PutFile.
type ForeignFile struct {
	// Name is the item's name in the bag; Source its Windows path.
	Name, Source string
	// Stat is the file's metadata (nil if unknown); Size the bytes the
	// reader yields.
	Stat *FileStat
	Size int64
	// ReadVia is how it was read (evidence.ReadViaOS, ReadViaRawNTFS).
	ReadVia string
	// Extents, when set, are the ranges of the source the reader yields
	// (a sparse stream's allocated extents).
	Extents []evidence.Extent
	// Note, when set, makes a whole copy partial with this reason (a
	// size cap, a sparse stream's holes left out).
	Note string
	// Remark, when set, is the reason of a whole copy, which stays
	// collected (how it had to be read).
	Remark string
}

// PutFile stores f.Size bytes of r as f.Name and records the outcome, a
// file item with f's stat.
func (s *Session) PutFile(ctx context.Context, f ForeignFile, r io.Reader) Outcome {
	o := s.newOutcome(f.Source, KindFile)
	o.Before, o.ReadVia, o.Extents = f.Stat, f.ReadVia, f.Extents
	rctx, cancel := s.itemContext(ctx)
	defer cancel()
	m := Meta{Name: f.Name, Size: f.Size, Mode: 0o444}
	if f.Stat != nil {
		m.ModTime, m.Mode = f.Stat.Mtime, modeOf(f.Stat)
	}
	st, err := s.put(rctx, m, NewContextReader(rctx, r))
	s.finish(&o, st, err)
	switch {
	case o.Status == Collected && f.Note != "":
		o.Status, o.Reason = Partial, f.Note
	case o.Status == Collected && f.Remark != "":
		o.Reason = f.Remark
	}
	s.Record(o)
	return o
}

func (s *Session) itemContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.Env.ItemTimeout > 0 {
		return context.WithTimeout(ctx, s.Env.ItemTimeout)
	}
	return context.WithCancel(ctx)
}

func modeOf(st *FileStat) fs.FileMode { return fs.FileMode(st.Perm & 0o7777) }

// special returns the kind of a non-regular file and why it is not read.
func special(st *FileStat) (kind, reason string) {
	switch {
	case strings.HasPrefix(st.Mode, "L"):
		return KindSymlink, ""
	case strings.HasPrefix(st.Mode, "d"):
		return KindDir, "directory"
	case strings.HasPrefix(st.Mode, "p"):
		return KindFIFO, "FIFO: recorded, never opened"
	case strings.HasPrefix(st.Mode, "S"):
		return KindSocket, "socket: recorded, never opened"
	case strings.HasPrefix(st.Mode, "D"), strings.HasPrefix(st.Mode, "c"):
		return KindDevice, "device: recorded, never opened"
	case strings.HasPrefix(st.Mode, "-"):
		return "", ""
	}
	return KindDevice, "special file: recorded, never opened"
}

// ReadFile reads a small host file (a /proc or /sys entry, a
// configuration file for a parser) without changing its access time,
// refusing non-regular files and reading at most limit bytes.
func ReadFile(ctx context.Context, path string, limit int64) ([]byte, error) {
	f, err := safeopen.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(NewContextReader(ctx, f), limit+1))
	if err != nil {
		return buf.Bytes(), err
	}
	if n > limit {
		return buf.Bytes()[:limit], fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return buf.Bytes(), nil
}

type lockedSink struct {
	mu sync.Mutex
	s  Sink
}

func (l *lockedSink) Put(ctx context.Context, m Meta, r io.Reader) (Stored, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.Put(ctx, m, r)
}

// CopyKernel stores a kernel interface file (a /proc or /sys entry, whose
// size the kernel does not report) read as is from hostPath, as name.
// At most limit bytes are kept; more is recorded as partial.
func (s *Session) CopyKernel(ctx context.Context, name, hostPath string, limit int64) Outcome {
	return s.CopyKernelTee(ctx, name, hostPath, limit, nil)
}

// CopyKernelTee is CopyKernel that also writes the stored bytes to tee (if
// not nil), so a parser reads exactly what the bag holds.
func (s *Session) CopyKernelTee(ctx context.Context, name, hostPath string, limit int64, tee io.Writer) Outcome {
	o := s.newOutcome(hostPath, KindKernel)
	defer func() { s.Record(o) }()
	f, err := safeopen.Open(hostPath)
	if err != nil {
		o.Status, o.Reason, o.Ended = Failed, err.Error(), time.Now().UTC()
		if errors.Is(err, fs.ErrNotExist) {
			o.Status, o.Reason = Skipped, ReasonNotPresent
		}
		return o
	}
	defer f.Close()
	o.NoATime = f.NoATime
	rctx, cancel := s.itemContext(ctx)
	defer cancel()
	r := NewContextReader(rctx, f)
	var lr io.Reader = io.LimitReader(r, limit)
	if tee != nil {
		lr = io.TeeReader(lr, tee)
	}
	st, rerr := s.put(rctx, Meta{Name: name, Size: -1, ModTime: o.Started, Mode: 0o444}, lr)
	if rerr == nil && st.Size == limit {
		var one [1]byte
		if n, _ := r.Read(one[:]); n > 0 {
			st.Truncated = true
		}
	}
	s.finish(&o, st, rerr)
	return o
}
