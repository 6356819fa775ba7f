package export

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"filippo.io/age"
	sha256 "github.com/minio/sha256-simd"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/internal/fileio"
	"github.com/scelle/scelle/seal"
)

// The formats, for Options.Format.
const (
	CaseUCO  = "case-uco"
	Bodyfile = "bodyfile"
	JSONL    = "jsonl"
)

// Formats lists the formats Write writes.
var Formats = []string{CaseUCO, Bodyfile, JSONL}

// ErrMismatch is wrapped by every error that means the bag is not
// what its record, root or archive hash say: nothing exported from it
// may be used.
var ErrMismatch = errors.New("the bag does not match its record")

// ErrNotSealed is returned for a folder that holds no sealed bag
// (no record.json or root.txt beside the archive).
var ErrNotSealed = errors.New("not a sealed bag")

// Options configure Write.
type Options struct {
	Format string
	// Warn, when not nil, is told what the export leaves out and why (a
	// line of a parsed file that is not JSON, an event without a time).
	// Write goes on after a warning.
	Warn func(msg string)
	// Identities decrypt an encrypted archive (evidence.tar.zst.age) as
	// it is read; nothing decrypted is written anywhere.
	Identities []age.Identity
}

// Stats says what Write read and wrote.
type Stats struct {
	Format  string
	Root    string // the bag's root fingerprint
	Entries int    // archive entries read and checked
	Items   int    // record items read
	Records int    // lines, events or graph nodes written
	Skipped int    // source records left out (each reported through Warn)
}

// exportFormat is one output format. begin gets the record's members
// (Items empty), item each record item in order, entry the payload
// entries it asked for (wants) as they are read from the archive, and
// end is called once the archive is checked.
type exportFormat interface {
	begin(b *exportBag) error
	item(b *exportBag, it *evidence.Item) error
	wants(path string) bool
	entry(b *exportBag, path string, src storedItem, r io.Reader) error
	end(b *exportBag) error
}

// storedItem is what the record says of a stored item.
type storedItem struct {
	sha256    string
	size      int64
	collector string
	source    string
	seen      bool
}

// exportBag is the bag being exported.
type exportBag struct {
	dir     string // the local folder; "" for a bag read through fsys alone
	fsys    fs.FS  // the folder's files
	name    string // what findings call the bag
	folder  string // the output folder's base name
	rec     *chain.Record
	recSum  string // SHA-256 of record.json
	root    string
	archive string // SHA-256 from evidence.tar.zst.sha256 (of the plaintext, when encrypted)
	size    int64  // archive size in bytes, as on disk (the ciphertext, when encrypted)
	// ageSum is the SHA-256 from evidence.tar.zst.age.sha256, for an
	// archive encrypted with age; empty otherwise.
	ageSum  string
	custody *chain.CustodyCheck
	// hostname caches the record's host.hostname.
	hostname *string
	stored   map[string]*storedItem
	nStored  int
	w        *bufio.Writer
	opts     Options
	stats    *Stats
}

func (b *exportBag) warn(format string, args ...any) {
	b.stats.Skipped++
	if b.opts.Warn != nil {
		b.opts.Warn(fmt.Sprintf(format, args...))
	}
}

func mismatch(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMismatch, fmt.Sprintf(format, args...))
}

// Write writes the sealed bag in the output folder dir to w in the
// format opts.Format. The package documentation says what it checks.
func Write(dir string, w io.Writer, opts Options) (Stats, error) {
	return write(dir, fileio.DirFS(dir), dir, w, opts)
}

// WriteFS is Write on the output folder at the root of fsys (a bag read
// from elsewhere, such as an S3 store, with nothing of it written but the
// export); name is what errors call it, and its last element is the
// output folder's name.
func WriteFS(fsys fs.FS, name string, w io.Writer, opts Options) (Stats, error) {
	return write("", fsys, name, w, opts)
}

