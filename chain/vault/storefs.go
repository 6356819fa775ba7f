package vault

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"slices"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/sha256-simd"
)

// storeFS is a stored bag's folder as an fs.FS: each file is the object
// version a stored event pinned, streamed from the store as it is read
// (nothing is written to disk), and the custody log is the one read
// first. It hashes every object read to its end, so that the caller can
// compare it with the SHA-256 the event recorded. Safe for concurrent use.
type storeFS struct {
	ctx     context.Context
	s       *Store
	bucket  string
	objects map[string]pinnedObject // by file name
	custody []byte
	at      time.Time

	mu   sync.Mutex
	sums map[string][]byte // SHA-256 of each object read whole
	read int64             // bytes read from the store
}

type pinnedObject struct {
	key, version string
	size         int64
	modTime      time.Time
}

func (f *storeFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	switch {
	case name == ".":
		return &storeDir{fsys: f}, nil
	case name == custodyName:
		return &storeFile{info: fileInfo{name, int64(len(f.custody)), f.at, false}, r: bytes.NewReader(f.custody)}, nil
	}
	o, ok := f.objects[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	obj, _, _, err := f.s.core.GetObject(f.ctx, f.bucket, o.key, minio.GetObjectOptions{VersionID: versionParam(o.version)})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: f.s.classify(err, f.bucket)}
	}
	return &storeFile{info: fileInfo{name, o.size, o.modTime, false}, r: obj, c: obj, h: sha256.New(), fsys: f}, nil
}

func (f *storeFS) Stat(name string) (fs.FileInfo, error) {
	switch {
	case name == ".":
		return fileInfo{".", 0, f.at, true}, nil
	case name == custodyName:
		return fileInfo{name, int64(len(f.custody)), f.at, false}, nil
	}
	o, ok := f.objects[name]
	if !ok {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return fileInfo{name, o.size, o.modTime, false}, nil
}

func (f *storeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name != "." {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	var out []fs.DirEntry
	for n := range f.objects {
		fi, _ := f.Stat(n)
		out = append(out, fs.FileInfoToDirEntry(fi))
	}
	if f.custody != nil {
		fi, _ := f.Stat(custodyName)
		out = append(out, fs.FileInfoToDirEntry(fi))
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int {
		if a.Name() < b.Name() {
			return -1
		}
		return 1
	})
	return out, nil
}

// sum returns the SHA-256 of the object name as last read whole.
func (f *storeFS) sum(name string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sums[name]
}

type storeFile struct {
	info fileInfo
	r    io.Reader
	c    io.Closer
	h    hashWriter
	n    int64
	fsys *storeFS
}

type hashWriter interface {
	io.Writer
	Sum([]byte) []byte
}

func (s *storeFile) Stat() (fs.FileInfo, error) { return s.info, nil }

func (s *storeFile) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if s.h != nil {
		s.h.Write(p[:n])
		s.n += int64(n)
		if errors.Is(err, io.EOF) {
			s.fsys.mu.Lock()
			s.fsys.sums[s.info.name] = s.h.Sum(nil)
			s.fsys.read += s.n
			s.fsys.mu.Unlock()
			s.h = nil
		}
	}
	return n, err
}

func (s *storeFile) Close() error {
	if s.c != nil {
		return s.c.Close()
	}
	return nil
}

type storeDir struct {
	fsys *storeFS
	done bool
}

func (d *storeDir) Stat() (fs.FileInfo, error) { return d.fsys.Stat(".") }
func (d *storeDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: ".", Err: errors.New("is a directory")}
}
func (d *storeDir) Close() error { return nil }
func (d *storeDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if d.done {
		if n > 0 {
			return nil, io.EOF
		}
		return nil, nil
	}
	d.done = true
	return d.fsys.ReadDir(".")
}

type fileInfo struct {
	name    string
	size    int64
	modTime time.Time
	dir     bool
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) ModTime() time.Time { return i.modTime }
func (i fileInfo) IsDir() bool        { return i.dir }
func (i fileInfo) Sys() any           { return nil }
func (i fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
