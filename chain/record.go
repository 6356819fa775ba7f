package chain

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
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
	Interrupted string         `json:"interrupted,omitempty"`
	Summary     map[string]int `json:"summary"`
	Items       []Item         `json:"items"`
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

// Item is one planned item's outcome.
type Item struct {
	Collector  string          `json:"collector"`
	Class      string          `json:"class"`
	Source     string          `json:"source,omitempty"`
	SourceRaw  []byte          `json:"source_raw,omitempty"`
	Path       string          `json:"path,omitempty"`
	Kind       string          `json:"kind"`
	Status     string          `json:"status"`
	Reason     string          `json:"reason,omitempty"`
	Size       int64           `json:"size"`
	SHA256     string          `json:"sha256,omitempty"`
	LinkTarget string          `json:"link_target,omitempty"`
	NoATime    bool            `json:"noatime,omitempty"`
	Before     json.RawMessage `json:"stat_before,omitempty"`
	After      json.RawMessage `json:"stat_after,omitempty"`
	Started    time.Time       `json:"started"`
	Ended      time.Time       `json:"ended"`
}

// Statuses an item can end with.
var Statuses = []string{"collected", "partial", "skipped", "failed"}

// Summarize counts items per status.
func (r *Record) Summarize() {
	r.Summary = map[string]int{}
	for _, s := range Statuses {
		r.Summary[s] = 0
	}
	for _, it := range r.Items {
		r.Summary[it.Status]++
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

// MaxRecord bounds a record read back (a million items fit).
const MaxRecord = 1 << 30

// ReadRecord decodes a record, refusing unknown formats.
func ReadRecord(r io.Reader) (*Record, error) {
	dec := json.NewDecoder(io.LimitReader(r, MaxRecord))
	var rec Record
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	if rec.Format != RecordFormat {
		return nil, fmt.Errorf("record format %q, want %q", rec.Format, RecordFormat)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("decode record: trailing data")
	}
	return &rec, nil
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
