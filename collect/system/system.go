package system

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/internal/safeopen"
)

// Collectors returns the system collectors, most volatile first.
func Collectors() []collect.Collector {
	return []collect.Collector{
		&timeCollector{},
		&dmesgCollector{},
		&kernelCollector{},
		&mountsCollector{},
		&bpfCollector{},
		&identityCollector{},
	}
}

const (
	// deadBox is the reason recorded for volatile items in dead-box mode.
	deadBox = "dead-box collection: volatile state not available"
	// family is the bag folder of the generated records.
	family = "live/system/"

	smallLimit = 64 << 10 // one sysfs or sysctl value
	tableLimit = 16 << 20 // a kernel table (/proc/modules, mountinfo)
)

// procPath returns the path of rel (slash-separated) under env's /proc.
func procPath(env *collect.Env, rel string) string {
	root := env.Linux.Proc
	if root == "" {
		root = "/proc"
	}
	return filepath.Join(root, filepath.FromSlash(rel))
}

// sysPath returns the path of rel under env's /sys.
func sysPath(env *collect.Env, rel string) string {
	root := env.Linux.Sys
	if root == "" {
		root = "/sys"
	}
	return filepath.Join(root, filepath.FromSlash(rel))
}

// itemContext bounds one item's reading by env.ItemTimeout.
func itemContext(ctx context.Context, env *collect.Env) (context.Context, context.CancelFunc) {
	if env.ItemTimeout > 0 {
		return context.WithTimeout(ctx, env.ItemTimeout)
	}
	return context.WithCancel(ctx)
}

// storeKernel reads the kernel file full (at most limit bytes), stores the
// bytes read as name and returns them, so that records parsed from them
// describe exactly what was stored. ok is false when nothing was read; the
// outcome is recorded either way.
func storeKernel(ctx context.Context, s *collect.Session, name, full string, limit int64) (b []byte, ok bool) {
	b, err := storeKernelErr(ctx, s, name, full, limit)
	return b, err == nil || len(b) > 0
}

// storeKernelErr is storeKernel returning the read error: fs.ErrNotExist
// when the file is absent, or the error that left b short.
func storeKernelErr(ctx context.Context, s *collect.Session, name, full string, limit int64) ([]byte, error) {
	rctx, cancel := itemContext(ctx, s.Env)
	b, err := collect.ReadFile(rctx, full, limit)
	cancel()
	switch {
	case err == nil:
		s.PutRead(ctx, name, full, collect.KindKernel, b, nil)
	case errors.Is(err, fs.ErrNotExist):
		s.Skip(full, collect.KindKernel, "not present")
	case len(b) == 0:
		s.Fail(full, collect.KindKernel, err)
	default:
		// Part was read: store it; the error makes the outcome partial.
		s.PutRead(ctx, name, full, collect.KindKernel, b, err)
	}
	return b, err
}

// procItem stores the /proc file rel as "live/proc/"+rel.
func procItem(ctx context.Context, s *collect.Session, rel string, limit int64) ([]byte, bool) {
	return storeKernel(ctx, s, "live/proc/"+rel, procPath(s.Env, rel), limit)
}

// sysItem stores the /sys file rel as "live/sys/"+rel.
func sysItem(ctx context.Context, s *collect.Session, rel string, limit int64) ([]byte, bool) {
	return storeKernel(ctx, s, "live/sys/"+rel, sysPath(s.Env, rel), limit)
}

// putJSONL stores recs, one JSON object a line, as live/system/<what>.jsonl.
func putJSONL[T any](ctx context.Context, s *collect.Session, what, source string, recs []T) {
	b, err := marshalLines(recs)
	if err != nil {
		s.Fail(source, collect.KindGenerated, fmt.Errorf("encode %s records: %w", what, err))
		return
	}
	s.PutBytes(ctx, family+what+".jsonl", source, b)
}

func marshalLines[T any](recs []T) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i := range recs {
		if err := enc.Encode(recs[i]); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// skipAll records every source as skipped for why.
func skipAll(s *collect.Session, kind, why string, sources ...string) {
	for _, src := range sources {
		s.Skip(src, kind, why)
	}
}

const maxDirEntries = 100000

// listDir lists the host folder full, sorted by name, without following a
// final link; at most maxDirEntries entries.
func listDir(full string) ([]fs.DirEntry, error) {
	f, err := safeopen.OpenDir("", full)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var all []fs.DirEntry
	for len(all) < maxDirEntries {
		batch, err := f.ReadDir(1024)
		all = append(all, batch...)
		if err == io.EOF || (err == nil && len(batch) == 0) {
			break
		}
		if err != nil {
			sortEntries(all)
			return all, fmt.Errorf("list %s: %w", full, err)
		}
	}
	sortEntries(all)
	if len(all) >= maxDirEntries {
		return all[:maxDirEntries], fmt.Errorf("list %s: more than %d entries", full, maxDirEntries)
	}
	return all, nil
}

func sortEntries(es []fs.DirEntry) {
	sort.Slice(es, func(i, j int) bool { return es[i].Name() < es[j].Name() })
}

// readHost reads the on-disk file p (absolute, slash-separated) under
// env.Root, following symbolic links inside the root (at most 8), at most
// limit bytes. It does not store anything.
func readHost(ctx context.Context, env *collect.Env, p string, limit int64) ([]byte, error) {
	root := env.Root
	if root == "/" {
		root = ""
	}
	for hops := 0; ; hops++ {
		var f *safeopen.File
		var err error
		if root == "" {
			f, err = safeopen.Open(p)
		} else {
			f, err = safeopen.OpenIn(root, p)
		}
		if errors.Is(err, safeopen.ErrNotRegular) && hops < 8 {
			target, lerr := readLink(env, p)
			if lerr != nil {
				return nil, err
			}
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(p), target)
			}
			p = path.Clean(target)
			continue
		}
		if err != nil {
			return nil, err
		}
		defer f.Close()
		var buf bytes.Buffer
		n, err := io.Copy(&buf, io.LimitReader(collect.NewContextReader(ctx, f), limit+1))
		if err != nil {
			return buf.Bytes(), fmt.Errorf("read %s: %w", p, err)
		}
		if n > limit {
			return buf.Bytes()[:limit], fmt.Errorf("%s: larger than %d bytes", p, limit)
		}
		return buf.Bytes(), nil
	}
}

// readLink returns the target of the link at p under env.Root.
func readLink(env *collect.Env, p string) (string, error) {
	return os.Readlink(env.HostPath(p))
}

// readSmall reads a small kernel file and returns it with its final
// newline removed.
func readSmall(ctx context.Context, full string) (string, error) {
	b, err := collect.ReadFile(ctx, full, smallLimit)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// rawIfInvalid returns s's bytes when s is not valid UTF-8 (JSON would
// replace them), nil otherwise.
func rawIfInvalid(s string) []byte {
	if utf8.ValidString(s) {
		return nil
	}
	return []byte(s)
}

// badLine is how a record of a line that could not be parsed is written:
// the error and the line only, so that no zero value reads as data.
type badLine struct {
	Error string `json:"error"`
	Line  string `json:"line,omitempty"`
}

// marshalRecord encodes v, or only err and line when err is set.
func marshalRecord(v any, err, line string) ([]byte, error) {
	if err != "" {
		v = badLine{Error: err, Line: line}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
