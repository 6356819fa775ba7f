// Package files collects files and folders from the file system by path
// and glob, under the collection's root.
package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
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

// Name implements collect.Collector.
func (t *Tree) Name() string { return t.ID }

// Class implements collect.Collector.
func (t *Tree) Class() collect.Class { return t.Vol }

// Collect implements collect.Collector.
func (t *Tree) Collect(ctx context.Context, s *collect.Session) error {
	seen := map[string]bool{}
	count := 0
	visit := func(p string, d fs.DirEntry) {
		if seen[p] || excluded(t.Exclude, p) {
			return
		}
		seen[p] = true
		if d != nil && d.IsDir() {
			return
		}
		if t.MaxFiles > 0 && count >= t.MaxFiles {
			s.Skip(p, collect.KindFile, fmt.Sprintf("file count cap of %d reached", t.MaxFiles))
			return
		}
		count++
		max := t.MaxFileSize
		if max < 0 {
			max = 1<<63 - 1
		}
		s.CopyFile(ctx, p, max)
	}
	for _, pat := range t.Patterns {
		if err := ctx.Err(); err != nil {
			return err
		}
		pat = path.Clean("/" + strings.TrimPrefix(pat, "/"))
		if err := walkPattern(ctx, s, pat, visit); err != nil {
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

// walkPattern calls visit for each path matching pat. Missing fixed paths
// are recorded as not present.
func walkPattern(ctx context.Context, s *collect.Session, pat string, visit func(string, fs.DirEntry)) error {
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
			s.Skip(base, collect.KindFile, "not present")
			return nil
		}
		s.Fail(base, collect.KindFile, err)
		return nil
	}
	if !strings.HasPrefix(st.Mode, "d") {
		if len(rest) == 0 {
			visit(base, nil)
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
	return walkDir(ctx, s, base, rest, visit)
}

// walkDir matches the remaining pattern components rest below dir.
func walkDir(ctx context.Context, s *collect.Session, dir string, rest []string, visit func(string, fs.DirEntry)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(rest) == 0 {
		return nil
	}
	entries, err := readDir(s.Env.Root, dir)
	if err != nil {
		s.Fail(dir, collect.KindDir, err)
		if len(entries) == 0 {
			return nil
		}
	}
	for _, d := range entries {
		p := path.Join(dir, d.Name())
		if rest[0] == "**" {
			// "**" matches zero components here ...
			if ok, _ := matchParts(rest[1:], []string{d.Name()}); ok && len(rest) == 2 {
				visit(p, d)
				if d.IsDir() && rest[1] != "*" {
					if err := walkDir(ctx, s, p, []string{"**", "*"}, visit); err != nil {
						return err
					}
				}
			} else if len(rest) > 2 {
				if ok, _ := path.Match(rest[1], d.Name()); ok && d.IsDir() {
					if err := walkDir(ctx, s, p, rest[2:], visit); err != nil {
						return err
					}
				}
			}
			// ... or one more folder.
			if d.IsDir() {
				if err := walkDir(ctx, s, p, rest, visit); err != nil {
					return err
				}
			}
			continue
		}
		ok, err := path.Match(rest[0], d.Name())
		if err != nil {
			return fmt.Errorf("pattern %q: %w", rest[0], err)
		}
		if !ok {
			continue
		}
		switch {
		case len(rest) == 1 && d.IsDir():
			if err := walkDir(ctx, s, p, []string{"**", "*"}, visit); err != nil {
				return err
			}
		case len(rest) == 1:
			visit(p, d)
		case d.IsDir():
			if err := walkDir(ctx, s, p, rest[1:], visit); err != nil {
				return err
			}
		}
	}
	return nil
}

// readDir lists dir (under root) sorted by name, reading in batches so a
// huge folder does not need one huge allocation.
func readDir(root, dir string) ([]fs.DirEntry, error) {
	f, err := safeopen.OpenDir(root, dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var all []fs.DirEntry
	for {
		batch, err := f.ReadDir(4096)
		all = append(all, batch...)
		if err == io.EOF || (err == nil && len(batch) == 0) {
			break
		}
		if err != nil {
			sort.Slice(all, func(i, j int) bool { return all[i].Name() < all[j].Name() })
			return all, err
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name() < all[j].Name() })
	return all, nil
}
