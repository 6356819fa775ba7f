package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scelle/scelle/seal"
)

// checkManifest reads the manifest back from the destination, names and
// removes each file that does not match it, and notices a manifest that
// is not the one extracted.
func TestExtractCheckManifest(t *testing.T) {
	dest := t.TempDir()
	bag := filepath.Join(dest, seal.BagDir)
	files := map[string]string{"data/a": "alpha\n", "data/b": "beta\n"}
	got := map[string]string{}
	var man strings.Builder
	for p, content := range files {
		os.MkdirAll(filepath.Join(bag, "data"), 0o755)
		os.WriteFile(filepath.Join(bag, p), []byte(content), 0o644)
		sum := sha256.Sum256([]byte(content))
		got[p] = hex.EncodeToString(sum[:])
		man.WriteString(seal.ManifestLine(sum, p))
	}
	mpath := filepath.Join(bag, seal.ManifestFile)
	os.WriteFile(mpath, []byte(man.String()), 0o644)
	msum := sha256.Sum256([]byte(man.String()))

	if bad := checkManifest(mpath, hex.EncodeToString(msum[:]), got, dest); len(bad) != 0 {
		t.Fatalf("a matching extraction fails: %v", bad)
	}
	got["data/b"] = strings.Repeat("0", 64)
	bad := checkManifest(mpath, hex.EncodeToString(msum[:]), got, dest)
	if len(bad) != 1 || !strings.Contains(bad[0], "data/b: does not match the manifest") {
		t.Fatalf("a file that differs: %v", bad)
	}
	if _, err := os.Stat(filepath.Join(bag, "data/b")); !os.IsNotExist(err) {
		t.Fatalf("the file that differs is still there: %v", err)
	}
	bad = checkManifest(mpath, strings.Repeat("1", 64), map[string]string{"data/a": got["data/a"], "data/b": got["data/b"]}, dest)
	if len(bad) == 0 || !strings.Contains(bad[len(bad)-1], "changed on disk") {
		t.Fatalf("a manifest that is not the one extracted: %v", bad)
	}
}
