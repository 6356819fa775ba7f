package seal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// MaxWindow bounds the zstd window a reader accepts, and so its memory.
// scelle writes 8 MiB windows.
const MaxWindow = 16 << 20

const (
	zstdMagic      = 0xFD2FB528
	skippableMagic = 0x184D2A50 // low 4 bits free
	maxBlockSize   = 128 << 10
)

// FrameError locates a damaged or cut zstd frame in the archive.
type FrameError struct {
	Index  int   // 1-based frame number
	Offset int64 // archive offset of the frame's first byte
	At     int64 // archive offset where the problem was found
	Err    error
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("zstd frame %d (archive offset %d, problem at byte %d): %v", e.Index, e.Offset, e.At, e.Err)
}
func (e *FrameError) Unwrap() error { return e.Err }

// ErrCut is wrapped by errors about an archive that ends part way through
// a frame.
var ErrCut = errors.New("archive cut short")

// frameStream decodes an archive's zstd frames one at a time and yields
// their concatenated content, knowing at each moment which frame, at which
// archive offset, it is in.
type frameStream struct {
	src   *bufio.Reader
	n     int64 // archive bytes consumed
	dec   *zstd.Decoder
	body  *frameBody
	index int
	start int64
	err   error
	// pending holds decoded bytes that finishFrame read ahead.
	pending []byte
}

func newFrameStream(r io.Reader) (*frameStream, error) {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(MaxWindow),
		zstd.WithDecoderLowmem(true))
	if err != nil {
		return nil, err
	}
	return &frameStream{src: bufio.NewReaderSize(r, 256<<10), dec: dec}, nil
}

func (f *frameStream) Close() { f.dec.Close() }

func (f *frameStream) Read(p []byte) (int, error) {
	if len(f.pending) > 0 {
		n := copy(p, f.pending)
		f.pending = f.pending[n:]
		return n, nil
	}
	for f.err == nil {
		if f.body == nil {
			if err := f.next(); err != nil {
				f.err = err
				break
			}
			continue
		}
		n, err := f.dec.Read(p)
		if n > 0 {
			return n, nil
		}
		if err == io.EOF {
			if !f.body.done {
				f.err = f.frameErr(fmt.Errorf("%w in the middle of a frame", ErrCut))
				break
			}
			f.body = nil
			continue
		}
		if err != nil {
			if f.body.err != nil {
				err = f.body.err
			}
			f.err = f.frameErr(err)
		}
	}
	return 0, f.err
}

func (f *frameStream) frameErr(err error) error {
	return &FrameError{Index: f.index, Offset: f.start, At: f.n, Err: err}
}

// next starts the next frame, skipping skippable frames.
func (f *frameStream) next() error {
	for {
		hdr, err := f.src.Peek(4)
		if len(hdr) == 0 && err == io.EOF {
			return io.EOF
		}
		f.index++
		f.start = f.n
		if len(hdr) < 4 {
			if err != io.EOF {
				return f.frameErr(err)
			}
			return f.frameErr(fmt.Errorf("%w: %d stray bytes at the end", ErrCut, len(hdr)))
		}
		magic := binary.LittleEndian.Uint32(hdr)
		if magic&0xFFFFFFF0 == skippableMagic {
			h, err := f.src.Peek(8)
			if len(h) < 8 {
				return f.frameErr(fmt.Errorf("%w in a skippable frame header: %v", ErrCut, err))
			}
			size := int64(binary.LittleEndian.Uint32(h[4:]))
			n, err := f.src.Discard(8 + int(size))
			f.n += int64(n)
			if err != nil {
				return f.frameErr(fmt.Errorf("%w in a skippable frame", ErrCut))
			}
			continue
		}
		if magic != zstdMagic {
			return f.frameErr(fmt.Errorf("not a zstd frame (magic %08x)", magic))
		}
		f.body = &frameBody{src: f.src, n: &f.n}
		if err := f.dec.Reset(f.body); err != nil {
			return f.frameErr(err)
		}
		return nil
	}
}

// frameBody passes exactly one zstd frame's bytes through, reading the
// frame and block headers to know where the frame ends (RFC 8878 section 3.1.1).
type frameBody struct {
	src       *bufio.Reader
	n         *int64
	state     int
	remaining int64
	checksum  bool
	done      bool
	err       error
}

const (
	stFrameHeader = iota
	stBlockHeader
	stChecksum
	stDone
)

