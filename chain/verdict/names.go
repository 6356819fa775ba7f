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

// portableFor are the systems whose names the record's items are checked
// for.
var portableFor = []string{names.Windows, names.Darwin}

// countNames counts the names of p, a stored item's archive path, that
// cannot be created as they are on each system of portableFor.
func (d *RecordDigest) countNames(p string) {
	if d.census == nil {
		for _, goos := range portableFor {
			d.census = append(d.census, names.NewCensus(goos))
		}
	}
	for _, c := range d.census {
		c.Add(p)
	}
}

// unportable returns what countNames found, a system where it found
// something.
func (d *RecordDigest) unportable() []Unportable {
	if d == nil {
		return nil
	}
	var out []Unportable
	for i, c := range d.census {
		if c.Names > 0 {
			out = append(out, Unportable{OS: portableFor[i], Names: c.Names, Reasons: c.Reasons.String(), First: c.First})
		}
	}
	return out
}
