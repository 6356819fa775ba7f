package verdict

import (
	"errors"
	"io/fs"
	"time"

	"filippo.io/age"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/internal/fileio"
	"github.com/scelle/scelle/internal/hint"
	"github.com/scelle/scelle/seal"
)

// Names of the checks this package adds to seal's (format.md section 8).
const (
	CheckRecordItems    = "record-items"
	CheckCustody        = "custody"
	CheckTimestampToken = "timestamp"
)

// Status sums up a bag's checks.
type Status int

const (
	// Verified: sealed, and every check holds.
	Verified Status = iota
	// Failed: a check does not hold (changed, missing or damaged bytes).
	Failed
	// NotSealed: the folder was never sealed (a killed run, a pulled
	// stick); the Verdict lists what its journal still proves.
	NotSealed
	// Encrypted: an encrypted bag checked without an identity; every
	// check made holds, but the archive's contents were not verified.
	Encrypted
)

// String is the verdict as scelle prints it and as the report and the
// custody log record it.
func (s Status) String() string {
	switch s {
	case Verified:
		return "VERIFIED"
	case Failed:
		return "FAILED"
	case NotSealed:
		return "NOT SEALED"
	case Encrypted:
		return "ENCRYPTED: integrity of the ciphertext verified; contents not verified"
	}
	return "UNKNOWN"
}

// Verdict is the outcome of Check: the seal.Report with the checks of
// the record, the custody log, the timestamps and the TPM evidence added
// to its Checks, and their sum.
type Verdict struct {
	*seal.Report
	Status Status
	// Anchors says, for each of AnchorKinds, whether the bag was compared
	// with it and whether it held. Without a root or a signer that holds
	// (Anchored), the verdict shows only that the bag agrees with itself.
	Anchors []Anchor
	// Signers names the signer of each custody line that holds.
	Signers []Signer
	// RAM says what a bag that is not sealed, or fails, proves of its
	// image of physical memory; nil when it has none or is verified.
	RAM *RAMChunks
	// Unportable says, for Windows and macOS, how many payload names
	// cannot be created there as they are (a note: scelle extract maps
	// them). Set when the record was checked against the manifest.
	Unportable []Unportable
}

// Options tunes Check.
type Options struct {
	// Identities decrypt an encrypted archive as it is read.
	Identities []age.Identity
	// Items keeps every archive entry in the report (memory then grows
	// with the bag's items).
	Items bool
	// Record, when not nil, is the record as the caller already read it
	// (see RecordDigest); the record-items check then does not read it
	// again.
	Record *RecordDigest
	// Now is the time at which certificates are checked (zero: now).
	Now time.Time

	// Root, Signer and CustodyHead are anchors given from outside the
	// bag, in any form ParseFingerprint reads; empty when not given. Root
	// is the root fingerprint of the procès-verbal, Signer the signing
	// key's fingerprint noted when the collection started, CustodyHead a
	// custody head a holder wrote down (custody add prints it): the log
	// must still extend it. Each one given adds its check (AnchorKind's
	// CheckName), which fails when the bag does not match it. A value
	// that is not a fingerprint is Check's error, wrapping ErrMalformed.
	Root, Signer, CustodyHead string
	// TrustedKeys are the keys of known holders: Verdict.Signers names
	// the custody lines they signed (ReadTrustedKey).
	TrustedKeys []TrustedKey
}

// Check makes every check of the output folder dir.
func Check(dir string, opts Options) (*Verdict, error) {
	return check(bagDir{fileio.DirFS(dir), dir}, opts)
}

// CheckFS is Check on the output folder at the root of fsys (a bag read
// from elsewhere, such as an S3 store, with nothing written anywhere);
// name is what the verdict calls it.
func CheckFS(fsys fs.FS, name string, opts Options) (*Verdict, error) {
	return check(bagDir{fsys, name}, opts)
}

// bagDir is the output folder being checked: its files, and its name.
type bagDir struct {
	fsys fs.FS
	name string
}

// verify runs seal's checks on the folder.
func (d bagDir) verify(opts seal.VerifyOptions) (*seal.Report, error) {
	if local, ok := d.fsys.(fileio.DirFS); ok {
		return seal.VerifyWith(string(local), opts)
	}
	return seal.VerifyFS(d.fsys, d.name, opts)
}

// open reads the folder's archive.
func (d bagDir) open(opts seal.ReadOptions) (*seal.BagReader, error) {
	if local, ok := d.fsys.(fileio.DirFS); ok {
		return seal.OpenBag(string(local), opts)
	}
	return seal.OpenBagFS(d.fsys, d.name, opts)
}

func check(dir bagDir, opts Options) (*Verdict, error) {
	anchors, err := parseGiven(&opts)
	if err != nil {
		return nil, err
	}
	rep, err := dir.verify(seal.VerifyOptions{Identities: opts.Identities, Items: opts.Items})
	if errors.Is(err, seal.ErrWrongIdentity) {
		err = hint.Wrap(err, "--identity must hold the private key of one of the bag's age recipients")
	}
	if err != nil {
		return nil, err
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	var unportable []Unportable
	var rec *chain.Record // the record's members, once read
	if rep.Sealed && len(rep.Failed()) == 0 && !rep.ContentsUnverified {
		d := checkRecord(rep, dir, opts.Record)
		unportable = d.unportable()
		if d != nil {
			rec = d.Record
		}
	}
	custody, cerr := chain.CheckCustodyFS(dir.fsys)
	var events []chain.CustodyEntry // the lines that hold
	if cerr == nil {
		events = custody.Entries
	}
	checkCustody(rep, custody, cerr)
	checkTPM(rep, dir, rec)
	checkTimestamps(rep, dir, opts.Now, events)
	v := &Verdict{Report: rep, Status: Verified, Unportable: unportable}
	v.Anchors = checkAnchors(rep, anchors, custody, cerr)
	v.Signers = signers(custody, opts.TrustedKeys)
	if !rep.Sealed || !rep.OK() {
		v.RAM = ramChunks(dir, rep, opts)
	}
	switch {
	case !rep.Sealed:
		v.Status = NotSealed
	case !rep.OK():
		v.Status = Failed
	case rep.ContentsUnverified:
		v.Status = Encrypted
	}
	return v, nil
}

// FailedNames lists the failed checks as "name [where]".
func (v *Verdict) FailedNames() []string {
	var out []string
	for _, c := range v.Failed() {
		s := c.Name
		if c.Where != "" {
			s += " [" + c.Where + "]"
		}
		out = append(out, s)
	}
	return out
}
