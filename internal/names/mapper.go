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
// written as they are on Windows and on macOS, as a Mapper given the same
// paths in the same order would change them: each name (a folder's once)
// that Component changes, and each that a Mapper would tag. It keeps
// 64-bit hashes, not names: about 30 bytes a file (two for the systems'
// Keys of each name, one for each folder), where a Mapper keeps the names.
// A path that names a file and, with more after it, a folder counts the
// second as a collision: tar cannot make both either.
type Census struct {
	seed    maphash.Seed
	keys    hashSet // (system, folder, Key) of each name met
	folders hashSet // (folder, name) of each folder met
	// For Windows and for macOS: the names that change, why, and the
	// archive path of the first (the folder's, for a folder).
	Windows, Darwin Count
}

// Count is what a Census counts for one system.
type Count struct {
	Names   int
	Reasons Reason
	First   string
}

// NewCensus returns an empty Census.
func NewCensus() *Census { return &Census{seed: maphash.MakeSeed()} }

// Add counts the names of path not counted yet.
func (c *Census) Add(path string) {
	var parent uint64 // the hash of the folder's archive path
	end := 0
	for {
		i := strings.IndexByte(path[end:], '/')
		folder := i >= 0
		if !folder {
			i = len(path) - end
		}
		name := path[end : end+i]
		end += i
		h := c.hash(parent, 'n', name)
		if !folder || !c.folders.add(h) {
			c.count(parent, name, path[:end])
		}
		if !folder {
			return
		}
		parent = h
		end++ // the slash
	}
}

// count counts name, new in the folder whose hash is parent.
func (c *Census) count(parent uint64, name, at string) {
	for _, s := range []struct {
		goos string
		n    *Count
	}{{Windows, &c.Windows}, {Darwin, &c.Darwin}} {
		w, why := Component(s.goos, name)
		if c.keys.add(c.hash(parent, s.goos[0], Key(s.goos, w))) {
			why |= Collision
		}
		if why != 0 {
			if s.n.Names == 0 {
				s.n.First = at
			}
			s.n.Names++
			s.n.Reasons |= why
		}
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

// hashSet is a set of 64-bit hashes in an open-addressed table: 8 bytes a
// slot, at most three quarters full.
type hashSet struct {
	slots []uint64 // 0: empty; hashes are made non-zero
	n     int
}

// add adds h and reports whether it was there already.
func (s *hashSet) add(h uint64) bool {
	h |= 1
	if (s.n+1)*4 > len(s.slots)*3 {
		old := s.slots
		s.slots, s.n = make([]uint64, max(64, 2*len(old))), 0
		for _, v := range old {
			if v != 0 {
				s.insert(v)
			}
		}
	}
	return s.insert(h)
}

func (s *hashSet) insert(h uint64) bool {
	mask := uint64(len(s.slots) - 1)
	for i := (h >> 1) & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return true
		case 0:
			s.slots[i] = h
			s.n++
			return false
		}
	}
}
