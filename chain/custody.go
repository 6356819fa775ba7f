package chain

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/scelle/scelle/internal/fileio"
	"github.com/scelle/scelle/seal"
)

// The custody log is a JSON Lines file, custody.jsonl, in the output
// folder beside the sealed archive (never inside it: the archive never
// changes, the log grows with each holder). It follows the journal's
// rules: each line is one JSON object ending with a "sig" member, an
// Ed25519 signature in standard base64 over the line's bytes before
// `,"sig":"`; each line's "prev" is the hex SHA-256 of the previous line's
// bytes without its line feed, 64 zeros for the first; "seq" counts lines
// from 1. Unlike the journal, each line carries the public key that signed
// it: every holder signs their own events with their own key.
//
// The first line is the "acquired" event and a sealed bag's log holds one
// "sealed" event; both are signed by the bag's key (root.pub.pem, the key
// of the journal's open line). That is what anchors the log to the bag:
// any holder can make a key and sign a line, so a line's signature alone
// only proves that whoever holds that key wrote it. The bag's key is the
// one key an attacker cannot choose: a collection key is made in memory
// and its private half is gone once the bag is sealed, and an operator key
// is named in the collection record and the bag's signature. Requiring it
// for the two events the collector writes means nobody can rewrite the log
// from its start (a new "acquired" or "sealed" line, re-signed with a key
// of their own, is refused), and every later line chains to the sealed
// line through "prev". A later event changed and re-signed by its own
// signer breaks the "prev" of the line after it; only the last line of the
// log can be replaced or removed without a trace in the file itself.
// docs/custody.md says what that proves and what it does not.

// CustodyFile is the custody log's name in the output folder.
const CustodyFile = "custody.jsonl"

// Custody events.
const (
	EventAcquired    = "acquired"    // the collection started (written by scelle collect, bag key)
	EventSealed      = "sealed"      // the bag was sealed (written by scelle collect, bag key)
	EventTransferred = "transferred" // handed from one holder to another
	EventReceived    = "received"    // taken in; the seal's state recorded
	EventVerified    = "verified"    // scelle verify was run; its verdict
	EventTimestamped = "timestamped" // an RFC 3161 token was obtained for the root
	EventNote        = "note"        // free text
	EventStored      = "stored"      // the bag's files were stored in an S3 bucket (scelle push)
)

// CustodyEvents lists the events in the order a bag's life usually has them.
var CustodyEvents = []string{EventAcquired, EventSealed, EventTransferred, EventReceived,
	EventVerified, EventTimestamped, EventNote, EventStored}

// Bounds on a custody log read back.
const (
	MaxCustodyLine  = 16 << 10
	MaxCustodyLines = 10000
)

// CustodyEvent is what happened, as the caller says it. Fields that do
// not belong to the event must be left empty; each event's required
// fields are listed with it.
type CustodyEvent struct {
	Event string `json:"event"`
	// At is when it happened; zero means now. It is written in UTC to the
	// second, as "time".
	At time.Time `json:"-"`
	// Root is the bag's root fingerprint. AppendCustody fills it in: the
	// sealed event's root for every event after it, root.txt for the
	// sealed event. The acquired event has none.
	Root string `json:"root,omitempty"`
	// Collection is the collection id (acquired, required; AppendCustody
	// fills it in from the journal).
	Collection string  `json:"collection,omitempty"`
	Actor      *Person `json:"actor,omitempty"`

	// acquired: the case, the host, the tool. verified: the tool.
	Case string `json:"case,omitempty"`
	Host string `json:"host,omitempty"`
	Tool string `json:"tool,omitempty"`

	// sealed: the archive's SHA-256 (required), the number of payload
	// files and their bytes, and the count of items per status.
	ArchiveSHA256 string         `json:"archive_sha256,omitempty"`
	Items         *int           `json:"items,omitempty"`
	Octets        *int64         `json:"octets,omitempty"`
	Summary       map[string]int `json:"summary,omitempty"`

	// transferred: to (required), from, the medium, the seal number
	// (numéro de scellé), the reason. received may repeat the seal number.
	From       string `json:"from,omitempty"`
	To         string `json:"to,omitempty"`
	Medium     string `json:"medium,omitempty"`
	SealNumber string `json:"seal_number,omitempty"`
	Reason     string `json:"reason,omitempty"`

	// received: by whom, whether the seal was intact (required), the
	// condition of the medium.
	By         string `json:"by,omitempty"`
	SealIntact *bool  `json:"seal_intact,omitempty"`
	Condition  string `json:"condition,omitempty"`

	// verified: the verdict (required), the checks that failed, and what
	// the bag was compared with outside itself (each anchor kind, and
	// whether it was checked and held).
	Verdict string          `json:"verdict,omitempty"`
	Failed  []string        `json:"failed,omitempty"`
	Anchors []CustodyAnchor `json:"anchors,omitempty"`

	// timestamped: the time-stamping authority, the token's file (relative
	// to the output folder) and its SHA-256, all required.
	TSA         string `json:"tsa,omitempty"`
	TokenFile   string `json:"token_file,omitempty"`
	TokenSHA256 string `json:"token_sha256,omitempty"`

	// note: the text (required).
	Text string `json:"text,omitempty"`

	// stored: where the bag's files were stored and each object's version
	// (required).
	Store *Store `json:"store,omitempty"`
}

