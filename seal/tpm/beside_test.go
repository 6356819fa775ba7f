package tpm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scelle/scelle/internal/vectors"
	"github.com/scelle/scelle/seal"
)

var update = flag.Bool("update", false, "rewrite testdata/quote-ecc.json from swtpm")

const (
	testCollection = "6f1d2b34-0000-4000-8000-000000000001"
	testKey        = "abababababababababababababababababababababababababababababababab"
)

func testRoot(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// verdicts maps check names to OK, failing on a repeated name.
func verdicts(t *testing.T, checks []seal.Check) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, c := range checks {
		if _, dup := out[c.Name]; dup {
			t.Errorf("check %s reported twice", c.Name)
		}
		out[c.Name] = c.OK
		t.Logf("%-5v %-15s %s [%s]", c.OK, c.Name, c.Detail, c.Where)
	}
	return out
}

func wantChecks(t *testing.T, checks []seal.Check, want map[string]bool) {
	t.Helper()
	got := verdicts(t, checks)
	if len(got) != len(want) {
		t.Errorf("checks %v, want %v", got, want)
	}
	for name, ok := range want {
		if v, present := got[name]; !present || v != ok {
			t.Errorf("check %s: ok=%v present=%v, want ok=%v", name, v, present, ok)
		}
	}
}

var allOK = map[string]bool{CheckStart: true, CheckEnd: true, CheckContinued: true}

