package seal

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"
	sha256 "github.com/minio/sha256-simd"

	"github.com/scelle/scelle/internal/fileio"
)

// Options configure a Writer.
type Options struct {
	// Key signs the journal and the tag manifest. Nil: a key is made for
	// this collection alone and kept in memory only.
	Key ed25519.PrivateKey
	// Collection identifies the collection in the journal.
	Collection string
	// Tool names the program writing the bag ("scelle v1.2.3").
	Tool string
	// Level is the zstd level; zero means zstd.SpeedDefault (about level
	// 3), or SpeedFastest with Adaptive.
	Level zstd.EncoderLevel
	// Adaptive moves the level while writing, starting at Level, between
	// SpeedFastest, SpeedDefault and SpeedBetterCompression, from the pace
	// of the output: harder when the output medium is the limit, lighter
	// when the CPU is. Each change is a journal event line (LevelEvent)
	// before the first frame it applies to.
	Adaptive bool
	// SyncInterval is the most time between two fsyncs of the archive and
	// the journal; zero means 250 ms. Every Put writes its journal line at
	// once (a killed process loses nothing); the sync bounds what a
	// power cut or a pulled stick can lose.
	SyncInterval time.Duration
	// MaxBuffer bounds an item of unknown size, which is buffered to learn
	// its size; zero means 16 MiB.
	MaxBuffer int64
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// BeforeSealLine, if set, is called by Seal once the files beside the
	// archive are written and synced, just before the journal's seal line
	// (which makes the bag count as sealed), with the folder still named
	// ".partial" and s describing the bag. The custody log's sealed event
	// is written here, so that no stop leaves a sealed bag whose custody
	// log does not say so. An error stops the sealing.
	BeforeSealLine func(partial string, s *Sealed) error
	// Recipients, if set, encrypt the archive with age to each of them:
	// it is written as evidence.tar.zst.age, whose plaintext is the
	// archive an unencrypted bag would hold (encrypt.go). The journal and
	// the files beside the archive stay in clear. age holds the last 64 KiB
	// of plaintext until the next chunk is full: a killed run loses them.
	Recipients []age.Recipient
}

// ErrOutput wraps every failure to write the output folder: the disk is
// full, the stick was pulled, the file system turned read-only. After it,
// every call fails; the journal proves what was completed before.
var ErrOutput = errors.New("output failed")

// Entry describes one payload item.
type Entry struct {
	// Name is the item's path below data/, slash-separated, any bytes;
	// it is encoded with EncodeName.
	Name    string
	Size    int64 // exact size, or -1 when unknown (buffered, up to MaxBuffer)
	ModTime time.Time
}

// Result is what Put stored.
type Result struct {
	Path      string // in the bag: "data/" + encoded name
	Size      int64
	SHA256    [32]byte
	Padded    int64 // zero bytes added because the reader ended early
	Truncated bool  // the reader had more than Size (or MaxBuffer) bytes
	// Offset and End are -1: the item is journaled, with the archive
	// range of its frames, once they are written, after Put returns.
	Offset int64
	End    int64
}

// Writer writes a bag into an output folder.
type Writer struct {
	dir, partial string
	opts         Options
	key          ed25519.PrivateKey
	ephemeral    bool

	archive  *os.File
	out      *countWriter
	enc      *encryptor // nil: the archive is not encrypted
	fr       *framer
	tw       *tar.Writer
	journal  *os.File
	seq      int64
	prev     string
	lastSync time.Time
	emu      sync.Mutex     // err
	jmu      sync.Mutex     // seq, prev, journal writes
	syncing  atomic.Bool    // a background sync is running
	syncs    sync.WaitGroup // background syncs
	smu      sync.Mutex
	bgErr    error // a background sync's failure

	// The payload manifest is not kept: Seal makes it again from the
	// journal's item lines. These say what it must come to.
	items   int64
	manSize int64
	manHash hash.Hash // SHA-256 of the manifest lines so far
	names   nameSet
	octets  int64
	buf     []byte
	err     error // sticky output error
	sealed  bool
}

