package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"runtime"
	"testing"
)

// scelle version --json names this executable and its SHA-256, as
// sha256sum would compute it.
func TestVersionHashesItsExecutable(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	var out bytes.Buffer
	if err := runVersion(&out, true); err != nil {
		t.Fatal(err)
	}
	var v versionInfo
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Fatalf("%v in %s", err, out.Bytes())
	}
	if v.SHA256 != hex.EncodeToString(sum[:]) || v.Path != exe {
		t.Errorf("version --json names %s %s, want %s %x", v.Path, v.SHA256, exe, sum)
	}
	if v.Version != version || v.Go != runtime.Version() || v.GoOS != runtime.GOOS || v.GoArch != runtime.GOARCH {
		t.Errorf("version --json: %+v", v)
	}
	out.Reset()
	if err := runVersion(&out, false); err != nil {
		t.Fatal(err)
	}
	if want := "sha256:     " + hex.EncodeToString(sum[:]) + "\n"; !bytes.Contains(out.Bytes(), []byte(want)) {
		t.Errorf("scelle version printed\n%s\nwant a line %q", out.Bytes(), want)
	}
}
