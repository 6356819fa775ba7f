package chain

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/internal/vectors"
	"github.com/scelle/scelle/seal"
)

// testKey is a fixed key, so that failures are reproducible.
func testKey(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

var (
	alice   = testKey(1) // the expert's key
	bob     = testKey(2) // the laboratory's key
	mallory = testKey(9)
	t0      = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
)

// custodyBag seals a small bag the way scelle collect does, with the
// acquired and sealed events, and returns its folder and the bag key.
func custodyBag(t testing.TB) (string, ed25519.PrivateKey) {
	t.Helper()
	key, err := seal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "case_host_20261122T100000Z")
	w, err := seal.Create(dir, seal.Options{Key: key, Collection: "c0ffee", Tool: "scelle test"})
	if err != nil {
		t.Fatal(err)
	}
	operator := &Person{Name: "Ann Responder", Organisation: "CERT-X", Role: "incident responder"}
	if _, err := AppendCustody(w.PartialDir(), AcquiredEvent("", "C-1", "box", "scelle test", operator), key); err != nil {
		t.Fatal(err)
	}
	data := []byte("root:x:0:0:root:/root:/bin/bash\n")
	if _, err := w.Put(context.Background(), seal.Entry{Name: "fs/etc/passwd", Size: int64(len(data))}, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	s, err := w.Seal([]byte(`{"record":true}`+"\n"), seal.BagInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AppendCustody(s.Dir, SealedEvent(s, map[string]int{"collected": 1, "failed": 0}, operator), key); err != nil {
		t.Fatal(err)
	}
	return dir, key
}

// withHistory adds a transfer, a reception, a verification and a note,
// each signed by its actor: lines 3 to 6.
func withHistory(t testing.TB, dir string) {
	t.Helper()
	yes := true
	events := []struct {
		ev  CustodyEvent
		key ed25519.PrivateKey
	}{
		{CustodyEvent{Event: EventTransferred, Actor: &Person{Name: "Ann Responder"}, From: "Ann Responder", To: "Lab Y",
			Medium: "USB stick SN 1234", SealNumber: "S-2026-0042", Reason: "analysis"}, alice},
		{CustodyEvent{Event: EventReceived, Actor: &Person{Name: "Bob Analyst", Organisation: "Lab Y"}, By: "Bob Analyst",
			SealIntact: &yes, Condition: "sealed bag, no marks", SealNumber: "S-2026-0042"}, bob},
		{CustodyEvent{Event: EventVerified, Actor: &Person{Name: "Bob Analyst"}, Verdict: "VERIFIED", Tool: "scelle test"}, bob},
		{CustodyEvent{Event: EventNote, Actor: &Person{Name: "Bob Analyst"}, Text: "copied to the analysis station; « scellé » stays in the safe"}, bob},
	}
	for i, e := range events {
		e.ev.At = t0.Add(time.Duration(i) * time.Hour)
		if _, err := AppendCustody(dir, e.ev, e.key); err != nil {
			t.Fatalf("event %d (%s): %v", i+3, e.ev.Event, err)
		}
	}
}

func readLog(t testing.TB, dir string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, CustodyFile))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))[:bytes.Count(b, []byte("\n"))]
}

