package seal

import (
	"encoding/binary"

	sha256 "github.com/minio/sha256-simd"
)

// nameSet counts the uses of archive names in bounded memory: 8 bytes a
// name (the first 64 bits of its SHA-256) in an open-addressed table,
// where a map of the names themselves took about 100 bytes a name. Only
// names met more than once are kept whole, with their count.
//
// Two different names whose hashes agree (about one chance in 10^7 among
// a million names, and not something an attacker who names files can aim
// for without breaking SHA-256) make the second one look taken: it gets a
// "^23N" suffix it did not need, which is harmless, since the name stays
// unique and the record keeps the original.
type nameSet struct {
	slots []uint64 // 0: empty; hashes are made non-zero
	n     int
	dups  map[string]int
}

// add records one use of name and returns how many uses it now has.
func (s *nameSet) add(name string) int {
	sum := sha256.Sum256([]byte(name))
	h := binary.LittleEndian.Uint64(sum[:8]) | 1
	if s.n+1 > len(s.slots)*3/4 {
		s.grow()
	}
	if !s.insert(h) {
		return 1
	}
	if s.dups == nil {
		s.dups = map[string]int{}
	}
	c := s.dups[name]
	if c == 0 {
		c = 1 // the first use was counted in slots only
	}
	c++
	s.dups[name] = c
	return c
}

// insert adds h and reports whether it was there already.
func (s *nameSet) insert(h uint64) bool {
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
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

func (s *nameSet) grow() {
	old := s.slots
	size := 1024
	if len(old) > 0 {
		size = 2 * len(old)
	}
	s.slots, s.n = make([]uint64, size), 0
	for _, h := range old {
		if h != 0 {
			s.insert(h)
		}
	}
}
