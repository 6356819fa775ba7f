package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/internal/docblock"

	"filippo.io/age"

	"github.com/scelle/scelle/seal"
)

// copyBag copies an output folder with cp -a, as the expert guide says.
func copyBag(t *testing.T, dir string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(dir))
	if b, err := exec.Command("cp", "-a", dir, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, b)
	}
	return dst
}

type encryptedReport struct {
	verifyReport
	Encrypted          bool `json:"encrypted"`
	ContentsUnverified bool `json:"contents_unverified"`
}

func verifyEncJSON(t *testing.T, dir string, args ...string) (encryptedReport, result) {
	t.Helper()
	r := run(t, 60*time.Second, append(append([]string{"verify", "--json"}, args...), dir)...)
	var rep encryptedReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("verify %v %s: exit %d, %v\n%s%s", args, dir, r.code, err, r.stdout, r.stderr)
	}
	return rep, r
}

func (r encryptedReport) check(name string) (ok, found bool, detail string) {
	for _, c := range r.Checks {
		if c.Name == name {
			if !c.OK {
				return false, true, c.Detail
			}
			ok, found, detail = true, true, c.Detail
		}
	}
	return ok, found, detail
}

// TestEncryptedEndToEnd collects a fixture encrypted to two experts, then
// checks it as they would: the real age decrypts it with either identity,
// the standard-tool procedure of docs/format.md passes on the plaintext,
// scelle verify --identity passes, a changed ciphertext byte fails both
// the ciphertext's hash and the decryption, and a cut archive still
// proves the items before the cut.
func TestEncryptedEndToEnd(t *testing.T) {
	for _, tool := range []string{"age", "sha256sum", "tar", "zstd", "openssl", "bash", "cp"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (.ci/run installs the Debian package %s)", tool, tool)
		}
	}
	keys := t.TempDir()
	var idFiles []string
	var ids []*age.X25519Identity
	for _, name := range []string{"expert1.key", "expert2.key"} {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(keys, name)
		if err := os.WriteFile(p, []byte("# "+name+"\n"+id.String()+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		ids, idFiles = append(ids, id), append(idFiles, p)
	}
	recipients := filepath.Join(keys, "recipients.txt")
	os.WriteFile(recipients, []byte("# second expert\n\n"+ids[1].Recipient().String()+"\n"), 0o644)

	root := t.TempDir()
	sums := fixtureTree(t, root, "data", 7, 12, 3000, 4, 150_000) // hostile_test.go
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc", "hostname"), []byte("box\n"), 0o644)
	out := filepath.Join(t.TempDir(), "out")
	r := run(t, 60*time.Second, "collect", "--root", root, "--path", "/data", "--no-prompt", "--out", out,
		"--recipient", ids[0].Recipient().String(), "--recipients-file", recipients)
	if r.code != 0 || !strings.Contains(r.stdout, "read back:   "+verdictEncrypted) {
		t.Fatalf("collect: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	dir := bagDir(t, out)
	if exists(filepath.Join(dir, seal.ArchiveFile)) || !exists(filepath.Join(dir, seal.EncryptedArchiveSumFile)) {
		t.Fatalf("want %s and %s only", seal.EncryptedArchiveFile, seal.EncryptedArchiveSumFile)
	}

	// No identity: the ciphertext and the journal, not the contents.
	rep, r := verifyEncJSON(t, dir)
	if r.code != exitIncomplete || rep.Verdict != verdictEncrypted || !rep.Encrypted || !rep.ContentsUnverified || rep.Proven != 0 {
		t.Fatalf("no identity: exit %d %+v", r.code, rep)
	}
	if ok, _, _ := rep.check(seal.CheckAgeHash); !ok {
		t.Fatalf("no identity: %+v", rep.Checks)
	}
	// Either identity: everything, in one pass.
	for _, id := range idFiles {
		rep, r := verifyEncJSON(t, dir, "--identity", id)
		if r.code != 0 || rep.Verdict != "VERIFIED" || rep.ContentsUnverified {
			t.Fatalf("--identity %s: exit %d %+v", id, r.code, rep)
		}
		if n := checkProven(t, rep.verifyReport, sums); n != len(sums) {
			t.Fatalf("--identity %s: %d items proven, want %d", id, n, len(sums))
		}
	}

	// The real age decrypts with either identity; then the procedure of
	// docs/format.md, as written there, passes on the plaintext.
	script, err := docblock.Read("../../docs/format.md", "sh manual-verify")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range idFiles {
		c := copyBag(t, dir)
		cmd := exec.Command("age", "-d", "-i", id, "-o", seal.ArchiveFile, seal.EncryptedArchiveFile)
		cmd.Dir = c
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("age -d -i %s: %v\n%s", id, err, b)
		}
		b, err := exec.Command("bash", "-c", script, "bash", c).CombinedOutput()
		if err != nil {
			t.Fatalf("manual procedure on the decrypted bag: %v\n%s", err, b)
		}
		for _, want := range []string{"evidence.tar.zst: OK", "evidence.tar.zst.age: OK", "Signature Verified Successfully", "VERIFIED"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("manual procedure output lacks %q:\n%s", want, b)
			}
		}
	}

	// A changed ciphertext byte: both the hash and the decryption fail.
	ct, err := os.ReadFile(filepath.Join(dir, seal.EncryptedArchiveFile))
	if err != nil {
		t.Fatal(err)
	}
	c := copyBag(t, dir)
	bad := bytes.Clone(ct)
	bad[len(bad)/2] ^= 0x04
	os.WriteFile(filepath.Join(c, seal.EncryptedArchiveFile), bad, 0o644)
	rep, r = verifyEncJSON(t, c, "-i", idFiles[0])
	okHash, _, _ := rep.check(seal.CheckAgeHash)
	okArchive, found, detail := rep.check(seal.CheckArchive)
	if r.code != exitVerifyFailed || okHash || okArchive || !found || !strings.Contains(detail, "decrypt "+seal.EncryptedArchiveFile) {
		t.Fatalf("changed byte, with identity: exit %d, %+v", r.code, rep.Checks)
	}
	rep, r = verifyEncJSON(t, c)
	if okHash, _, _ := rep.check(seal.CheckAgeHash); r.code != exitVerifyFailed || okHash {
		t.Fatalf("changed byte, no identity: exit %d, %+v", r.code, rep.Checks)
	}
	cmd := exec.Command("age", "-d", "-i", idFiles[1], "-o", os.DevNull, seal.EncryptedArchiveFile)
	cmd.Dir = c
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "failed to decrypt") {
		t.Fatalf("age decrypted a changed file: %v\n%s", err, b)
	}

	// A cut archive: the items before the cut are proven.
	c = copyBag(t, dir)
	if err := os.Truncate(filepath.Join(c, seal.EncryptedArchiveFile), int64(len(ct)*2/3)); err != nil {
		t.Fatal(err)
	}
	rep, r = verifyEncJSON(t, c, "-i", idFiles[1])
	_, _, detail = rep.check(seal.CheckArchive)
	if r.code != exitVerifyFailed || rep.Proven == 0 || rep.Unproven == 0 || !strings.Contains(detail, "decrypt") {
		t.Fatalf("cut: exit %d, proven %d, unproven %d, %+v", r.code, rep.Proven, rep.Unproven, rep.Checks)
	}
	for _, it := range rep.Items {
		if it.Proven {
			name, _ := seal.DecodeName(strings.TrimPrefix(it.Path, seal.PayloadDir+"/"))
			if sums[strings.TrimPrefix(name, "fs")] != it.SHA256 {
				t.Errorf("cut: %s proven with a hash that is not its source's", it.Path)
			}
		}
	}
	t.Logf("cut at 2/3: %d items proven, %d claimed but not proven", rep.Proven, rep.Unproven)
}