func write(dir string, fsys fs.FS, name string, w io.Writer, opts Options) (Stats, error) {
	stats := Stats{Format: opts.Format}
	var f exportFormat
	switch opts.Format {
	case CaseUCO:
		f = &caseUCOExport{}
	case Bodyfile:
		f = &bodyfileExport{}
	case JSONL:
		f = &jsonlExport{}
	default:
		return stats, fmt.Errorf("unknown export format %q (want %s)", opts.Format, strings.Join(Formats, ", "))
	}
	b, err := openExportBag(dir, fsys, name, opts.Format != Bodyfile)
	if err != nil {
		return stats, err
	}
	if b.ageSum != "" && len(opts.Identities) == 0 {
		return stats, fmt.Errorf("%w: %s; give the identity of one of its recipients", seal.ErrEncrypted, seal.EncryptedArchiveFile)
	}
	b.opts, b.stats = opts, &stats
	stats.Root = b.root
	b.w = bufio.NewWriterSize(w, 256<<10)
	if err := f.begin(b); err != nil {
		return stats, err
	}
	if err := b.items(func(it *evidence.Item) error { stats.Items++; return f.item(b, it) }); err != nil {
		return stats, err
	}
	if err := b.readArchive(f); err != nil {
		return stats, err
	}
	if err := f.end(b); err != nil {
		return stats, err
	}
	return stats, b.w.Flush()
}

// openExportBag reads what identifies the sealed bag in dir, its record's
// members, and (withCustody) its custody log, which must hold.
func openExportBag(dir string, fsys fs.FS, name string, withCustody bool) (*exportBag, error) {
	var fi fs.FileInfo
	var err error
	if dir != "" {
		fi, err = os.Stat(dir)
	} else {
		fi, err = fs.Stat(fsys, ".")
	}
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", name)
	}
	b := &exportBag{dir: dir, fsys: fsys, name: name, folder: filepath.Base(filepath.Clean(dir)), stored: map[string]*storedItem{}}
	if dir == "" {
		b.folder = path.Base(path.Clean(name))
	}
	archive := seal.ArchiveFile
	if _, err := fs.Stat(fsys, seal.ArchiveFile); errors.Is(err, fs.ErrNotExist) {
		if _, err := fs.Stat(fsys, seal.EncryptedArchiveFile); err == nil {
			archive = seal.EncryptedArchiveFile
			sum, err := fs.ReadFile(fsys, seal.EncryptedArchiveSumFile)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrNotSealed, err)
			}
			b.ageSum, _, _ = strings.Cut(string(sum), " ")
			if !chain.IsSHA256Hex(b.ageSum) {
				return nil, mismatch("%s does not hold a SHA-256", seal.EncryptedArchiveSumFile)
			}
		}
	}
	for _, file := range []string{archive, seal.RecordFile, seal.RootFile, seal.ArchiveSumFile} {
		if _, err := fs.Stat(fsys, file); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s is missing", ErrNotSealed, file)
		} else if err != nil {
			return nil, err
		}
	}
	root, err := fs.ReadFile(fsys, seal.RootFile)
	if err != nil {
		return nil, err
	}
	b.root = strings.TrimSuffix(string(root), "\n")
	if !chain.IsSHA256Hex(b.root) {
		return nil, mismatch("%s does not hold a SHA-256", seal.RootFile)
	}
	sum, err := fs.ReadFile(fsys, seal.ArchiveSumFile)
	if err != nil {
		return nil, err
	}
	b.archive, _, _ = strings.Cut(string(sum), " ")
	if !chain.IsSHA256Hex(b.archive) {
		return nil, mismatch("%s does not hold a SHA-256", seal.ArchiveSumFile)
	}
	if fi, err := fs.Stat(fsys, archive); err == nil {
		b.size = fi.Size()
	}
	if b.rec, b.recSum, err = readRecordMembers(fsys); err != nil {
		return nil, err
	}
	if withCustody {
		c, err := chain.CheckCustodyFS(fsys)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, mismatch("no custody log (%s): a sealed bag keeps one beside the archive", chain.CustodyFile)
		case err != nil:
			return nil, fmt.Errorf("custody log: %w", err)
		case c.Err != nil:
			return nil, mismatch("%v; the custody events cannot be exported", c.Err)
		case c.Sealed() == nil:
			return nil, mismatch("%s has no sealed event", chain.CustodyFile)
		case c.Sealed().Root != b.root:
			return nil, mismatch("%s seals root %s, %s holds %s", chain.CustodyFile, c.Sealed().Root, seal.RootFile, b.root)
		}
		b.custody = c
	}
	return b, nil
}

// readRecordMembers decodes every member of the record at path but its
// items, and returns the file's SHA-256.
func readRecordMembers(fsys fs.FS) (*chain.Record, string, error) {
	f, err := fsys.Open(seal.RecordFile)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	h := sha256.New()
	rec, err := chain.ScanRecord(io.TeeReader(f, h), nil)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", seal.RecordFile, err)
	}
	return rec, hex.EncodeToString(h.Sum(nil)), nil
}

