package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/docblock"
	"github.com/scelle/scelle/internal/vectors"
	"github.com/scelle/scelle/seal"
	"github.com/scelle/scelle/seal/tpm"
)

// The frozen format vectors (testdata/bags/v1, package vectors) are bags
// made once by an earlier scelle. These tests verify them as committed:
// when one fails, today's scelle no longer reads yesterday's bags. Fix
// the code; never make the vectors again to pass (testdata/bags/v1/README.md).

// vectorResult is what these tests read of a verification.
type vectorResult struct {
	verdict   string
	code      int
	root, key string
	proven    int
	checks    []seal.Check
	items     []seal.Item
}

// verifyVector verifies the output folder dir as scelle verify does, with
// the age identity files ids. It is the one call to the verifier in these
// tests.
func verifyVector(t *testing.T, dir string, ids ...string) vectorResult {
	t.Helper()
	identities, err := readIdentities(ids)
	if err != nil {
		t.Fatal(err)
	}
	v, err := verdict.Check(dir, verdict.Options{Identities: identities, Items: true})
	if err != nil {
		t.Fatalf("verify %s: %v", dir, err)
	}
	return vectorResult{verdict: v.Status.String(), code: verdictCode(v.Status), root: v.Root, key: v.Key, proven: v.Proven, checks: v.Checks, items: v.Items}
}

// timestampHoldsAt checks the bag's token timestamp-<n>.tsr as verify
// would at the time at.
func timestampHoldsAt(dir string, n int, root string, at time.Time) (bool, string) {
	return verdict.CheckTimestamp(dir, n, root, at)
}

// named returns the checks named name.
func (r vectorResult) named(name string) []seal.Check {
	var cs []seal.Check
	for _, c := range r.checks {
		if c.Name == name {
			cs = append(cs, c)
		}
	}
	return cs
}

// copyVector copies a frozen bag to a temporary folder: nothing touches
// the committed one.
func copyVector(t *testing.T, dir string, bag vectors.Bag) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), bag.Dir)
	if err := os.CopyFS(dst, os.DirFS(filepath.Join(dir, bag.Dir))); err != nil {
		t.Fatal(err)
	}
	return dst
}

func loadVectors(t *testing.T) (string, *vectors.Expected) {
	t.Helper()
	dir, exp, err := vectors.Load()
	if err != nil {
		t.Fatal(err)
	}
	return dir, exp
}

// TestFrozenVectors verifies each frozen bag and requires what
// EXPECTED.json recorded when it was made: the verdict and exit code, the
// root and key fingerprints, the number of items, custody events, tokens
// and TPM quotes, with and without the identity of an encrypted bag.
func TestFrozenVectors(t *testing.T) {
	dir, exp := loadVectors(t)
	for _, want := range exp.Bags {
		t.Run(want.Dir, func(t *testing.T) {
			bag := copyVector(t, dir, want)
			got := verifyVector(t, bag)
			checkVector(t, got, want, want.Verdict, want.Code)
			if want.Encrypted {
				if got.proven != 0 {
					t.Errorf("no identity: %d items proven, want 0", got.proven)
				}
				if len(got.named(seal.CheckAgeHash)) != 1 {
					t.Errorf("no %s check: %+v", seal.CheckAgeHash, got.checks)
				}
				got = verifyVector(t, bag, filepath.Join(dir, want.Identity))
				checkVector(t, got, want, want.VerdictWithIdentity, exitOK)
			}
			if got.proven != want.Items {
				t.Errorf("%d items proven, want %d", got.proven, want.Items)
			}
			for _, c := range got.checks {
				if !c.OK {
					t.Errorf("check %s fails: %s [%s]", c.Name, c.Detail, c.Where)
				}
			}
			checkArchiveSums(t, bag, want)
		})
	}
}

// checkVector compares one verification with EXPECTED.json.
func checkVector(t *testing.T, got vectorResult, want vectors.Bag, verdict string, code int) {
	t.Helper()
	if got.verdict != verdict || got.code != code {
		t.Errorf("verdict %q (exit %d), want %q (exit %d)", got.verdict, got.code, verdict, code)
	}
	if got.root != want.Root {
		t.Errorf("root %s, want %s", got.root, want.Root)
	}
	if got.key != want.KeyFingerprint {
		t.Errorf("key %s, want %s", got.key, want.KeyFingerprint)
	}
	custody := got.named("custody")
	if len(custody) != 1 || !custody[0].OK || !strings.HasPrefix(custody[0].Detail, fmt.Sprintf("%d events chained and signed", want.CustodyEvents)) {
		t.Errorf("custody: %+v, want %d events", custody, want.CustodyEvents)
	}
	tokens := got.named("timestamp")
	if len(tokens) != want.Timestamps {
		t.Errorf("%d timestamp checks, want %d", len(tokens), want.Timestamps)
	}
	for _, c := range tokens {
		if !c.OK || !strings.Contains(c.Detail, "chains to CN=scelle test vectors CA") || !strings.Contains(c.Detail, "custody.jsonl line") {
			t.Errorf("timestamp: %+v", c)
		}
	}
	for _, name := range []string{tpm.CheckStart, tpm.CheckEnd, tpm.CheckContinued} {
		if cs := got.named(name); want.TPM && (len(cs) != 1 || !cs[0].OK) {
			t.Errorf("%s: %+v", name, cs)
		}
	}
}

