package seal

import (
	"crypto/sha256"
	"fmt"
	"github.com/scelle/scelle/internal/docblock"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestManualProcedure runs the verification procedure of docs/format.md,
// as written there, with the standard tools an expert has: sha256sum, tar,
// zstd, openssl, bash.
func TestManualProcedure(t *testing.T) {
	for _, tool := range []string{"sha256sum", "tar", "zstd", "openssl", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (.ci/run installs it)", tool)
		}
	}
	dir, _ := makeBag(t)
	script, err := docblock.Read("../docs/format.md", "sh manual-verify")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", "-c", script, "bash", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("manual procedure failed: %v\n%s", err, out)
	}
	for _, want := range []string{"evidence.tar.zst: OK", "Signature Verified Successfully", "journal: ", "VERIFIED"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// hashdeep's sha256deep, run over the extracted payload, agrees with the
	// manifest line for line.
	if _, err := exec.LookPath("sha256deep"); err == nil {
		out, err := exec.Command("bash", "-c", `cd "$1/evidence" && diff <(sha256deep -r -l data | LC_ALL=C sort) <(LC_ALL=C sort manifest-sha256.txt)`, "bash", dir).CombinedOutput()
		if err != nil {
			t.Fatalf("sha256deep and the manifest differ: %v\n%s", err, out)
		}
	} else {
		t.Log("sha256deep not installed (Debian hashdeep; .ci/run installs it)")
	}
	// The same procedure fails on a journal with one changed byte.
	jp := filepath.Join(dir, JournalFile)
	j, _ := os.ReadFile(jp)
	j[len(j)/2] ^= 0x01
	os.WriteFile(jp, j, 0o644)
	os.RemoveAll(filepath.Join(dir, "evidence"))
	if out, err := exec.Command("bash", "-c", script, "bash", dir).CombinedOutput(); err == nil || !strings.Contains(string(out), "FAILED: journal line") {
		t.Fatalf("manual procedure accepted a changed journal: %v\n%s", err, out)
	}
	j[len(j)/2] ^= 0x01
	os.WriteFile(jp, j, 0o644)
	// Tampering with an extracted payload file is caught by sha256sum -c.
	p := filepath.Join(dir, "evidence", "data", "fs", "etc", "passwd")
	if err := os.WriteFile(p, []byte("root::0:0::/:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command("bash", "-c", `cd "$1/evidence" && sha256sum -c --quiet manifest-sha256.txt`, "bash", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "data/fs/etc/passwd: FAILED") {
		t.Fatalf("sha256sum -c did not catch the change: %v\n%s", err, out)
	}
}

// TestTruncatedWithStandardTools cuts an unsealed archive in the middle of
// a frame and checks that stock zstd and tar still give back every item
// whose frame was whole, with the journal's hash.
func TestTruncatedWithStandardTools(t *testing.T) {
	for _, tool := range []string{"sha256sum", "tar", "zstd", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (.ci/run installs it)", tool)
		}
	}
	dir := filepath.Join(t.TempDir(), "cut")
	w, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ends []int64
	var names, sums []string
	for _, it := range testItems {
		res, err := w.Put(t.Context(), Entry{Name: it.name, Size: int64(len(it.data))}, strings.NewReader(string(it.data)))
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, res.Path)
		sums = append(sums, fmt.Sprintf("%x", res.SHA256))
	}
	w.Abort("test")
	jc, err := checkJournalFile(filepath.Join(dir+PartialSuffix, JournalFile), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range jc.Entries {
		if e.Type == JournalItem {
			ends = append(ends, *e.End)
		}
	}
	arch := filepath.Join(dir+PartialSuffix, ArchiveFile)
	// Cut in the middle of the fourth item's frames.
	cut := (ends[2] + ends[3]) / 2
	if err := os.Truncate(arch, cut); err != nil {
		t.Fatal(err)
	}
	x := t.TempDir()
	out, err := exec.Command("bash", "-c", `zstd -dc "$1" 2>/dev/null | tar -x -C "$2" 2>&1; true`, "bash", arch, x).CombinedOutput()
	t.Logf("zstd | tar: %s", out)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		b, err := os.ReadFile(filepath.Join(x, BagDir, names[i]))
		if err != nil {
			t.Fatalf("item %d (%s) not extracted from the cut archive: %v", i, names[i], err)
		}
		if fmt.Sprintf("%x", sha256.Sum256(b)) != sums[i] {
			t.Fatalf("item %s: hash differs from the journal", names[i])
		}
	}
}

// TestManualScriptIsTheDocument: docs/manual-verify.sh is the block of
// docs/format.md, after its #! line, so that the script an expert runs is
// the procedure the document prints.
func TestManualScriptIsTheDocument(t *testing.T) {
	block, err := docblock.Read("../docs/format.md", "sh manual-verify")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("../docs/manual-verify.sh")
	if err != nil {
		t.Fatal(err)
	}
	first, rest, _ := strings.Cut(string(script), "\n")
	if first != "#!/usr/bin/env bash" {
		t.Errorf("docs/manual-verify.sh starts with %q", first)
	}
	if rest != block {
		t.Error("docs/manual-verify.sh and the manual-verify block of docs/format.md differ: copy the block into the script")
	}
}
