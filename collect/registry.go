package collect

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Native describes a native collector: one built in Go, that definitions
// name with their native key. Each family package registers its natives
// once, from an init function, with Register.
type Native struct {
	// Name is the collector's name ("proc.table"): the name its Collector
	// returns and the one definitions give.
	Name string
	// Family is the package that registers it ("proc", "netstat").
	Family string
	// Class is the collector's volatility class.
	Class Class
	// OS lists the operating systems, as GOOS values ("linux",
	// "windows"), whose hosts the collector collects.
	OS []string
	// Description says in one line what the collector takes.
	Description string
	// New makes the collector with the collection's options. It returns
	// nil when the options leave the collector nothing to do (proc.memory
	// without MemoryPIDs): the collector is then not run.
	New func(NativeOptions) Collector
}

// NativeOptions are the settings of one collection that native collectors
// read. Every constructor receives all of them and reads the fields it
// needs, so that the caller that sets them need not know which collector
// reads what. A new setting is a new field here.
type NativeOptions struct {
	// MemoryPIDs lists the processes whose readable memory is stored
	// (proc.memory). Empty: no process memory.
	MemoryPIDs []int
	// NoRAM, when set, says why the host's physical memory is not
	// captured ("--no-ram", or the output has no room for it): the
	// collector of physical memory records it as skipped with that reason.
	NoRAM string
}

// Supports reports whether the collector collects hosts of the OS goos.
func (n Native) Supports(goos string) bool { return slices.Contains(n.OS, goos) }

// knownOS are the GOOS values that definitions and natives may name
// (go tool dist list).
var knownOS = []string{"aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js",
	"linux", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows"}

// KnownOS reports whether goos is an operating system name Go knows
// ("linux", "windows", "darwin" ...).
func KnownOS(goos string) bool { return slices.Contains(knownOS, goos) }

// nativeName is a native's name: dotted lower-case words, two at least
// (the item names of collect/profile).
var nativeName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$`)

// registry holds the natives by name.
type registry struct {
	mu      sync.RWMutex
	natives map[string]Native
}

var natives registry

// Register adds a native collector to the registry. It is called from the
// init function of the collector's package, and panics when n is not
// complete or when a native of the same name is already registered: both
// are programming errors that every run of the binary would meet.
func Register(n Native) { natives.register(n) }

// Natives returns every registered native, sorted by name.
func Natives() []Native { return natives.list() }

// LookupNative returns the registered native called name.
func LookupNative(name string) (Native, bool) { return natives.lookup(name) }

// NewNatives makes every registered native with opts and returns them by
// name. A native whose constructor returns nil (nothing to do with these
// options) is in the map with a nil Collector.
func NewNatives(opts NativeOptions) map[string]Collector {
	m := map[string]Collector{}
	for _, n := range Natives() {
		m[n.Name] = n.New(opts)
	}
	return m
}

func (r *registry) register(n Native) {
	if err := n.check(); err != nil {
		panic("collect: register native: " + err.Error())
	}
	n.OS = slices.Clone(n.OS)
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, dup := r.natives[n.Name]; dup {
		panic(fmt.Sprintf("collect: native %q registered twice, by %s and %s", n.Name, old.Family, n.Family))
	}
	if r.natives == nil {
		r.natives = map[string]Native{}
	}
	r.natives[n.Name] = n
}

func (n Native) check() error {
	switch {
	case !nativeName.MatchString(n.Name):
		return fmt.Errorf("bad name %q: want dotted lower-case words (\"proc.table\")", n.Name)
	case n.Family == "":
		return fmt.Errorf("%s: no family", n.Name)
	case classNames[n.Class] == "":
		return fmt.Errorf("%s: bad class %v", n.Name, n.Class)
	case len(n.OS) == 0:
		return fmt.Errorf("%s: no OS", n.Name)
	case n.Description == "" || strings.ContainsAny(n.Description, "\r\n"):
		return fmt.Errorf("%s: want a description of one line", n.Name)
	case n.New == nil:
		return fmt.Errorf("%s: no constructor", n.Name)
	}
	for _, o := range n.OS {
		if !KnownOS(o) {
			return fmt.Errorf("%s: unknown OS %q", n.Name, o)
		}
	}
	return nil
}

func (r *registry) list() []Native {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Native, 0, len(r.natives))
	for _, n := range r.natives {
		n.OS = slices.Clone(n.OS)
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (r *registry) lookup(name string) (Native, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n, ok := r.natives[name]
	n.OS = slices.Clone(n.OS)
	return n, ok
}
