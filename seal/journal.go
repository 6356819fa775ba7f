package seal

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
)

// The journal is a JSON Lines file written beside the archive while
// collecting. Each line is one JSON object that ends with a "sig" member:
// an Ed25519 signature, in standard base64, over the line's bytes before
// `,"sig":"`. Each line's "prev" is the hex SHA-256 of the previous line's
// bytes (without its line feed); the first line's is 64 zeros. So no line
// can be changed, removed, inserted or reordered without breaking the
// chain or a signature.

// Journal entry types.
const (
	JournalOpen  = "open"  // the first line: collection id and public key
	JournalItem  = "item"  // an item stored whole in the archive
	JournalEvent = "event" // something the collection records (an outcome, a failure)
	JournalSeal  = "seal"  // the bag is sealed: root and archive hash
	JournalAbort = "abort" // the collection stopped before sealing
)

// ZeroHash is the "prev" of a journal's first line.
const ZeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

// MaxJournalLine bounds one journal line.
const MaxJournalLine = 1 << 20

// JournalEntry is one journal line. Fields are in the order they are
// written; empty ones are left out.
type JournalEntry struct {
	Seq  int64  `json:"seq"`
	Prev string `json:"prev"`
	Time string `json:"time"`
	Type string `json:"type"`

	// open
	Collection string `json:"collection,omitempty"`
	PublicKey  string `json:"public_key,omitempty"` // PKIX DER, standard base64
	Tool       string `json:"tool,omitempty"`

	// item: the archive path, the SHA-256 of its content, its size and
	// the archive byte range [Offset, End) of the zstd frame that holds it.
	Path   string `json:"path,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Size   *int64 `json:"size,omitempty"`
	Offset *int64 `json:"offset,omitempty"`
	End    *int64 `json:"end,omitempty"`

	// seal
	Root          string `json:"root,omitempty"`
	ArchiveSHA256 string `json:"archive_sha256,omitempty"`
	// ArchiveAgeSHA256 is the SHA-256 of evidence.tar.zst.age, for a bag
	// encrypted with age; ArchiveSHA256 is then the plaintext archive's.
	ArchiveAgeSHA256 string `json:"archive_age_sha256,omitempty"`

	// event, abort
	Detail json.RawMessage `json:"detail,omitempty"`

	Sig string `json:"sig,omitempty"`
}

const sigMarker = `,"sig":"`

// signLine encodes e (its Sig ignored) as a signed journal line without
// the line feed.
func signLine(e JournalEntry, key ed25519.PrivateKey) ([]byte, error) {
	e.Sig = ""
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // paths keep '&', '<', '>' as the manifest has them
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	msg := body[:len(body)-1] // drop the closing brace
	sig := ed25519.Sign(key, msg)
	line := make([]byte, 0, len(msg)+len(sigMarker)+90)
	line = append(line, msg...)
	line = append(line, sigMarker...)
	line = append(line, base64.StdEncoding.EncodeToString(sig)...)
	line = append(line, '"', '}')
	return line, nil
}

// LineHash returns the hex SHA-256 of a journal line (without line feed).
func LineHash(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

// JournalError locates a broken journal line.
type JournalError struct {
	Line int // 1-based
	Err  error
}

func (e *JournalError) Error() string { return fmt.Sprintf("journal line %d: %v", e.Line, e.Err) }
func (e *JournalError) Unwrap() error { return e.Err }

// ParseJournalLine checks one line's form and signature against pub (nil:
// the signature is not checked) and decodes it.
func ParseJournalLine(line []byte, pub ed25519.PublicKey) (JournalEntry, error) {
	var e JournalEntry
	i := bytes.LastIndex(line, []byte(sigMarker))
	if i < 0 || !bytes.HasSuffix(line, []byte(`"}`)) {
		return e, errors.New("no signature")
	}
	b64 := string(line[i+len(sigMarker) : len(line)-2])
	sig, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(sig) != ed25519.SignatureSize || base64.StdEncoding.EncodeToString(sig) != b64 {
		return e, errors.New("malformed signature")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return e, fmt.Errorf("decode: %w", err)
	}
	if dec.More() {
		return e, errors.New("trailing data")
	}
	if pub != nil && !ed25519.Verify(pub, line[:i], sig) {
		return e, errors.New("signature does not verify")
	}
	return e, nil
}

// JournalCheck is the result of checking a journal.
type JournalCheck struct {
	// Entries and Lines are the lines that hold, in order, and their bytes
	// without line feeds: kept by CheckJournal, not by ScanJournal.
	Entries []JournalEntry
	Lines   [][]byte
	// Count is the number of lines that hold.
	Count int
	Key   ed25519.PublicKey
	// Err is the first broken link; the entries before it hold.
	Err *JournalError
	// Truncated is set when the last line has no line feed (a write cut
	// short); that line is not counted.
	Truncated bool

	last JournalEntry
	// prefix is the SHA-256 of the lines that hold but the last, each
	// with its line feed: the journal as the bag holds it when the last
	// line is the seal line.
	prefix [32]byte
	// listing is the SHA-256 of the manifest lines that the item lines
	// make, in order; items counts them.
	listing [32]byte
	items   int
}

// Last returns the last entry that holds, or nil.
func (c *JournalCheck) Last() *JournalEntry {
	if c.Count == 0 {
		return nil
	}
	return &c.last
}

// CheckJournal reads a journal, checking the chain and each signature with
// the public key of its first line (which must be an "open" line). It
// returns the lines that hold and the first broken one. want, if not nil,
// is the key the journal must be signed with.
func CheckJournal(r io.Reader, want ed25519.PublicKey) (*JournalCheck, error) {
	return checkJournal(r, want, true, nil)
}

// ScanJournal is CheckJournal keeping none of the lines: only their
// count, the last one and digests of them, in memory that does not grow
// with the journal. fn, when not nil, is called with each line that holds,
// in order.
func ScanJournal(r io.Reader, want ed25519.PublicKey, fn func(*JournalEntry)) (*JournalCheck, error) {
	return checkJournal(r, want, false, fn)
}

func checkJournal(r io.Reader, want ed25519.PublicKey, keep bool, fn func(*JournalEntry)) (*JournalCheck, error) {
	c := &JournalCheck{}
	br := bufio.NewReaderSize(r, 64<<10)
	prev := ZeroHash
	prefix, listing := sha256.New(), sha256.New()
	var pending []byte // the last line that holds, not yet in prefix
	defer func() {
		copy(c.prefix[:], prefix.Sum(nil))
		copy(c.listing[:], listing.Sum(nil))
	}()
	// The first line is read alone: it gives the key. The others are
	// parsed and their signatures checked on every core, in order.
	var next func() parsedLine
	for n := 1; ; n++ {
		var line []byte
		var err error
		var e JournalEntry
		var perr error
		if n == 1 {
			line, err = ReadLine(br, MaxJournalLine)
		} else {
			if next == nil {
				var stop func()
				next, stop = parseLines(br, c.Key)
				defer stop()
			}
			p := next()
			line, err, e, perr = p.line, p.err, p.e, p.perr
		}
		if err == io.EOF && len(line) == 0 {
			return c, nil
		}
		if err == io.EOF {
			c.Truncated = true
			return c, nil
		}
		if err != nil {
			c.Err = &JournalError{n, err}
			return c, nil
		}
		if n == 1 {
			first, ferr := ParseJournalLine(line, nil)
			if ferr == nil && first.Type != JournalOpen {
				ferr = fmt.Errorf("first line is %q, not %q", first.Type, JournalOpen)
			}
			var pub ed25519.PublicKey
			if ferr == nil {
				pub, ferr = DecodeKey(first.PublicKey)
			}
			if ferr == nil && want != nil && !pub.Equal(want) {
				ferr = errors.New("signed with another key than the bag's")
			}
			if ferr != nil {
				c.Err = &JournalError{n, ferr}
				return c, nil
			}
			c.Key = pub
			e, perr = ParseJournalLine(line, pub)
		}
		switch {
		case perr != nil:
		case e.Seq != int64(n):
			perr = fmt.Errorf("sequence number %d, want %d", e.Seq, n)
		case e.Prev != prev:
			perr = errors.New("prev does not match the SHA-256 of the line before: a line was changed, removed or inserted")
		case n > 1 && e.Type == JournalOpen:
			perr = errors.New("a second open line")
		}
		if perr != nil {
			c.Err = &JournalError{n, perr}
			return c, nil
		}
		if keep {
			c.Entries = append(c.Entries, e)
			c.Lines = append(c.Lines, line)
		}
		c.Count++
		c.last = e
		if fn != nil {
			fn(&e)
		}
		if pending != nil {
			prefix.Write(pending)
			prefix.Write([]byte{'\n'})
		}
		pending = line
		if e.Type == JournalItem {
			var sum [32]byte
			if k, err := hex.Decode(sum[:], []byte(e.SHA256)); err != nil || k != len(sum) {
				// No manifest line, so a listing no manifest has.
				listing.Write([]byte("invalid sha256\n"))
			} else {
				listing.Write([]byte(ManifestLine(sum, e.Path)))
			}
			c.items++
		}
		prev = LineHash(line)
	}
}

// parsedLine is a journal line read, parsed and its signature checked.
type parsedLine struct {
	line []byte
	err  error // from ReadLine
	e    JournalEntry
	perr error // from ParseJournalLine
}

// journalBatch is a run of lines parsed by one worker.
type journalBatch struct {
	lines []parsedLine
	done  chan struct{}
}

// parseLines reads the lines left in br and parses them, checking their
// signatures with pub, on every core. next yields them in order, then
// io.EOF for ever; stop ends the reading early. At most a few batches of
// lines are in memory at once.
func parseLines(br *bufio.Reader, pub ed25519.PublicKey) (next func() parsedLine, stop func()) {
	const batchLines = 256
	workers := runtime.GOMAXPROCS(0)
	work := make(chan *journalBatch, workers)
	ordered := make(chan *journalBatch, 2*workers)
	quit := make(chan struct{})
	go func() {
		defer close(work)
		defer close(ordered)
		for {
			b := &journalBatch{done: make(chan struct{})}
			last := false
			for len(b.lines) < batchLines && !last {
				line, err := ReadLine(br, MaxJournalLine)
				b.lines = append(b.lines, parsedLine{line: line, err: err})
				last = err != nil
			}
			select {
			case ordered <- b:
			case <-quit:
				return
			}
			select {
			case work <- b:
			case <-quit:
				return
			}
			if last {
				return
			}
		}
	}()
	for range workers {
		go func() {
			for b := range work {
				for i := range b.lines {
					if p := &b.lines[i]; p.err == nil {
						p.e, p.perr = ParseJournalLine(p.line, pub)
					}
				}
				close(b.done)
			}
		}()
	}
	var cur *journalBatch
	next = func() parsedLine {
		for cur == nil || len(cur.lines) == 0 {
			b, ok := <-ordered
			if !ok {
				return parsedLine{err: io.EOF}
			}
			<-b.done
			cur = b
		}
		p := cur.lines[0]
		cur.lines = cur.lines[1:]
		return p
	}
	var once sync.Once
	return next, func() { once.Do(func() { close(quit) }) }
}

// DecodeKey decodes a public key written by EncodeKey.
func DecodeKey(s string) (ed25519.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("public key: not Ed25519")
	}
	return pub, nil
}

// ErrLineTooLong is returned by ReadLine for a line over its bound.
var ErrLineTooLong = errors.New("line too long")

// ReadLine reads one line of at most max bytes without its line feed. A
// final line without a line feed is returned with io.EOF.
func ReadLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > max+1 {
			return nil, fmt.Errorf("%w: longer than %d bytes", ErrLineTooLong, max)
		}
		switch err {
		case nil:
			return line[:len(line)-1], nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			return line, io.EOF
		default:
			return nil, err
		}
	}
}

// EncodeKey encodes pub as the journal and the custody log carry it: its
// PKIX DER in standard base64, the body of root.pub.pem on one line.
func EncodeKey(pub ed25519.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	return base64.StdEncoding.EncodeToString(der)
}
