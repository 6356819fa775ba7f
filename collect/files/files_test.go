package files

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/collecttest"
)

// fixture builds a tree under a temporary root and returns it.
func fixture(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func run(t *testing.T, root string, tree *Tree) (*collecttest.Sink, *collecttest.Outcomes) {
	t.Helper()
	sink := &collecttest.Sink{}
	return sink, runInto(t, root, tree, sink)
}

// runInto collects tree under root into sink.
func runInto(t *testing.T, root string, tree *Tree, sink collect.Sink) *collecttest.Outcomes {
	t.Helper()
	outs := &collecttest.Outcomes{}
	env := &collect.Env{Root: root, ItemTimeout: 5 * time.Second}
	s := collect.NewSession(env, tree, sink, outs.Add)
	done := make(chan error, 1)
	go func() { done <- tree.Collect(context.Background(), s) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("collection hangs")
	}
	return outs
}

func status(outs *collecttest.Outcomes, src string) (collect.Outcome, bool) {
	o := outs.BySource(src)
	if len(o) != 1 {
		return collect.Outcome{}, false
	}
	return o[0], true
}

func TestPatterns(t *testing.T) {
	root := fixture(t, map[string]string{
		"etc/passwd":              "p",
		"etc/ssh/sshd_config":     "s",
		"var/log/syslog":          "l",
		"var/log/apt/history.log": "h",
		"home/ann/.bash_history":  "ann",
		"home/bob/.bash_history":  "bob",
		"home/bob/notes.txt":      "n",
	})
	for _, tc := range []struct {
		pats, excl []string
		want       []string
	}{
		{[]string{"/etc"}, nil, []string{"/etc/passwd", "/etc/ssh/sshd_config"}},
		{[]string{"/var/log/**"}, []string{"/var/log/apt/**"}, []string{"/var/log/syslog"}},
		{[]string{"/home/*/.bash_history"}, nil, []string{"/home/ann/.bash_history", "/home/bob/.bash_history"}},
		{[]string{"/**/history.log"}, nil, []string{"/var/log/apt/history.log"}},
		{[]string{"/etc/passwd", "/etc/**"}, nil, []string{"/etc/passwd", "/etc/ssh/sshd_config"}},
	} {
		t.Run(strings.Join(tc.pats, ","), func(t *testing.T) {
			_, outs := run(t, root, &Tree{ID: "t", Vol: collect.ClassDisk, Patterns: tc.pats, Exclude: tc.excl})
			var got []string
			for _, o := range outs.All {
				if o.Status == collect.Collected {
					got = append(got, o.Source)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("collected %v, want %v", got, tc.want)
			}
		})
	}
}

// A file that grows while it is read is stored at its size at open and
// recorded as partial, with both stats.
func TestGrowingFile(t *testing.T) {
	root := fixture(t, map[string]string{"log/app.log": strings.Repeat("x", 4<<20)})
	p := filepath.Join(root, "log/app.log")
	sink := &growOnRead{Sink: &collecttest.Sink{}, name: "fs/log/app.log", grow: func() error {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return err
		}
		if _, err := f.Write([]byte("more\n")); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}}
	outs := runInto(t, root, &Tree{ID: "t", Vol: collect.ClassDisk, Patterns: []string{"/log"}}, sink)
	if !sink.grown {
		t.Fatal("the file was not read: it never grew")
	}
	if sink.err != nil {
		t.Fatalf("append to %s: %v", p, sink.err)
	}
	o, _ := status(outs, "/log/app.log")
	if o.Status != collect.Partial || o.Before == nil || o.After == nil || o.After.Size <= o.Before.Size {
		t.Fatalf("growing file: status %s, reason %q, before %+v after %+v", o.Status, o.Reason, o.Before, o.After)
	}
	if int64(len(sink.Files["fs/log/app.log"])) != o.Before.Size {
		t.Fatalf("stored %d bytes, want the size at open %d", len(sink.Files["fs/log/app.log"]), o.Before.Size)
	}
}

// growOnRead is a Sink that makes the file stored as name grow once the
// collector has handed over its first bytes: between the stat at open
// and the stat after reading, every time, with no timing involved.
type growOnRead struct {
	*collecttest.Sink
	name  string
	grow  func() error
	grown bool
	err   error // from grow
}

func (g *growOnRead) Put(ctx context.Context, m collect.Meta, r io.Reader) (collect.Stored, error) {
	if m.Name == g.name {
		r = &afterFirstRead{r: r, do: func() { g.grown, g.err = true, g.grow() }}
	}
	return g.Sink.Put(ctx, m, r)
}

// afterFirstRead calls do once, after the first read that returns data.
type afterFirstRead struct {
	r  io.Reader
	do func()
}

func (a *afterFirstRead) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 && a.do != nil {
		a.do()
		a.do = nil
	}
	return n, err
}

// TestRootConfinement: under --root, absolute links inside the image do
// not reach the host.
func TestRootConfinement(t *testing.T) {
	root := fixture(t, map[string]string{"etc/hostname": "img"})
	if err := os.Symlink("/", filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	_, outs := run(t, root, &Tree{ID: "t", Vol: collect.ClassDisk, Patterns: []string{"/escape/etc/passwd"}})
	for _, o := range outs.All {
		if o.Status == collect.Collected && o.Kind == collect.KindFile {
			t.Fatalf("collected through a link out of the root: %+v", o)
		}
	}
}

func TestSizeCap(t *testing.T) {
	root := fixture(t, map[string]string{"big": strings.Repeat("y", 1000)})
	sink, outs := run(t, root, &Tree{ID: "t", Vol: collect.ClassDisk, Patterns: []string{"/big"}, MaxFileSize: 100})
	o, _ := status(outs, "/big")
	if o.Status != collect.Partial || !strings.Contains(o.Reason, "size cap") || len(sink.Files["fs/big"]) != 100 {
		t.Fatalf("%+v (%d bytes)", o, len(sink.Files["fs/big"]))
	}
}
