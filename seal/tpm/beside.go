package tpm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/scelle/scelle/internal/fileio"
	"github.com/scelle/scelle/seal"
)

// File is the name of the TPM evidence beside a sealed bag.
const File = "tpm.json"

// RecordKey is the key of the start evidence in the collection record's
// extra map.
const RecordKey = "tpm_start"

// FileFormat identifies tpm.json's schema.
const FileFormat = "scelle-tpm/1"

// Check names, in the order CheckBeside reports them. CheckAbsent is the
// one check for a bag made without a TPM.
const (
	CheckStart      = "tpm-start"
	CheckEnd        = "tpm-end"
	CheckContinued  = "tpm-continuity"
	CheckAbsent     = "tpm"
	maxEvidenceFile = 1 << 20
)

// Beside is the content of tpm.json.
type Beside struct {
	Format string `json:"format"`
	// Present is true when at least one quote was made.
	Present bool   `json:"present"`
	Reason  string `json:"reason,omitempty"`
	// Root is the root fingerprint the end quote signs (EndNonce).
	Root  string    `json:"root,omitempty"`
	Start *Evidence `json:"start,omitempty"`
	End   *Evidence `json:"end,omitempty"`
}

// StartNonce is the start quote's nonce: SHA-256 of "scelle-start:", the
// collection id, ":" and the fingerprint of the key that signs the
// journal and the root. It ties the quote to this collection and its key,
// so that the journal lines this key signs were signed on the machine of
// this TPM, even in a bag that was never sealed.
func StartNonce(collectionID, keyFingerprint string) []byte {
	sum := sha256.Sum256([]byte("scelle-start:" + collectionID + ":" + keyFingerprint))
	return sum[:]
}

// EndNonce is the end quote's nonce: the root fingerprint's 32 bytes.
func EndNonce(root string) ([]byte, error) {
	b, err := hex.DecodeString(root)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("root %q is not a hex SHA-256", root)
	}
	return b, nil
}

// Absent is the evidence of a quote that could not be made, and why.
func Absent(err error) *Evidence {
	reason := "unknown"
	if err != nil {
		reason = err.Error()
	}
	return &Evidence{Present: false, Reason: reason}
}

// WriteBeside writes tpm.json into the sealed bag's folder dir: the start
// and end evidence (nil or not Present when a quote could not be made)
// and the root the end quote signs. It writes a ".partial" file, syncs
// it and renames it (fileio.WriteFileAtomic), so that a tpm.json is whole
// or absent.
func WriteBeside(dir string, start, end *Evidence, root string) error {
	b := Beside{Format: FileFormat, Root: root, Start: start, End: end}
	for _, ev := range []*Evidence{start, end} {
		switch {
		case ev != nil && ev.Present:
			b.Present = true
		case ev != nil && b.Reason == "":
			b.Reason = ev.Reason
		}
	}
	if !b.Present && b.Reason == "" {
		b.Reason = "no TPM evidence"
	}
	data, err := json.MarshalIndent(b, "", " ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	err = fileio.WriteFileAtomic(filepath.Join(dir, File), func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", File, err)
	}
	return nil
}

// ReadBeside reads dir's tpm.json. Its error wraps fs.ErrNotExist when
// there is none.
func ReadBeside(dir string) (*Beside, error) { return ReadBesideFS(fileio.DirFS(dir)) }

// ReadBesideFS is ReadBeside on the output folder at the root of fsys.
func ReadBesideFS(fsys fs.FS) (*Beside, error) {
	f, err := fsys.Open(File)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var b Beside
	dec := json.NewDecoder(io.LimitReader(f, maxEvidenceFile))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("%s: %w", File, err)
	}
	if b.Format != FileFormat {
		return nil, fmt.Errorf("%s: format %q, want %q", File, b.Format, FileFormat)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: trailing data", File)
	}
	return &b, nil
}

// Bag is what a verified bag says that the TPM evidence must match.
type Bag struct {
	// Root is the root fingerprint computed from the tag manifest.
	Root string
	// Collection and KeyFingerprint are the record's collection_id and
	// key.fingerprint (they make the start nonce).
	Collection     string
	KeyFingerprint string
	// Start is the record's extra["tpm_start"], nil when absent.
	Start json.RawMessage
}

// CheckBeside checks the TPM evidence of a sealed bag in dir: the start
// quote in the record (tpm-start), the end quote over the root in
// tpm.json (tpm-end), and that no reset or restart of the same TPM came
// between them (tpm-continuity). It returns no check when the bag has no
// TPM evidence at all, and one passing "tpm" check when tpm.json records
// that there was no TPM. Any other missing part fails: a bag that had a
// TPM at one end and not the other cannot prove what TPM evidence proves.
func CheckBeside(dir string, bag Bag) []seal.Check { return CheckBesideFS(fileio.DirFS(dir), bag) }

