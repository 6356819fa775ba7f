package profile

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/bodyfile"
	"github.com/scelle/scelle/collect/files"
	"github.com/scelle/scelle/collect/ntfs"
	"github.com/scelle/scelle/internal/safeopen"
)

// Build returns the collectors of profile, in definition order (the
// Runner orders them by class). File items become *files.Tree, bodyfile
// items *bodyfile.Walker over the profile's bodyfile roots, and other
// native items are taken from natives by name (collect.NewNatives makes
// them all). A native that natives holds as nil has nothing to do with the
// collection's options (proc.memory when no process is selected): it is
// left out.
//
// Patterns starting with "~/" are expanded to every home folder listed in
// env.Root's /etc/passwd, and /root. When the file cannot be read, those
// items use /root alone and record the failure when they run.
//
// exclude holds absolute host paths (the output folder) that no item
// collects or walks.
//
// On a Windows host or image (env.TargetOS() is windows), file items
// become *ntfs.Tree, whose patterns are taken on each of env's NTFS
// volumes; "~/" is not expanded there (user profiles are /Users/*).
//
// The host collected runs env.TargetOS(). Build refuses a profile that
// is not for that OS. An item of the profile that is not for it is built
// as a collector that records the item as skipped, with why, so that the
// record accounts for every item of the profile.
//
// A path is taken by one item only: when a pattern of one item lies below
// a folder that another item names without wildcards, the folder's item
// leaves it to the more specific one; between equal patterns the item
// defined first keeps it.
func (s *Set) Build(profile string, natives map[string]collect.Collector, env *collect.Env, exclude ...string) ([]collect.Collector, error) {
	p, ok := s.profiles[profile]
	if !ok {
		var names []string
		for n := range s.profiles {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("unknown profile %q (known: %s)", profile, strings.Join(names, ", "))
	}
	target := runtime.GOOS
	if env != nil {
		target = env.TargetOS()
	}
	if !slices.Contains(p.OS, target) {
		return nil, fmt.Errorf("profile %s is for %s; the host collected runs %s", p.Name, strings.Join(p.OS, ", "), target)
	}
	var homes []string
	var homesErr error
	if target != "windows" {
		homes, homesErr = Homes(env)
	}
	var excl []string
	for _, x := range exclude {
		x = path.Clean("/" + x)
		excl = append(excl, escapeMeta(x), escapeMeta(x)+"/**")
	}
	type built struct {
		tree    *files.Tree
		perUser bool
	}
	var out []collect.Collector
	var trees []built
	for _, it := range p.Items {
		switch {
		case !slices.Contains(it.OS, target):
			out = append(out, &notForOS{item: it, target: target})
		case strings.HasPrefix(it.Native, BodyfilePrefix):
			out = append(out, &bodyfile.Walker{ID: it.Name, Vol: it.Class, Base: p.Name,
				Roots: append([]string(nil), p.Bodyfile...), Exclude: cleanAll(exclude)})
		case it.Native != "":
			c, ok := natives[it.Native]
			if !ok {
				return nil, fmt.Errorf("profile %s: native collector %q is not linked in this binary", p.Name, it.Native)
			}
			if c == nil {
				continue // nothing to do with these options
			}
			if c.Name() != it.Native {
				return nil, fmt.Errorf("profile %s: native collector %q calls itself %q", p.Name, it.Native, c.Name())
			}
			out = append(out, c)
		case target == "windows":
			out = append(out, windowsTree(it, p.Name))
		default:
			t := &files.Tree{ID: it.Name, Vol: it.Class, MaxFiles: it.MaxFiles}
			perUser := false
			for _, pat := range it.Paths {
				exp, user := expand(pat, homes)
				perUser = perUser || user
				for _, e := range exp {
					t.Patterns = append(t.Patterns, strings.TrimSuffix(e, "/**"))
				}
			}
			for _, pat := range it.Exclude {
				exp, _ := expand(pat, homes)
				for _, e := range exp {
					e = strings.TrimSuffix(e, "/**")
					t.Exclude = append(t.Exclude, e, e+"/**")
				}
			}
			t.Exclude = append(t.Exclude, excl...)
			if size, set := it.MaxFileSize(p.Name); set {
				t.MaxFileSize = size
				if size == 0 {
					t.MaxFileSize = -1 // no cap
				}
			}
			trees = append(trees, built{t, perUser})
			out = append(out, t)
		}
	}
	// Leave each path to one item.
	for i, a := range trees {
		for j, b := range trees {
			if i == j {
				continue
			}
			for _, pa := range a.tree.Patterns {
				if hasMeta(pa) {
					continue
				}
				for _, pb := range b.tree.Patterns {
					if strings.HasPrefix(pb, pa+"/") || (pa == "/" && pb != "/") || (pb == pa && j < i) {
						a.tree.Exclude = append(a.tree.Exclude, pb, pb+"/**")
					}
				}
			}
		}
	}
	if homesErr != nil {
		for i, c := range out {
			for _, b := range trees {
				if b.perUser && c == collect.Collector(b.tree) {
					out[i] = &noted{Collector: c, source: "/etc/passwd",
						err: fmt.Errorf("home folders not known, ~/ patterns taken in /root only: %w", homesErr)}
				}
			}
		}
	}
	return out, nil
}

// windowsTree is the collector of a file item on a Windows host or
// image: its patterns are taken on each NTFS volume, raw where the
// system holds a file locked.
func windowsTree(it *Item, profile string) *ntfs.Tree {
	t := &ntfs.Tree{ID: it.Name, Vol: it.Class, MaxFiles: it.MaxFiles,
		Patterns: slices.Clone(it.Paths), Exclude: slices.Clone(it.Exclude)}
	if size, set := it.MaxFileSize(profile); set {
		t.MaxFileSize = size
		if size == 0 {
			t.MaxFileSize = -1 // no cap
		}
	}
	return t
}

// notForOS stands for an item that is not for the OS of the host
// collected: it records the item as skipped.
type notForOS struct {
	item   *Item
	target string
}

func (n *notForOS) Name() string { return n.item.Name }

func (n *notForOS) Class() collect.Class {
	if nat, ok := collect.LookupNative(n.item.Native); ok {
		return nat.Class
	}
	return n.item.Class
}

func (n *notForOS) Collect(ctx context.Context, s *collect.Session) error {
	s.Record(collect.Outcome{Kind: "collector", Status: collect.Skipped,
		Reason: fmt.Sprintf("item for %s only; the host collected runs %s", strings.Join(n.item.OS, ", "), n.target)})
	return nil
}

// noted is a collector that records a failure before it runs.
type noted struct {
	collect.Collector
	source string
	err    error
}

func (n *noted) Collect(ctx context.Context, s *collect.Session) error {
	s.Fail(n.source, collect.KindFile, n.err)
	return n.Collector.Collect(ctx, s)
}

func cleanAll(ps []string) []string {
	var out []string
	for _, p := range ps {
		out = append(out, path.Clean("/"+p))
	}
	return out
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// escapeMeta quotes the wildcard characters of a literal path.
func escapeMeta(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// expand returns pattern p with a leading "~/" replaced by each home
// folder, and whether it did so.
func expand(p string, homes []string) ([]string, bool) {
	rest, ok := strings.CutPrefix(p, "~/")
	if !ok {
		return []string{p}, false
	}
	var out []string
	for _, h := range homes {
		out = append(out, path.Join(escapeMeta(h), rest))
	}
	return out, true
}

// maxPasswd bounds the size of the /etc/passwd read.
const maxPasswd = 64 << 20

// Homes returns the home folders of the accounts in env.Root's
// /etc/passwd, and /root, cleaned, sorted and without duplicates. Homes
// that are not absolute are left out. On error it returns /root alone.
func Homes(env *collect.Env) ([]string, error) {
	homes := []string{"/root"}
	b, err := readPasswd(env)
	if err != nil {
		return homes, err
	}
	homes = append(homes, parseHomes(b)...)
	sort.Strings(homes)
	out := homes[:0]
	for i, h := range homes {
		if i == 0 || h != homes[i-1] {
			out = append(out, h)
		}
	}
	return out, nil
}

func readPasswd(env *collect.Env) ([]byte, error) {
	var f *safeopen.File
	var err error
	if env == nil || env.Root == "" || env.Root == "/" {
		f, err = safeopen.Open("/etc/passwd")
	} else {
		f, err = safeopen.OpenIn(env.Root, "/etc/passwd")
	}
	if err != nil {
		return nil, fmt.Errorf("read passwd: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPasswd+1))
	if err != nil {
		return nil, fmt.Errorf("read passwd: %w", err)
	}
	if len(b) > maxPasswd {
		return nil, fmt.Errorf("read passwd: larger than %d bytes", maxPasswd)
	}
	return b, nil
}

// parseHomes returns the absolute home folders of passwd(5) lines
// (name:x:uid:gid:gecos:home:shell), cleaned. Other lines are ignored.
func parseHomes(b []byte) []string {
	var homes []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) < 7 || strings.HasPrefix(f[0], "#") || !strings.HasPrefix(f[5], "/") {
			continue
		}
		homes = append(homes, path.Clean(f[5]))
	}
	return homes
}
