//go:build linux

package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/collecttest"
)

// Hostile inputs for the walker: huge folders, link loops, files that
// shrink, vanish or lie about their size, names no tool likes.

// tmpfsDir returns an empty folder on a fresh tmpfs when the test runs as
// root (fast to fill with many files, whatever the disk under /tmp), or a
// temporary folder otherwise.
func tmpfsDir(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		return dir
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",nr_inodes=0"); err != nil {
		t.Logf("tmpfs not mounted (%v); using %s", err, dir)
		return dir
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

// makeEmptyFiles creates n empty files in dir, quickly (one openat each).
func makeEmptyFiles(t *testing.T, dir string, n int) {
	t.Helper()
	d, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(d)
	for i := range n {
		fd, err := unix.Openat(d, "f"+strconv.Itoa(i), unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(fd)
	}
}

// discardSink stores nothing: it reads each item to its size and reports
// it stored, so the walker's own memory can be measured.
type discardSink struct{}

func (discardSink) Put(ctx context.Context, m collect.Meta, r io.Reader) (collect.Stored, error) {
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(r, max(m.Size, 0)))
	st := collect.Stored{Path: "data/" + m.Name, Size: n}
	copy(st.SHA256[:], h.Sum(nil))
	return st, err
}

// TestWalkChild is the child process of TestHugeFolderMemory: it walks
// SCELLE_WALK_ROOT with a sink that stores nothing and prints the counts.
func TestWalkChild(t *testing.T) {
	root := os.Getenv("SCELLE_WALK_ROOT")
	if root == "" {
		t.Skip("child process of TestHugeFolderMemory only")
	}
	counts := map[collect.Status]int{}
	tree := &Tree{ID: "t", Vol: collect.ClassDisk, Patterns: []string{os.Getenv("SCELLE_WALK_PATTERN")}}
	s := collect.NewSession(&collect.Env{Root: root, ItemTimeout: 30 * time.Second}, tree, discardSink{},
		func(o collect.Outcome) { counts[o.Status]++ })
	if err := tree.Collect(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("collected=%d partial=%d skipped=%d failed=%d\n", counts[collect.Collected], counts[collect.Partial],
		counts[collect.Skipped], counts[collect.Failed])
}

// TestHugeFolderMemory walks a folder of 200,000 empty files in a child
// process and bounds the child's peak RSS: the walker must not keep a
// record of every path, nor read a whole folder into memory.
func TestHugeFolderMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("200,000 files: not in -short")
	}
	if raceEnabled {
		t.Skip("the race detector multiplies memory: the bound does not apply under -race")
	}
	const n = 200_000
	root := tmpfsDir(t, "512m")
	os.MkdirAll(filepath.Join(root, "d"), 0o755)
	began := time.Now()
	makeEmptyFiles(t, filepath.Join(root, "d"), n)
	made := time.Since(began)
	for _, pat := range []string{"/d", "/**"} {
		t.Run(strings.Trim(pat, "/"), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestWalkChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "SCELLE_WALK_ROOT="+root, "SCELLE_WALK_PATTERN="+pat, "GOGC=100")
			began := time.Now()
			out, err := cmd.CombinedOutput()
			took := time.Since(began)
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			want := fmt.Sprintf("collected=%d partial=0 skipped=0 failed=0", n)
			if !bytes.Contains(out, []byte(want)) {
				t.Fatalf("child output %q, want %q", out, want)
			}
			rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
			t.Logf("%d files (made in %v): walked in %v, peak RSS %.1f MiB", n, made.Round(time.Millisecond),
				took.Round(time.Millisecond), float64(rss)/(1<<20))
			if rss > 64<<20 {
				t.Fatalf("peak RSS %.1f MiB, want under 64 MiB", float64(rss)/(1<<20))
			}
		})
	}
}

// runTree runs tree over root with an in-memory sink, bounded in time.
func runTree(t *testing.T, root string, tree *Tree, sink collect.Sink) *collecttest.Outcomes {
	t.Helper()
	outs := &collecttest.Outcomes{}
	s := collect.NewSession(&collect.Env{Root: root, ItemTimeout: 10 * time.Second}, tree, sink, outs.Add)
	done := make(chan error, 1)
	go func() { done <- tree.Collect(context.Background(), s) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("collection hangs")
	}
	return outs
}

