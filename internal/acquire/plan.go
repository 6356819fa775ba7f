package acquire

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/files"
	"github.com/scelle/scelle/collect/ntfs"
	"github.com/scelle/scelle/collect/profile"
	"github.com/scelle/scelle/collect/winpmem"
)

// plan returns the collectors of the run: the profile's items, plus the
// --path items (or only those, when PathsOnly). The output folder is
// never collected.
func plan(opts *Options, env *collect.Env, out, root string) ([]collect.Collector, error) {
	var exclude []string
	if rel, ok := strings.CutPrefix(out, root); ok && (root == "/" || strings.HasPrefix(rel, "/")) {
		exclude = append(exclude, "/"+strings.TrimPrefix(rel, "/"))
	}
	var cs []collect.Collector
	if !opts.PathsOnly {
		set, err := profile.Load(opts.Definitions)
		if err != nil {
			return nil, &OptionError{err}
		}
		cs, err = set.Build(opts.Profile, collect.NewNatives(nativeOptions(opts)), env, exclude...)
		if err != nil {
			return nil, &OptionError{err}
		}
	}
	if opts.WinPmem != "" || env.TargetOS() == "windows" && env.Live && !opts.PathsOnly {
		cs = append(cs, &winpmem.Collector{Path: opts.WinPmem}) // RAM, or why not
	}
	if len(opts.Paths) > 0 {
		var ex []string
		for _, e := range exclude {
			ex = append(ex, e, e+"/**")
		}
		switch {
		case opts.Image != "":
			// Patterns on the image's NTFS volumes, from each one's root.
			cs = append(cs, &ntfs.Tree{ID: PathsCollector, Vol: collect.ClassDisk, Patterns: opts.Paths})
		case env.TargetOS() == "windows" && env.Live:
			pats, err := windowsPatterns(opts.Paths, filepath.VolumeName(env.Root))
			if err != nil {
				return nil, &OptionError{err}
			}
			cs = append(cs, &files.Tree{ID: PathsCollector, Vol: collect.ClassDisk, Patterns: pats, Exclude: ex})
		default:
			cs = append(cs, &files.Tree{ID: PathsCollector, Vol: collect.ClassDisk, Patterns: opts.Paths, Exclude: ex})
		}
	}
	return cs, nil
}

// windowsPatterns turns the --path patterns a responder writes on a live
// Windows host (C:\Users\*\NTUSER.DAT, C:/Users/..., \Users\...) into
// those files.Tree walks: slash-separated, from the root of the system
// drive (drive, "C:"), where the collection reads. A backslash is a
// separator there, never an escape. A pattern on another drive, or a
// network or device path, is refused, not left to match nothing: the
// responder would read "not present" of a file that is there.
func windowsPatterns(pats []string, drive string) ([]string, error) {
	out := make([]string, 0, len(pats))
	for _, p := range pats {
		q := strings.ReplaceAll(p, `\`, "/")
		switch {
		case strings.HasPrefix(q, "//"):
			return nil, fmt.Errorf("--path %s: a network or device path; give a path on drive %s", p, drive)
		case len(q) >= 2 && q[1] == ':' && ('a' <= q[0]|0x20 && q[0]|0x20 <= 'z'):
			if !strings.EqualFold(q[:2], drive) {
				return nil, fmt.Errorf("--path %s: on drive %s, but a live collection reads drive %s, the system drive", p, strings.ToUpper(q[:2]), drive)
			}
			q = q[2:]
		}
		out = append(out, q)
	}
	return out, nil
}

// nativeOptions returns the options the native collectors read.
func nativeOptions(opts *Options) collect.NativeOptions {
	n := collect.NativeOptions{MemoryPIDs: opts.MemoryPIDs}
	if opts.NoRAM {
		n.NoRAM = ReasonNoRAM
	}
	return n
}

// PathsCollector is the name of the collector of Options.Paths.
const PathsCollector = "files.paths"

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// FolderName is the name of a collection's bag folder: case, host and
// UTC start time, with anything but letters, digits, '.', '_' and '-'
// replaced.
func FolderName(caseID, host string, t time.Time) string {
	clean := func(s string) string {
		s = strings.Trim(unsafeName.ReplaceAllString(s, "-"), "-.")
		if s == "" {
			return "unknown"
		}
		return s
	}
	return clean(caseID) + "_" + clean(host) + "_" + t.UTC().Format("20060102T150405Z")
}