type manifestEntry struct {
	path string
	sum  [32]byte
}

// Create starts a bag that will be sealed as the folder dir. It works in
// dir+".partial", which must not exist; dir must not exist either.
func Create(dir string, opts Options) (*Writer, error) {
	if opts.Level == 0 {
		opts.Level = zstd.SpeedDefault
		if opts.Adaptive {
			opts.Level = zstd.SpeedFastest
		}
	}
	if opts.SyncInterval == 0 {
		opts.SyncInterval = 250 * time.Millisecond
	}
	if opts.MaxBuffer == 0 {
		opts.MaxBuffer = 16 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	w := &Writer{dir: dir, partial: dir + PartialSuffix, opts: opts, key: opts.Key, prev: ZeroHash,
		manHash: sha256.New(), buf: make([]byte, 1<<20)}
	if w.key == nil {
		k, err := NewKey()
		if err != nil {
			return nil, err
		}
		w.key, w.ephemeral = k, true
	}
	if _, err := os.Lstat(dir); err == nil {
		return nil, fmt.Errorf("%s already exists", dir)
	}
	archiveName := ArchiveFile
	if len(opts.Recipients) > 0 {
		var err error
		if w.enc, err = newEncryptor(opts.Recipients); err != nil {
			return nil, err
		}
		archiveName = EncryptedArchiveFile
	}
	if err := os.Mkdir(w.partial, 0o755); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOutput, err)
	}
	var err error
	if w.archive, err = os.OpenFile(filepath.Join(w.partial, archiveName), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOutput, err)
	}
	if w.journal, err = os.OpenFile(filepath.Join(w.partial, JournalFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644); err != nil {
		w.archive.Close()
		return nil, fmt.Errorf("%w: %v", ErrOutput, err)
	}
	// The archive's bytes do not stay in the host's page cache.
	var archiveOut io.Writer = newCacheDropper(w.archive)
	if w.enc != nil {
		if err := w.enc.attach(archiveOut); err != nil {
			w.archive.Close()
			w.journal.Close()
			return nil, fmt.Errorf("%w: %v", ErrOutput, err)
		}
		archiveOut = w.enc
	}
	// out counts and hashes the plaintext archive, encrypted or not.
	w.out = &countWriter{w: archiveOut, h: sha256.New()}
	if w.fr, err = newFramer(w.out, opts.Level, opts.Adaptive); err != nil {
		return nil, err
	}
	if opts.Adaptive {
		w.fr.onLevel = w.levelEvent
	}
	w.tw = tar.NewWriter(w.fr)
	if err := w.appendJournal(JournalEntry{Type: JournalOpen, Collection: opts.Collection,
		PublicKey: EncodeKey(w.PublicKey()), Tool: opts.Tool}); err != nil {
		return nil, err
	}
	if _, err := w.putTag(BagitFile, []byte(bagitDeclaration)); err != nil {
		return nil, err
	}
	return w, w.sync()
}

// PublicKey is the key that verifies the bag's signatures.
func (w *Writer) PublicKey() ed25519.PublicKey { return w.key.Public().(ed25519.PublicKey) }

// Ephemeral reports whether the key was made for this collection alone.
func (w *Writer) Ephemeral() bool { return w.ephemeral }

// PartialDir is the folder the bag is written in until it is sealed.
func (w *Writer) PartialDir() string { return w.partial }

// Written is the number of archive bytes written so far.
func (w *Writer) Written() int64 { return w.out.total.Load() }

// Err returns the output error that stopped the writer, if any.
func (w *Writer) Err() error { return w.failed() }

// failed returns the sticky output error; safe from any goroutine.
func (w *Writer) failed() error {
	w.emu.Lock()
	defer w.emu.Unlock()
	return w.err
}

