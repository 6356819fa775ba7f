// Package sealtest makes small sealed bags for the tests of the packages
// that read them (extract, the command). It is for tests only.
package sealtest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scelle/scelle/seal"
)

// SealFiles seals, in a new temporary folder, a bag of the given files
// (payload name, content) with a made-up record, and returns its folder.
func SealFiles(t testing.TB, files [][2]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bag")
	w, err := seal.Create(dir, seal.Options{Collection: "test", Tool: "scelle test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, err := w.Put(context.Background(), seal.Entry{Name: f[0], Size: int64(len(f[1]))}, strings.NewReader(f[1])); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Seal([]byte("{}\n"), seal.BagInfo{}); err != nil {
		t.Fatal(err)
	}
	return dir
}