// CustodyAnchor is one anchor of a verified event: its kind ("root",
// "signer", "custody-head", "tpm", "timestamp"), what became of it
// ("held", "failed", "not checked") and the value the bag was compared
// with, when one was given.
type CustodyAnchor struct {
	Kind   string `json:"kind"`
	Status string `json:"status"`
	Given  string `json:"given,omitempty"`
}

// AnchorsText writes a verified event's anchors on one line: "root held
// (given 1a2b…), signer not checked, …", raw: display it escaped.
func AnchorsText(anchors []CustodyAnchor) string {
	parts := make([]string, 0, len(anchors))
	for _, a := range anchors {
		p := a.Kind + " " + a.Status
		if a.Given != "" {
			p += " (given " + a.Given + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

// Anchor statuses of a verified event.
const (
	AnchorHeld       = "held"
	AnchorFailed     = "failed"
	AnchorNotChecked = "not checked"
)

// Store is where a stored event put the bag: an S3 bucket, the folder of
// the bag in it, and each object written. The custody log itself is
// uploaded after the event that names the others, so it is not listed.
type Store struct {
	Endpoint string `json:"endpoint"` // the S3 endpoint, as a URL
	Bucket   string `json:"bucket"`
	Prefix   string `json:"prefix"` // the bag's folder: each key is Prefix + a file name
	// NoLock: the bucket has no Object Lock (push --no-lock); its objects
	// can be deleted or replaced by whoever holds the right credentials.
	NoLock  bool           `json:"no_lock,omitempty"`
	Objects []StoredObject `json:"objects"`
}

// StoredObject is one object of a stored event, as the store reported it.
type StoredObject struct {
	Key       string `json:"key"`
	VersionID string `json:"version_id"`
	ETag      string `json:"etag"`
	SHA256    string `json:"sha256"` // of the whole object, hex: the bag's own
	Size      int64  `json:"size"`
	// Retention is the Object Lock mode (COMPLIANCE or GOVERNANCE) and
	// RetainUntil its date (RFC 3339, UTC); empty when none.
	Retention   string `json:"retention,omitempty"`
	RetainUntil string `json:"retain_until,omitempty"`
	LegalHold   bool   `json:"legal_hold,omitempty"`
}

// CustodyEntry is one line of the custody log, its members in the order
// they are written.
type CustodyEntry struct {
	Seq  int64  `json:"seq"`
	Prev string `json:"prev"`
	Time string `json:"time"`
	CustodyEvent
	PublicKey      string `json:"public_key"`      // PKIX DER, standard base64
	KeyFingerprint string `json:"key_fingerprint"` // SHA-256 of that DER, hex
	Sig            string `json:"sig,omitempty"`
}

// AcquiredEvent is the first event of a collection, to be signed with the
// bag's key as soon as seal.Create has made the output folder.
func AcquiredEvent(collection, caseID, host, tool string, actor *Person) CustodyEvent {
	return CustodyEvent{Event: EventAcquired, Collection: collection, Case: caseID, Host: host, Tool: tool, Actor: actor}
}

// SealedEvent is the event that follows a successful Seal, to be signed
// with the bag's key. summary is the record's count of items per status.
func SealedEvent(s *seal.Sealed, summary map[string]int, actor *Person) CustodyEvent {
	items, octets := s.Items, s.Octets
	return CustodyEvent{Event: EventSealed, Root: s.Root, ArchiveSHA256: s.ArchiveSHA256,
		Items: &items, Octets: &octets, Summary: summary, Actor: actor}
}

// Kinds of broken links, as CustodyError.Kind.
const (
	BreakChanged   = "changed"       // the line's bytes differ from what was signed
	BreakSignature = "bad signature" // the signature is missing or malformed
	BreakResigned  = "re-signed"     // signed by another key than the line or the bag names
	BreakRemoved   = "removed"       // lines are missing before this one
	BreakInserted  = "inserted"      // this line was added between two others
	BreakReordered = "reordered"     // this line is out of its place
	BreakInvalid   = "invalid"       // well signed, but not a valid event here
	BreakCut       = "cut short"     // the last line has no line feed
)

// CustodyError is the first broken link of a custody log.
type CustodyError struct {
	Line int    // 1-based
	Kind string // one of the Break constants
	Err  error
}

func (e *CustodyError) Error() string {
	return fmt.Sprintf("%s line %d: %s: %v", CustodyFile, e.Line, e.Kind, e.Err)
}
func (e *CustodyError) Unwrap() error { return e.Err }

// ErrCustodyBroken is returned by AppendCustody for a log it will not
// extend.
var ErrCustodyBroken = errors.New("custody log broken")

// CustodyBag is what a custody log is checked against: the bag's key and,
// when known, its root, archive hash and collection id. The zero value
// checks the log alone (the acquired line's key then stands for the bag's).
type CustodyBag struct {
	Key       ed25519.PublicKey
	KeySource string // the file the key was read from
	// Root is root.txt (empty for a bag never sealed).
	Root string
	// ArchiveSHA256 is the hash in evidence.tar.zst.sha256.
	ArchiveSHA256 string
	// Collection is the collection id of the journal's open line.
	Collection string
}

// ReadBag reads what identifies the bag in the output folder dir: the
// key of root.pub.pem, else of the journal's open line; root.txt; the
// archive's .sha256; the collection id of the journal. Files that are
// absent leave their fields empty. It checks nothing of the bag itself:
// seal.Verify does.
func ReadBag(dir string) (CustodyBag, error) { return ReadBagFS(fileio.DirFS(dir)) }

// ReadBagFS is ReadBag on the output folder at the root of fsys.
func ReadBagFS(fsys fs.FS) (CustodyBag, error) {
	var b CustodyBag
	if pem, err := fs.ReadFile(fsys, seal.PubFile); err == nil {
		if b.Key, err = seal.ParsePublicKeyPEM(pem); err != nil {
			return b, fmt.Errorf("%s: %w", seal.PubFile, err)
		}
		b.KeySource = seal.PubFile
	} else if !errors.Is(err, fs.ErrNotExist) {
		return b, err
	}
	if f, err := fsys.Open(seal.JournalFile); err == nil {
		line, rerr := seal.ReadLine(bufio.NewReader(f), seal.MaxJournalLine)
		f.Close()
		if rerr == nil {
			if open, err := seal.ParseJournalLine(line, nil); err == nil && open.Type == seal.JournalOpen {
				b.Collection = open.Collection
				if b.Key == nil {
					if b.Key, err = seal.DecodeKey(open.PublicKey); err != nil {
						return b, fmt.Errorf("%s: %w", seal.JournalFile, err)
					}
					b.KeySource = seal.JournalFile
				}
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return b, err
	}
	if r, err := fs.ReadFile(fsys, seal.RootFile); err == nil {
		b.Root = strings.TrimSpace(string(r))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return b, err
	}
	if s, err := fs.ReadFile(fsys, seal.ArchiveSumFile); err == nil {
		b.ArchiveSHA256, _, _ = strings.Cut(string(s), " ")
	} else if !errors.Is(err, fs.ErrNotExist) {
		return b, err
	}
	return b, nil
}

// CustodyCheck is the result of checking a custody log.
type CustodyCheck struct {
	Bag     CustodyBag     // what the log was checked against
	Entries []CustodyEntry // the lines that hold, in order
	Lines   [][]byte       // their bytes, without line feeds
	// Err is the first broken link; the entries before it hold.
	Err *CustodyError
	// Rest holds the lines from the broken one on, unchecked (at most
	// MaxCustodyLines in all), for display.
	Rest [][]byte
}

// OK reports whether the whole log holds.
func (c *CustodyCheck) OK() bool { return c.Err == nil }

// Head is the hex SHA-256 of the last line that holds (64 zeros for an
// empty log): the value the next line's prev must have, and the value to
// write down to pin the log as it is now.
func (c *CustodyCheck) Head() string {
	if len(c.Lines) == 0 {
		return seal.ZeroHash
	}
	return seal.LineHash(c.Lines[len(c.Lines)-1])
}

// Sealed returns the sealed event among the entries that hold, or nil.
func (c *CustodyCheck) Sealed() *CustodyEntry {
	for i := range c.Entries {
		if c.Entries[i].Event == EventSealed {
			return &c.Entries[i]
		}
	}
	return nil
}

// BagKey reports whether e was signed with the key of the bag the log was
// checked against.
func (c *CustodyCheck) BagKey(e *CustodyEntry) bool {
	return c.Bag.Key != nil && e.KeyFingerprint == seal.KeyFingerprint(c.Bag.Key)
}

// ReadCustody checks a custody log alone: chain, signatures, events. The
// key of its acquired line stands for the bag's key. The error is for a
// log that cannot be read; every finding is in the CustodyCheck.
func ReadCustody(r io.Reader) (*CustodyCheck, error) { return CheckCustody(r, CustodyBag{}) }

// CheckCustody checks a custody log against the bag it belongs to: the
// acquired and sealed lines must be signed with bag.Key and name the bag's
// collection, root and archive hash.
func CheckCustody(r io.Reader, bag CustodyBag) (*CustodyCheck, error) {
	c := &CustodyCheck{Bag: bag}
	st := &custodyState{bag: bag}
	br := bufio.NewReaderSize(r, 64<<10)
	var all [][]byte
	readAll := false
	rest := func() [][]byte {
		for !readAll && len(all) < MaxCustodyLines {
			l, err := seal.ReadLine(br, MaxCustodyLine)
			if len(l) > 0 {
				all = append(all, l)
			}
			readAll = err != nil
		}
		return all
	}
	fail := func(line int, kind string, err error) (*CustodyCheck, error) {
		rest()
		c.Err = &CustodyError{Line: line, Kind: kind, Err: err}
		c.Entries, c.Lines = st.entries[:line-1], st.lines[:line-1]
		c.Rest = all[line-1:]
		return c, nil
	}
	for n := 1; ; n++ {
		line, err := seal.ReadLine(br, MaxCustodyLine)
		if err == io.EOF && len(line) == 0 {
			break
		}
		if errors.Is(err, seal.ErrLineTooLong) {
			all = append(all, nil)
			return fail(n, BreakInvalid, err)
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		all = append(all, line)
		if err == io.EOF {
			readAll = true
			return fail(n, BreakCut, errors.New("no line feed at the end: a write was interrupted, or bytes were cut off"))
		}
		if n > MaxCustodyLines {
			return fail(n, BreakInvalid, fmt.Errorf("more than %d lines", MaxCustodyLines))
		}
		if at, kind, cerr := st.add(line, rest); cerr != nil {
			return fail(at, kind, cerr)
		}
	}
	c.Entries, c.Lines = st.entries, st.lines
	return c, nil
}

// CheckCustodyDir checks dir's custody log against the bag in dir. An
// absent log is an error that wraps fs.ErrNotExist.
func CheckCustodyDir(dir string) (*CustodyCheck, error) { return CheckCustodyFS(fileio.DirFS(dir)) }

// CheckCustodyFS is CheckCustodyDir on the output folder at the root of
// fsys.
func CheckCustodyFS(fsys fs.FS) (*CustodyCheck, error) {
	bag, err := ReadBagFS(fsys)
	if err != nil {
		return nil, err
	}
	f, err := fsys.Open(CustodyFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return CheckCustody(f, bag)
}

// AppendCustody signs ev with key and appends it to dir's custody log,
// creating the log for the first event. It first checks the whole log
// against the bag in dir and refuses to extend a broken one
// (ErrCustodyBroken); it refuses an event that would not hold where it
// goes (an acquired event that is not the first line, an acquired or
// sealed event not signed with the bag's key, a missing required field).
// The line is written with one write on a file opened for appending, then
// synced. One writer at a time: a concurrent append fails on the lock file
// custody.jsonl.lock, which is removed afterwards.
func AppendCustody(dir string, ev CustodyEvent, key ed25519.PrivateKey) (CustodyEntry, error) {
	var e CustodyEntry
	if len(key) != ed25519.PrivateKeySize {
		return e, errors.New("custody: no Ed25519 private key")
	}
	pub := key.Public().(ed25519.PublicKey)
	bag, err := ReadBag(dir)
	if err != nil {
		return e, fmt.Errorf("custody: %w", err)
	}
	if (ev.Event == EventAcquired || ev.Event == EventSealed) && bag.Key != nil && !pub.Equal(bag.Key) {
		return e, fmt.Errorf("custody: a %s event must be signed with the bag's key %s (%s), not %s",
			ev.Event, seal.KeyFingerprint(bag.Key), bag.KeySource, seal.KeyFingerprint(pub))
	}

	path := filepath.Join(dir, CustodyFile)
	lock := path + ".lock"
	lf, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return e, fmt.Errorf("custody: %s exists: another append is running (remove it if none is)", lock)
		}
		return e, fmt.Errorf("custody: %w", err)
	}
	lf.Close()
	defer os.Remove(lock)

	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return e, fmt.Errorf("custody: %w", err)
	}
	defer f.Close()
	c, err := CheckCustody(f, bag)
	if err != nil {
		return e, fmt.Errorf("custody: read %s: %w", path, err)
	}
	if c.Err != nil {
		return e, fmt.Errorf("%w: %w", ErrCustodyBroken, c.Err)
	}

	switch {
	case ev.Event == EventAcquired && ev.Collection == "":
		ev.Collection = bag.Collection
	case ev.Event == EventSealed && ev.Root == "":
		ev.Root = bag.Root
	case ev.Event != EventAcquired && ev.Root == "":
		if s := c.Sealed(); s != nil {
			ev.Root = s.Root
		}
	}
	at := ev.At
	if at.IsZero() {
		at = time.Now()
	}
	e = CustodyEntry{Seq: int64(len(c.Entries) + 1), Prev: c.Head(), Time: at.UTC().Format(time.RFC3339),
		CustodyEvent: ev, PublicKey: seal.EncodeKey(pub), KeyFingerprint: seal.KeyFingerprint(pub)}
	line, err := signCustodyLine(e, key)
	if err != nil {
		return e, fmt.Errorf("custody: %w", err)
	}
	// The same checks a reader makes, on the line to be written.
	st := &custodyState{bag: bag, entries: c.Entries, lines: c.Lines}
	for _, prev := range c.Entries {
		st.note(prev)
	}
	if _, _, cerr := st.add(line, nil); cerr != nil {
		return e, fmt.Errorf("custody: %s event: %w", ev.Event, cerr)
	}
	e.Sig = st.entries[len(st.entries)-1].Sig
	if _, err := f.Write(append(line, '\n')); err != nil {
		return e, fmt.Errorf("custody: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return e, fmt.Errorf("custody: sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return e, fmt.Errorf("custody: close %s: %w", path, err)
	}
	if len(c.Entries) == 0 {
		if err := fileio.SyncDir(dir); err != nil {
			return e, fmt.Errorf("custody: %w", err)
		}
	}
	return e, nil
}

// custodyState checks lines one after the other.
type custodyState struct {
	bag     CustodyBag
	entries []CustodyEntry
	lines   [][]byte
	key     ed25519.PublicKey // the bag's key, or the acquired line's
	sealed  *CustodyEntry
}

// note records what an entry that holds says for the lines after it.
func (s *custodyState) note(e CustodyEntry) {
	switch e.Event {
	case EventAcquired:
		if s.key = s.bag.Key; s.key == nil {
			s.key, _ = seal.DecodeKey(e.PublicKey)
		}
	case EventSealed:
		s.sealed = &e
	}
}

// add checks the next line. On a broken link it returns the line to
// blame (this one, or the one before), the kind and why. rest, called at
// most once, returns every line of the log (read to its end) to place a
// line that is out of order.
func (s *custodyState) add(line []byte, rest func() [][]byte) (int, string, error) {
	n := len(s.lines) + 1
	e, kind, err := ParseCustodyLine(line)
	if err != nil {
		return n, kind, err
	}
	hashOf := func(i int) string { // of line i, 1-based; 0 is before the first
		if i < 1 {
			return seal.ZeroHash
		}
		return seal.LineHash(s.lines[i-1])
	}
	switch {
	case e.Seq == int64(n) && e.Prev == hashOf(n-1):
	case n >= 2 && e.Seq == int64(n-1) && e.Prev == hashOf(n-2):
		return n - 1, BreakInserted, fmt.Errorf("line %d (seq %d) chains to line %d: line %d was added between them", n, e.Seq, n-2, n-1)
	case e.Seq == int64(n) && n == 1:
		return n, BreakResigned, errors.New("prev is not 64 zeros: this line was written for another log, or made after the fact")
	case e.Seq == int64(n):
		prev := s.entries[n-2]
		return n - 1, BreakResigned, fmt.Errorf("its signature (key %s) verifies, but line %d's prev is not its SHA-256: it was changed and signed again after line %d was written (or line %d was made for another log)",
			shortFP(prev.KeyFingerprint), n, n, n)
	case e.Seq > int64(n):
		if rest != nil {
			for i, l := range rest() {
				if i+1 > n && custodySeq(l) == int64(n) {
					return n, BreakReordered, fmt.Errorf("this line has seq %d; seq %d is at line %d", e.Seq, n, i+1)
				}
			}
		}
		if e.Seq == int64(n+1) {
			return n, BreakRemoved, fmt.Errorf("this line has seq %d: the line before it (seq %d) was removed", e.Seq, n)
		}
		return n, BreakRemoved, fmt.Errorf("this line has seq %d: %d lines before it (seq %d to %d) were removed", e.Seq, e.Seq-int64(n), n, e.Seq-1)
	default: // e.Seq < n
		for i, l := range s.lines {
			if bytes.Equal(l, line) {
				return n, BreakInserted, fmt.Errorf("a copy of line %d", i+1)
			}
		}
		return n, BreakReordered, fmt.Errorf("this line has seq %d, want %d: it was moved, or inserted", e.Seq, n)
	}
	if err := s.checkEvent(n, &e); err != nil {
		kind := BreakInvalid
		var rk *custodyResignError
		if errors.As(err, &rk) {
			kind = BreakResigned
		}
		return n, kind, err
	}
	s.entries = append(s.entries, e)
	s.lines = append(s.lines, line)
	s.note(e)
	return 0, "", nil
}

type custodyResignError struct{ msg string }

func (e *custodyResignError) Error() string { return e.msg }

// checkEvent checks that line n's event may stand where it is.
func (s *custodyState) checkEvent(n int, e *CustodyEntry) error {
	if err := e.CustodyEvent.Validate(); err != nil {
		return err
	}
	switch {
	case n == 1 && e.Event != EventAcquired:
		return fmt.Errorf("the first event is %q, not %q", e.Event, EventAcquired)
	case n > 1 && e.Event == EventAcquired:
		return errors.New("a second acquired event")
	case e.Event == EventSealed && s.sealed != nil:
		return fmt.Errorf("a second sealed event (the first is line %d)", s.sealed.Seq)
	}
	if e.Event == EventAcquired || e.Event == EventSealed {
		want, from := s.bag.Key, s.bag.KeySource
		if want == nil && e.Event == EventSealed {
			want, from = s.key, "the acquired line"
		}
		if want != nil && e.KeyFingerprint != seal.KeyFingerprint(want) {
			return &custodyResignError{fmt.Sprintf("%s event signed with key %s, not the bag's key %s (%s): it was signed again by another key",
				e.Event, shortFP(e.KeyFingerprint), shortFP(seal.KeyFingerprint(want)), from)}
		}
	}
	switch e.Event {
	case EventAcquired:
		if s.bag.Collection != "" && e.Collection != s.bag.Collection {
			return fmt.Errorf("collection %s, but the bag's journal says %s", e.Collection, s.bag.Collection)
		}
	case EventSealed:
		if s.bag.Root != "" && e.Root != s.bag.Root {
			return fmt.Errorf("root %s, but root.txt says %s", e.Root, s.bag.Root)
		}
		if s.bag.ArchiveSHA256 != "" && e.ArchiveSHA256 != s.bag.ArchiveSHA256 {
			return fmt.Errorf("archive SHA-256 %s, but %s says %s", e.ArchiveSHA256, seal.ArchiveSumFile, s.bag.ArchiveSHA256)
		}
	default:
		switch {
		case s.sealed == nil && e.Root != "":
			return fmt.Errorf("root %s before the sealed event", e.Root)
		case s.sealed != nil && e.Root != s.sealed.Root:
			return fmt.Errorf("root %q, but the sealed event (line %d) says %s", e.Root, s.sealed.Seq, s.sealed.Root)
		}
	}
	return nil
}

// eventFields lists each event's required and allowed fields.
var eventFields = map[string]struct{ required, allowed []string }{
	EventAcquired:    {[]string{"collection"}, []string{"case", "host", "tool"}},
	EventSealed:      {[]string{"root", "archive_sha256"}, []string{"items", "octets", "summary"}},
	EventTransferred: {[]string{"to"}, []string{"root", "from", "medium", "seal_number", "reason"}},
	EventReceived:    {[]string{"seal_intact"}, []string{"root", "by", "condition", "seal_number"}},
	EventVerified:    {[]string{"verdict"}, []string{"root", "failed", "anchors", "tool"}},
	EventTimestamped: {[]string{"tsa", "token_file", "token_sha256"}, []string{"root"}},
	EventNote:        {[]string{"text"}, []string{"root"}},
	EventStored:      {[]string{"store"}, []string{"root"}},
}

// Validate checks that ev names a known event, has its required fields and
// none that belong to other events. AppendCustody and the readers call it.
func (ev *CustodyEvent) Validate() error {
	spec, ok := eventFields[ev.Event]
	if !ok {
		return fmt.Errorf("unknown event %q", ev.Event)
	}
	var set []string
	add := func(name string, present bool) {
		if present {
			set = append(set, name)
		}
	}
	add("root", ev.Root != "")
	add("collection", ev.Collection != "")
	add("case", ev.Case != "")
	add("host", ev.Host != "")
	add("tool", ev.Tool != "")
	add("archive_sha256", ev.ArchiveSHA256 != "")
	add("items", ev.Items != nil)
	add("octets", ev.Octets != nil)
	add("summary", len(ev.Summary) > 0)
	add("from", ev.From != "")
	add("to", ev.To != "")
	add("medium", ev.Medium != "")
	add("seal_number", ev.SealNumber != "")
	add("reason", ev.Reason != "")
	add("by", ev.By != "")
	add("seal_intact", ev.SealIntact != nil)
	add("condition", ev.Condition != "")
	add("verdict", ev.Verdict != "")
	add("failed", len(ev.Failed) > 0)
	add("anchors", len(ev.Anchors) > 0)
	add("tsa", ev.TSA != "")
	add("token_file", ev.TokenFile != "")
	add("token_sha256", ev.TokenSHA256 != "")
	add("text", ev.Text != "")
	add("store", ev.Store != nil)
	for _, r := range spec.required {
		if !slices.Contains(set, r) {
			return fmt.Errorf("%s event without %s", ev.Event, r)
		}
	}
	for _, f := range set {
		if !slices.Contains(spec.required, f) && !slices.Contains(spec.allowed, f) {
			return fmt.Errorf("%s event with %s, which belongs to other events", ev.Event, f)
		}
	}
	for _, h := range [][2]string{{"root", ev.Root}, {"archive_sha256", ev.ArchiveSHA256}, {"token_sha256", ev.TokenSHA256}} {
		if h[1] != "" && !IsSHA256Hex(h[1]) {
			return fmt.Errorf("%s is not 64 lower-case hex digits", h[0])
		}
	}
	if ev.Actor != nil && *ev.Actor == (Person{}) {
		return errors.New("empty actor")
	}
	for _, a := range ev.Anchors {
		if a.Kind == "" || a.Status != AnchorHeld && a.Status != AnchorFailed && a.Status != AnchorNotChecked {
			return fmt.Errorf("anchor %q with status %q: want a kind, and held, failed or not checked", a.Kind, a.Status)
		}
	}
	if ev.Store != nil {
		return ev.Store.validate()
	}
	return nil
}

func (s *Store) validate() error {
	if s.Endpoint == "" || s.Bucket == "" || len(s.Objects) == 0 {
		return errors.New("stored event without endpoint, bucket or objects")
	}
	for _, o := range s.Objects {
		if o.Key == "" || !strings.HasPrefix(o.Key, s.Prefix) || !IsSHA256Hex(o.SHA256) || o.Size < 0 {
			return fmt.Errorf("stored object %q: key outside the prefix, or no SHA-256", o.Key)
		}
	}
	return nil
}

const custodySigMarker = `,"sig":"`

// signCustodyLine encodes e (its Sig ignored) as a signed line without the
// line feed: the journal's rule.
func signCustodyLine(e CustodyEntry, key ed25519.PrivateKey) ([]byte, error) {
	msg, err := custodyMessage(e)
	if err != nil {
		return nil, err
	}
	return appendCustodySig(msg, ed25519.Sign(key, msg)), nil
}

// custodyMessage is the signed part of e's line: its JSON without the
// sig member and the closing brace.
func custodyMessage(e CustodyEntry) ([]byte, error) {
	e.Sig = ""
	body, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	return body[:len(body)-1], nil
}

func appendCustodySig(msg, sig []byte) []byte {
	line := make([]byte, 0, len(msg)+len(custodySigMarker)+90)
	line = append(line, msg...)
	line = append(line, custodySigMarker...)
	line = append(line, base64.StdEncoding.EncodeToString(sig)...)
	return append(line, '"', '}')
}

// Hash is the hex SHA-256 of e's line as AppendCustody wrote it, without
// its line feed: the next line's prev, and the log's head (CustodyCheck.Head)
// while e is its last line. A holder who writes it down can later prove the
// log still extends it. e must be an entry AppendCustody returned or a
// checked log holds.
func (e *CustodyEntry) Hash() (string, error) {
	sig, err := base64.StdEncoding.DecodeString(e.Sig)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return "", errors.New("custody entry without a signature")
	}
	msg, err := custodyMessage(*e)
	if err != nil {
		return "", err
	}
	return seal.LineHash(appendCustodySig(msg, sig)), nil
}

// ParseCustodyLine decodes one line and checks it alone: its form (exactly
// the bytes AppendCustody writes for it), its signature with the key it
// names, and that key's fingerprint. The kind says how it is broken.
func ParseCustodyLine(line []byte) (CustodyEntry, string, error) {
	var e CustodyEntry
	i := bytes.LastIndex(line, []byte(custodySigMarker))
	if i < 0 || !bytes.HasSuffix(line, []byte(`"}`)) {
		return e, BreakSignature, errors.New("no signature")
	}
	sig, err := base64.StdEncoding.DecodeString(string(line[i+len(custodySigMarker) : len(line)-2]))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return e, BreakSignature, errors.New("malformed signature")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return e, BreakChanged, fmt.Errorf("not a custody line: %v", err)
	}
	pub, err := seal.DecodeKey(e.PublicKey)
	if err != nil {
		return e, BreakChanged, err
	}
	if !ed25519.Verify(pub, line[:i], sig) {
		return e, BreakChanged, errors.New("the signature does not verify with the key the line names: its bytes changed after signing, or it was signed with another key")
	}
	if fp := seal.KeyFingerprint(pub); e.KeyFingerprint != fp {
		return e, BreakResigned, fmt.Errorf("signed with key %s, but the line claims key %s", shortFP(fp), shortFP(e.KeyFingerprint))
	}
	msg, err := custodyMessage(e)
	if err != nil || !bytes.Equal(appendCustodySig(msg, sig), line) {
		return e, BreakChanged, errors.New("not in the form scelle writes (spacing, order, escapes or repeated members differ)")
	}
	return e, "", nil
}

// Short forms a reader can compare at a glance; the full values are in
// the file.
func shortFP(fp string) string {
	if len(fp) > 16 {
		return fp[:16]
	}
	return fp
}

func custodySeq(line []byte) int64 {
	var v struct {
		Seq int64 `json:"seq"`
	}
	if json.Unmarshal(line, &v) != nil {
		return 0
	}
	return v.Seq
}
