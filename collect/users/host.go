package users

import (
	"bytes"
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

// openHost opens the regular host file p (absolute, slash-separated)
// under env.Root, as Session.CopyFile does: no access-time update, no
// final link followed, nothing outside the root.
func openHost(env *collect.Env, p string) (*safeopen.File, error) {
	if env.Root == "" || env.Root == "/" {
		return safeopen.Open(env.HostPath(p))
	}
	return safeopen.OpenIn(env.Root, p)
}

// readHost reads the small host file p whole, refusing more than limit
// bytes.
func readHost(ctx context.Context, env *collect.Env, p string, limit int64) ([]byte, error) {
	f, err := openHost(env, p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(collect.NewContextReader(ctx, f), limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if n > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", p, limit)
	}
	return buf.Bytes(), nil
}

// listDir returns the names in the host folder dir, sorted.
func listDir(env *collect.Env, dir string) ([]fs.DirEntry, error) {
	f, err := safeopen.OpenDir(env.Root, dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var all []fs.DirEntry
	for {
		batch, err := f.ReadDir(4096)
		all = append(all, batch...)
		if errors.Is(err, io.EOF) || (err == nil && len(batch) == 0) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", dir, err)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name() < all[j].Name() })
	return all, nil
}

// rotations returns the rotated copies of the log at p found beside it:
// names that start with its base name and "." or "-" (wtmp.1, wtmp.2.gz,
// wtmp-20240101). A folder that cannot be listed is recorded as failed.
func rotations(s *collect.Session, p string) []string {
	dir, base := path.Split(p)
	dir = path.Clean(dir)
	entries, err := listDir(s.Env, dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.Fail(dir, collect.KindDir, fmt.Errorf("look for rotated %s: %w", base, err))
		}
		return nil
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if len(n) > len(base) && strings.HasPrefix(n, base) && (n[len(base)] == '.' || n[len(base)] == '-') && !e.IsDir() {
			out = append(out, path.Join(dir, n))
		}
	}
	return out
}

// collectDB stores raw every entry of the host folder dir whose name
// starts with prefix (an SQLite database with its -wal and -journal files
// and rotated copies). primary is recorded as not present when missing.
func collectDB(ctx context.Context, s *collect.Session, dir, primary, prefix string) {
	entries, err := listDir(s.Env, dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.Fail(dir, collect.KindDir, err)
		return
	}
	found := false
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) || e.IsDir() {
			continue
		}
		found = found || e.Name() == primary
		s.CopyFile(ctx, path.Join(dir, e.Name()), 0)
	}
	if !found {
		s.Skip(path.Join(dir, primary), collect.KindFile, "not present")
	}
}

// compression returns the compression format of a file by its name or its
// first bytes, or "" when it is not compressed.
func compression(name string, head []byte) string {
	magics := []struct {
		format string
		magic  string
	}{
		{"gzip", "\x1f\x8b"}, {"xz", "\xfd7zXZ\x00"}, {"bzip2", "BZh"}, {"zstd", "\x28\xb5\x2f\xfd"},
		{"lz4", "\x04\x22\x4d\x18"}, {"compress", "\x1f\x9d"},
	}
	for _, m := range magics {
		if bytes.HasPrefix(head, []byte(m.magic)) {
			return m.format
		}
	}
	suffixes := map[string]string{".gz": "gzip", ".xz": "xz", ".bz2": "bzip2", ".zst": "zstd", ".lz4": "lz4",
		".Z": "compress", ".lzma": "lzma", ".lz": "lzip", ".lzo": "lzop", ".zip": "zip"}
	return suffixes[path.Ext(name)]
}

// notParsed records why the parsed form of p was not made after its raw
// copy o, unless p was simply not present.
func notParsed(s *collect.Session, p string, o collect.Outcome) bool {
	switch {
	case o.Kind == collect.KindSymlink:
		s.Skip(p, collect.KindGenerated, fmt.Sprintf("not parsed: symbolic link to %q, not followed", o.LinkTarget))
	case o.Path != "" && o.Kind == collect.KindFile && o.Before != nil:
		return false
	case o.Status == collect.Skipped && o.Reason == "not present":
	default:
		s.Skip(p, collect.KindGenerated, fmt.Sprintf("not parsed: raw copy %s: %s", o.Status, o.Reason))
	}
	return true
}

// replaced reports how the file f opened for parsing differs from the one
// the raw copy read, or "" when it is the same file.
func replaced(f *safeopen.File, before *collect.FileStat) string {
	st, err := collect.Fstat(f.File)
	if err != nil {
		return fmt.Sprintf("stat for parsing: %v", err)
	}
	if st.Inode != before.Inode || st.Dev != before.Dev {
		return fmt.Sprintf("replaced after its raw copy (inode %d, now %d)", before.Inode, st.Inode)
	}
	return ""
}
