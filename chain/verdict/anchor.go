package verdict

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/seal"
	"github.com/scelle/scelle/seal/tpm"
)

// A bag's checks prove only that it agrees with itself: whoever holds it
// can change it and seal it again with a key of their own, and the new
// bag verifies. What ties a bag to the collection is outside it: the root
// fingerprint copied into the procès-verbal, the signing key's fingerprint
// noted when the collection started, a custody head a holder wrote down,
// a TPM quote, an RFC 3161 token. These are its anchors.

// AnchorKind names an anchor.
type AnchorKind string

// Anchor kinds, in the order a Verdict lists them.
const (
	// AnchorRoot: the root fingerprint in the procès-verbal (Options.Root).
	AnchorRoot AnchorKind = "root"
	// AnchorSigner: the signing key's fingerprint noted when the
	// collection started (Options.Signer).
	AnchorSigner AnchorKind = "signer"
	// AnchorCustodyHead: a custody head a holder wrote down
	// (Options.CustodyHead).
	AnchorCustodyHead AnchorKind = "custody-head"
	// AnchorTPM: the TPM quotes of the bag (tpm.json and the record).
	AnchorTPM AnchorKind = "tpm"
	// AnchorTimestamp: the RFC 3161 tokens beside the bag.
	AnchorTimestamp AnchorKind = "timestamp"
)

// AnchorKinds lists every kind, in the order a Verdict lists them.
func AnchorKinds() []AnchorKind {
	return []AnchorKind{AnchorRoot, AnchorSigner, AnchorCustodyHead, AnchorTPM, AnchorTimestamp}
}

// CheckName is the name of the check an anchor given in Options adds to
// the Verdict's checks: "anchor-root", "anchor-signer",
// "anchor-custody-head". TPM and timestamps have their own checks.
func (k AnchorKind) CheckName() string { return "anchor-" + string(k) }

// AnchorStatus is what became of an anchor.
type AnchorStatus string

// Anchor statuses.
const (
	AnchorNotChecked AnchorStatus = chain.AnchorNotChecked // not given, or nothing beside the bag to check
	AnchorHeld       AnchorStatus = chain.AnchorHeld       // checked, and the bag matches it
	AnchorFailed     AnchorStatus = chain.AnchorFailed     // checked, and the bag does not match it
)

// Anchor is what a Verdict says of one anchor kind.
type Anchor struct {
	Kind AnchorKind `json:"kind"`
	// Given is what the bag was compared with: the value given in
	// Options (as ParseFingerprint returns it), or the files beside the
	// bag for the TPM and timestamps. Empty when not checked.
	Given  string       `json:"given,omitempty"`
	Status AnchorStatus `json:"status"`
	Detail string       `json:"detail"`
}

// CustodyAnchors returns the anchors as a verified custody event records
// them.
func CustodyAnchors(anchors []Anchor) []chain.CustodyAnchor {
	out := make([]chain.CustodyAnchor, 0, len(anchors))
	for _, a := range anchors {
		out = append(out, chain.CustodyAnchor{Kind: string(a.Kind), Status: string(a.Status), Given: a.Given})
	}
	return out
}

// ErrMalformed is wrapped by the error for an anchor value that is not a
// SHA-256 fingerprint.
var ErrMalformed = errors.New("not a SHA-256 fingerprint")

// ParseFingerprint reads a SHA-256 fingerprint (a root, a key
// fingerprint, a custody head) as scelle prints it and people copy it: 64
// hex digits in any case, grouped or not by spaces, tabs or line breaks.
// It returns the 64 digits in lower case, or an error wrapping
// ErrMalformed.
func ParseFingerprint(s string) (string, error) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
		case '0' <= r && r <= '9', 'a' <= r && r <= 'f':
			b.WriteRune(r)
		case 'A' <= r && r <= 'F':
			b.WriteRune(r - 'A' + 'a')
		default:
			return "", fmt.Errorf("%w: %q is not a hex digit", ErrMalformed, r)
		}
	}
	if b.Len() != 64 {
		return "", fmt.Errorf("%w: %d hex digits, want 64", ErrMalformed, b.Len())
	}
	return b.String(), nil
}

// given holds the anchors of Options, parsed.
type given struct {
	root, signer, head string
}

func parseGiven(opts *Options) (given, error) {
	var g given
	for _, a := range []struct {
		kind AnchorKind
		in   string
		out  *string
	}{{AnchorRoot, opts.Root, &g.root}, {AnchorSigner, opts.Signer, &g.signer}, {AnchorCustodyHead, opts.CustodyHead, &g.head}} {
		if a.in == "" {
			continue
		}
		v, err := ParseFingerprint(a.in)
		if err != nil {
			return g, fmt.Errorf("%s: %w", a.kind, err)
		}
		*a.out = v
	}
	return g, nil
}

// checkAnchors adds a check for each anchor given and returns every
// anchor kind's outcome. It runs after every other check.
func checkAnchors(rep *seal.Report, g given, c *chain.CustodyCheck, cerr error) []Anchor {
	given := []Anchor{rootAnchor(rep, g.root), signerAnchor(rep, g.signer), custodyHeadAnchor(g.head, c, cerr)}
	where := map[AnchorKind]string{AnchorRoot: seal.RootFile, AnchorSigner: seal.PubFile, AnchorCustodyHead: chain.CustodyFile}
	for _, a := range given {
		if a.Status != AnchorNotChecked {
			rep.Checks = append(rep.Checks, seal.Check{Name: a.Kind.CheckName(), OK: a.Status == AnchorHeld,
				Where: where[a.Kind], Detail: a.Detail})
		}
	}
	return append(given, tpmAnchor(rep.Checks), timestampAnchor(rep.Checks))
}

