package acquire

import (
	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/netstat"
	"github.com/scelle/scelle/collect/proc"
	"github.com/scelle/scelle/collect/system"
	"github.com/scelle/scelle/collect/users"
)

// natives returns every native collector this binary links, by name, for
// the definitions to select from.
func natives(o *Options) map[string]collect.Collector {
	m := map[string]collect.Collector{}
	for _, set := range [][]collect.Collector{
		proc.Collectors(proc.Options{MemoryPIDs: o.MemoryPIDs}), netstat.Collectors(), system.Collectors(), users.Collectors(),
	} {
		for _, c := range set {
			m[c.Name()] = c
		}
	}
	return m
}
