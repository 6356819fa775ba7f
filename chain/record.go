package chain

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/scelle/scelle/internal/evidence"
)

// RecordFormat identifies the collection record's schema.
const RecordFormat = "scelle-record/1"

// Record is the collection record: a JSON document stored in the bag as
// scelle/record.json and beside it as record.json. docs/format.md
// specifies each field.
type Record struct {
	Format     string    `json:"format"`
	Collection string    `json:"collection_id"`
	Case       string    `json:"case"`
	Examiner   string    `json:"examiner"`
	People     *People   `json:"people,omitempty"`
	Tool       Tool      `json:"tool"`
	Argv       []string  `json:"argv"`
	Profile    string    `json:"profile,omitempty"`
	Root       string    `json:"root"` // "/" for a live host, else the image folder
	Live       bool      `json:"live"`
	Started    time.Time `json:"started"`
	Ended      time.Time `json:"ended"`
	// ReferenceTime is the operator's reading of a trusted clock, and the
	// host clock when it was entered.
	Reference *Reference `json:"reference_time,omitempty"`
	// Host is the host's identity (hostname, machine-id, boot id,
	// os-release, kernel, DMI, interfaces) as read at the start.
	Host json.RawMessage `json:"host,omitempty"`
	// ClockStart and ClockEnd are the host's time state (wall clock,
	// boot time, NTP state) at the start and at the end.
	ClockStart json.RawMessage `json:"clock_start,omitempty"`
	ClockEnd   json.RawMessage `json:"clock_end,omitempty"`
	Key        Key             `json:"key"`
	// Interrupted is set when the run was stopped (a signal) before every
	// planned item ran; the items not run are recorded as skipped.
	Interrupted string          `json:"interrupted,omitempty"`
	Summary     map[string]int  `json:"summary"`
	Items       []evidence.Item `json:"items"`
	// Extra holds evidence added by other parts (TPM quotes ...).
	Extra map[string]json.RawMessage `json:"extra,omitempty"`
}

// People are who acted or witnessed.
type People struct {
	Operator  *Person  `json:"operator,omitempty"`
	Witnesses []Person `json:"witnesses,omitempty"`
	Mandator  string   `json:"mandating_party,omitempty"`
}

// Person is one actor or witness.
type Person struct {
	Name         string `json:"name"`
	Organisation string `json:"organisation,omitempty"`
	Role         string `json:"role,omitempty"`
	Reference    string `json:"reference,omitempty"` // e.g. the procès-verbal number
}

// Reference is a time read by the operator from a trusted clock.
type Reference struct {
	Operator time.Time `json:"operator"`
	Host     time.Time `json:"host"`
	// SkewSeconds is host minus operator: positive when the host clock is ahead.
	SkewSeconds float64 `json:"skew_seconds"`
}

// Tool identifies the program that made the bag.
type Tool struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	SHA256   string `json:"sha256,omitempty"` // of the running executable
	Path     string `json:"path,omitempty"`
	GoOS     string `json:"goos"`
	GoArch   string `json:"goarch"`
}

// Key describes the key that signed the bag.
type Key struct {
	Fingerprint string `json:"fingerprint"` // SHA-256 of the PKIX DER public key
	PublicKey   string `json:"public_key"`  // PEM
	Ephemeral   bool   `json:"ephemeral"`   // made for this collection; private half never on disk
}

// Summarize counts items per status.
func (r *Record) Summarize() {
	r.Summary = map[string]int{}
	for _, s := range evidence.Statuses() {
		r.Summary[string(s)] = 0
	}
	for _, it := range r.Items {
		r.Summary[string(it.Status)]++
	}
}

// Marshal encodes the record as indented JSON ending with a line feed.
func (r *Record) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// MaxRecord bounds a record read back. Its readers hold one member or
// item at a time, so this bounds the time they take, not their memory: a
// million items take about 1.1 GB, and the bound leaves room for ten
// times as many, or for items ten times larger.
const MaxRecord = 16 << 30