// onceEach fails if a source has more than one outcome.
func onceEach(t *testing.T, outs *collecttest.Outcomes) map[string]collect.Outcome {
	t.Helper()
	by := map[string]collect.Outcome{}
	for _, o := range outs.All {
		if _, dup := by[o.Source]; dup {
			t.Errorf("%s recorded twice", o.Source)
		}
		by[o.Source] = o
	}
	return by
}

// TestLinkLoops: links to ".", "..", to each other and back up the tree
// are recorded, never followed; the walk ends.
func TestLinkLoops(t *testing.T) {
	root := fixture(t, map[string]string{"d/f": "f", "d/sub/g": "g"})
	for link, target := range map[string]string{
		"d/self": ".", "d/up": "..", "d/a": "b", "d/b": "a", "d/sub/back": "../../d", "d/abs": "/d", "d/me": "me",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	outs := runTree(t, root, &Tree{ID: "t", Vol: collect.ClassDisk, Patterns: []string{"/d/**", "/**/back", "/d/self/f"}}, &collecttest.Sink{})
	by := onceEach(t, outs)
	for _, l := range []string{"/d/self", "/d/up", "/d/a", "/d/b", "/d/sub/back", "/d/abs", "/d/me"} {
		if o := by[l]; o.Kind != collect.KindSymlink || o.Status != collect.Collected || o.Path != "" {
			t.Errorf("%s: %+v", l, o)
		}
	}
	for _, f := range []string{"/d/f", "/d/sub/g"} {
		if by[f].Status != collect.Collected {
			t.Errorf("%s: %+v", f, by[f])
		}
	}
	if len(by) != 10 {
		t.Errorf("%d outcomes, want 10: %v", len(by), by)
	}
}

// TestOverlappingPatterns: each path is collected once, whatever the
// patterns that reach it, and the walk is the same twice over.
func TestOverlappingPatterns(t *testing.T) {
	files := map[string]string{}
	for _, p := range []string{"a/f", "a/b/f", "a/b/x/f", "a/x/x/f", "a/x/b/x/f", "c/x", "c/x2/x/g"} {
		files[p] = p
	}
	root := fixture(t, files)
	for _, tc := range []struct {
		pats []string
		want int // files taken
	}{
		{[]string{"/a/b/f", "/**/x/**", "/a/**", "/**/x", "/a/*/x", "/**/f", "/c"}, len(files)},
		{[]string{"/**/x/**"}, 4}, // x inside x: two ways to match
		{[]string{"/**/x"}, 5},
		{[]string{"/a/**/f"}, 5},
	} {
		t.Run(strings.Join(tc.pats, ","), func(t *testing.T) {
			var first []string
			for range 2 {
				outs := runTree(t, root, &Tree{ID: "t", Vol: collect.ClassDisk, Patterns: tc.pats}, &collecttest.Sink{})
				by := onceEach(t, outs)
				var got []string
				for _, o := range outs.All {
					got = append(got, o.Source)
					if o.Status != collect.Collected {
						t.Errorf("%s: %+v", o.Source, o)
					}
				}
				if len(by) != tc.want {
					t.Errorf("%d outcomes, want %d: %v", len(by), tc.want, got)
				}
				if first != nil && fmt.Sprint(first) != fmt.Sprint(got) {
					t.Errorf("order differs between runs:\n%v\n%v", first, got)
				}
				first = got
			}
		})
	}
}

// TestBigFolderBatches: a folder larger than one batch is taken whole,
// once each, in the same order on every run.

func TestBigFolderBatches(t *testing.T) {
	root := tmpfsDir(t, "64m")
	os.MkdirAll(filepath.Join(root, "d/sub"), 0o755)
	makeEmptyFiles(t, filepath.Join(root, "d"), 3*dirBatch+7)
	os.WriteFile(filepath.Join(root, "d/sub/z"), []byte("z"), 0o644)
	var first []string
	for range 2 {
		outs := runTree(t, root, &Tree{ID: "t", Vol: collect.ClassDisk, Patterns: []string{"/d", "/d/f1"}}, discardSink{})
		by := onceEach(t, outs)
		if len(by) != 3*dirBatch+8 {
			t.Fatalf("%d outcomes, want %d", len(by), 3*dirBatch+8)
		}
		var got []string
		for _, o := range outs.All {
			got = append(got, o.Source)
		}
		if got[len(got)-1] != "/d/sub/z" {
			t.Errorf("sub-folder not after the folder's files: last %s", got[len(got)-1])
		}
		if first != nil && fmt.Sprint(first) != fmt.Sprint(got) {
			t.Error("order differs between runs")
		}
		first = got
	}
}

// hookSink runs before each Put (after the file is opened and stat'd),
// and after the first chunk read, then stores in memory.
type hookSink struct {
	collecttest.Sink
	before func(m collect.Meta)
	mid    func(m collect.Meta)
}

func (h *hookSink) Put(ctx context.Context, m collect.Meta, r io.Reader) (collect.Stored, error) {
	if h.before != nil {
		h.before(m)
	}
	if h.mid != nil {
		r = &midReader{r: r, hook: func() { h.mid(m) }}
	}
	return h.Sink.Put(ctx, m, r)
}

type midReader struct {
	r    io.Reader
	n    int64
	hook func()
}

func (m *midReader) Read(p []byte) (int, error) {
	k, err := m.r.Read(p)
	if m.n < 1<<20 && m.n+int64(k) >= 1<<20 {
		m.hook()
	}
	m.n += int64(k)
	return k, err
}

// TestShrinkingFiles: a file truncated between open and read, or while it
// is read, is stored at its size at open, zero-padded, and recorded as
// partial with the bytes missing; a file deleted while read is read whole
// (the open handle keeps it) and its change recorded.
func TestShrinkingFiles(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789abcdef"), 512<<10) // 8 MiB
	root := fixture(t, map[string]string{"d/before": string(content), "d/during": string(content), "d/deleted": string(content)})
	host := func(name string) string { return filepath.Join(root, strings.TrimPrefix(name, "fs/")) }
	sink := &hookSink{
		before: func(m collect.Meta) {
			switch path.Base(m.Name) {
			case "before":
				os.Truncate(host(m.Name), 1000)
			case "deleted":
				os.Remove(host(m.Name))
			}
		},
		mid: func(m collect.Meta) {
			if path.Base(m.Name) == "during" {
				os.Truncate(host(m.Name), 1<<20)
			}
		},
	}
	outs := runTree(t, root, &Tree{ID: "t", Vol: collect.ClassDisk, Patterns: []string{"/d"}, MaxFileSize: -1}, sink)
	by := onceEach(t, outs)
	for _, tc := range []struct {
		name string
		kept int64
	}{{"before", 1000}, {"during", 1 << 20}} {
		o := by["/d/"+tc.name]
		got := sink.Files["fs/d/"+tc.name]
		want := append(append([]byte{}, content[:tc.kept]...), make([]byte, int64(len(content))-tc.kept)...)
		if o.Status != collect.Partial || !strings.Contains(o.Reason, fmt.Sprintf("source ended %d bytes early", int64(len(content))-tc.kept)) ||
			!bytes.Equal(got, want) || o.After == nil || o.After.Size != tc.kept {
			t.Errorf("%s: status %s reason %q, stored %d bytes (zero-padded as expected: %v), stat after %+v", tc.name, o.Status, o.Reason, len(got), bytes.Equal(got, want), o.After)
		}
	}
	o := by["/d/deleted"]
	if !bytes.Equal(sink.Files["fs/d/deleted"], content) || (o.Status != collect.Collected && o.Status != collect.Partial) {
		t.Errorf("deleted: %s %q, %d bytes", o.Status, o.Reason, len(sink.Files["fs/d/deleted"]))
	}
	t.Logf("deleted while read: %s %q (nlink after: %d)", o.Status, o.Reason, o.After.Nlink)
}

// TestCapsAndSparse: a file above the cap keeps its first bytes; a 1 GiB
// sparse file under a 16 MiB cap takes no longer than 16 MiB does.
func TestCapsAndSparse(t *testing.T) {
	big := bytes.Repeat([]byte{'y', 'z'}, 5<<19) // 5 MiB
	root := fixture(t, map[string]string{"big": string(big)})
	f, err := os.Create(filepath.Join(root, "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("tail"), 1<<30-4)
	f.Close()
	sink := &collecttest.Sink{}
	began := time.Now()
	outs := runTree(t, root, &Tree{ID: "t", Vol: collect.ClassDisk, Patterns: []string{"/big", "/sparse"}, MaxFileSize: 16 << 20}, sink)
	took := time.Since(began)
	by := onceEach(t, outs)
	if o := by["/big"]; o.Status != collect.Collected || !bytes.Equal(sink.Files["fs/big"], big) {
		t.Errorf("big under the cap: %+v", o)
	}
	if o := by["/sparse"]; o.Status != collect.Partial || o.Reason != fmt.Sprintf("size cap: first %d of %d bytes", 16<<20, 1<<30) ||
		len(sink.Files["fs/sparse"]) != 16<<20 || !bytes.Equal(sink.Files["fs/sparse"], make([]byte, 16<<20)) {
		t.Errorf("sparse: %s %q, %d bytes", o.Status, o.Reason, len(sink.Files["fs/sparse"]))
	}
	if took > 10*time.Second {
		t.Errorf("a 1 GiB sparse file under a 16 MiB cap took %v", took)
	}
	t.Logf("5 MiB file and 1 GiB sparse file (16 MiB cap) in %v", took.Round(time.Millisecond))

	outs = runTree(t, root, &Tree{ID: "t", Vol: collect.ClassDisk, Patterns: []string{"/big"}, MaxFileSize: 1 << 20}, sink)
	if o := onceEach(t, outs)["/big"]; o.Status != collect.Partial || !strings.HasPrefix(o.Reason, "size cap: first 1048576 of 5242880") ||
		!bytes.Equal(sink.Files["fs/big"], big[:1<<20]) {
		t.Errorf("big over the cap: %s %q", o.Status, o.Reason)
	}
}

// mkdirChain creates depth folders named name below dir with *at calls
// (the full path may exceed PATH_MAX) and a file "f" in each; it returns
// the host paths (relative to dir) of the files.
func mkdirChain(t *testing.T, dir string, name string, depth int) []string {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	rel := ""
	for i := range depth {
		if err := unix.Mkdirat(fd, name, 0o755); err != nil {
			t.Fatalf("level %d: %v", i, err)
		}
		next, err := unix.Openat(fd, name, unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(fd)
		fd = next
		rel += "/" + name
		ffd, err := unix.Openat(fd, "f", unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		unix.Write(ffd, []byte(strconv.Itoa(i)))
		unix.Close(ffd)
		files = append(files, rel+"/f")
	}
	unix.Close(fd)
	return files
}

// TestHostileNames: names that are not UTF-8, hold control characters or
// are 255 bytes long, in a 30-level-deep chain (7.7 KB, beyond PATH_MAX):
// every file is recorded, either collected with its content or failed with
// the error; none is silently missing.
func TestHostileNames(t *testing.T) {
	root := t.TempDir()
	odd := []string{"\xff\xfe.bin", "a\nb", "tab\there", "100%^\\x", " lead", "caf\xc3\xa9", strings.Repeat("\xe9", 255)}
	os.Mkdir(filepath.Join(root, "n"), 0o755)
	for _, n := range odd {
		if err := os.WriteFile(filepath.Join(root, "n", n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	deep := mkdirChain(t, filepath.Join(root, "n"), strings.Repeat("x", 255), 30)
	sink := &collecttest.Sink{}
	outs := runTree(t, root, &Tree{ID: "t", Vol: collect.ClassDisk, Patterns: []string{"/n"}}, sink)
	by := onceEach(t, outs)
	for _, n := range odd {
		o := by["/n/"+n]
		if o.Status != collect.Collected || string(sink.Files["fs/n/"+n]) != n {
			t.Errorf("%q: %s %q", n, o.Status, o.Reason)
		}
	}
	collected, failedDirs := 0, []string{}
	for _, o := range outs.All {
		if o.Kind == collect.KindDir && o.Status == collect.Failed {
			failedDirs = append(failedDirs, o.Source)
		}
	}
	for i, f := range deep {
		p := "/n" + f
		o, ok := by[p]
		switch {
		case ok && o.Status == collect.Collected && string(sink.Files["fs"+p]) == strconv.Itoa(i):
			collected++
		case ok:
			t.Errorf("level %d: %s %q", i+1, o.Status, o.Reason)
		default:
			under := false
			for _, d := range failedDirs {
				under = under || strings.HasPrefix(p, d+"/")
			}
			if !under {
				t.Errorf("level %d (%d bytes): not recorded, and no folder above it recorded as failed", i+1, len(p))
			}
		}
	}
	for _, d := range failedDirs {
		t.Logf("failed folder at %d bytes: %s", len(d), by[d].Reason[len(by[d].Reason)-min(60, len(by[d].Reason)):])
	}
	t.Logf("deep chain: %d of %d levels collected; %d folders recorded as failed", collected, len(deep), len(failedDirs))
	if collected < 14 {
		t.Errorf("only %d levels collected; paths up to PATH_MAX should be", collected)
	}
}

// TestDeepPaths: files nested 20 levels of 255-byte names deep (5 KB,
// beyond PATH_MAX) are collected with their content and recorded with
// their whole path, under an image's root and on the host, whatever the
// pattern that reaches them.
func TestDeepPaths(t *testing.T) {
	root := t.TempDir()
	os.Mkdir(filepath.Join(root, "n"), 0o755)
	deep := mkdirChain(t, filepath.Join(root, "n"), strings.Repeat("x", 255), 20)
	for _, tc := range []struct{ name, root, prefix, pattern string }{
		{"image", root, "", "/n"},
		{"image glob", root, "", "/n/**/f"},
		{"host", "/", root, "/n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &collecttest.Sink{}
			outs := runTree(t, tc.root, &Tree{ID: "t", Vol: collect.ClassDisk, Patterns: []string{tc.prefix + tc.pattern}}, sink)
			by := onceEach(t, outs)
			if len(by) != len(deep) {
				t.Errorf("%d outcomes, want %d", len(by), len(deep))
			}
			for i, f := range deep {
				p := tc.prefix + "/n" + f
				o := by[p]
				want := strconv.Itoa(i)
				sum := sha256.Sum256([]byte(want))
				if o.Status != collect.Collected || o.Source != p || o.SHA256 != fmt.Sprintf("%x", sum) ||
					string(sink.Files["fs"+p]) != want || o.Before == nil || o.Before.Size != int64(len(want)) {
					t.Errorf("level %d (%d bytes): %s %q, stored %q", i+1, len(p), o.Status, o.Reason, sink.Files["fs"+p])
				}
			}
		})
	}
}

// TestDepthLimit: a folder MaxDepth levels deep is recorded as failed and
// not walked; every file above it is collected, and no folder is left
// open.
func TestDepthLimit(t *testing.T) {
	root := t.TempDir()
	deep := mkdirChain(t, root, "d", MaxDepth+3)
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	open := fds()
	outs := runTree(t, root, &Tree{ID: "t", Vol: collect.ClassDisk, Patterns: []string{"/d"}}, &collecttest.Sink{})
	if n := fds(); n != open {
		t.Errorf("%d files open after the walk, %d before", n, open)
	}
	by := onceEach(t, outs)
	for _, f := range deep {
		o, ok := by[f]
		switch n := strings.Count(f, "/"); {
		case n <= MaxDepth && o.Status != collect.Collected:
			t.Errorf("%d components: %s %q", n, o.Status, o.Reason)
		case n > MaxDepth && ok:
			t.Errorf("%d components: recorded %s", n, o.Status)
		}
	}
	limit := strings.Repeat("/d", MaxDepth)
	if o := by[limit]; o.Status != collect.Failed || o.Kind != collect.KindDir ||
		o.Reason != fmt.Sprintf("folder depth limit of %d levels reached: not walked", MaxDepth) {
		t.Errorf("folder at the limit: %+v", o)
	}
	if len(by) != MaxDepth {
		t.Errorf("%d outcomes, want %d", len(by), MaxDepth)
	}
}
