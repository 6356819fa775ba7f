package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/chain/verdict"
)

// TestFrozenVectorsAnchored verifies the frozen bags against the root and
// key fingerprint EXPECTED.json records, given as a responder copies
// them (grouped, upper case), and each against the other bag's root: the
// two bags are both self-consistent, and only the anchor tells them
// apart.
func TestFrozenVectorsAnchored(t *testing.T) {
	dir, exp := loadVectors(t)
	if len(exp.Bags) < 2 {
		t.Fatalf("%d frozen bags, want 2", len(exp.Bags))
	}
	for i, want := range exp.Bags {
		other := exp.Bags[(i+1)%len(exp.Bags)]
		t.Run(want.Dir, func(t *testing.T) {
			bag := filepath.Join(dir, want.Dir) // read only
			r := run(t, time.Minute, "verify", "--json", "--root", strings.ToUpper(groupedHex(want.Root)),
				"--signer", groupedHex(want.KeyFingerprint), "--trusted-key", filepath.Join(dir, "keys", "expert.key.pub.pem"), bag)
			var out struct {
				Verdict  string           `json:"verdict"`
				Anchored bool             `json:"anchored"`
				Anchors  []verdict.Anchor `json:"anchors"`
				Signers  []verdict.Signer `json:"custody_signers"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
				t.Fatalf("exit %d: %v\n%s", r.code, err, r.stderr)
			}
			if r.code != want.Code || out.Verdict != want.Verdict || !out.Anchored {
				t.Errorf("exit %d, verdict %s, anchored %v; want %d, %s, true", r.code, out.Verdict, out.Anchored, want.Code, want.Verdict)
			}
			held := map[verdict.AnchorKind]bool{}
			for _, a := range out.Anchors {
				held[a.Kind] = a.Status == verdict.AnchorHeld
			}
			if !held[verdict.AnchorRoot] || !held[verdict.AnchorSigner] || held[verdict.AnchorTPM] != want.TPM || held[verdict.AnchorTimestamp] != (want.Timestamps > 0) {
				t.Errorf("anchors %+v", out.Anchors)
			}
			if len(out.Signers) != want.CustodyEvents {
				t.Errorf("%d custody signers, want %d", len(out.Signers), want.CustodyEvents)
			}
			for _, s := range out.Signers {
				if s.Kind == verdict.SignerUnknown {
					t.Errorf("line %d (%s) signed by an unknown key, though both keys are given", s.Line, s.Event)
				}
			}

			r = run(t, time.Minute, "verify", "--root", other.Root, bag)
			if r.code != exitVerifyFailed || !strings.Contains(r.stdout, "\nFAIL  anchor-root     the bag's root is "+want.Root+", not the one given ("+other.Root+")") {
				t.Errorf("against the other bag's root: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}

// groupedHex writes hex as collect prints a root: groups of four, four
// groups a line.
func groupedHex(h string) string { return strings.Join(groupHex(h), "\n") }
