package seal

import (
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