func rootAnchor(rep *seal.Report, want string) Anchor {
	a := Anchor{Kind: AnchorRoot, Given: want, Status: AnchorFailed}
	switch {
	case want == "":
		a.Status, a.Detail = AnchorNotChecked, "no root given: the bag's root was not compared with the procès-verbal's"
	case rep.Root == "":
		a.Detail = "the bag has no root to compare with the one given (not sealed, or its tag manifest cannot be read)"
	case rep.Root != want:
		a.Detail = fmt.Sprintf("the bag's root is %s, not the one given (%s): this is not the bag the procès-verbal names, or it was changed and sealed again", rep.Root, want)
	default:
		a.Status, a.Detail = AnchorHeld, "the bag's root is the one given"
	}
	return a
}

func signerAnchor(rep *seal.Report, want string) Anchor {
	a := Anchor{Kind: AnchorSigner, Given: want, Status: AnchorFailed}
	switch {
	case want == "":
		a.Status, a.Detail = AnchorNotChecked, "no key fingerprint given: the signing key was not compared with the one noted when the collection started"
	case rep.Key == "":
		a.Detail = "the bag names no signing key to compare with the one given"
	case rep.Key != want:
		a.Detail = fmt.Sprintf("the bag is signed with key %s, not the one given (%s): it was sealed again with another key", rep.Key, want)
	default:
		a.Status, a.Detail = AnchorHeld, "the bag is signed with the key given"
	}
	return a
}

// custodyHeadAnchor checks that the custody log still extends the head a
// holder wrote down: one of its lines that hold hashes to it.
func custodyHeadAnchor(want string, c *chain.CustodyCheck, cerr error) Anchor {
	a := Anchor{Kind: AnchorCustodyHead, Given: want, Status: AnchorFailed}
	if want == "" {
		a.Status, a.Detail = AnchorNotChecked, "no custody head given: the custody log was not compared with a holder's register"
		return a
	}
	if cerr != nil {
		a.Detail = fmt.Sprintf("the custody log cannot be checked against the head given: %v", cerr)
		return a
	}
	for i, l := range c.Lines {
		if seal.LineHash(l) == want {
			a.Status = AnchorHeld
			switch n := len(c.Lines) - i - 1; {
			case n == 0 && c.Err == nil:
				a.Detail = fmt.Sprintf("the head given is line %d of %s, its last: the log is as it was when the head was noted", i+1, chain.CustodyFile)
			case n == 0:
				a.Detail = fmt.Sprintf("the head given is line %d of %s, the last that holds (the log breaks at line %d)", i+1, chain.CustodyFile, c.Err.Line)
			default:
				a.Detail = fmt.Sprintf("the head given is line %d of %s: the log extends it by %d line(s)", i+1, chain.CustodyFile, n)
			}
			return a
		}
	}
	for i, l := range c.Rest {
		if seal.LineHash(l) == want {
			a.Detail = fmt.Sprintf("the head given is line %d of %s, which does not hold: %v", len(c.Lines)+i+1, chain.CustodyFile, c.Err)
			return a
		}
	}
	a.Detail = fmt.Sprintf("no line of %s hashes to the head given: the log was cut before that line, or that line and those after it were replaced (its %d lines that hold end at head %s)",
		chain.CustodyFile, len(c.Lines), c.Head())
	return a
}

// tpmAnchor sums up the TPM checks (checkTPM).
func tpmAnchor(checks []seal.Check) Anchor {
	a := Anchor{Kind: AnchorTPM, Status: AnchorNotChecked, Detail: "no TPM evidence: the bag is not bound to a machine"}
	var held []string
	for _, c := range checks {
		switch c.Name {
		case tpm.CheckAbsent:
			a.Detail = c.Detail
		case tpm.CheckStart, tpm.CheckEnd, tpm.CheckContinued:
			a.Given = tpm.File
			switch {
			case !c.OK && a.Status != AnchorFailed:
				a.Status, a.Detail = AnchorFailed, c.Name+": "+c.Detail
			case c.OK:
				held = append(held, c.Name)
			}
		}
	}
	if a.Status != AnchorFailed && len(held) > 0 {
		a.Status, a.Detail = AnchorHeld, strings.Join(held, ", ")+" hold: the TPM those checks name quoted the root; compare its endorsement key (EK) with the host's"
	}
	return a
}

// timestampAnchor sums up the timestamp checks (checkTimestamps).
func timestampAnchor(checks []seal.Check) Anchor {
	a := Anchor{Kind: AnchorTimestamp, Status: AnchorNotChecked, Detail: "no RFC 3161 token beside the bag"}
	var files []string
	n := 0
	for _, c := range checks {
		if c.Name != CheckTimestampToken {
			continue
		}
		files = append(files, c.Where)
		switch {
		case !c.OK && a.Status != AnchorFailed:
			a.Status, a.Detail = AnchorFailed, c.Detail
		case c.OK:
			n++
		}
	}
	a.Given = strings.Join(files, ", ")
	if a.Status != AnchorFailed && n > 0 {
		a.Status, a.Detail = AnchorHeld, fmt.Sprintf("%d token(s) hold: a time-stamping authority signed the root at the time each timestamp check states", n)
	}
	return a
}

// Anchored reports whether the bag was matched with what identifies it
// outside itself: the root or the signing key given held. Without that,
// the verdict shows only that the bag agrees with itself.
func (v *Verdict) Anchored() bool {
	for _, a := range v.Anchors {
		if (a.Kind == AnchorRoot || a.Kind == AnchorSigner) && a.Status == AnchorHeld {
			return true
		}
	}
	return false
}
