package proc

import "github.com/scelle/scelle/collect"

// The process collectors, as definitions name them (collect.Register).
func init() {
	for _, n := range []collect.Native{
		{Name: "proc.table", Description: "process table with command lines, environment, open files and maps",
			New: func(o collect.NativeOptions) collect.Collector { return &Table{opts: options(o)} }},
		{Name: "proc.executables", Description: "SHA-256 of every running executable; deleted and memfd executables copied",
			New: func(o collect.NativeOptions) collect.Collector { return &Executables{opts: options(o)} }},
		{Name: "proc.hidden", Description: "processes that answer but are not listed in /proc",
			New: func(collect.NativeOptions) collect.Collector { return &Hidden{} }},
		{Name: "proc.memory", Description: "readable memory of the processes selected for it (scelle collect --memory), size-capped",
			New: func(o collect.NativeOptions) collect.Collector {
				if len(o.MemoryPIDs) == 0 {
					return nil // no process selected: nothing to do
				}
				return &Memory{opts: options(o)}
			}},
	} {
		n.Family, n.Class, n.OS = "proc", collect.ClassProcess, []string{"linux"}
		collect.Register(n)
	}
}

// options returns the Options of a collection's native options, with the
// default caps.
func options(o collect.NativeOptions) Options {
	return Options{MemoryPIDs: o.MemoryPIDs}.withDefaults()
}