func (b *frameBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	for b.remaining == 0 {
		if b.done {
			return 0, io.EOF
		}
		if err := b.advance(); err != nil {
			b.err = err
			return 0, err
		}
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.src.Read(p)
	*b.n += int64(n)
	b.remaining -= int64(n)
	if err != nil && b.remaining > 0 {
		if err == io.EOF {
			err = fmt.Errorf("%w in the middle of a frame", ErrCut)
		}
		b.err = err
		if n > 0 {
			return n, nil
		}
		return 0, b.err
	}
	return n, nil
}

func (b *frameBody) peek(k int) ([]byte, error) {
	h, err := b.src.Peek(k)
	if len(h) < k {
		return nil, fmt.Errorf("%w in a frame or block header (%v)", ErrCut, err)
	}
	return h, nil
}

func (b *frameBody) advance() error {
	switch b.state {
	case stFrameHeader:
		h, err := b.peek(5)
		if err != nil {
			return err
		}
		fhd := h[4]
		if fhd&0x08 != 0 {
			return errors.New("reserved bit set in the frame header")
		}
		single := fhd&0x20 != 0
		b.checksum = fhd&0x04 != 0
		n := int64(5)
		if !single {
			n++
		}
		n += []int64{0, 1, 2, 4}[fhd&3]
		switch fhd >> 6 {
		case 0:
			if single {
				n++
			}
		case 1:
			n += 2
		case 2:
			n += 4
		case 3:
			n += 8
		}
		b.remaining, b.state = n, stBlockHeader
	case stBlockHeader:
		h, err := b.peek(3)
		if err != nil {
			return err
		}
		v := uint32(h[0]) | uint32(h[1])<<8 | uint32(h[2])<<16
		last, typ, size := v&1 == 1, (v>>1)&3, int64(v>>3)
		switch typ {
		case 0, 2: // raw, compressed
		case 1: // RLE: one byte stands for size bytes
			size = 1
		default:
			return errors.New("reserved block type")
		}
		if typ != 1 && size > maxBlockSize {
			return fmt.Errorf("block of %d bytes exceeds the %d limit", size, maxBlockSize)
		}
		b.remaining = 3 + size
		if last {
			b.state = stChecksum
		}
	case stChecksum:
		b.state = stDone
		if b.checksum {
			b.remaining = 4
			return nil
		}
		b.done = true
	case stDone:
		b.done = true
	}
	return nil
}

// maxFrameTail bounds what may follow an entry's content in its frame:
// tar padding and the end-of-archive marker (1,535 bytes in a scelle bag).
const maxFrameTail = 64 << 10

// finishFrame decodes the rest of the current frame now, so that its
// checksum is checked, and keeps its bytes for Read.
func (f *frameStream) finishFrame() error {
	var buf [4096]byte
	for f.err == nil && f.body != nil {
		if len(f.pending) > maxFrameTail {
			return f.frameErr(fmt.Errorf("more than %d bytes follow an entry in its frame", maxFrameTail))
		}
		n, err := f.dec.Read(buf[:])
		f.pending = append(f.pending, buf[:n]...)
		switch {
		case err == io.EOF && !f.body.done:
			f.err = f.frameErr(fmt.Errorf("%w in the middle of a frame", ErrCut))
		case err == io.EOF:
			f.body = nil
			return nil
		case err != nil:
			if f.body.err != nil {
				err = f.body.err
			}
			f.err = f.frameErr(err)
		}
	}
	if f.err != nil && f.err != io.EOF {
		return f.err
	}
	return nil
}

// checkEnd reads the rest of the current frame, which must be zero bytes,
// and checks that no byte follows that frame.
func (f *frameStream) checkEnd() error {
	for _, c := range f.pending {
		if c != 0 {
			return f.frameErr(errors.New("data after the end of the archive"))
		}
	}
	f.pending = nil
	buf := make([]byte, 32<<10)
	for f.err == nil && f.body != nil {
		n, err := f.dec.Read(buf)
		for _, c := range buf[:n] {
			if c != 0 {
				return f.frameErr(errors.New("data after the end of the archive"))
			}
		}
		switch {
		case err == io.EOF && !f.body.done:
			f.err = f.frameErr(fmt.Errorf("%w in the middle of a frame", ErrCut))
		case err == io.EOF:
			f.body = nil
		case err != nil:
			if f.body.err != nil {
				err = f.body.err
			}
			f.err = f.frameErr(err)
		}
	}
	if f.err != nil && f.err != io.EOF {
		return f.err
	}
	if b, err := f.src.Peek(1); len(b) > 0 {
		return &FrameError{Index: f.index + 1, Offset: f.n, At: f.n, Err: errors.New("data after the end of the archive")}
	} else if err != io.EOF {
		return f.frameErr(err)
	}
	return nil
}