// maxRecordValue bounds one member of a record, and one of its items, as
// JSON: no reader of a record holds more of it at once.
const maxRecordValue = 16 << 20

var (
	errRecordTooLarge      = fmt.Errorf("record larger than %d GiB", MaxRecord>>30)
	errRecordValueTooLarge = errors.New("larger than 16 MiB")
	// errRecordMemberTwice refuses a record that names a member twice
	// (in any letter case, as encoding/json matches names): its readers
	// could not agree on which one holds.
	errRecordMemberTwice = errors.New("named twice")
)

// ReadRecord decodes a record with its items, refusing what ScanRecord
// refuses. It holds every item in memory: a reader that can do with one
// item at a time uses ScanRecord.
func ReadRecord(r io.Reader) (*Record, error) {
	var items []evidence.Item
	rec, array, err := scanRecord(r, func(it *evidence.Item) error {
		items = append(items, *it)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if array && items == nil {
		items = []evidence.Item{}
	}
	rec.Items = items
	return rec, nil
}

// ScanRecord decodes a record from r, calling fn (when not nil) for each
// item in order; the Record it returns has Items nil. It holds one item
// at a time, so a record of a million items reads in little memory.
//
// It refuses a format other than RecordFormat, data after the record,
// more than MaxRecord bytes, a member named twice (in any letter case),
// and a member or an item larger than 16 MiB of JSON. The format is checked
// once the whole record is read, since it may follow the items: fn may
// have been called for the items of a record then refused. An error
// from fn stops the scan and is returned as is.
//
// When fn is nil the items are checked to be JSON, not decoded into
// Items. On success r has been read to its end.
func ScanRecord(r io.Reader, fn func(*evidence.Item) error) (*Record, error) {
	rec, _, err := scanRecord(r, fn)
	return rec, err
}

// recordMembers are the JSON names of Record's fields, by field index.
var recordMembers = func() []string {
	t := reflect.TypeFor[Record]()
	names := make([]string, t.NumField())
	for i := range names {
		names[i], _, _ = strings.Cut(t.Field(i).Tag.Get("json"), ",")
	}
	return names
}()

// recordMember returns the index of the field that encoding/json decodes
// key into (the exact name, else one equal under case folding), or -1.
func recordMember(key string) int {
	i := slices.Index(recordMembers, key)
	if i < 0 {
		i = slices.IndexFunc(recordMembers, func(name string) bool { return strings.EqualFold(name, key) })
	}
	return i
}

// scanRecord is ScanRecord; it also says whether the record's items are
// an array (which ReadRecord keeps, empty, apart from a null or absent
// member).
func scanRecord(r io.Reader, fn func(*evidence.Item) error) (rec *Record, array bool, err error) {
	lr := &recordReader{r: r}
	lr.mark(0)
	dec := json.NewDecoder(lr)
	fail := func(format string, args ...any) (*Record, bool, error) {
		return nil, false, fmt.Errorf("decode record: "+format, args...)
	}
	t, err := dec.Token()
	if err != nil {
		return fail("%w", err)
	}
	if t != json.Delim('{') {
		return fail("not a JSON object")
	}
	rec = new(Record)
	fields := reflect.ValueOf(rec).Elem()
	seen := make([]bool, len(recordMembers))
	items := recordMember("items")
	for {
		lr.mark(dec.InputOffset())
		if !dec.More() {
			break
		}
		t, err := dec.Token()
		if err != nil {
			return fail("%w", err)
		}
		key, _ := t.(string)
		i := recordMember(key)
		if i >= 0 {
			if seen[i] {
				return fail("member %q: %w", key, errRecordMemberTwice)
			}
			seen[i] = true
		}
		switch {
		case i == items:
			if array, err = scanItems(dec, lr, fn); err != nil {
				return nil, false, err
			}
			continue
		case i >= 0:
			err = dec.Decode(fields.Field(i).Addr().Interface())
		default:
			var raw json.RawMessage
			err = dec.Decode(&raw)
		}
		if err != nil {
			return fail("member %.64q: %w", key, err)
		}
	}
	if err := endToken(dec); err != nil {
		return fail("%w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fail("trailing data")
	}
	if rec.Format != RecordFormat {
		return nil, false, fmt.Errorf("record format %q, want %q", rec.Format, RecordFormat)
	}
	return rec, array, nil
}

// scanItems reads the value of the items member, null or an array, and
// hands each item to fn.
func scanItems(dec *json.Decoder, lr *recordReader, fn func(*evidence.Item) error) (array bool, err error) {
	t, err := dec.Token()
	switch {
	case err != nil:
		return false, fmt.Errorf("decode record: items: %w", err)
	case t == nil:
		return false, nil
	case t != json.Delim('['):
		return false, errors.New("decode record: items: not an array")
	}
	var raw json.RawMessage
	for n := 1; ; n++ {
		lr.mark(dec.InputOffset())
		if !dec.More() {
			break
		}
		if fn == nil {
			err = dec.Decode(&raw) // reuses raw's array
		} else {
			var it evidence.Item
			if err = dec.Decode(&it); err == nil {
				if err := fn(&it); err != nil {
					return false, err
				}
			}
		}
		if err != nil {
			return false, fmt.Errorf("decode record: item %d: %w", n, err)
		}
	}
	if err := endToken(dec); err != nil {
		return false, fmt.Errorf("decode record: items: %w", err)
	}
	return true, nil
}

// endToken reads the token that ends an object or an array, where the
// input may not end.
func endToken(dec *json.Decoder) error {
	_, err := dec.Token()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// recordReader is what a record's decoder reads from. It fails once more
// than MaxRecord bytes are asked for, or more than maxRecordValue past
// the offset last marked (the start of a member or an item): the decoder,
// which buffers a whole value before decoding it, never holds more than
// that.
type recordReader struct {
	r     io.Reader
	n     int64 // bytes read
	limit int64 // the offset not to read past
	err   error
}

func (r *recordReader) mark(off int64) { r.limit = min(off+maxRecordValue, MaxRecord) }

func (r *recordReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.n >= r.limit {
		// Read one more byte only to tell the input's end from more of it.
		var b [1]byte
		switch k, err := io.ReadFull(r.r, b[:]); {
		case k == 0 && err == io.EOF:
			return 0, io.EOF
		case k == 0:
			r.err = err
		case r.limit == MaxRecord:
			r.err = errRecordTooLarge
		default:
			r.err = errRecordValueTooLarge
		}
		return 0, r.err
	}
	if rest := r.limit - r.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	k, err := r.r.Read(p)
	r.n += int64(k)
	return k, err
}

// CheckItems cross-checks the record against the bag's manifest: every
// item the record says was stored is in the manifest with the same hash,
// and every manifest entry is an item of the record. manifest maps bag
// paths to hex SHA-256.
func (r *Record) CheckItems(manifest map[string]string) []string {
	var bad []string
	seen := map[string]bool{}
	for _, it := range r.Items {
		if it.Path == "" {
			continue
		}
		seen[it.Path] = true
		got, ok := manifest[it.Path]
		switch {
		case !ok:
			bad = append(bad, it.Path+": in the record, not in the manifest")
		case got != it.SHA256:
			bad = append(bad, it.Path+": record and manifest hashes differ")
		}
	}
	for p := range manifest {
		if !seen[p] {
			bad = append(bad, p+": in the manifest, not in the record")
		}
	}
	return bad
}

// Operator is the person who collected: People.Operator, else a person
// named by Examiner; nil when the record names neither.
func (r *Record) Operator() *Person {
	if r.People != nil && r.People.Operator != nil {
		return r.People.Operator
	}
	if r.Examiner == "" {
		return nil
	}
	return &Person{Name: r.Examiner}
}

// IsSHA256Hex reports whether s is a SHA-256 in lower-case hex, as the
// record and the custody log write them.
func IsSHA256Hex(s string) bool {
	if len(s) != 64 || strings.ToLower(s) != s {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