// Put stores one item under data/, reading r once: it hashes and
// compresses the bytes in the same pass, in a zstd frame of its own. With a
// known size, a reader that ends early is zero-padded to that size
// (Result.Padded) and a longer one is cut (Result.Truncated). A read error
// ends the item like an early end and is returned with the Result; an
// output error returns a Result with an empty Path and wraps ErrOutput.
func (w *Writer) Put(ctx context.Context, e Entry, r io.Reader) (Result, error) {
	if err := w.failed(); err != nil {
		return Result{}, err
	}
	if err := w.fr.failed(); err != nil {
		return Result{}, w.fail(err)
	}
	if w.sealed {
		return Result{}, errors.New("bag already sealed")
	}
	var res Result
	var rerr, bufErr error
	if e.Size < 0 {
		// Buffered to learn the size: what was read before an error is
		// stored whole, and the error is returned with it.
		var b bytes.Buffer
		var n int64
		n, bufErr = io.Copy(&b, io.LimitReader(r, w.opts.MaxBuffer))
		if bufErr == nil && n == w.opts.MaxBuffer {
			var one [1]byte
			if k, _ := io.ReadFull(r, one[:]); k > 0 {
				res.Truncated = true
			}
		}
		r, e.Size = &b, int64(b.Len())
	}
	res.Path = w.uniqueName(PayloadDir + "/" + EncodeName(e.Name))
	if err := w.startEntry(&res, e); err != nil {
		return Result{}, err
	}
	if err := w.entryBody(&res, e, r, &rerr); err != nil {
		return Result{}, err
	}
	if err := w.tw.Flush(); err != nil {
		return Result{}, w.fail(err)
	}
	if bufErr != nil {
		rerr = bufErr
	}
	line := ManifestLine(res.SHA256, res.Path)
	w.manHash.Write([]byte(line))
	w.items++
	w.manSize += int64(len(line))
	w.octets += res.Size
	// The item's journal line is written once its frames are: by the
	// writing goroutine, in archive order, while this goroutine goes on.
	// Its time is when it was read whole (Now is called from this
	// goroutine only).
	path, sum, size := res.Path, hex.EncodeToString(res.SHA256[:]), res.Size
	now := w.opts.Now() // once a Put, so a fixed test clock gives fixed bytes
	at := now.UTC().Format(time.RFC3339Nano)
	w.fr.finishEntry(func(start, end int64) {
		w.appendJournal(JournalEntry{Type: JournalItem, Time: at, Path: path, SHA256: sum, Size: &size, Offset: &start, End: &end})
	})
	res.Offset, res.End = -1, -1
	if err := w.syncErr(); err != nil {
		return Result{}, w.fail(err)
	}
	if now.Sub(w.lastSync) >= w.opts.SyncInterval && !w.syncing.Load() {
		// In the background: an fsync of a slow stick must not stall the
		// collection. The next Put reports its failure.
		w.lastSync = now
		w.syncing.Store(true)
		w.syncs.Add(1)
		go func() {
			defer w.syncs.Done()
			defer w.syncing.Store(false)
			if err := w.syncFiles(); err != nil {
				w.smu.Lock()
				w.bgErr = err
				w.smu.Unlock()
			}
		}()
	}
	return res, rerr
}

// uniqueName returns p, or p with a "^23N" suffix when p is taken. "^23"
// never comes out of EncodeName (it leaves '#' as it is), so the suffix
// cannot collide with another item's name.
func (w *Writer) uniqueName(p string) string {
	n := w.names.add(p)
	if n == 1 {
		return p
	}
	return p + "^23" + strconv.Itoa(n)
}

// writeEntry writes one tar entry of e.Size bytes from r, starting a new
// frame.
func (w *Writer) writeEntry(res *Result, e Entry, r io.Reader, rerr *error) error {
	if err := w.startEntry(res, e); err != nil {
		return err
	}
	if err := w.entryBody(res, e, r, rerr); err != nil {
		return err
	}
	if err := w.tw.Flush(); err != nil {
		return w.fail(err)
	}
	return w.endEntry(res)
}

