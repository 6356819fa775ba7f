package verdict

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/chain/chaintest"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/internal/vectors"
	"github.com/scelle/scelle/seal"
)

// testKey is a fixed key, so that failures are reproducible.
func testKey(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

func fingerprint(k ed25519.PrivateKey) string {
	return seal.KeyFingerprint(k.Public().(ed25519.PublicKey))
}

var (
	collector = testKey(1) // the original bag's key
	forger    = testKey(2) // the key of a bag changed and sealed again
	expert    = testKey(3) // a holder's key
	mallory   = testKey(9)
)

// sealBag seals a bag holding one file the way scelle collect does: a
// record that lists it, the acquired and sealed custody events signed
// with the bag's key. It returns the output folder and the root.
func sealBag(t testing.TB, key ed25519.PrivateKey, content string) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "C-1_box_20261122T100000Z")
	s := chaintest.SealBag(t, dir, key, chaintest.File{Source: "/etc/hostname", Size: int64(len(content)), Body: strings.NewReader(content)})
	return dir, s.Root
}

// appendEvent signs ev with key onto dir's custody log and returns the
// head it makes.
func appendEvent(t testing.TB, dir string, ev chain.CustodyEvent, key ed25519.PrivateKey) string {
	t.Helper()
	e, err := chain.AppendCustody(dir, ev, key)
	if err != nil {
		t.Fatal(err)
	}
	h, err := e.Hash()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func anchorOf(v *Verdict, k AnchorKind) Anchor {
	for _, a := range v.Anchors {
		if a.Kind == k {
			return a
		}
	}
	return Anchor{}
}

func checkNamed(v *Verdict, name string) *seal.Check {
	for i := range v.Checks {
		if v.Checks[i].Name == name {
			return &v.Checks[i]
		}
	}
	return nil
}

// grouped writes hex as collect prints the root: groups of four, four
// groups a line, indented.
func grouped(h string) string {
	var b strings.Builder
	for i := 0; i < len(h); i += 4 {
		switch {
		case i%16 == 0:
			b.WriteString("\n    ")
		default:
			b.WriteByte(' ')
		}
		b.WriteString(h[i : i+4])
	}
	return b.String() + "\n"
}

func TestParseFingerprint(t *testing.T) {
	const h = "46eb89fa6b8d183fab89e1f84925cbb94bc97f1bbeb331c9543effaabf9d4384"
	for _, tt := range []struct {
		in, want string
	}{
		{h, h},
		{strings.ToUpper(h), h},
		{grouped(h), h},
		{strings.ToUpper(grouped(h)), h},
		{"\t" + h[:32] + " \r\n" + h[32:] + " ", h},
		{h[:63], ""},
		{h + "0", ""},
		{"", ""},
		{"sha256:" + h, ""},
		{strings.ReplaceAll(grouped(h), " ", ":"), ""},
		{h[:63] + "g", ""},
		{h[:63] + "\u0430", ""}, // Cyrillic a
	} {
		got, err := ParseFingerprint(tt.in)
		switch {
		case tt.want == "" && !errors.Is(err, ErrMalformed):
			t.Errorf("ParseFingerprint(%q) = %q, %v; want ErrMalformed", tt.in, got, err)
		case tt.want != "" && (err != nil || got != tt.want):
			t.Errorf("ParseFingerprint(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestAnchorsGiven checks each anchor a caller gives, on the frozen
// plain bag: held, not held, malformed.
func TestAnchorsGiven(t *testing.T) {
	vdir, exp := frozenPlain(t)
	other := strings.Repeat("ab", 32)
	head := custodyHeads(t, vdir)
	for _, tt := range []struct {
		name   string
		opts   Options
		kind   AnchorKind
		status AnchorStatus
		detail string // in the anchor's detail
	}{
		{"root held", Options{Root: exp.Root}, AnchorRoot, AnchorHeld, "the one given"},
		{"root as printed", Options{Root: strings.ToUpper(grouped(exp.Root))}, AnchorRoot, AnchorHeld, "the one given"},
		{"root mismatch", Options{Root: other}, AnchorRoot, AnchorFailed, "not the one given"},
		{"root not given", Options{}, AnchorRoot, AnchorNotChecked, "no root given"},
		{"signer held", Options{Signer: grouped(exp.KeyFingerprint)}, AnchorSigner, AnchorHeld, "the key given"},
		{"signer mismatch", Options{Signer: other}, AnchorSigner, AnchorFailed, "sealed again with another key"},
		{"signer not given", Options{}, AnchorSigner, AnchorNotChecked, "no key fingerprint given"},
		{"head of the log", Options{CustodyHead: head[len(head)-1]}, AnchorCustodyHead, AnchorHeld, "line 4 of custody.jsonl, its last: the log is as it was"},
		{"head of line 2", Options{CustodyHead: head[1]}, AnchorCustodyHead, AnchorHeld, "line 2 of custody.jsonl: the log extends it by 2 line(s)"},
		{"head mismatch", Options{CustodyHead: other}, AnchorCustodyHead, AnchorFailed, "no line of custody.jsonl hashes to the head given"},
		{"head not given", Options{}, AnchorCustodyHead, AnchorNotChecked, "no custody head given"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Check(vdir, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			a := anchorOf(v, tt.kind)
			if a.Status != tt.status || !strings.Contains(a.Detail, tt.detail) {
				t.Fatalf("anchor %s: %s (%s), want %s (%q)", tt.kind, a.Status, a.Detail, tt.status, tt.detail)
			}
			c := checkNamed(v, tt.kind.CheckName())
			switch {
			case tt.status == AnchorNotChecked && c != nil:
				t.Errorf("check %s added for an anchor not given", c.Name)
			case tt.status != AnchorNotChecked && (c == nil || c.OK != (tt.status == AnchorHeld)):
				t.Errorf("check %s: %+v", tt.kind.CheckName(), c)
			}
			wantStatus := Verified
			if tt.status == AnchorFailed {
				wantStatus = Failed
			}
			if v.Status != wantStatus {
				t.Errorf("status %s, want %s (failed: %v)", v.Status, wantStatus, v.FailedNames())
			}
			if got := v.Anchored(); got != ((tt.kind == AnchorRoot || tt.kind == AnchorSigner) && tt.status == AnchorHeld) {
				t.Errorf("Anchored() = %v", got)
			}
		})
	}
	for _, opts := range []Options{{Root: exp.Root[:63]}, {Signer: "key " + exp.KeyFingerprint}, {CustodyHead: head[0] + "00"}} {
		if _, err := Check(vdir, opts); !errors.Is(err, ErrMalformed) {
			t.Errorf("Check(%+v): %v, want ErrMalformed", opts, err)
		}
	}
}

// frozenPlain returns the frozen plain bag's folder (read only) and what
// EXPECTED.json says of it.
func frozenPlain(t testing.TB) (string, vectors.Bag) {
	t.Helper()
	dir, exp, err := vectors.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range exp.Bags {
		if !b.Encrypted {
			return filepath.Join(dir, b.Dir), b
		}
	}
	t.Fatal("no plain bag among the vectors")
	return "", vectors.Bag{}
}

// custodyHeads returns the head each line of dir's custody log makes.
func custodyHeads(t testing.TB, dir string) []string {
	t.Helper()
	c, err := chain.CheckCustodyDir(dir)
	if err != nil || !c.OK() {
		t.Fatalf("custody log: %v %v", err, c.Err)
	}
	var heads []string
	for _, l := range c.Lines {
		heads = append(heads, seal.LineHash(l))
	}
	return heads
}

// TestForgedBag: a bag changed and sealed again with a new key is
// self-consistent, and verifies alone; the root of the procès-verbal and
// the key noted at the start refuse it.
func TestForgedBag(t *testing.T) {
	orig, root := sealBag(t, collector, "web01\n")
	forged, forgedRoot := sealBag(t, forger, "attacker\n")
	if root == forgedRoot {
		t.Fatal("same root")
	}
	v, err := Check(forged, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != Verified || v.Anchored() {
		t.Fatalf("the forgery alone: %s, anchored %v (failed: %v)", v.Status, v.Anchored(), v.FailedNames())
	}
	for _, tt := range []struct {
		opts Options
		kind AnchorKind
	}{
		{Options{Root: root}, AnchorRoot},
		{Options{Signer: fingerprint(collector)}, AnchorSigner},
	} {
		v, err := Check(forged, tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != Failed || anchorOf(v, tt.kind).Status != AnchorFailed || v.Anchored() {
			t.Errorf("forgery with %+v: %s, %+v", tt.opts, v.Status, anchorOf(v, tt.kind))
		}
		if got := v.FailedNames(); len(got) != 1 || !strings.HasPrefix(got[0], tt.kind.CheckName()+" [") {
			t.Errorf("forgery with %+v: failed %v", tt.opts, got)
		}
		v, err = Check(orig, tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != Verified || anchorOf(v, tt.kind).Status != AnchorHeld || !v.Anchored() {
			t.Errorf("original with %+v: %s, %+v", tt.opts, v.Status, anchorOf(v, tt.kind))
		}
	}
}

// TestCustodyHead: a holder notes the head custody add prints; a log cut
// before that line, or whose lines from it on were replaced by a forger
// (chained and signed, so the log itself holds), no longer extends it.
func TestCustodyHead(t *testing.T) {
	dir, _ := sealBag(t, collector, "web01\n")
	logPath := filepath.Join(dir, chain.CustodyFile)
	head := appendEvent(t, dir, chain.CustodyEvent{Event: chain.EventTransferred, To: "Lab Y"}, expert)
	whole, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(whole, []byte("\n"))[:3]
	checkHead := func(name, head string, status AnchorStatus, detail string) *Verdict {
		t.Helper()
		v, err := Check(dir, Options{CustodyHead: head})
		if err != nil {
			t.Fatal(err)
		}
		a := anchorOf(v, AnchorCustodyHead)
		if a.Status != status || !strings.Contains(a.Detail, detail) {
			t.Errorf("%s: %s (%s), want %s (%q)", name, a.Status, a.Detail, status, detail)
		}
		return v
	}
	check := func(name string, status AnchorStatus, detail string) *Verdict {
		t.Helper()
		return checkHead(name, head, status, detail)
	}
	logHolds := func(name string, v *Verdict) {
		t.Helper()
		if c := checkNamed(v, "custody"); c == nil || !c.OK {
			t.Errorf("%s: custody check %+v", name, c)
		}
	}
	logHolds("as noted", check("as noted", AnchorHeld, "line 3 of custody.jsonl, its last: the log is as it was"))
	head4 := appendEvent(t, dir, chain.CustodyEvent{Event: chain.EventNote, Text: "later"}, expert)
	whole, err = os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	line4 := bytes.SplitAfter(whole, []byte("\n"))[3]
	check("extended", AnchorHeld, "line 3 of custody.jsonl: the log extends it by 1 line(s)")

	// Cut: the log ends before the line noted; what is left holds.
	if err := os.WriteFile(logPath, bytes.Join(lines[:2], nil), 0o644); err != nil {
		t.Fatal(err)
	}
	logHolds("cut", check("cut", AnchorFailed, "no line of custody.jsonl hashes to the head given: the log was cut before that line"))

	// Forged: line 3 replaced by another, chained and signed.
	appendEvent(t, dir, chain.CustodyEvent{Event: chain.EventTransferred, To: "Mallory"}, mallory)
	appendEvent(t, dir, chain.CustodyEvent{Event: chain.EventNote, Text: "nothing to see"}, mallory)
	logHolds("forged", check("forged", AnchorFailed, "that line and those after it were replaced (its 4 lines that hold end at head"))

	// The noted line is back, but the log breaks there.
	broken := append(bytes.Join(lines[:2], nil), bytes.Replace(lines[2], []byte("Lab Y"), []byte("Lab Z"), 1)...)
	if err := os.WriteFile(logPath, broken, 0o644); err != nil {
		t.Fatal(err)
	}
	check("changed", AnchorFailed, "no line of custody.jsonl hashes")
	if err := os.WriteFile(logPath, append(broken, line4...), 0o644); err != nil {
		t.Fatal(err)
	}
	checkHead("after the break", head4, AnchorFailed, "the head given is line 4 of custody.jsonl, which does not hold: custody.jsonl line 3: changed")
	if err := os.WriteFile(logPath, append(bytes.Join(lines[:2], []byte(nil)), append(lines[2], "{}\n"...)...), 0o644); err != nil {
		t.Fatal(err)
	}
	check("broken after it", AnchorHeld, "line 3 of custody.jsonl, the last that holds (the log breaks at line 4)")

	if err := os.Remove(logPath); err != nil {
		t.Fatal(err)
	}
	check("no log", AnchorFailed, "cannot be checked against the head given")
}

// TestSigners names each custody line's signer: the bag's key, a key
// given as trusted (public or private PEM), or unknown.
func TestSigners(t *testing.T) {
	dir, _ := sealBag(t, collector, "web01\n")
	appendEvent(t, dir, chain.CustodyEvent{Event: chain.EventTransferred, To: "Lab Y"}, expert)
	appendEvent(t, dir, chain.CustodyEvent{Event: chain.EventNote, Text: "who?"}, mallory)
	keys := t.TempDir()
	if err := seal.WriteKeyPair(filepath.Join(keys, "expert.key"), expert); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"expert.key", "expert.key.pub.pem"} {
		k, err := ReadTrustedKey(filepath.Join(keys, file))
		if err != nil {
			t.Fatal(err)
		}
		v, err := Check(dir, Options{TrustedKeys: []TrustedKey{k}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range v.Signers {
			got = append(got, string(s.Kind)+" "+filepath.Base(s.Source))
			if s.KeyFingerprint != map[SignerKind]string{SignerBag: fingerprint(collector), SignerTrusted: fingerprint(expert), SignerUnknown: fingerprint(mallory)}[s.Kind] {
				t.Errorf("line %d: %+v", s.Line, s)
			}
		}
		if want := "bag root.pub.pem,bag root.pub.pem,trusted " + file + ",unknown ."; strings.Join(got, ",") != want {
			t.Errorf("%s: signers %q, want %q", file, strings.Join(got, ","), want)
		}
	}
	v, err := Check(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Signers) != 4 || v.Signers[2].Kind != SignerUnknown {
		t.Errorf("no trusted key: %+v", v.Signers)
	}
	for _, bad := range []string{filepath.Join(keys, "none.pem"), filepath.Join(dir, seal.RootFile)} {
		if _, err := ReadTrustedKey(bad); err == nil {
			t.Errorf("ReadTrustedKey(%s): no error", bad)
		}
	}
}

// TestTPMAndTimestampAnchors: the frozen plain bag has TPM quotes and a
// token; a bag made without either has neither anchor; a timestamped
// event whose token is missing fails.
func TestTPMAndTimestampAnchors(t *testing.T) {
	vdir, _ := frozenPlain(t)
	v, err := Check(vdir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a := anchorOf(v, AnchorTPM); a.Status != AnchorHeld || a.Given != "tpm.json" {
		t.Errorf("frozen bag, tpm: %+v", a)
	}
	if a := anchorOf(v, AnchorTimestamp); a.Status != AnchorHeld || a.Given != "timestamp-1.tsr" {
		t.Errorf("frozen bag, timestamp: %+v", a)
	}
	var kinds []string
	for _, a := range v.Anchors {
		kinds = append(kinds, string(a.Kind))
	}
	if got := strings.Join(kinds, " "); got != "root signer custody-head tpm timestamp" {
		t.Errorf("anchors %q", got)
	}

	dir, _ := sealBag(t, collector, "web01\n")
	v, err = Check(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []AnchorKind{AnchorTPM, AnchorTimestamp} {
		if a := anchorOf(v, k); a.Status != AnchorNotChecked || a.Given != "" {
			t.Errorf("bag without %s: %+v", k, a)
		}
	}

	appendEvent(t, dir, chain.CustodyEvent{Event: chain.EventTimestamped, TSA: "https://tsa.example",
		TokenFile: "timestamp-1.tsr", TokenSHA256: strings.Repeat("0", 64)}, expert)
	v, err = Check(dir, Options{Now: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	c := checkNamed(v, "timestamp")
	if v.Status != Failed || c == nil || c.OK || c.Where != "timestamp-1.tsr" ||
		!strings.Contains(c.Detail, "custody.jsonl line 3 (timestamped) names the token timestamp-1.tsr, which is not there") {
		t.Errorf("missing token: %s, %+v", v.Status, c)
	}
	if a := anchorOf(v, AnchorTimestamp); a.Status != AnchorFailed || a.Given != "timestamp-1.tsr" {
		t.Errorf("missing token, anchor: %+v", a)
	}
}