func writeLog(t testing.TB, dir string, lines [][]byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, CustodyFile), bytes.Join(lines, nil), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCustodyAppendRead(t *testing.T) {
	dir, key := custodyBag(t)
	withHistory(t, dir)
	c, err := CheckCustodyDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !c.OK() {
		t.Fatalf("log broken: %v", c.Err)
	}
	var events []string
	for _, e := range c.Entries {
		events = append(events, e.Event)
	}
	if got := strings.Join(events, " "); got != "acquired sealed transferred received verified note" {
		t.Fatalf("events %q", got)
	}
	root, _ := os.ReadFile(filepath.Join(dir, seal.RootFile))
	acq, sealed := c.Entries[0], c.Sealed()
	switch {
	case acq.Root != "" || acq.Collection != "c0ffee" || acq.Case != "C-1":
		t.Errorf("acquired: root %q, collection %q, case %q", acq.Root, acq.Collection, acq.Case)
	case sealed == nil || sealed.Root+"\n" != string(root) || sealed.Items == nil || *sealed.Items != 1:
		t.Errorf("sealed: %+v", sealed)
	case !c.BagKey(&acq) || !c.BagKey(sealed):
		t.Errorf("acquired and sealed not signed with the bag key %s", seal.KeyFingerprint(key.Public().(ed25519.PublicKey)))
	case c.BagKey(&c.Entries[2]) || c.Entries[2].KeyFingerprint != seal.KeyFingerprint(alice.Public().(ed25519.PublicKey)):
		t.Errorf("transferred signed by %s", c.Entries[2].KeyFingerprint)
	}
	for i, e := range c.Entries[1:] {
		if e.Root != sealed.Root {
			t.Errorf("line %d: root %q", i+2, e.Root)
		}
	}
	if e := c.Entries[3]; e.Time != "2026-11-22T11:00:00Z" || e.SealIntact == nil || !*e.SealIntact {
		t.Errorf("received: %+v", e)
	}
	if c.Head() != seal.LineHash(c.Lines[5]) {
		t.Errorf("head %s", c.Head())
	}
	for i := range c.Entries {
		if h, err := c.Entries[i].Hash(); err != nil || h != seal.LineHash(c.Lines[i]) {
			t.Errorf("line %d: Hash %s, %v; want %s", i+1, h, err, seal.LineHash(c.Lines[i]))
		}
	}

	// The entry AppendCustody returns hashes to the new head.
	e, err := AppendCustody(dir, CustodyEvent{Event: EventNote, Text: "head check"}, bob)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := CheckCustodyDir(dir); err != nil {
		t.Fatal(err)
	} else if h, err := e.Hash(); err != nil || h != c.Head() {
		t.Errorf("appended entry: Hash %s, %v; the log's head is %s", h, err, c.Head())
	}

	// The log alone holds too, and so does every prefix of it.
	lines := readLog(t, dir)
	for n := 1; n <= len(lines); n++ {
		c, err := ReadCustody(bytes.NewReader(bytes.Join(lines[:n], nil)))
		if err != nil || !c.OK() || len(c.Entries) != n {
			t.Fatalf("first %d lines: %v %v", n, err, c.Err)
		}
	}
	// Each line ends with its signature.
	for i, l := range lines {
		if !bytes.Contains(l, []byte(`","sig":"`)) || !bytes.HasSuffix(l, []byte("\"}\n")) {
			t.Errorf("line %d does not end with sig: %s", i+1, l)
		}
	}
}

// resign returns line with f applied to its entry, signed again by key
// (and naming key, unless keepClaim: then it still names the old key).
func resign(t testing.TB, line []byte, key ed25519.PrivateKey, keepClaim bool, f func(*CustodyEntry)) []byte {
	t.Helper()
	e, _, err := ParseCustodyLine(bytes.TrimSuffix(line, []byte("\n")))
	if err != nil {
		t.Fatal(err)
	}
	f(&e)
	pub := key.Public().(ed25519.PublicKey)
	if !keepClaim {
		e.PublicKey, e.KeyFingerprint = seal.EncodeKey(pub), seal.KeyFingerprint(pub)
	} else {
		e.PublicKey = seal.EncodeKey(pub) // the signature verifies, the fingerprint is the old one
	}
	l, err := signCustodyLine(e, key)
	if err != nil {
		t.Fatal(err)
	}
	return append(l, '\n')
}

