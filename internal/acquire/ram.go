package acquire

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/memory"
	"github.com/scelle/scelle/internal/units"
)

// The output must have room for the physical memory plus a margin: the
// rest of the collection, and memory that does not compress.
const (
	ramMarginFixed = 512 << 20
	ramMarginShare = 32 // plus 1/32 of the RAM
	// ramRate is the capture rate an estimate assumes: a USB 3 stick,
	// below what the capture reaches on a fast disk.
	ramRate = 100 << 20
)

// ReasonNoRAM is why the RAM is skipped with Options.NoRAM.
const ReasonNoRAM = "--no-ram"

// RAMPlan is what a collection plans for the host's physical memory
// (collector memory.ram), said before it starts.
type RAMPlan struct {
	// Planned is set when the profile captures the RAM of this live
	// host: the other fields then say how, or why not.
	Planned bool
	// Source is the source that will be read ("/proc/kcore"); empty when
	// none works, and Refused says why (the collector records it).
	Source  string
	Refused string
	// Bytes is the RAM planned; Need adds the margin; Room is what the
	// output can take (its free space, within --max-output), -1 when
	// unknown.
	Bytes, Need, Room int64
	// Estimate is the time the capture should take at 100 MiB/s.
	Estimate time.Duration
	// Skip says why the RAM will not be captured ("--no-ram", no room).
	Skip string
}

// PlanRAM returns the plan of the host's physical memory for a collection
// with opts, without collecting anything: the interactive start shows it
// before asking once.
func PlanRAM(opts Options) (RAMPlan, error) {
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return RAMPlan{}, &OptionError{err}
	}
	out, err := filepath.Abs(opts.Out)
	if err != nil {
		return RAMPlan{}, err
	}
	env := collect.HostEnv(root)
	cs, err := plan(&opts, &env, out, root)
	if err != nil {
		return RAMPlan{}, err
	}
	return planRAM(ramCollector(cs), &env, out, opts.Budget), nil
}

// ramCollector returns the collector of physical memory among cs.
func ramCollector(cs []collect.Collector) *memory.RAM {
	for _, c := range cs {
		if m, ok := c.(*memory.RAM); ok {
			return m
		}
	}
	return nil
}

// planRAM plans the capture of c, nil when the profile has none, into the
// output folder out (which exists, or whose parent does).
func planRAM(c *memory.RAM, env *collect.Env, out string, budget int64) RAMPlan {
	if c == nil || !env.Live || env.TargetOS() != "linux" {
		return RAMPlan{}
	}
	p := RAMPlan{Planned: true, Room: -1, Skip: c.Skip}
	if p.Skip != "" {
		return p
	}
	paths := c.Paths
	if paths == (memory.Paths{}) {
		paths = memory.HostPaths
	}
	src, err := memory.Open(paths)
	if err != nil {
		p.Refused = err.Error()
		return p
	}
	p.Source = src.Name
	for _, e := range src.Extents {
		p.Bytes += int64(e.Size())
	}
	src.Close()
	p.Need = p.Bytes + p.Bytes/ramMarginShare + ramMarginFixed
	p.Estimate = time.Duration(p.Bytes/ramRate+1) * time.Second
	p.Room = freeSpace(out)
	if budget > 0 && (p.Room < 0 || budget < p.Room) {
		p.Room = budget
	}
	if p.Room >= 0 && p.Need > p.Room {
		p.Skip = fmt.Sprintf("no room: the output can take %s, the physical memory needs %s (%s of RAM plus margin)",
			units.Bytes(p.Room), units.Bytes(p.Need), units.Bytes(p.Bytes))
	}
	return p
}
