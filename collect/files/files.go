// Package files collects files and folders from the file system by path
// and glob, under the collection's root.
package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/internal/safeopen"
)

// Tree collects every file that one of its patterns matches.
//
// A pattern is an absolute slash-separated path whose components may hold
// path.Match wildcards; a component "**" matches any number of folders,
// and a pattern that names a folder takes everything below it. Folders are
// walked without following links; what is not a regular file is recorded,
// never opened.
//
// Memory does not grow with the number of files walked: a folder is read
// in batches of dirBatch entries, and a path is remembered only where it
// could be reached twice (by a later pattern, or by a pattern whose "**"
// can match in more than one way).
//
// Depth: below the fixed start of a pattern, each folder and file is
// opened by its name in its open parent folder, never by its path, so a
// file nested beyond the longest path the kernel resolves (PATH_MAX) is
// collected, and recorded with its whole path. The walk holds one open
// folder per level below the start; a folder MaxDepth levels deep or more
// is recorded as failed and not walked.
//
// Order: patterns in the order given; in each folder, its files (and other
// non-folders) in name order within each batch of dirBatch entries, then
// its sub-folders in the same order. A folder of at most dirBatch entries
// is therefore taken in name order; a larger one in the order the file
// system lists it, sorted batch by batch.
type Tree struct {
	ID       string
	Vol      collect.Class
	Patterns []string
	// Exclude holds patterns (same syntax) of paths not to collect.
	Exclude []string
	// MaxFileSize caps each file (0: the session's default; -1: no cap).
	MaxFileSize int64
	// MaxFiles bounds the number of files taken (0: no bound); the rest
	// are recorded as skipped.
	MaxFiles int
}

// dirBatch is the number of folder entries read and sorted at a time.
const dirBatch = 4096

// MaxDepth is the most components a collected file's path has: a folder
// whose path has MaxDepth components or more is not walked, and recorded
// as failed with why. It bounds the folders held open at once, and keeps
// every stored name within what one line of a bag's manifest holds (a
// name takes at most 256 bytes of it a level, escaped and with its slash).
const MaxDepth = 200

// Name implements collect.Collector.
func (t *Tree) Name() string { return t.ID }

// Class implements collect.Collector.
func (t *Tree) Class() collect.Class { return t.Vol }

// Collect implements collect.Collector.
func (t *Tree) Collect(ctx context.Context, s *collect.Session) error {
	pats := make([]string, len(t.Patterns))
	for i, p := range t.Patterns {
		pats[i] = path.Clean("/" + strings.TrimPrefix(p, "/"))
	}
	// seen holds only the paths that could be visited again.
	seen := map[string]bool{}
	count := 0
	for i, pat := range pats {
		if err := ctx.Err(); err != nil {
			return err
		}
		ambiguous := false
		later := pats[i+1:]
		visit := func(p string, dir *os.File, d fs.DirEntry) error {
			if err := ctx.Err(); err != nil {
				// Interrupted: stop here; the runner records the rest.
				return err
			}
			if d != nil && d.IsDir() {
				return nil
			}
			if seen[p] || excluded(t.Exclude, p) {
				return nil
			}
			if ambiguous || covered(later, p) {
				seen[p] = true
			}
			if t.MaxFiles > 0 && count >= t.MaxFiles {
				s.Skip(p, collect.KindFile, fmt.Sprintf("file count cap of %d reached", t.MaxFiles))
				return nil
			}
			count++
			max := t.MaxFileSize
			if max < 0 {
				max = 1<<63 - 1
			}
			if dir != nil {
				s.CopyFileAt(ctx, dir, d.Name(), p, max)
			} else {
				s.CopyFile(ctx, p, max)
			}
			return nil
		}
		if err := walkPattern(ctx, s, pat, &ambiguous, visit); err != nil {
			return err
		}
	}
	return nil
}

func excluded(pats []string, p string) bool {
	for _, x := range pats {
		if ok, _ := matchPath(x, p); ok {
			return true
		}
	}
	return false
}

// covered reports whether one of pats takes p: p matches it, or p lies
// below a folder that matches it.
func covered(pats []string, p string) bool {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for _, pat := range pats {
		pp := strings.Split(strings.Trim(pat, "/"), "/")
		for n := len(parts); n > 0; n-- {
			if ok, _ := matchParts(pp, parts[:n]); ok {
				return true
			}
		}
	}
	return false
}

// matchPath reports whether the whole path p matches pattern pat, with
// "**" matching any number of components.
func matchPath(pat, p string) (bool, error) {
	return matchParts(strings.Split(strings.Trim(pat, "/"), "/"), strings.Split(strings.Trim(p, "/"), "/"))
}

func matchParts(pat, p []string) (bool, error) {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(p); i++ {
				if ok, err := matchParts(pat[1:], p[i:]); ok || err != nil {
					return ok, err
				}
			}
			return false, nil
		}
		if len(p) == 0 {
			return false, nil
		}
		ok, err := path.Match(pat[0], p[0])
		if !ok || err != nil {
			return false, err
		}
		pat, p = pat[1:], p[1:]
	}
	return len(p) == 0, nil
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// visitFunc is called with the host path of each file that matches, and
// with its open folder and entry (both nil for the fixed path of a
// pattern, which is opened by its path).
type visitFunc func(p string, dir *os.File, d fs.DirEntry) error

