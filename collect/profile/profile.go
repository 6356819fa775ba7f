package profile

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/scelle/scelle/collect"
	_ "github.com/scelle/scelle/collect/natives" // registers the native collectors
)

// DefaultProfile is the profile a collection of a Linux host uses when
// none is named; DefaultFor gives each OS's.
const DefaultProfile = "triage"

// WindowsProfile is the default profile of a Windows host and of an
// NTFS image.
const WindowsProfile = "windows-triage"

// DefaultFor returns the profile a collection of a host running goos
// uses when none is named.
func DefaultFor(goos string) string {
	if goos == "windows" {
		return WindowsProfile
	}
	return DefaultProfile
}

// DefaultOS is the OS of a profile or file item without an os key: every
// definition written before the key existed was written for Linux hosts.
// A native item without one takes its collector's OSes.
const DefaultOS = "linux"

// BodyfilePrefix starts the names of the native items that Build makes
// itself: a bodyfile.Walker over the profile's bodyfile roots.
const BodyfilePrefix = "bodyfile."

//go:embed definitions/*.yaml
var embedded embed.FS

// maxDefinitionFile bounds the size of one definition file.
const maxDefinitionFile = 1 << 20

// Set is a loaded set of definitions: items and the profiles that select
// them. It is read-only after Load and safe for concurrent use.
type Set struct {
	items    []*Item // in file name order, then file order
	profiles map[string]*profileInfo
}

// Item is one definition: a file item (Paths) or a native item (Native).
type Item struct {
	// Name is the collector's name.
	Name        string
	Description string
	// Class is a file or bodyfile item's class; 0 for other native items,
	// whose collector has its own.
	Class collect.Class
	// Native names the native collector; empty for file items.
	Native string
	// Paths and Exclude are the file item's patterns, as written.
	Paths, Exclude []string
	// MaxFiles bounds the number of files taken (0: no bound).
	MaxFiles int
	// OS lists the operating systems (GOOS values) whose hosts the item
	// is collected on.
	OS []string
	// Profiles lists the profiles that name the item.
	Profiles []string
	// File and Line say where the item is defined.
	File string
	Line int

	maxSize map[string]int64 // by profile; missing = the command's default
	allSize *int64           // a plain max_file_size
}

// MaxFileSize returns the per-file cap of the item in the profile:
// set is false when the definition gives none (the command's default
// applies), and 0 means no cap.
func (it *Item) MaxFileSize(profile string) (size int64, set bool) {
	if v, ok := it.maxSize[profile]; ok {
		return v, true
	}
	if it.allSize != nil {
		return *it.allSize, true
	}
	return 0, false
}

// Profile is a named selection of items.
type Profile struct {
	Name        string
	Description string
	// Bodyfile lists the roots of the profile's bodyfile walk.
	Bodyfile []string
	// OS lists the operating systems (GOOS values) whose hosts the
	// profile collects; Build refuses any other.
	OS []string
	// Items are the profile's items, in definition order.
	Items []*Item
}

type profileInfo struct {
	Profile
	include []string
	file    string
	line    int
}

// Profiles returns the profiles, sorted by name.
func (s *Set) Profiles() []Profile {
	var out []Profile
	for _, p := range s.profiles {
		out = append(out, p.Profile)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Items returns every item, in definition order.
func (s *Set) Items() []*Item { return append([]*Item(nil), s.items...) }

// Load reads the embedded definitions and, when dir is not "", the
// *.yaml and *.yml files of dir: a file of dir replaces the embedded
// file of the same name, or adds to them. Other files in dir are ignored.
func Load(dir string) (*Set, error) {
	files := map[string]source{}
	entries, err := fs.ReadDir(embedded, "definitions")
	if err != nil {
		return nil, fmt.Errorf("read embedded definitions: %w", err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(embedded, "definitions/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read embedded definitions: %w", err)
		}
		files[e.Name()] = source{label: "embedded definitions/" + e.Name(), data: b}
	}
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("read definitions folder: %w", err)
		}
		for _, e := range entries {
			if ext := path.Ext(e.Name()); ext != ".yaml" && ext != ".yml" {
				continue
			}
			p := filepath.Join(dir, e.Name())
			b, err := readDefinition(p)
			if err != nil {
				return nil, err
			}
			name := strings.TrimSuffix(e.Name(), ".yml")
			if name != e.Name() {
				name += ".yaml"
			}
			files[name] = source{label: p, data: b}
		}
	}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var srcs []source
	for _, n := range names {
		srcs = append(srcs, files[n])
	}
	return parse(srcs)
}

type source struct {
	label string
	data  []byte
}

