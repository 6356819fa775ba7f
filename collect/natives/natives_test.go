package natives_test

import (
	"slices"
	"testing"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/memory"
	"github.com/scelle/scelle/collect/mft"
	_ "github.com/scelle/scelle/collect/natives"
	"github.com/scelle/scelle/collect/netstat"
	"github.com/scelle/scelle/collect/proc"
	"github.com/scelle/scelle/collect/system"
	"github.com/scelle/scelle/collect/users"
	"github.com/scelle/scelle/collect/winlive"
)

// TestRegistered checks that each native the registry lists makes a
// collector of its name and class, and that every collector a family
// package returns is registered, by that family, with its class.
func TestRegistered(t *testing.T) {
	all := collect.Natives()
	if len(all) == 0 {
		t.Fatal("no native registered")
	}
	opts := collect.NativeOptions{MemoryPIDs: []int{1}}
	for _, n := range all {
		c := n.New(opts)
		if c == nil {
			t.Errorf("%s: nil collector for options %+v", n.Name, opts)
			continue
		}
		if c.Name() != n.Name || c.Class() != n.Class {
			t.Errorf("%s (%v): makes %s (%v)", n.Name, n.Class, c.Name(), c.Class())
		}
	}
	families := map[string][]collect.Collector{
		"proc":    proc.Collectors(proc.Options{MemoryPIDs: []int{1}}),
		"netstat": netstat.Collectors(),
		"system":  system.Collectors(),
		"users":   users.Collectors(),
		"memory":  memory.Collectors(),
		"mft":     mft.Collectors(),
		"winlive": winlive.Collectors(),
	}
	for family, cs := range families {
		for _, c := range cs {
			n, ok := collect.LookupNative(c.Name())
			if !ok || n.Family != family || n.Class != c.Class() {
				t.Errorf("%s.Collectors returns %s (%v); registered: %+v, %v", family, c.Name(), c.Class(), n, ok)
			}
		}
	}
	for _, n := range all {
		if _, ok := families[n.Family]; !ok {
			t.Errorf("%s: family %q not checked here", n.Name, n.Family)
		}
	}
	if !slices.IsSortedFunc(all, func(a, b collect.Native) int {
		if a.Name < b.Name {
			return -1
		}
		return 1
	}) {
		t.Error("Natives not sorted by name")
	}
}