// checkArchiveSums compares the archive's SHA-256 files, and the archive
// itself, with EXPECTED.json.
func checkArchiveSums(t *testing.T, bag string, want vectors.Bag) {
	t.Helper()
	sums := map[string]string{seal.ArchiveSumFile: want.ArchiveSHA256}
	archive := seal.ArchiveFile
	if want.Encrypted {
		sums[seal.EncryptedArchiveSumFile] = want.ArchiveAgeSHA256
		archive = seal.EncryptedArchiveFile
	}
	for name, sum := range sums {
		b, err := os.ReadFile(filepath.Join(bag, name))
		if err != nil {
			t.Fatal(err)
		}
		if line := sum + "  " + strings.TrimSuffix(name, ".sha256") + "\n"; string(b) != line {
			t.Errorf("%s: %q, want %q", name, b, line)
		}
	}
	b, err := os.ReadFile(filepath.Join(bag, archive))
	if err != nil {
		t.Fatal(err)
	}
	if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sums[archive+".sha256"] {
		t.Errorf("%s: SHA-256 %x, want %s", archive, got, sums[archive+".sha256"])
	}
}

// TestFrozenVectorsCLI runs scelle verify and scelle custody show on the
// frozen bags as a user does, and reads what they print and their exit
// codes.
func TestFrozenVectorsCLI(t *testing.T) {
	dir, exp := loadVectors(t)
	for _, want := range exp.Bags {
		t.Run(want.Dir, func(t *testing.T) {
			bag := copyVector(t, dir, want)
			r := run(t, time.Minute, "verify", bag)
			if r.code != want.Code || !strings.Contains(r.stdout, "\nroot:    "+want.Root+"\n") || !strings.HasSuffix(r.stdout, "\nverdict: "+want.Verdict+"\n") {
				t.Errorf("scelle verify: exit %d, want %d and root %s, verdict %s\n%s%s", r.code, want.Code, want.Root, want.Verdict, r.stdout, r.stderr)
			}
			if want.Encrypted {
				r := run(t, time.Minute, "verify", "--identity", filepath.Join(dir, want.Identity), bag)
				if r.code != exitOK || !strings.HasSuffix(r.stdout, "\nverdict: "+want.VerdictWithIdentity+"\n") {
					t.Errorf("scelle verify --identity: exit %d\n%s%s", r.code, r.stdout, r.stderr)
				}
			}
			r = run(t, time.Minute, "custody", "show", bag)
			if r.code != exitOK || !strings.HasSuffix(r.stdout, fmt.Sprintf("\nverdict: OK: %d events hold\n", want.CustodyEvents)) {
				t.Errorf("scelle custody show: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}

// TestFrozenVectorsTimestampLasts checks the frozen token as verify would
// in a hundred years: its CA and TSA certificates never expire, and
// verify checks a chain that expired since as at the token's time.
func TestFrozenVectorsTimestampLasts(t *testing.T) {
	dir, exp := loadVectors(t)
	n := 0
	for _, want := range exp.Bags {
		for i := 1; i <= want.Timestamps; i++ {
			n++
			ok, detail := timestampHoldsAt(filepath.Join(dir, want.Dir), i, want.Root, time.Now().AddDate(100, 0, 0))
			if !ok || !strings.Contains(detail, "chains to CN=scelle test vectors CA") {
				t.Errorf("%s timestamp-%d.tsr in 100 years: %v %s", want.Dir, i, ok, detail)
			}
		}
	}
	if n == 0 {
		t.Fatal("no frozen token")
	}
}

// TestFrozenVectorsStandardTools checks the frozen bags with the tools an
// expert has, as docs/guide-expert.md and docs/format.md §9 say: age -d
// for the encrypted twin, sha256sum -c of the archive, zstd -d | tar -t,
// the manual-verify procedure of format.md (which extracts the archive),
// sha256sum -c of the manifest on the extraction, openssl ts -verify of
// each token.
func TestFrozenVectorsStandardTools(t *testing.T) {
	for _, tool := range []string{"sha256sum", "tar", "zstd", "openssl", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (.ci/run installs it)", tool)
		}
	}
	script, err := docblock.Read("../../docs/format.md", "sh manual-verify")
	if err != nil {
		t.Fatal(err)
	}
	dir, exp := loadVectors(t)
	for _, want := range exp.Bags {
		t.Run(want.Dir, func(t *testing.T) {
			bag := copyVector(t, dir, want)
			sh := func(cmd string, args ...string) string {
				t.Helper()
				c := exec.Command("bash", append([]string{"-c", cmd, "bash"}, args...)...)
				c.Dir = bag
				b, err := c.CombinedOutput()
				if err != nil {
					t.Fatalf("%s: %v\n%s", cmd, err, b)
				}
				return string(b)
			}
			if want.Encrypted {
				if _, err := exec.LookPath("age"); err != nil {
					t.Skip("age not installed (.ci/run installs the Debian package age)")
				}
				if out := sh(`sha256sum -c evidence.tar.zst.age.sha256`); out != "evidence.tar.zst.age: OK\n" {
					t.Errorf("sha256sum -c evidence.tar.zst.age.sha256: %s", out)
				}
				sh(`age -d -i "$1" -o evidence.tar.zst evidence.tar.zst.age`, filepath.Join(dir, want.Identity))
			}
			if out := sh(`sha256sum -c evidence.tar.zst.sha256`); out != "evidence.tar.zst: OK\n" {
				t.Errorf("sha256sum -c evidence.tar.zst.sha256: %s", out)
			}
			list := strings.Split(strings.TrimSuffix(sh(`zstd -dc evidence.tar.zst | tar -t`), "\n"), "\n")
			data := 0
			for _, e := range list {
				if strings.HasPrefix(e, "evidence/data/") {
					data++
				}
			}
			if data != want.Items || list[0] != "evidence/bagit.txt" || list[len(list)-1] != "evidence/tagmanifest-sha256.txt" {
				t.Errorf("zstd -dc | tar -t: %d payload entries, want %d:\n%s", data, want.Items, strings.Join(list, "\n"))
			}
			out := sh(script, bag)
			for _, w := range []string{"Signature Verified Successfully", "key: " + want.KeyFingerprint, "root: " + want.Root, "VERIFIED: every check of the manual procedure holds"} {
				if !strings.Contains(out, w) {
					t.Errorf("manual-verify output lacks %q:\n%s", w, out)
				}
			}
			out = sh(`cd evidence && sha256sum -c manifest-sha256.txt`)
			if n := strings.Count(out, ": OK\n"); n != want.Items {
				t.Errorf("sha256sum -c manifest-sha256.txt: %d OK, want %d:\n%s", n, want.Items, out)
			}
			for i := 1; i <= want.Timestamps; i++ {
				out := sh(fmt.Sprintf(`openssl ts -verify -in timestamp-%d.tsr -digest "$(cat root.txt)" -CAfile timestamp-%d.ca.pem`, i, i))
				if !strings.Contains(out, "Verification: OK") {
					t.Errorf("openssl ts -verify timestamp-%d.tsr: %s", i, out)
				}
			}
		})
	}
}

// TestFrozenVectorsChangedByte changes one byte of a frozen archive, in
// the middle of the frame of one item: verify fails with exit code 4 and
// names the archive, the frame and the item.
func TestFrozenVectorsChangedByte(t *testing.T) {
	dir, exp := loadVectors(t)
	var want vectors.Bag
	for _, b := range exp.Bags {
		if !b.Encrypted {
			want = b
		}
	}
	if want.Dir == "" {
		t.Fatal("no plain frozen bag")
	}
	bag := copyVector(t, dir, want)
	item, offset, end := firstJournalItem(t, bag)
	p := filepath.Join(bag, seal.ArchiveFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[(offset+end)/2] ^= 0x20
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}

	got := verifyVector(t, bag)
	if got.verdict != "FAILED" || got.code != exitVerifyFailed {
		t.Fatalf("verdict %q (exit %d), want FAILED (exit %d)", got.verdict, got.code, exitVerifyFailed)
	}
	if cs := got.named(seal.CheckArchiveHash); len(cs) != 1 || cs[0].OK || cs[0].Where != seal.ArchiveFile {
		t.Errorf("%s: %+v", seal.CheckArchiveHash, cs)
	}
	if cs := got.named(seal.CheckArchive); len(cs) != 1 || cs[0].OK || cs[0].Where != seal.ArchiveFile ||
		!strings.Contains(cs[0].Detail, fmt.Sprintf("archive offset %d", offset)) {
		t.Errorf("%s: %+v, want the frame at offset %d named", seal.CheckArchive, cs, offset)
	}
	named := false
	for _, it := range got.items {
		if it.Path == item {
			named = !it.Proven && strings.Contains(it.Why, fmt.Sprintf("bytes %d to %d", offset, end))
		}
	}
	if !named {
		t.Errorf("%s not named unproven: %+v", item, got.items)
	}

	r := run(t, time.Minute, "verify", bag)
	if r.code != exitVerifyFailed || !strings.Contains(r.stdout, "\nFAIL  archive ") || !strings.Contains(r.stdout, "\nunproven: "+item+": ") || !strings.HasSuffix(r.stdout, "\nverdict: FAILED\n") {
		t.Errorf("scelle verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// firstJournalItem returns the path and archive byte range of the first
// item line of the bag's journal.
func firstJournalItem(t *testing.T, bag string) (path string, offset, end int64) {
	t.Helper()
	f, err := os.Open(filepath.Join(bag, seal.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l struct {
			Type   string `json:"type"`
			Path   string `json:"path"`
			Offset *int64 `json:"offset"`
			End    *int64 `json:"end"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		if l.Type == "item" && l.Offset != nil && l.End != nil {
			return l.Path, *l.Offset, *l.End
		}
	}
	t.Fatalf("no item line in %s: %v", seal.JournalFile, sc.Err())
	return "", 0, 0
}
