package seal

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestManualProcedure runs the verification procedure of docs/format.md
// with the standard tools an expert has: sha256sum, tar, zstd, openssl.
func TestManualProcedure(t *testing.T) {
	for _, tool := range []string{"sha256sum", "tar", "zstd", "openssl", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (.ci/run installs it)", tool)
		}
	}
	dir, s := makeBag(t)
	script := `set -euo pipefail
cd "$1"
sha256sum -c evidence.tar.zst.sha256
zstd -t -q evidence.tar.zst
tar --zstd -xf evidence.tar.zst
cd evidence
sha256sum -c --quiet manifest-sha256.txt
sha256sum -c --quiet tagmanifest-sha256.txt
test "$(sha256sum tagmanifest-sha256.txt | cut -c1-64)" = "$(cat ../root.txt)"
openssl pkeyutl -verify -pubin -inkey ../root.pub.pem -rawin -in tagmanifest-sha256.txt -sigfile ../root.sig
cmp scelle/record.json ../record.json
# the journal: each line's prev is the SHA-256 of the line before, each
# signature verifies over the bytes before ,"sig":"
prev=0000000000000000000000000000000000000000000000000000000000000000
n=0
while IFS= read -r line; do
  n=$((n+1))
  p=$(printf '%s' "$line" | grep -o '"prev":"[0-9a-f]*"' | cut -d'"' -f4)
  test "$p" = "$prev" || { echo "journal line $n: chain broken"; exit 1; }
  printf '%s' "${line%,\"sig\":*}" > msg
  printf '%s' "$line" | sed 's/.*,"sig":"\([^"]*\)"}$/\1/' | base64 -d > sig
  openssl pkeyutl -verify -pubin -inkey ../root.pub.pem -rawin -in msg -sigfile sig >/dev/null
  prev=$(printf '%s' "$line" | sha256sum | cut -c1-64)
done < ../journal.jsonl
echo "journal: $n lines"
`
	out, err := exec.Command("bash", "-c", script, "bash", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("manual procedure failed: %v\n%s", err, out)
	}
	for _, want := range []string{"evidence.tar.zst: OK", "Signature Verified Successfully", "journal: "} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	_ = s
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
		ends = append(ends, res.End)
		names = append(names, res.Path)
		sums = append(sums, fmt.Sprintf("%x", res.SHA256))
	}
	w.Abort("test")
	arch := filepath.Join(dir+PartialSuffix, ArchiveFile)
	// Cut in the middle of the fourth item's frame.
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
