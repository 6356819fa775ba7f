package names

import (
	"hash/maphash"
	"strings"
)

// Mapper maps the archive paths of one bag (slash-separated, relative) to
// the paths to write on its system, component by component (Component);
// of names of a folder that the system would take for one, the first
// mapped keeps its name and each later one is tagged. It remembers every
// name it has mapped. A nil *Mapper keeps the paths as they are.
type Mapper struct {
	goos string
	top  folder
}

// folder is what a Mapper knows of one folder of the archive.
type folder struct {
	names map[string]*mapped // by archive name
	keys  map[string]bool    // the Keys of the names written
}

type mapped struct {
	written string
	sub     *folder // once the name is a folder's
}

// NewMapper returns a Mapper for goos, or nil when goos keeps the names
// as they are (Needs).
func NewMapper(goos string) *Mapper {
	if !Needs(goos) {
		return nil
	}
	return &Mapper{goos: goos}
}

// Map returns path as it is written: the same path, for the same path,
// every time; two paths that differ are never written as one.
func (m *Mapper) Map(path string) string {
	if m == nil {
		return path
	}
	comps := strings.Split(path, "/")
	f := &m.top
	for i, c := range comps {
		n := f.names[c]
		if n == nil {
			n = &mapped{written: f.place(m.goos, c)}
			if f.names == nil {
				f.names, f.keys = map[string]*mapped{}, map[string]bool{}
			}
			f.names[c] = n
			f.keys[Key(m.goos, n.written)] = true
		}
		comps[i] = n.written
		if i < len(comps)-1 {
			if n.sub == nil {
				n.sub = &folder{}
			}
			f = n.sub
		}
	}
	return strings.Join(comps, "/")
}

// place returns the name to write for c, a new name in f.
func (f *folder) place(goos, c string) string {
	w, _ := Component(goos, c)
	if f.keys[Key(goos, w)] {
		return tagged(goos, c)
	}
	return w
}

// Census counts the names of a set of archive paths that cannot be
// written as they are on one system, as a Mapper given the same paths in
// the same order would change them: each name (a folder's once) that
// Component changes, and each that a Mapper would tag. It keeps two
// 64-bit hashes a name, not the names.
type Census struct {
	goos string
	seed maphash.Seed
	seen map[uint64]struct{} // (folder, name) counted
	keys map[uint64]struct{} // (folder, Key) taken
	// Names counts the names that change; Reasons says why; First is the
	// archive path of the first (the folder's, for a folder).
	Names   int
	Reasons Reason
	First   string
}

// NewCensus returns an empty Census for goos.
func NewCensus(goos string) *Census {
	return &Census{goos: goos, seed: maphash.MakeSeed(), seen: map[uint64]struct{}{}, keys: map[uint64]struct{}{}}
}

// Add counts the names of path not counted yet.
func (c *Census) Add(path string) {
	if !Needs(c.goos) {
		return
	}
	var parent uint64 // the hash of the folder's archive path
	end := 0
	for _, comp := range strings.Split(path, "/") {
		end += len(comp)
		h := c.hash(parent, 'n', comp)
		if _, ok := c.seen[h]; !ok {
			c.seen[h] = struct{}{}
			w, why := Component(c.goos, comp)
			k := c.hash(parent, 'k', Key(c.goos, w))
			if _, taken := c.keys[k]; taken {
				why |= Collision
			} else {
				c.keys[k] = struct{}{}
			}
			if why != 0 {
				if c.Names == 0 {
					c.First = path[:end]
				}
				c.Names++
				c.Reasons |= why
			}
		}
		parent = h
		end++ // the slash
	}
}

func (c *Census) hash(parent uint64, kind byte, s string) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	var p [9]byte
	for i := range 8 {
		p[i] = byte(parent >> (8 * i))
	}
	p[8] = kind
	h.Write(p[:])
	h.WriteString(s)
	return h.Sum64()
}