func (w *Writer) startEntry(res *Result, e Entry) error {
	w.fr.beginEntry(e.Size)
	mt := e.ModTime
	if mt.IsZero() {
		mt = w.opts.Now()
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: BagDir + "/" + res.Path, Size: e.Size, Mode: 0o644,
		ModTime: mt.UTC(), Format: tar.FormatPAX}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return w.fail(fmt.Errorf("tar header %s: %w", res.Path, err))
	}
	return nil
}

func (w *Writer) endEntry(res *Result) error {
	start, end, err := w.fr.endEntry()
	if err != nil {
		return w.fail(err)
	}
	res.Offset, res.End = start, end
	return nil
}

// entryBody copies the entry's content, hashing it, padding or cutting it
// to e.Size.
func (w *Writer) entryBody(res *Result, e Entry, r io.Reader, rerr *error) error {
	h := sha256.New()
	remaining := e.Size
	for remaining > 0 && *rerr == nil {
		// Read straight into the frame being filled: the tar writer
		// passes content through, and the framer takes it in place.
		chunk := w.fr.buffer(int(min(remaining, frameInput)))
		n, err := r.Read(chunk)
		if n > 0 {
			h.Write(chunk[:n])
			if _, werr := w.tw.Write(chunk[:n]); werr != nil {
				return w.fail(werr)
			}
			remaining -= int64(n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			*rerr = err
		}
	}
	if remaining > 0 {
		res.Padded = remaining
		clear(w.buf)
		for remaining > 0 {
			chunk := w.buf
			if int64(len(chunk)) > remaining {
				chunk = chunk[:remaining]
			}
			h.Write(chunk)
			if _, werr := w.tw.Write(chunk); werr != nil {
				return w.fail(werr)
			}
			remaining -= int64(len(chunk))
		}
	} else if *rerr == nil && !res.Truncated {
		var one [1]byte
		if n, _ := r.Read(one[:]); n > 0 {
			res.Truncated = true
		}
	}
	res.Size = e.Size
	copy(res.SHA256[:], h.Sum(nil))
	return nil
}

// putTag writes a tag file (not payload) in a frame of its own.
func (w *Writer) putTag(name string, b []byte) ([32]byte, error) {
	return w.putTagReader(name, int64(len(b)), bytes.NewReader(b))
}

func (w *Writer) putTagReader(name string, size int64, r io.Reader) ([32]byte, error) {
	var res Result
	var rerr error
	res.Path = name
	err := w.writeEntry(&res, Entry{Name: name, Size: size}, r, &rerr)
	if err == nil && (rerr != nil || res.Padded > 0 || res.Truncated) {
		err = w.fail(fmt.Errorf("tag file %s: size changed while written (%v)", name, rerr))
	}
	return res.SHA256, err
}

// putRecord writes the collection record beside the archive with write,
// then into the archive from there.
func (w *Writer) putRecord(write func(io.Writer) error) ([32]byte, error) {
	path := filepath.Join(w.partial, RecordFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if gone := w.stillThere(); gone != nil {
			err = gone
		}
		return [32]byte{}, w.fail(err)
	}
	defer f.Close()
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<16)
	if err := write(bw); err != nil {
		return [32]byte{}, w.fail(fmt.Errorf("write %s: %w", RecordFile, err))
	}
	if err := bw.Flush(); err != nil {
		return [32]byte{}, w.fail(fmt.Errorf("write %s: %w", RecordFile, err))
	}
	if err := f.Sync(); err != nil {
		return [32]byte{}, w.fail(fmt.Errorf("sync %s: %w", RecordFile, err))
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return [32]byte{}, w.fail(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return [32]byte{}, w.fail(err)
	}
	sum, err := w.putTagReader(BagRecordFile, size, f)
	if err != nil {
		return sum, err
	}
	if !bytes.Equal(sum[:], h.Sum(nil)) {
		return sum, w.fail(fmt.Errorf("%s reads back differently from what was written", RecordFile))
	}
	return sum, nil
}

// putManifest writes the payload manifest. It is not kept in memory (a
// million items would take hundreds of MiB): its lines are made again from
// the item lines of the journal read back from the output folder, which
// are in archive order like Put's calls. The lines must come to the count,
// size and SHA-256 of those Put made, or sealing fails.
func (w *Writer) putManifest() ([32]byte, error) {
	f, err := os.Open(filepath.Join(w.partial, JournalFile))
	if err != nil {
		return [32]byte{}, w.fail(fmt.Errorf("read back journal: %w", err))
	}
	defer f.Close()
	m := &journalManifest{br: bufio.NewReaderSize(f, 1<<16)}
	sum, err := w.putTagReader(ManifestFile, w.manSize, m)
	if err != nil {
		return sum, err
	}
	if m.err != nil || m.items != w.items || !bytes.Equal(sum[:], w.manHash.Sum(nil)) {
		return sum, w.fail(fmt.Errorf("read back journal: its %d item lines do not make the manifest of the %d items stored (%v)", m.items, w.items, m.err))
	}
	return sum, nil
}

// journalManifest yields manifest lines from a journal's item lines.
type journalManifest struct {
	br    *bufio.Reader
	buf   []byte
	items int64
	done  bool
	err   error // why the journal could not be read to its end
}

func (m *journalManifest) Read(p []byte) (int, error) {
	for len(m.buf) == 0 {
		if m.done {
			return 0, io.EOF
		}
		if err := m.next(); err != nil {
			m.done = true
			if err != io.EOF {
				m.err = err
			}
		}
	}
	n := copy(p, m.buf)
	m.buf = m.buf[:copy(m.buf, m.buf[n:])]
	return n, nil
}

// next reads one journal line and, for an item, makes its manifest line.
func (m *journalManifest) next() error {
	line, err := ReadLine(m.br, MaxJournalLine)
	if err == io.EOF && len(line) > 0 {
		return fmt.Errorf("line after item %d: no line feed", m.items)
	}
	if err != nil {
		return err
	}
	e, err := ParseJournalLine(line, nil) // this writer's own lines: their form, not their signatures
	if err != nil {
		return fmt.Errorf("line after item %d: %w", m.items, err)
	}
	if e.Type != JournalItem {
		return nil
	}
	var sum [32]byte
	if n, err := hex.Decode(sum[:], []byte(e.SHA256)); err != nil || n != len(sum) {
		return fmt.Errorf("item %d: sha256 %q", m.items+1, e.SHA256)
	}
	m.items++
	m.buf = append(m.buf, ManifestLine(sum, e.Path)...)
	return nil
}

// Event appends an event line to the journal: detail is any JSON value
// (an item's outcome, a failure), signed and chained like every line.
func (w *Writer) Event(detail any) error {
	if err := w.failed(); err != nil {
		return err
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	return w.appendJournal(JournalEntry{Type: JournalEvent, Detail: b})
}

// LevelEvent is the detail of the journal event line an adaptive Writer
// writes where the compression level changes (format.md section 3.4): the
// frames from archive offset From on, up to the next such line, were cut
// at Level. It changes nothing in what the bag proves.
type LevelEvent struct {
	Compression struct {
		Level     string `json:"level"`      // klauspost/compress's name: fastest, default, better
		ZstdLevel int    `json:"zstd_level"` // the zstd level it stands for
		From      int64  `json:"from"`       // archive offset of the first frame at this level
	} `json:"compression"`
}

// levelEvent records, from the writing goroutine, that the frames from
// offset on are cut at level.
func (w *Writer) levelEvent(level zstd.EncoderLevel, offset int64) {
	var e LevelEvent
	e.Compression.Level, e.Compression.ZstdLevel, e.Compression.From = level.String(), zstdLevel(level), offset
	b, err := json.Marshal(e)
	if err == nil {
		// The clock, not opts.Now: Now is called from Put's goroutine only.
		w.appendJournal(JournalEntry{Type: JournalEvent, Time: time.Now().UTC().Format(time.RFC3339Nano), Detail: b})
	}
}

// zstdLevel is the zstd level a klauspost level stands for.
func zstdLevel(l zstd.EncoderLevel) int {
	switch l {
	case zstd.SpeedFastest:
		return 1
	case zstd.SpeedDefault:
		return 3
	case zstd.SpeedBetterCompression:
		return 7
	default:
		return 11
	}
}

func (w *Writer) appendJournal(e JournalEntry) error {
	w.jmu.Lock()
	defer w.jmu.Unlock()
	w.seq++
	e.Seq, e.Prev = w.seq, w.prev
	if e.Time == "" {
		e.Time = w.opts.Now().UTC().Format(time.RFC3339Nano)
	}
	line, err := signLine(e, w.key)
	if err != nil {
		return err
	}
	w.prev = LineHash(line)
	if _, err := w.journal.Write(append(line, '\n')); err != nil {
		return w.fail(fmt.Errorf("journal: %w", err))
	}
	return nil
}

// sync makes the archive durable, then the journal lines that describe it.
func (w *Writer) sync() error {
	w.syncs.Wait() // a background sync first
	if err := w.syncErr(); err != nil {
		return w.fail(err)
	}
	if err := w.syncFiles(); err != nil {
		return w.fail(err)
	}
	w.lastSync = w.opts.Now()
	return nil
}

// syncFiles makes the archive durable, then the journal lines that
// describe it, and checks the output folder is still there.
func (w *Writer) syncFiles() error {
	if err := w.archive.Sync(); err != nil {
		return fmt.Errorf("sync archive: %w", err)
	}
	if err := w.journal.Sync(); err != nil {
		return fmt.Errorf("sync journal: %w", err)
	}
	return w.stillThere()
}

// syncErr returns the failure of a background sync, if any.
func (w *Writer) syncErr() error {
	w.smu.Lock()
	defer w.smu.Unlock()
	return w.bgErr
}

// stillThere checks that the journal open for writing is still the one
// the output folder's path names. Writes to a medium unmounted while open
// (umount -l) or to a folder removed or replaced still succeed, into
// files nobody will ever find: stop as soon as that shows.
func (w *Writer) stillThere() error {
	open, err := w.journal.Stat()
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	named, err := os.Stat(filepath.Join(w.partial, JournalFile))
	if err == nil && os.SameFile(open, named) {
		return nil
	}
	if err == nil {
		err = errors.New("replaced by another file")
	}
	return fmt.Errorf("output folder %s is gone (medium unmounted or removed?): %w", w.partial, err)
}

func (w *Writer) fail(err error) error {
	w.emu.Lock()
	defer w.emu.Unlock()
	if w.err == nil {
		if !errors.Is(err, ErrOutput) {
			err = fmt.Errorf("%w: %w", ErrOutput, err)
		}
		w.err = err
	}
	return w.err
}

// BagInfo is the metadata written to bag-info.txt.
type BagInfo struct {
	// Fields in order; values are made single-line.
	Fields [][2]string
}

// Add appends a field.
func (b *BagInfo) Add(label, value string) { b.Fields = append(b.Fields, [2]string{label, value}) }

// Sealed is what Seal produced.
type Sealed struct {
	Dir           string // the final output folder
	Root          string // hex SHA-256 of the tag manifest
	ArchiveSHA256 string
	PublicKey     ed25519.PublicKey
	Items         int
	Octets        int64

	// ArchiveAgeSHA256 is the SHA-256 of evidence.tar.zst.age, for an
	// encrypted archive (ArchiveSHA256 is then the plaintext's); else empty.
	ArchiveAgeSHA256 string
}

// Seal writes the tag files (the collection record, the journal so far,
// the payload manifest, bag-info.txt and the tag manifest), ends the
// archive, writes the files beside it, signs the root and renames the
// folder to its final name. record is the collection record (JSON).
// A Seal that fails leaves the files open and the folder ".partial":
// call Abort then: it closes them, and journals why if the output has
// not failed.
func (w *Writer) Seal(record []byte, info BagInfo) (*Sealed, error) {
	return w.SealFrom(func(out io.Writer) error {
		_, err := out.Write(record)
		return err
	}, info)
}

// SealFrom is Seal for a record too large to hold in memory: write writes
// it, once, straight into the output folder's record.json, which is then
// read back into the archive. A byte that reads back differently from
// what was written fails sealing.
func (w *Writer) SealFrom(write func(io.Writer) error, info BagInfo) (*Sealed, error) {
	if err := w.failed(); err != nil {
		return nil, err
	}
	if w.sealed {
		return nil, errors.New("bag already sealed")
	}
	// The output folder must still be there before record.json is made
	// in it: a medium gone says so, not "no such file".
	if err := w.stillThere(); err != nil {
		return nil, w.fail(err)
	}
	// The journal is read back into the archive below, with nothing
	// appended after it but the seal line: the level stays as it is.
	w.fr.freeze()
	tags := []manifestEntry{}
	bagitSum := sha256.Sum256([]byte(bagitDeclaration))
	tags = append(tags, manifestEntry{BagitFile, bagitSum})

	sum, err := w.putRecord(write)
	if err != nil {
		return nil, err
	}
	tags = append(tags, manifestEntry{BagRecordFile, sum})

	if err := w.sync(); err != nil {
		return nil, err
	}
	// The journal so far, streamed back from the output folder.
	jf, err := os.Open(filepath.Join(w.partial, JournalFile))
	if err != nil {
		return nil, w.fail(fmt.Errorf("read back journal: %w", err))
	}
	jst, err := jf.Stat()
	if err != nil {
		jf.Close()
		return nil, w.fail(fmt.Errorf("read back journal: %w", err))
	}
	sum, err = w.putTagReader(BagJournalFile, jst.Size(), jf)
	jf.Close()
	if err != nil {
		return nil, err
	}
	tags = append(tags, manifestEntry{BagJournalFile, sum})

	// The payload manifest, made line by line from the journal's item
	// lines read back, and checked against what Put stored.
	if sum, err = w.putManifest(); err != nil {
		return nil, err
	}
	tags = append(tags, manifestEntry{ManifestFile, sum})

	info.Add("Payload-Oxum", fmt.Sprintf("%d.%d", w.octets, w.items))
	info.Add("Scelle-Bag-Format", FormatVersion)
	var bi strings.Builder
	for _, f := range info.Fields {
		fmt.Fprintf(&bi, "%s: %s\n", oneLine(f[0]), oneLine(f[1]))
	}
	if sum, err = w.putTag(BagInfoFile, []byte(bi.String())); err != nil {
		return nil, err
	}
	tags = append(tags, manifestEntry{BagInfoFile, sum})

	var tm strings.Builder
	for _, e := range tags {
		tm.WriteString(ManifestLine(e.sum, e.path))
	}
	tagManifest := []byte(tm.String())
	// The last entry holds the tag manifest and the end-of-archive marker.
	var res Result
	var rerr error
	res.Path = TagManifestFile
	e := Entry{Name: TagManifestFile, Size: int64(len(tagManifest)), ModTime: w.opts.Now()}
	if err := w.startEntry(&res, e); err != nil {
		return nil, err
	}
	if err := w.entryBody(&res, e, bytes.NewReader(tagManifest), &rerr); err != nil {
		return nil, err
	}
	if err := w.tw.Close(); err != nil {
		return nil, w.fail(err)
	}
	if err := w.endEntry(&res); err != nil {
		return nil, err
	}
	w.fr.close()
	var ageSum string
	if w.enc != nil {
		if err := w.enc.close(); err != nil {
			return nil, w.fail(fmt.Errorf("encrypt archive: %w", err))
		}
		ageSum = w.enc.sum()
	}
	if err := w.archive.Sync(); err != nil {
		return nil, w.fail(fmt.Errorf("sync archive: %w", err))
	}
	if err := w.archive.Close(); err != nil {
		return nil, w.fail(fmt.Errorf("close archive: %w", err))
	}
	archiveSum := hex.EncodeToString(w.out.h.Sum(nil))
	rootSum := sha256.Sum256(tagManifest)
	root := hex.EncodeToString(rootSum[:])
	sig := ed25519.Sign(w.key, tagManifest)
	pub, err := PublicKeyPEM(w.PublicKey())
	if err != nil {
		return nil, err
	}
	files := []struct {
		name string
		data []byte
	}{
		{ArchiveSumFile, []byte(archiveSum + "  " + ArchiveFile + "\n")},
		{EncryptedArchiveSumFile, []byte(ageSum + "  " + EncryptedArchiveFile + "\n")},
		{RootFile, []byte(root + "\n")},
		{SigFile, sig},
		{PubFile, pub},
	}
	for _, f := range files {
		if f.name == EncryptedArchiveSumFile && w.enc == nil {
			continue
		}
		if err := writeNew(filepath.Join(w.partial, f.name), f.data, 0o644); err != nil {
			return nil, w.fail(err)
		}
	}
	sealed := &Sealed{Dir: w.dir, Root: root, ArchiveSHA256: archiveSum, ArchiveAgeSHA256: ageSum,
		PublicKey: w.PublicKey(), Items: int(w.items), Octets: w.octets}
	if w.opts.BeforeSealLine != nil {
		if err := w.opts.BeforeSealLine(w.partial, sealed); err != nil {
			return nil, err
		}
	}
	if err := w.appendJournal(JournalEntry{Type: JournalSeal, Root: root, ArchiveSHA256: archiveSum,
		ArchiveAgeSHA256: ageSum}); err != nil {
		return nil, err
	}
	if err := w.journal.Sync(); err != nil {
		return nil, w.fail(fmt.Errorf("sync journal: %w", err))
	}
	if err := w.journal.Close(); err != nil {
		return nil, w.fail(fmt.Errorf("close journal: %w", err))
	}
	if err := fileio.SyncDir(w.partial); err != nil {
		return nil, w.fail(fmt.Errorf("%w: %v", ErrOutput, err))
	}
	if err := os.Rename(w.partial, w.dir); err != nil {
		return nil, w.fail(fmt.Errorf("rename %s: %w", w.partial, err))
	}
	if err := fileio.SyncDir(filepath.Dir(w.dir)); err != nil {
		return nil, w.fail(fmt.Errorf("%w: %v", ErrOutput, err))
	}
	w.sealed = true
	return sealed, nil
}

// Abort records why the collection stopped before sealing and closes the
// files; the folder keeps its ".partial" name and its journal proves what
// was completed.
func (w *Writer) Abort(reason string) error {
	if w.sealed {
		return nil
	}
	detail, _ := json.Marshal(map[string]string{"reason": reason})
	var errs []error
	w.fr.close() // the frames sent are written and their items journaled first
	if w.failed() == nil {
		if w.enc != nil {
			// Write the frames sent and age's last chunk, so that the
			// ciphertext decrypts to its end.
			w.fr.close()
			errs = append(errs, w.enc.close())
		}
		// A Put cut short by a panic or a signal may have left an entry
		// unfinished; it was never journaled, so it is not claimed.
		errs = append(errs, w.appendJournal(JournalEntry{Type: JournalAbort, Detail: detail}))
		errs = append(errs, w.archive.Sync(), w.journal.Sync())
	}
	w.fr.close()
	w.syncs.Wait() // no background sync on closed files
	errs = append(errs, w.archive.Close(), w.journal.Close())
	w.sealed = true
	return errors.Join(errs...)
}

func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// countWriter counts and hashes what it passes to w and keeps the first
// error.
type countWriter struct {
	w     io.Writer
	h     hash.Hash
	n     int64
	err   error
	total atomic.Int64 // n, for other goroutines
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	c.total.Store(c.n)
	if err != nil {
		c.err = err
	}
	return n, err
}
