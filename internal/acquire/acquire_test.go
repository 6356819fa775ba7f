package acquire

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/collect"
)

// TestRunPaths collects a small folder as a library caller would, and
// checks what the callbacks saw against the sealed, read-back bag.
func TestRunPaths(t *testing.T) {
	src := t.TempDir()
	for name, body := range map[string]string{"a.txt": "alpha\n", "sub/b.log": strings.Repeat("b", 70000)} {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	var mu sync.Mutex
	var started string
	var items []collect.Outcome
	res, err := Run(context.Background(), Options{Case: "T-1", Examiner: "tester", Out: out, PathsOnly: true,
		Paths: []string{"/**"}, Root: src, Version: "test"}, Progress{
		Started: func(dir, fp string) { started = dir },
		Item: func(o collect.Outcome) {
			mu.Lock()
			defer mu.Unlock()
			items = append(items, o)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(started, ".partial") || filepath.Dir(started) != out {
		t.Errorf("Started got %q, want a .partial folder in %s", started, out)
	}
	if res.Sealed.Dir != strings.TrimSuffix(started, ".partial") {
		t.Errorf("sealed in %s, started in %s", res.Sealed.Dir, started)
	}
	stored := 0
	for _, o := range items {
		if o.Status == collect.Collected && o.Path != "" {
			stored++
		}
	}
	if stored != 2 || res.Sealed.Items < 2 {
		t.Errorf("%d items stored (%d in the bag), want the 2 files", stored, res.Sealed.Items)
	}
	if res.Incomplete() {
		t.Errorf("incomplete: %v", res.Record.Summary)
	}
	rb := res.ReadBack
	if rb == nil || rb.Verdict.Status != verdict.Verified || rb.Root != res.Sealed.Root {
		t.Fatalf("read back: %+v", rb)
	}
	for _, f := range []string{rb.HTML, rb.PDF} {
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}
}

// TestRunBadRoot: options that cannot be collected are an OptionError,
// and nothing is written.
func TestRunBadRoot(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	_, err := Run(context.Background(), Options{Out: out, Root: filepath.Join(out, "missing"), PathsOnly: true,
		Paths: []string{"/x"}}, Progress{})
	var oe *OptionError
	if err == nil || !errors.As(err, &oe) {
		t.Fatalf("err = %v, want an OptionError", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the output folder was made: %v", err)
	}
}
