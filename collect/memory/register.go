package memory

import "github.com/scelle/scelle/collect"

// The collector of physical memory, as definitions name it
// (collect.Register).
func init() {
	collect.Register(collect.Native{Name: CollectorName, Family: "memory", Class: collect.ClassSystem,
		OS: []string{"linux"}, Description: "physical memory (System RAM) as a LiME image in chunks, range by range, from /proc/kcore, /dev/crash or /dev/mem",
		New: func(o collect.NativeOptions) collect.Collector { return &RAM{Skip: o.NoRAM} }})
}

// Collectors returns the family's collectors.
func Collectors() []collect.Collector { return []collect.Collector{&RAM{}} }