func TestSession(t *testing.T) {
	s := newSwtpm(t, true, "not-need-init,startup-clear")
	dir, root := t.TempDir(), testRoot("tag manifest")
	sess := Begin(s.addr(), testCollection, testKey)
	if sess.Err != nil {
		t.Fatal(sess.Err)
	}
	start := sess.StartJSON()
	if err := sess.Seal(dir, root); err != nil || sess.EndErr != nil {
		t.Fatal(err, sess.EndErr)
	}
	if _, err := os.Stat(filepath.Join(dir, File+seal.PartialSuffix)); !errors.Is(err, os.ErrNotExist) {
		t.Error("partial file left behind")
	}
	bag := Bag{Root: root, Collection: testCollection, KeyFingerprint: testKey, Start: start}
	wantChecks(t, CheckBeside(dir, bag), allOK)

	t.Run("other root", func(t *testing.T) {
		b := bag
		b.Root = testRoot("another tag manifest")
		wantChecks(t, CheckBeside(dir, b), map[string]bool{CheckStart: true, CheckEnd: false, CheckContinued: false})
	})
	t.Run("other collection", func(t *testing.T) {
		b := bag
		b.Collection = "another"
		wantChecks(t, CheckBeside(dir, b), map[string]bool{CheckStart: false, CheckEnd: true, CheckContinued: false})
	})
	t.Run("other key", func(t *testing.T) {
		b := bag
		b.KeyFingerprint = strings.Repeat("cd", 32)
		wantChecks(t, CheckBeside(dir, b), map[string]bool{CheckStart: false, CheckEnd: true, CheckContinued: false})
	})
	t.Run("record without start", func(t *testing.T) {
		b := bag
		b.Start = nil
		wantChecks(t, CheckBeside(dir, b), map[string]bool{CheckStart: false, CheckEnd: true, CheckContinued: false})
	})
	t.Run("tpm.json start differs from the record's", func(t *testing.T) {
		b := bag
		other := quoteAt(t, s, StartNonce(testCollection, testKey))
		b.Start, _ = json.Marshal(other)
		wantChecks(t, CheckBeside(dir, b), map[string]bool{CheckStart: false, CheckEnd: true, CheckContinued: false})
	})
	t.Run("tpm.json changed", func(t *testing.T) {
		d := t.TempDir()
		f, err := ReadBeside(dir)
		if err != nil {
			t.Fatal(err)
		}
		f.End.Clock.Clock++
		writeJSON(t, filepath.Join(d, File), f)
		wantChecks(t, CheckBeside(d, bag), map[string]bool{CheckStart: true, CheckEnd: false, CheckContinued: false})
		os.WriteFile(filepath.Join(d, File), []byte("{"), 0o644)
		wantChecks(t, CheckBeside(d, bag), map[string]bool{CheckStart: true, CheckEnd: false, CheckContinued: false})
	})
	t.Run("tpm.json missing", func(t *testing.T) {
		wantChecks(t, CheckBeside(t.TempDir(), bag), map[string]bool{CheckStart: true, CheckEnd: false, CheckContinued: false})
	})
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBesideReboot: a reboot between the quotes breaks continuity.
func TestBesideReboot(t *testing.T) {
	s := newSwtpm(t, true, "not-need-init,startup-clear")
	dir, root := t.TempDir(), testRoot("tag manifest")
	start := quoteAt(t, s, StartNonce(testCollection, testKey))
	s.stop()
	s.start(t, "not-need-init,startup-clear")
	nonce, _ := EndNonce(root)
	end := quoteAt(t, s, nonce)
	if err := WriteBeside(dir, start, end, root); err != nil {
		t.Fatal(err)
	}
	rec, _ := json.Marshal(start)
	wantChecks(t, CheckBeside(dir, Bag{Root: root, Collection: testCollection, KeyFingerprint: testKey, Start: rec}),
		map[string]bool{CheckStart: true, CheckEnd: true, CheckContinued: false})
}

// TestSessionNoTPM: without a TPM the bag records why, and verifies with
// one passing check that says it is not bound to a machine.
func TestSessionNoTPM(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "swtpm:" + l.Addr().String()
	l.Close()
	dir, root := t.TempDir(), testRoot("tag manifest")
	sess := Begin(addr, testCollection, testKey)
	if !errors.Is(sess.Err, ErrNoTPM) || sess.Start.Present {
		t.Fatalf("Begin without a TPM: %v", sess.Err)
	}
	if err := sess.Seal(dir, root); err != nil || !errors.Is(sess.EndErr, ErrNoTPM) {
		t.Fatal(err, sess.EndErr)
	}
	f, err := ReadBeside(dir)
	if err != nil || f.Present || f.Reason == "" {
		t.Fatalf("%+v %v", f, err)
	}
	bag := Bag{Root: root, Collection: testCollection, KeyFingerprint: testKey, Start: sess.StartJSON()}
	wantChecks(t, CheckBeside(dir, bag), map[string]bool{CheckAbsent: true})
	// No tpm.json and no start evidence: nothing to say.
	bag.Start = nil
	if c := CheckBeside(t.TempDir(), bag); len(c) != 0 {
		t.Errorf("checks for a bag without TPM evidence: %v", c)
	}
	// The record says no TPM, tpm.json is lost: still not bound.
	bag.Start = sess.StartJSON()
	wantChecks(t, CheckBeside(t.TempDir(), bag), map[string]bool{CheckAbsent: true})
}

// TestVector verifies a stored quote without a TPM; -update makes it
// again from swtpm.
func TestVector(t *testing.T) {
	path := filepath.Join("testdata", "quote-ecc.json")
	nonce := StartNonce(testCollection, testKey)
	if *update {
		ev := quoteAt(t, newSwtpm(t, true, "not-need-init,startup-clear"), nonce)
		b, _ := json.MarshalIndent(ev, "", " ")
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ev := readVector(t, path)
	if err := Verify(ev, nonce); err != nil {
		t.Fatal(err)
	}
	if err := CheckContinuity(ev, ev); err != nil {
		t.Fatal(err)
	}
}

func readVector(t testing.TB, path string) *Evidence {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ev Evidence
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return &ev
}

// FuzzVerify: hostile TPM structures never panic nor verify.
func FuzzVerify(f *testing.F) {
	ev := readVector(f, filepath.Join("testdata", "quote-ecc.json"))
	f.Add(ev.Quoted, ev.Signature, ev.AKPublic)
	f.Add([]byte{0xff, 0x54, 0x43, 0x47, 0x80, 0x18}, []byte{0, 0x18}, []byte{0, 0x23})
	frozen, err := vectors.Files(File) // the frozen v1 bags, testdata/bags/v1
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range frozen {
		var bs Beside
		if err := json.Unmarshal(b, &bs); err != nil {
			f.Fatal(err)
		}
		for _, q := range []*Evidence{bs.Start, bs.End} {
			if q != nil && q.Present {
				f.Add(q.Quoted, q.Signature, q.AKPublic)
			}
		}
	}
	nonce := StartNonce(testCollection, testKey)
	f.Fuzz(func(t *testing.T, quoted, sig, ak []byte) {
		e := *ev
		e.Quoted, e.Signature, e.AKPublic = quoted, sig, ak
		err := Verify(&e, nonce)
		// (An ECDSA signature has a twin, (r, n-s): only what is signed
		// and who signs it must stay.)
		if err == nil && (string(quoted) != string(ev.Quoted) || string(ak) != string(ev.AKPublic)) {
			t.Fatal("changed evidence verifies")
		}
		CheckContinuity(ev, &e)
	})
}
