//go:build unix

package acquire

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/files"
	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/seal"
)

// mkdirDeep creates, below dir, depth nested folders named name (with *at
// calls: the whole path may exceed PATH_MAX) and in the deepest a file f
// holding content; it returns the file's path relative to dir.
func mkdirDeep(t *testing.T, dir, name string, depth int, content string) string {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	rel := ""
	for i := range depth {
		if err := unix.Mkdirat(fd, name, 0o755); err != nil && err != unix.EEXIST {
			t.Fatalf("level %d: %v", i, err)
		}
		next, err := unix.Openat(fd, name, unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatalf("level %d: %v", i, err)
		}
		fd, rel = next, rel+"/"+name
	}
	defer unix.Close(fd)
	f, err := unix.Openat(fd, "f", unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(f)
	if _, err := unix.Write(f, []byte(content)); err != nil {
		t.Fatal(err)
	}
	return rel + "/f"
}

// TestRunDeepPaths collects a file 20 levels of 255-byte names deep (5 KB
// of path, beyond PATH_MAX) and one at the walk's depth limit (51 KB): both
// are stored, recorded with their whole path and content hash, and the
// sealed bag verifies; the folder beyond the limit is recorded as failed.
func TestRunDeepPaths(t *testing.T) {
	src := t.TempDir()
	for _, d := range []string{"a", "c"} {
		if err := os.Mkdir(filepath.Join(src, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	deep := "/a" + mkdirDeep(t, filepath.Join(src, "a"), strings.Repeat("x", 255), 20, "twenty levels down\n")
	// c, then MaxDepth-2 folders and f: MaxDepth components.
	limit := "/c" + mkdirDeep(t, filepath.Join(src, "c"), strings.Repeat("\xe9", 255), files.MaxDepth-2, "at the limit\n")
	mkdirDeep(t, filepath.Join(src, "c"), strings.Repeat("\xe9", 255), files.MaxDepth-1, "beyond\n")
	want := map[string]string{deep: "twenty levels down\n", limit: "at the limit\n"}

	res, err := Run(context.Background(), Options{Case: "T-2", Examiner: "tester", Out: t.TempDir(), PathsOnly: true,
		Paths: []string{"/a", "/c"}, Root: src, Version: "test"}, Progress{})
	if err != nil {
		t.Fatal(err)
	}
	if rb := res.ReadBack; rb == nil || rb.Verdict.Status != verdict.Verified {
		t.Fatalf("read back: %+v", rb)
	}
	tooDeep := limit[:len(limit)-len("/f")] + "/" + strings.Repeat("\xe9", 255)
	if res.Failed != 1 || res.Failures[0].Source != tooDeep || res.Failures[0].Kind != collect.KindDir {
		t.Errorf("%d failed (%v), want the folder beyond the limit", res.Failed, res.Failures)
	}

	rf, err := os.Open(filepath.Join(res.Sealed.Dir, seal.RecordFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	found := map[string]bool{}
	if _, err := chain.ScanRecord(rf, func(it *evidence.Item) error {
		src := it.Source
		if it.SourceRaw != nil {
			src = string(it.SourceRaw)
		}
		content, ok := want[src]
		if !ok {
			return nil
		}
		found[src] = true
		sum := sha256.Sum256([]byte(content))
		if it.Status != evidence.Collected || it.SHA256 != fmt.Sprintf("%x", sum) || it.Size != int64(len(content)) ||
			it.Path == "" {
			t.Errorf("%d components: %s %q, sha256 %s, size %d, stored as %.40q...", strings.Count(src, "/"),
				it.Status, it.Reason, it.SHA256, it.Size, it.Path)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(found) != len(want) {
		t.Errorf("%d of the %d deep files in the record", len(found), len(want))
	}
}
