package qemutest

import "testing"

// checkMemory checks the bag's image of physical memory.
func checkMemory(t *testing.T, e env, r run, bag string) {
	for _, name := range []string{"iomem", "version", "vmcoreinfo"} {
		b, ok := block(r.log, name)
		t.Logf("%s (%v):\n%s", name, ok, b)
	}
}