func readDefinition(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("read definition: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read definition %s: not a regular file", p)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxDefinitionFile+1))
	if err != nil {
		return nil, fmt.Errorf("read definition: %w", err)
	}
	if len(b) > maxDefinitionFile {
		return nil, fmt.Errorf("read definition %s: larger than %d bytes", p, maxDefinitionFile)
	}
	return b, nil
}

// The YAML schema (docs/definitions.md).
type fileDef struct {
	Items    []itemDef             `yaml:"items"`
	Profiles map[string]profileDef `yaml:"profiles"`
}

type itemDef struct {
	Name        string   `yaml:"name"`
	Native      string   `yaml:"native"`
	Class       string   `yaml:"class"`
	Description string   `yaml:"description"`
	Paths       []string `yaml:"paths"`
	Exclude     []string `yaml:"exclude"`
	MaxFileSize sizeSpec `yaml:"max_file_size"`
	MaxFiles    int      `yaml:"max_files"`
	Profiles    []string `yaml:"profiles"`
	OS          []string `yaml:"os"`
}

type profileDef struct {
	Description string   `yaml:"description"`
	Bodyfile    []string `yaml:"bodyfile"`
	Include     []string `yaml:"include"`
	OS          []string `yaml:"os"`
}

// sizeSpec is max_file_size: a size, or a map from profile to size.
type sizeSpec struct {
	all  *int64
	per  map[string]int64
	line int
}

func (z *sizeSpec) UnmarshalYAML(n *yaml.Node) error {
	z.line = n.Line
	switch n.Kind {
	case yaml.ScalarNode:
		v, err := ParseSize(n.Value)
		if err != nil {
			return fmt.Errorf("line %d: max_file_size: %w", n.Line, err)
		}
		z.all = &v
		return nil
	case yaml.MappingNode:
		z.per = map[string]int64{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: max_file_size: want profile: size", k.Line)
			}
			if _, dup := z.per[k.Value]; dup {
				return fmt.Errorf("line %d: max_file_size: profile %q given twice", k.Line, k.Value)
			}
			size, err := ParseSize(v.Value)
			if err != nil {
				return fmt.Errorf("line %d: max_file_size of %s: %w", v.Line, k.Value, err)
			}
			z.per[k.Value] = size
		}
		return nil
	}
	return fmt.Errorf("line %d: max_file_size: want a size or a map of profile: size", n.Line)
}