func TestCustodyTamper(t *testing.T) {
	no := false
	tests := []struct {
		name   string
		tamper func(t *testing.T, lines [][]byte) [][]byte
		line   int
		kind   string
		detail string
	}{
		{"changed byte", func(t *testing.T, l [][]byte) [][]byte {
			l[2] = bytes.Replace(l[2], []byte("Lab Y"), []byte("Lab Z"), 1)
			return l
		}, 3, BreakChanged, "signature does not verify"},
		{"changed signature", func(t *testing.T, l [][]byte) [][]byte {
			l[3] = bytes.Replace(l[3], []byte(`"sig":"`), []byte(`"sig":"!`), 1)
			return l
		}, 4, BreakSignature, "malformed signature"},
		{"changed spacing", func(t *testing.T, l [][]byte) [][]byte {
			// Same signed bytes up to the marker would need a new signature;
			// a space after the last brace keeps them but is refused.
			l[4] = bytes.Replace(l[4], []byte(`{"seq"`), []byte(`{ "seq"`), 1)
			return l
		}, 5, BreakChanged, ""},
		{"removed line", func(t *testing.T, l [][]byte) [][]byte {
			return append(l[:2:2], l[3:]...)
		}, 3, BreakRemoved, "the line before it (seq 3) was removed"},
		{"removed two lines", func(t *testing.T, l [][]byte) [][]byte {
			return append(l[:3:3], l[5:]...)
		}, 4, BreakRemoved, "seq 4 to 5"},
		{"inserted line", func(t *testing.T, l [][]byte) [][]byte {
			forged := resign(t, l[3], mallory, false, func(e *CustodyEntry) {
				e.Event, e.By, e.SealIntact, e.Condition, e.SealNumber = EventNote, "", nil, "", ""
				e.Text = "nothing happened"
			})
			out := append([][]byte{}, l[:3]...)
			return append(append(out, forged), l[3:]...)
		}, 4, BreakInserted, "line 4 was added"},
		{"duplicated line", func(t *testing.T, l [][]byte) [][]byte {
			return append(l, l[2])
		}, 7, BreakInserted, "a copy of line 3"},
		{"two lines swapped", func(t *testing.T, l [][]byte) [][]byte {
			l[3], l[4] = l[4], l[3]
			return l
		}, 4, BreakReordered, "seq 4 is at line 5"},
		{"re-signed by another key", func(t *testing.T, l [][]byte) [][]byte {
			l[3] = resign(t, l[3], mallory, false, func(e *CustodyEntry) { e.SealIntact = &no })
			return l
		}, 4, BreakResigned, "line 5's prev"},
		{"re-signed, claiming the old key", func(t *testing.T, l [][]byte) [][]byte {
			l[3] = resign(t, l[3], mallory, true, func(e *CustodyEntry) { e.SealIntact = &no })
			return l
		}, 4, BreakResigned, "claims key"},
		{"re-signed with the old key named", func(t *testing.T, l [][]byte) [][]byte {
			// Signed by mallory, but still naming bob's key.
			e, _, _ := ParseCustodyLine(bytes.TrimSuffix(l[3], []byte("\n")))
			e.SealIntact = &no
			msg, _ := custodyMessage(e)
			l[3] = append(appendCustodySig(msg, ed25519.Sign(mallory, msg)), '\n')
			return l
		}, 4, BreakChanged, "signed with another key"},
		{"sealed re-signed", func(t *testing.T, l [][]byte) [][]byte {
			return [][]byte{l[0], resign(t, l[1], mallory, false, func(e *CustodyEntry) {})}
		}, 2, BreakResigned, "not the bag's key"},
		{"acquired re-signed", func(t *testing.T, l [][]byte) [][]byte {
			l[0] = resign(t, l[0], mallory, false, func(e *CustodyEntry) { e.Case = "C-2" })
			return l
		}, 1, BreakResigned, "not the bag's key"},
		{"last line cut", func(t *testing.T, l [][]byte) [][]byte {
			l[5] = l[5][:len(l[5])-1]
			return l
		}, 6, BreakCut, ""},
		{"acquired removed", func(t *testing.T, l [][]byte) [][]byte {
			return l[1:]
		}, 1, BreakRemoved, ""},
		{"note before acquired", func(t *testing.T, l [][]byte) [][]byte {
			return [][]byte{resign(t, l[5], bob, false, func(e *CustodyEntry) { e.Seq, e.Prev, e.Root = 1, seal.ZeroHash, "" })}
		}, 1, BreakInvalid, "first event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := custodyBag(t)
			withHistory(t, dir)
			writeLog(t, dir, tt.tamper(t, readLog(t, dir)))
			c, err := CheckCustodyDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if c.OK() {
				t.Fatal("tampering not caught")
			}
			if c.Err.Line != tt.line || c.Err.Kind != tt.kind || !strings.Contains(c.Err.Error(), tt.detail) {
				t.Fatalf("got %v (line %d, %s), want line %d, %s, %q", c.Err, c.Err.Line, c.Err.Kind, tt.line, tt.kind, tt.detail)
			}
			if !strings.HasPrefix(c.Err.Error(), fmt.Sprintf("custody.jsonl line %d: ", tt.line)) {
				t.Errorf("error %q does not name the line", c.Err)
			}
			if len(c.Entries) != tt.line-1 || len(c.Lines) != tt.line-1 {
				t.Errorf("%d entries hold, want %d", len(c.Entries), tt.line-1)
			}

			// No appending to a broken log.
			before, _ := os.ReadFile(filepath.Join(dir, CustodyFile))
			_, err = AppendCustody(dir, CustodyEvent{Event: EventNote, Text: "after"}, alice)
			if !errors.Is(err, ErrCustodyBroken) {
				t.Fatalf("append to a broken log: %v", err)
			}
			after, _ := os.ReadFile(filepath.Join(dir, CustodyFile))
			if !bytes.Equal(before, after) {
				t.Fatal("the broken log was changed")
			}
			if _, err := os.Stat(filepath.Join(dir, CustodyFile+".lock")); !os.IsNotExist(err) {
				t.Errorf("lock file left: %v", err)
			}
		})
	}
}