// walkPattern calls visit for each path matching pat. Missing fixed paths
// are recorded as not present. It sets *ambiguous when the pattern can
// reach a path in more than one way (a "**" other than a final one).
func walkPattern(ctx context.Context, s *collect.Session, pat string, ambiguous *bool, visit visitFunc) error {
	parts := strings.Split(strings.Trim(pat, "/"), "/")
	// The fixed prefix of the pattern.
	i := 0
	for i < len(parts) && !hasMeta(parts[i]) {
		i++
	}
	base := "/" + strings.Join(parts[:i], "/")
	rest := parts[i:]
	st, _, err := collect.LstatIn(s.Env.Root, base)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			s.Skip(base, collect.KindFile, collect.ReasonNotPresent)
			return nil
		}
		s.Fail(base, collect.KindFile, err)
		return nil
	}
	if !strings.HasPrefix(st.Mode, "d") {
		if len(rest) == 0 {
			return visit(base, nil, nil)
		}
		return nil
	}
	if len(rest) == 0 || rest[len(rest)-1] == "**" {
		// A folder, or a trailing "**": everything below.
		rest = append(rest, "**", "*")
		if len(rest) > 2 && rest[len(rest)-3] == "**" {
			rest = append(rest[:len(rest)-3], "**", "*")
		}
	}
	// Only a final "**" "*" walks each path once: any other "**" can match
	// the same path in several ways, and a folder matched by the last
	// component is taken whole and walked again.
	for j, c := range rest {
		if c == "**" && (j != len(rest)-2 || rest[len(rest)-1] != "*") {
			*ambiguous = true
		}
	}
	depth := strings.Count(base, "/")
	if base == "/" {
		depth = 0
	}
	return walkDir(ctx, s, nil, base, depth, rest, visit)
}

// descent is a sub-folder to walk once its parent is listed.
type descent struct {
	name string
	rest []string
}

var everything = []string{"**", "*"}

// walkDir matches the remaining pattern components rest below dir, the
// host path of a folder of depth components. parent is dir's open parent
// folder, in which dir is opened by its name; nil opens dir by its path
// under the root. walkDir reads dir in batches and handles each batch's
// files at once; the sub-folders to walk are kept (their names only) and
// walked once dir is listed, each opened in dir, which stays open until
// they are walked.
func walkDir(ctx context.Context, s *collect.Session, parent *os.File, dir string, depth int, rest []string, visit visitFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(rest) == 0 {
		return nil
	}
	if depth >= MaxDepth {
		s.Fail(dir, collect.KindDir, fmt.Errorf("folder depth limit of %d levels reached: not walked", MaxDepth))
		return nil
	}
	var f *os.File
	var err error
	if parent == nil {
		f, err = safeopen.OpenDir(s.Env.Root, dir)
	} else {
		f, err = safeopen.OpenDirAt(parent, path.Base(dir))
	}
	if err != nil {
		s.Fail(dir, collect.KindDir, err)
		return nil
	}
	defer f.Close()
	var below []descent
	for {
		batch, rerr := f.ReadDir(dirBatch)
		slices.SortFunc(batch, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
		for _, d := range batch {
			if err := matchEntry(f, dir, d, rest, visit, &below); err != nil {
				return err
			}
		}
		if rerr == io.EOF || (rerr == nil && len(batch) == 0) {
			break
		}
		if rerr != nil {
			s.Fail(dir, collect.KindDir, rerr)
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	for _, d := range below {
		if err := walkDir(ctx, s, f, path.Join(dir, d.name), depth+1, d.rest, visit); err != nil {
			return err
		}
	}
	return nil
}

// matchEntry matches one entry d of dir, open as f, against rest: it
// visits what matches and queues the sub-folders to walk.
func matchEntry(f *os.File, dir string, d fs.DirEntry, rest []string, visit visitFunc, below *[]descent) error {
	p := path.Join(dir, d.Name())
	down := func(r []string) { *below = append(*below, descent{d.Name(), r}) }
	if rest[0] == "**" {
		// "**" matches zero components here ...
		if ok, _ := matchParts(rest[1:], []string{d.Name()}); ok && len(rest) == 2 {
			if err := visit(p, f, d); err != nil {
				return err
			}
			if d.IsDir() && rest[1] != "*" {
				down(everything)
			}
		} else if len(rest) > 2 {
			if ok, _ := path.Match(rest[1], d.Name()); ok && d.IsDir() {
				down(rest[2:])
			}
		}
		// ... or one more folder.
		if d.IsDir() {
			down(rest)
		}
		return nil
	}
	ok, err := path.Match(rest[0], d.Name())
	if err != nil {
		return fmt.Errorf("pattern %q: %w", rest[0], err)
	}
	if !ok {
		return nil
	}
	switch {
	case len(rest) == 1 && d.IsDir():
		down(everything)
	case len(rest) == 1:
		return visit(p, f, d)
	case d.IsDir():
		down(rest[1:])
	}
	return nil
}
