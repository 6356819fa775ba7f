package seal

import (
	"archive/tar"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	sha256 "github.com/minio/sha256-simd"
)

// MaxTagFile bounds the tag files a reader keeps in memory (bagit.txt,
// bag-info.txt, the tag manifest). The record, journal and manifest are
// streamed.
const MaxTagFile = 1 << 20

// ArchiveEntry is one entry of a bag archive.
type ArchiveEntry struct {
	Path   string // relative to the bag's top folder: "data/...", "manifest-sha256.txt"
	Size   int64
	Frame  int   // 1-based number of the zstd frame that starts it
	At     int64 // archive offset of that frame
	Header *tar.Header
}

// ArchiveReader reads a bag archive (tar + zstd) entry by entry, in one
// pass, hashing the compressed bytes as they go by.
type ArchiveReader struct {
	fs   *frameStream
	tr   *tar.Reader
	hash hash.Hash
	cur  *ArchiveEntry
	done bool
}

// NewArchiveReader reads the archive from r.
func NewArchiveReader(r io.Reader) (*ArchiveReader, error) {
	h := sha256.New()
	fs, err := newFrameStream(io.TeeReader(r, h))
	if err != nil {
		return nil, err
	}
	return &ArchiveReader{fs: fs, tr: tar.NewReader(fs), hash: h}, nil
}

// Close releases the decoder.
func (a *ArchiveReader) Close() { a.fs.Close() }

// EntryError locates a problem in an archive entry.
type EntryError struct {
	Path string
	Err  error
}

func (e *EntryError) Error() string { return fmt.Sprintf("entry %s: %v", e.Path, e.Err) }
func (e *EntryError) Unwrap() error { return e.Err }

// Next advances to the next entry. It returns io.EOF at the end of the
// archive, after checking that nothing but zero padding follows it.
func (a *ArchiveReader) Next() (*ArchiveEntry, error) {
	if a.done {
		return nil, io.EOF
	}
	hdr, err := a.tr.Next()
	if err == io.EOF {
		a.done = true
		if err := a.checkTrailer(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	if err != nil {
		return nil, a.wrap(err)
	}
	e := &ArchiveEntry{Size: hdr.Size, Frame: a.fs.index, At: a.fs.start, Header: hdr}
	name, ok := strings.CutPrefix(hdr.Name, BagDir+"/")
	switch {
	case !ok:
		return nil, &EntryError{hdr.Name, fmt.Errorf("outside the bag folder %q", BagDir)}
	case hdr.Typeflag != tar.TypeReg:
		return nil, &EntryError{hdr.Name, fmt.Errorf("entry type %q: a bag holds regular files only", hdr.Typeflag)}
	case !ValidName(name):
		return nil, &EntryError{hdr.Name, errors.New("name is not a valid bag path")}
	case hdr.Size < 0:
		return nil, &EntryError{hdr.Name, errors.New("negative size")}
	case isSparse(hdr):
		return nil, &EntryError{hdr.Name, errors.New("sparse entry: a bag holds regular files only")}
	}
	e.Path = name
	a.cur = e
	return e, nil
}

// Read reads the current entry's content.
func (a *ArchiveReader) Read(p []byte) (int, error) {
	n, err := a.tr.Read(p)
	if err == io.EOF {
		// All the entry's bytes are out, but the checksum of its frame,
		// after the tar padding, is not checked yet: check it first.
		if ferr := a.fs.finishFrame(); ferr != nil {
			return n, a.wrap(ferr)
		}
	}
	if err != nil && err != io.EOF {
		err = a.wrap(err)
	}
	return n, err
}

func (a *ArchiveReader) wrap(err error) error {
	var fe *FrameError
	if errors.As(err, &fe) {
		return err
	}
	if err == io.ErrUnexpectedEOF && a.fs.err != nil {
		if a.fs.err == io.EOF {
			// The last frame was whole: the archive ends inside a tar
			// header or entry.
			return &FrameError{Index: a.fs.index, Offset: a.fs.start, At: a.fs.n,
				Err: fmt.Errorf("%w inside a tar entry", ErrCut)}
		}
		return a.fs.err
	}
	return &FrameError{Index: a.fs.index, Offset: a.fs.start, At: a.fs.n, Err: err}
}

// checkTrailer drains what follows the end-of-archive marker: only zero
// bytes may follow, in the same frame, and nothing after that frame.
func (a *ArchiveReader) checkTrailer() error {
	return a.fs.checkEnd()
}

// Offset is the number of archive bytes read so far.
func (a *ArchiveReader) Offset() int64 { return a.fs.n }

// Sum returns the SHA-256 of the archive bytes read so far.
func (a *ArchiveReader) Sum() [32]byte {
	var s [32]byte
	copy(s[:], a.hash.Sum(nil))
	return s
}

// isSparse reports whether archive/tar reads hdr as a GNU sparse file
// (PAX formats 0.0, 0.1, 1.0): its Typeflag is TypeReg, but its content is
// made up from a sparse map.
func isSparse(hdr *tar.Header) bool {
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}