var sizeUnits = map[string]int64{"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}

var sizeRE = regexp.MustCompile(`^([0-9]+) ?([A-Za-z]*)$`)

// ParseSize parses a size in bytes: a whole number with an optional
// binary unit B, KiB, MiB, GiB or TiB ("64MiB", "16 KiB", "0").
func ParseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("bad size %q: want a whole number and a unit B, KiB, MiB, GiB or TiB", s)
	}
	unit, ok := sizeUnits[m[2]]
	if !ok {
		return 0, fmt.Errorf("bad size %q: unknown unit %q (use B, KiB, MiB, GiB or TiB)", s, m[2])
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n > math.MaxInt64/unit {
		return 0, fmt.Errorf("bad size %q: too large", s)
	}
	return n * unit, nil
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$`)
var profileRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// parse decodes and checks the definition files, in order.
func parse(srcs []source) (*Set, error) {
	s := &Set{profiles: map[string]*profileInfo{}}
	seen := map[string]*Item{}
	type pending struct {
		def  itemDef
		node *yaml.Node
		file string
	}
	var items []pending
	for _, src := range srcs {
		def, root, err := decode(src.data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src.label, err)
		}
		if root == nil {
			continue
		}
		itemNodes := childValue(root, "items")
		for i, d := range def.Items {
			n := itemNodes
			if i < len(itemNodes.Content) {
				n = itemNodes.Content[i]
			}
			items = append(items, pending{d, n, src.label})
		}
		profNodes := childValue(root, "profiles")
		for name, pd := range def.Profiles {
			line := keyLine(profNodes, name)
			if old, ok := s.profiles[name]; ok {
				return nil, fmt.Errorf("%s:%d: profile %q already defined at %s:%d", src.label, line, name, old.file, old.line)
			}
			if !profileRE.MatchString(name) {
				return nil, fmt.Errorf("%s:%d: bad profile name %q: want lower-case letters, digits, '-' and '_'", src.label, line, name)
			}
			p := &profileInfo{Profile: Profile{Name: name, Description: pd.Description}, include: pd.Include, file: src.label, line: line}
			if p.OS, err = checkOS(pd.OS, []string{DefaultOS}); err != nil {
				return nil, fmt.Errorf("%s:%d: profile %q: %w", src.label, line, name, err)
			}
			for _, r := range pd.Bodyfile {
				if err := checkPath(r, false); err != nil {
					return nil, fmt.Errorf("%s:%d: profile %q: bodyfile root: %w", src.label, line, name, err)
				}
				p.Bodyfile = append(p.Bodyfile, path.Clean(r))
			}
			for _, pat := range pd.Include {
				if _, err := path.Match(pat, ""); err != nil {
					return nil, fmt.Errorf("%s:%d: profile %q: include pattern %q: %w", src.label, line, name, pat, err)
				}
			}
			s.profiles[name] = p
		}
	}
	for _, pi := range items {
		it, err := s.item(pi.def, pi.node, pi.file)
		if err != nil {
			return nil, err
		}
		if old, ok := seen[it.Name]; ok {
			return nil, fmt.Errorf("%s:%d: item %q already defined at %s:%d", it.File, it.Line, it.Name, old.File, old.Line)
		}
		seen[it.Name] = it
		s.items = append(s.items, it)
	}
	return s, s.resolve()
}

// decode strictly decodes one file: unknown keys are errors. It returns
// a nil root for a file without a document.
func decode(b []byte) (*fileDef, *yaml.Node, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return &fileDef{}, nil, nil
		}
		return nil, nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("line %d: one YAML document per file", extra.Line)
	}
	var def fileDef
	strict := yaml.NewDecoder(bytes.NewReader(b))
	strict.KnownFields(true)
	if err := strict.Decode(&def); err != nil {
		return nil, nil, err
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		return &def, nil, nil
	}
	if items := childValue(doc, "items"); items.Kind != yaml.SequenceNode && len(def.Items) > 0 {
		return nil, nil, fmt.Errorf("line %d: items: want a list", items.Line)
	}
	return &def, doc, nil
}

// childValue returns the value of key in mapping n, or an empty node.
func childValue(n *yaml.Node, key string) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				v := n.Content[i+1]
				for v.Kind == yaml.AliasNode && v.Alias != nil {
					v = v.Alias
				}
				return v
			}
		}
	}
	return &yaml.Node{Line: n.Line}
}

// keyLine returns the line of key in mapping n.
func keyLine(n *yaml.Node, key string) int {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i].Line
		}
	}
	return n.Line
}

// item checks one item definition.
func (s *Set) item(d itemDef, n *yaml.Node, file string) (*Item, error) {
	it := &Item{Name: d.Name, Description: d.Description, Native: d.Native, Paths: d.Paths, Exclude: d.Exclude,
		MaxFiles: d.MaxFiles, Profiles: d.Profiles, File: file, Line: n.Line,
		maxSize: d.MaxFileSize.per, allSize: d.MaxFileSize.all}
	fail := func(key, format string, a ...any) error {
		return fmt.Errorf("%s:%d: item %q: %s", file, keyLine(n, key), it.Name, fmt.Sprintf(format, a...))
	}
	if it.Name == "" {
		it.Name = it.Native
	}
	switch {
	case it.Name == "":
		return nil, fmt.Errorf("%s:%d: item without a name", file, n.Line)
	case !nameRE.MatchString(it.Name):
		return nil, fail("name", "bad name: want dotted lower-case words (\"files.logs\")")
	case it.Native != "" && it.Native != it.Name:
		return nil, fail("native", "a native item's name is its collector's name %q", it.Native)
	case it.Native != "" && (len(d.Paths) > 0 || len(d.Exclude) > 0 || d.MaxFileSize.line > 0 || d.MaxFiles != 0):
		return nil, fail("native", "a native item takes no paths, exclude, max_file_size or max_files")
	case it.Native == "" && len(d.Paths) == 0:
		return nil, fail("name", "neither paths nor native given")
	case d.MaxFiles < 0:
		return nil, fail("max_files", "max_files must not be negative")
	}
	bodyfile := strings.HasPrefix(it.Native, BodyfilePrefix)
	native := collect.Native{OS: []string{DefaultOS}} // file and bodyfile items
	if it.Native != "" && !bodyfile {
		var ok bool
		if native, ok = collect.LookupNative(it.Native); !ok {
			var known []string
			for _, n := range collect.Natives() {
				known = append(known, n.Name)
			}
			return nil, fail("native", "unknown native collector %q (known: %s, %s*)", it.Native,
				strings.Join(known, ", "), BodyfilePrefix)
		}
		if it.Description == "" {
			it.Description = native.Description
		}
	}
	oses, err := checkOS(d.OS, native.OS)
	if err != nil {
		return nil, fail("os", "%v", err)
	}
	for _, o := range oses {
		if !native.Supports(o) && native.Name != "" {
			return nil, fail("os", "native collector %s collects %s hosts only, not %s", native.Name, strings.Join(native.OS, ", "), o)
		}
	}
	it.OS = oses
	switch {
	case d.Class != "" && it.Native != "" && !bodyfile:
		return nil, fail("class", "a native collector has its own class: remove class")
	case d.Class == "" && it.Native == "":
		return nil, fail("name", "class missing (process, network, system, temp or disk)")
	case d.Class == "" && bodyfile:
		it.Class = collect.ClassTemp
	case d.Class != "":
		c, err := collect.ParseClass(d.Class)
		if err != nil {
			return nil, fail("class", "%v (want process, network, system, temp or disk)", err)
		}
		it.Class = c
	}
	for _, p := range d.Paths {
		if err := checkPath(p, true); err != nil {
			return nil, fail("paths", "%v", err)
		}
	}
	for _, p := range d.Exclude {
		if err := checkPath(p, true); err != nil {
			return nil, fail("exclude", "%v", err)
		}
	}
	for _, p := range d.Profiles {
		pi, ok := s.profiles[p]
		if !ok {
			return nil, fail("profiles", "unknown profile %q", p)
		}
		if !overlap(it.OS, pi.OS) {
			return nil, fail("profiles", "profile %q is for %s, the item for %s: no OS in common", p,
				strings.Join(pi.OS, ", "), strings.Join(it.OS, ", "))
		}
	}
	for p := range d.MaxFileSize.per {
		if _, ok := s.profiles[p]; !ok {
			return nil, fail("max_file_size", "max_file_size: unknown profile %q", p)
		}
	}
	return it, nil
}

// checkOS checks an os list and returns it, or def when it is absent.
func checkOS(list, def []string) ([]string, error) {
	if list == nil {
		return slices.Clone(def), nil
	}
	if len(list) == 0 {
		return nil, errors.New("os: empty list (leave the key out for the default)")
	}
	for i, o := range list {
		if !collect.KnownOS(o) {
			return nil, fmt.Errorf("os: unknown OS %q (want a GOOS value: linux, windows, darwin ...)", o)
		}
		if slices.Contains(list[:i], o) {
			return nil, fmt.Errorf("os: %s given twice", o)
		}
	}
	return slices.Clone(list), nil
}

// checkPath checks a path pattern: absolute (or "~/..." when user is
// set), no "." or ".." component, valid wildcards.
func checkPath(p string, user bool) error {
	rest, ok := strings.CutPrefix(p, "~/")
	if !ok || !user {
		if !strings.HasPrefix(p, "/") {
			if user {
				return fmt.Errorf("path %q: want an absolute path or one starting with ~/", p)
			}
			return fmt.Errorf("path %q: want an absolute path", p)
		}
		rest = strings.TrimPrefix(p, "/")
	}
	if rest == "" {
		return nil
	}
	for _, c := range strings.Split(strings.TrimSuffix(rest, "/"), "/") {
		if c == "" || c == "." || c == ".." {
			return fmt.Errorf("path %q: empty, \".\" or \"..\" component", p)
		}
		if _, err := path.Match(c, ""); err != nil {
			return fmt.Errorf("path %q: bad wildcard in %q", p, c)
		}
	}
	return nil
}

// resolve fills each profile's items and checks that every item is in a
// profile and every profile is usable.
func (s *Set) resolve() error {
	in := map[*Item]bool{}
	for _, p := range s.profiles {
		bodyfiles := 0
		for _, it := range s.items {
			if !member(it, p) {
				continue
			}
			in[it] = true
			p.Items = append(p.Items, it)
			if strings.HasPrefix(it.Native, BodyfilePrefix) {
				bodyfiles++
				if len(p.Bodyfile) == 0 {
					return fmt.Errorf("%s:%d: profile %q: item %q needs bodyfile roots in the profile", p.file, p.line, p.Name, it.Name)
				}
			}
		}
		if bodyfiles > 1 {
			return fmt.Errorf("%s:%d: profile %q: more than one %s* item", p.file, p.line, p.Name, BodyfilePrefix)
		}
		if len(p.Items) == 0 {
			return fmt.Errorf("%s:%d: profile %q has no items", p.file, p.line, p.Name)
		}
	}
	for _, it := range s.items {
		if !in[it] {
			return fmt.Errorf("%s:%d: item %q is in no profile", it.File, it.Line, it.Name)
		}
	}
	return nil
}

// member reports whether it belongs to p: p is one of its profiles, or
// p includes it by a pattern and they have an OS in common.
func member(it *Item, p *profileInfo) bool {
	for _, n := range it.Profiles {
		if n == p.Name {
			return true
		}
	}
	if !overlap(it.OS, p.OS) {
		return false
	}
	for _, pat := range p.include {
		if ok, _ := path.Match(pat, it.Name); ok {
			return true
		}
	}
	return false
}

// overlap reports whether a and b have an element in common.
func overlap(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