// items streams the record's items to fn, one at a time, and notes the
// stored ones (those with a path) for the archive pass. The file is
// hashed again: it must be the one whose members were read.
func (b *exportBag) items(fn func(*evidence.Item) error) error {
	f, err := b.fsys.Open(seal.RecordFile)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	_, err = chain.ScanRecord(io.TeeReader(f, h), func(it *evidence.Item) error {
		if it.Path != "" {
			if _, dup := b.stored[it.Path]; dup {
				return mismatch("%s is stored twice in the record", it.Path)
			}
			b.stored[it.Path] = &storedItem{sha256: it.SHA256, size: it.Size, collector: it.Collector, source: it.Source}
			b.nStored++
		}
		return fn(it)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", seal.RecordFile, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != b.recSum {
		return mismatch("%s changed while it was read", seal.RecordFile)
	}
	return nil
}

// readArchive reads the archive once with seal's BagReader, which checks
// it against the manifests, root.txt, root.sig and the archive's sums
// (not against the journal: scelle verify does), checks every payload entry against
// the record and hands the payload entries the format wants to it.
func (b *exportBag) readArchive(f exportFormat) error {
	ids := b.opts.Identities
	if b.ageSum == "" {
		ids = nil // the plaintext archive is there: read it
	}
	ro := seal.ReadOptions{Identities: ids, IgnoreJournal: true}
	var br *seal.BagReader
	var err error
	if b.dir != "" {
		br, err = seal.OpenBag(b.dir, ro)
	} else {
		br, err = seal.OpenBagFS(b.fsys, b.name, ro)
	}
	if err != nil {
		return err
	}
	defer br.Close()
	buf := make([]byte, 256<<10)
	sawRecord := false
	for br.Next() {
		e := br.Entry()
		b.stats.Entries++
		cr := &countingReader{r: e}
		switch {
		case strings.HasPrefix(e.Path, seal.PayloadDir+"/"):
			s, ok := b.stored[e.Path]
			if !ok {
				return mismatch("%s is in the archive, not in the record", e.Path)
			}
			if s.seen {
				return mismatch("%s is twice in the archive", e.Path)
			}
			s.seen = true
			if f.wants(e.Path) {
				if err := f.entry(b, e.Path, *s, cr); err != nil {
					return err
				}
			}
			if err := drain(cr, buf); err != nil {
				return mismatch("%s: %v", e.Path, err)
			}
			if sum, _ := e.SHA256(); hex.EncodeToString(sum[:]) != s.sha256 || cr.n != s.size {
				return mismatch("%s: its content (%d bytes, SHA-256 %x) is not what the record says (%d bytes, %s)",
					e.Path, cr.n, sum, s.size, s.sha256)
			}
		default:
			if err := drain(cr, buf); err != nil {
				return mismatch("%s: %v", e.Path, err)
			}
			// The tag manifest lists the bag's record, and root.txt
			// names the tag manifest: the reader checks both.
			if e.Path == seal.BagRecordFile {
				sawRecord = true
				if sum, _ := e.SHA256(); hex.EncodeToString(sum[:]) != b.recSum {
					return mismatch("%s is not the bag's %s", seal.RecordFile, seal.BagRecordFile)
				}
			}
		}
	}
	switch err := br.Err(); {
	case err == nil:
	case errors.Is(err, seal.ErrMismatch):
		return mismatch("%v", err)
	case errors.As(err, new(*seal.FrameError)), errors.As(err, new(*seal.EntryError)), errors.As(err, new(*seal.DecryptError)):
		return mismatch("%s: %v", seal.ArchiveFile, err)
	default:
		return err
	}
	if !sawRecord {
		return mismatch("the archive holds no %s", seal.BagRecordFile)
	}
	for p, s := range b.stored {
		if !s.seen {
			return mismatch("%s is in the record, not in the archive", p)
		}
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func drain(r io.Reader, buf []byte) error {
	_, err := io.CopyBuffer(io.Discard, r, buf)
	return err
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// maxExportLine bounds one line of a JSON Lines file read from the bag
// (a process record with its whole environment fits).
const maxExportLine = 8 << 20

// jsonLines calls fn with each line of r (without its line feed). A line
// longer than maxExportLine is skipped and reported through skip.
func jsonLines(r io.Reader, fn func(n int, line []byte) error, skip func(n int, why string)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				if len(long) <= maxExportLine {
					long = append(long, line...)
				}
			}
			line = long
		}
		if err != nil && err != io.EOF {
			return err
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		switch {
		case len(line) > maxExportLine:
			skip(n, fmt.Sprintf("longer than %d bytes", maxExportLine))
		case len(bytes.TrimSpace(line)) > 0:
			if ferr := fn(n, line); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}