func TestCustodyAppendRefused(t *testing.T) {
	dir, key := custodyBag(t)
	yes := true
	for _, tt := range []struct {
		name string
		ev   CustodyEvent
		key  ed25519.PrivateKey
		want string
	}{
		{"second acquired", CustodyEvent{Event: EventAcquired, Collection: "c0ffee"}, key, "a second acquired event"},
		{"second sealed", CustodyEvent{Event: EventSealed, ArchiveSHA256: strings.Repeat("0", 64)}, key, "a second sealed event"},
		{"sealed by another key", CustodyEvent{Event: EventSealed}, alice, "must be signed with the bag's key"},
		{"unknown event", CustodyEvent{Event: "lost"}, alice, `unknown event "lost"`},
		{"received without seal state", CustodyEvent{Event: EventReceived, By: "Bob"}, bob, "without seal_intact"},
		{"transferred without recipient", CustodyEvent{Event: EventTransferred, From: "Ann"}, alice, "without to"},
		{"foreign field", CustodyEvent{Event: EventNote, Text: "x", SealIntact: &yes}, alice, "belongs to other events"},
		{"bad token hash", CustodyEvent{Event: EventTimestamped, TSA: "https://tsa.example", TokenFile: "root.tsr", TokenSHA256: "ABC"}, alice, "hex"},
		{"another root", CustodyEvent{Event: EventNote, Text: "x", Root: strings.Repeat("a", 64)}, alice, "the sealed event (line 2) says"},
		{"anchors on a note", CustodyEvent{Event: EventNote, Text: "x", Anchors: []CustodyAnchor{{Kind: "root", Status: AnchorHeld}}}, alice, "note event with anchors"},
		{"anchor of no status", CustodyEvent{Event: EventVerified, Verdict: "VERIFIED", Anchors: []CustodyAnchor{{Kind: "root", Status: "ok"}}}, bob, `anchor "root" with status "ok"`},
		{"anchor of no kind", CustodyEvent{Event: EventVerified, Verdict: "VERIFIED", Anchors: []CustodyAnchor{{Status: AnchorHeld}}}, bob, "want a kind"},
	} {
		before, _ := os.ReadFile(filepath.Join(dir, CustodyFile))
		if _, err := AppendCustody(dir, tt.ev, tt.key); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.want)
		}
		after, _ := os.ReadFile(filepath.Join(dir, CustodyFile))
		if !bytes.Equal(before, after) {
			t.Fatalf("%s: the log changed", tt.name)
		}
	}

	// A first event must be acquired, signed with the bag's key.
	empty := t.TempDir()
	if _, err := AppendCustody(empty, CustodyEvent{Event: EventNote, Text: "x"}, alice); err == nil || !strings.Contains(err.Error(), "first event") {
		t.Errorf("note as first event: %v", err)
	}
	// A held lock is respected.
	if err := os.WriteFile(filepath.Join(dir, CustodyFile+".lock"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := AppendCustody(dir, CustodyEvent{Event: EventNote, Text: "x"}, alice); err == nil || !strings.Contains(err.Error(), "another append") {
		t.Errorf("append under a lock: %v", err)
	}
}

// TestCustodyAgainstAnotherBag moves a whole, valid log beside another
// bag: its acquired line names another key and collection.
func TestCustodyAgainstAnotherBag(t *testing.T) {
	dir1, _ := custodyBag(t)
	dir2, _ := custodyBag(t)
	b, err := os.ReadFile(filepath.Join(dir1, CustodyFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir2, CustodyFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := CheckCustodyDir(dir2)
	if err != nil {
		t.Fatal(err)
	}
	if c.OK() || c.Err.Line != 1 || c.Err.Kind != BreakResigned {
		t.Fatalf("a log of another bag: %v", c.Err)
	}
}

// TestCustodyManual repeats the checks with the standard tools, as
// docs/custody.md tells an expert to.
func TestCustodyManual(t *testing.T) {
	for _, tool := range []string{"sha256sum", "openssl", "base64", "bash", "grep", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (.ci/run installs it)", tool)
		}
	}
	dir, _ := custodyBag(t)
	withHistory(t, dir)
	out, err := exec.Command("bash", "-c", manualCustody, "bash", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("manual procedure failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "custody: 6 lines") || strings.Count(string(out), "Signature Verified Successfully") != 6 {
		t.Fatalf("output:\n%s", out)
	}

	// The same procedure catches a changed line and names it.
	lines := readLog(t, dir)
	lines[3] = bytes.Replace(lines[3], []byte(`"seal_intact":true`), []byte(`"seal_intact":false`), 1)
	writeLog(t, dir, lines)
	out, err = exec.Command("bash", "-c", manualCustody, "bash", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "line 4: signature") {
		t.Fatalf("manual procedure did not catch a changed line 4: %v\n%s", err, out)
	}
	// And a removed one.
	lines = readLog(t, dir)
	writeLog(t, dir, append(lines[:2:2], lines[4:]...))
	out, err = exec.Command("bash", "-c", manualCustody, "bash", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "line 3: chain broken") {
		t.Fatalf("manual procedure did not catch a removed line: %v\n%s", err, out)
	}
}

// manualCustody is the procedure of docs/custody.md, "Checking by hand".
const manualCustody = `set -euo pipefail
cd "$1"
field() { printf '%s' "$line" | grep -o "\"$1\":\"[^\"]*\"" | head -n1 | cut -d'"' -f4; }
bagkey=$(openssl pkey -pubin -in root.pub.pem -outform DER | sha256sum | cut -c1-64)
prev=0000000000000000000000000000000000000000000000000000000000000000
n=0
while IFS= read -r line; do
  n=$((n+1))
  test "$(field prev)" = "$prev" || { echo "line $n: chain broken"; exit 1; }
  printf -- '-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n' "$(field public_key)" > key.pem
  fp=$(openssl pkey -pubin -in key.pem -outform DER | sha256sum | cut -c1-64)
  test "$fp" = "$(field key_fingerprint)" || { echo "line $n: key fingerprint"; exit 1; }
  case "$(field event)" in acquired|sealed)
    test "$fp" = "$bagkey" || { echo "line $n: not the bag's key"; exit 1; } ;;
  esac
  printf '%s' "${line%,\"sig\":*}" > msg
  printf '%s' "$line" | sed 's/.*,"sig":"\([^"]*\)"}$/\1/' | base64 -d > sig
  openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in msg -sigfile sig || { echo "line $n: signature"; exit 1; }
  prev=$(printf '%s' "$line" | sha256sum | cut -c1-64)
done < custody.jsonl
rm -f key.pem msg sig
echo "custody: $n lines, head $prev"
`

// FuzzReadCustody: any bytes are read without panic, and what holds is a
// prefix of the input.
func FuzzReadCustody(f *testing.F) {
	dir, _ := custodyBag(f)
	withHistory(f, dir)
	b, err := os.ReadFile(filepath.Join(dir, CustodyFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte("{}\n"))
	frozen, err := vectors.Files(CustodyFile) // the frozen v1 bags, testdata/bags/v1
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range frozen {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := ReadCustody(bytes.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		var held []byte
		for _, l := range c.Lines {
			held = append(append(held, l...), '\n')
		}
		if !bytes.HasPrefix(in, held) {
			t.Fatal("the lines that hold are not a prefix of the input")
		}
		if c.OK() && !bytes.Equal(in, held) {
			t.Fatal("OK, but not every byte is in a line that holds")
		}
	})
}

func ExampleAppendCustody() {
	dir, _ := os.MkdirTemp("", "custody")
	defer os.RemoveAll(dir)
	bagKey := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ev := AcquiredEvent("6f1c", "C-1", "box", "scelle", &Person{Name: "Ann"})
	ev.At = at
	e, err := AppendCustody(dir, ev, bagKey)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e.Seq, e.Event, e.Time, e.Prev[:8])
	c, _ := CheckCustodyDir(dir)
	fmt.Println(c.OK(), len(c.Entries))
	// Output:
	// 1 acquired 2026-11-22T10:00:00Z 00000000
	// true 1
}
