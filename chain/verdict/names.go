package verdict

import (
	"github.com/scelle/scelle/internal/names"
)

// Unportable says how many of a bag's payload names cannot be created as
// they are on one system's default file systems: reserved names (CON,
// aux.txt), trailing dots and spaces, characters such as ":", names of a
// folder that differ only in case. scelle extract maps them there (package
// names) and lists the mapping. It is a note, never a failed check.
type Unportable struct {
	OS      string `json:"os"`      // a GOOS value: "windows", "darwin"
	Names   int    `json:"names"`   // files and folders, a folder once
	Reasons string `json:"reasons"` // in words, comma-separated
	First   string `json:"first"`   // the archive path of the first
}

// countNames counts the names of p, a stored item's archive path, that
// cannot be created as they are on Windows or macOS.
func (d *RecordDigest) countNames(p string) {
	if d.census == nil {
		d.census = names.NewCensus()
	}
	d.census.Add(p)
}

// unportable returns what countNames found, a system where it found
// something.
func (d *RecordDigest) unportable() []Unportable {
	if d == nil || d.census == nil {
		return nil
	}
	var out []Unportable
	for _, s := range []struct {
		goos string
		n    names.Count
	}{{names.Windows, d.census.Windows}, {names.Darwin, d.census.Darwin}} {
		if s.n.Names > 0 {
			out = append(out, Unportable{OS: s.goos, Names: s.n.Names, Reasons: s.n.Reasons.String(), First: s.n.First})
		}
	}
	return out
}