// CheckBesideFS is CheckBeside on the output folder at the root of fsys.
func CheckBesideFS(fsys fs.FS, bag Bag) []seal.Check {
	var out []seal.Check
	add := func(name string, ok bool, where, detail string, args ...any) {
		out = append(out, seal.Check{Name: name, OK: ok, Where: where, Detail: fmt.Sprintf(detail, args...)})
	}
	const recWhere = seal.RecordFile + " extra." + RecordKey

	file, ferr := ReadBesideFS(fsys)
	if errors.Is(ferr, fs.ErrNotExist) {
		file, ferr = nil, nil
		if bag.Start == nil {
			return nil
		}
	}
	var start *Evidence
	if bag.Start != nil {
		start = &Evidence{}
		dec := json.NewDecoder(bytes.NewReader(bag.Start))
		dec.DisallowUnknownFields()
		if err := dec.Decode(start); err != nil {
			add(CheckStart, false, recWhere, "%v", err)
			start = nil
		}
	}

	// No TPM at either end: one check that says so.
	noStart := start == nil && bag.Start == nil || start != nil && !start.Present
	noEnd := file == nil && ferr == nil || file != nil && !file.Present && file.End.presentOrNil() == nil
	if noStart && noEnd && (file != nil || start != nil) {
		reason := "no TPM"
		if start != nil && start.Reason != "" {
			reason = start.Reason
		} else if file != nil && file.Reason != "" {
			reason = file.Reason
		}
		add(CheckAbsent, true, File, "no TPM evidence (%s): the bag is not bound to a machine", reason)
		return out
	}

	// Start: the record's quote is sealed in the bag; tpm.json's copy
	// must be the same.
	startOK := false
	switch {
	case len(out) > 0:
		// the record's evidence does not decode (reported above)
	case start == nil:
		add(CheckStart, false, recWhere, "the record holds no TPM start evidence")
	case file != nil && file.Start != nil && !sameQuote(start, file.Start):
		add(CheckStart, false, File, "the start evidence differs from the record's")
	default:
		if err := Verify(start, StartNonce(bag.Collection, bag.KeyFingerprint)); err != nil {
			add(CheckStart, false, recWhere, "%v", err)
		} else {
			startOK = true
			add(CheckStart, true, recWhere, "quote at the start by %s; nonce = SHA-256(\"scelle-start:\" collection \":\" key)", describe(start))
		}
	}

	// End: a quote over the root.
	endOK := false
	switch {
	case ferr != nil:
		add(CheckEnd, false, File, "%v", ferr)
	case file == nil:
		add(CheckEnd, false, File, "missing: the record holds TPM start evidence, nothing binds the sealed root to that TPM")
	case file.Root != bag.Root:
		add(CheckEnd, false, File, "names root %s, the bag's root is %s", file.Root, bag.Root)
	case file.End == nil || !file.End.Present:
		reason := file.Reason
		if file.End != nil && file.End.Reason != "" {
			reason = file.End.Reason
		}
		add(CheckEnd, false, File, "no end quote (%s): nothing binds the sealed root to the TPM", reason)
	default:
		nonce, err := EndNonce(bag.Root)
		if err == nil {
			err = Verify(file.End, nonce)
		}
		if err != nil {
			add(CheckEnd, false, File, "%v", err)
		} else {
			endOK = true
			add(CheckEnd, true, File, "quote over the root by %s", describe(file.End))
		}
	}

	// Continuity.
	switch {
	case !startOK || !endOK:
		add(CheckContinued, false, File, "not checked: needs a valid start and end quote")
	default:
		if err := CheckContinuity(start, file.End); err != nil {
			add(CheckContinued, false, File, "%v", err)
		} else {
			detail := fmt.Sprintf("same TPM (EK %s), no reset or restart between the quotes; TPM clock advanced %s",
				start.EKFingerprint, Elapsed(start, file.End).Round(time.Millisecond))
			if !start.HostTime.IsZero() && !file.End.HostTime.IsZero() {
				detail += fmt.Sprintf(", host clock %s", file.End.HostTime.Sub(start.HostTime).Round(time.Millisecond))
			}
			add(CheckContinued, true, File, "%s", detail)
		}
	}
	return out
}

// presentOrNil returns ev when it holds a quote.
func (ev *Evidence) presentOrNil() *Evidence {
	if ev == nil || !ev.Present {
		return nil
	}
	return ev
}

func sameQuote(a, b *Evidence) bool {
	if a.Present != b.Present {
		return false
	}
	return bytes.Equal(a.Quoted, b.Quoted) && bytes.Equal(a.Signature, b.Signature) && bytes.Equal(a.AKPublic, b.AKPublic)
}

// describe names the TPM and clock of a verified quote.
func describe(ev *Evidence) string {
	var s strings.Builder
	s.WriteString("TPM")
	if ev.Manufacturer != "" {
		s.WriteString(" " + ev.Manufacturer)
	}
	fmt.Fprintf(&s, " with EK %.16s (%s), %s over %d %s PCRs", ev.EKFingerprint, ev.EKSource, ev.SignatureAlg, len(ev.PCRs), ev.PCRBank)
	if c := ev.Clock; c != nil {
		fmt.Fprintf(&s, ", clock %d ms, resetCount %d, restartCount %d", c.Clock, c.ResetCount, c.RestartCount)
		if !c.Safe {
			s.WriteString(", clock not safe (an earlier power loss)")
		}
	}
	return s.String()
}
