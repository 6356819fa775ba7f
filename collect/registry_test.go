package collect

import (
	"context"
	"strings"
	"testing"
)

type fake struct{ name string }

func (f fake) Name() string                            { return f.name }
func (f fake) Class() Class                            { return ClassSystem }
func (f fake) Collect(context.Context, *Session) error { return nil }

func native(name string) Native {
	return Native{Name: name, Family: "fake", Class: ClassSystem, OS: []string{"linux"}, Description: "a fake",
		New: func(NativeOptions) Collector { return fake{name} }}
}

func TestRegistry(t *testing.T) {
	var r registry
	b, a := native("fake.b"), native("fake.a")
	a.OS = []string{"linux", "windows"}
	a.New = func(o NativeOptions) Collector {
		if len(o.MemoryPIDs) == 0 {
			return nil
		}
		return fake{"fake.a"}
	}
	r.register(b)
	r.register(a)
	a.OS[0] = "plan9" // the registry keeps its own copy
	list := r.list()
	if len(list) != 2 || list[0].Name != "fake.a" || list[1].Name != "fake.b" {
		t.Fatalf("list = %+v", list)
	}
	if !list[0].Supports("linux") || !list[0].Supports("windows") || list[1].Supports("windows") {
		t.Errorf("Supports: %v, %v", list[0].OS, list[1].OS)
	}
	list[0].OS[0] = "plan9" // nor does it share it with callers
	if n, ok := r.lookup("fake.a"); !ok || n.OS[0] != "linux" || n.Family != "fake" {
		t.Errorf("lookup = %+v, %v", n, ok)
	}
	if _, ok := r.lookup("fake.c"); ok {
		t.Error("lookup of an unregistered name succeeded")
	}
}

func TestRegisterDuplicatePanics(t *testing.T) {
	Register(native("fake.twice"))
	defer func() {
		p := recover()
		if s, _ := p.(string); !strings.Contains(s, `native "fake.twice" registered twice`) {
			t.Errorf("second Register: panic %v", p)
		}
	}()
	Register(native("fake.twice"))
}

func TestRegisterIncomplete(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*Native)
		want string
	}{
		{"bad name", func(n *Native) { n.Name = "Proc" }, `bad name "Proc"`},
		{"one word", func(n *Native) { n.Name = "proc" }, `bad name "proc"`},
		{"no family", func(n *Native) { n.Family = "" }, "no family"},
		{"no class", func(n *Native) { n.Class = 0 }, "bad class"},
		{"no OS", func(n *Native) { n.OS = nil }, "no OS"},
		{"unknown OS", func(n *Native) { n.OS = []string{"Linux"} }, `unknown OS "Linux"`},
		{"no description", func(n *Native) { n.Description = "" }, "description"},
		{"two lines", func(n *Native) { n.Description = "a\nb" }, "description of one line"},
		{"no constructor", func(n *Native) { n.New = nil }, "no constructor"},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := native("fake.x")
			c.edit(&n)
			defer func() {
				p := recover()
				if s, _ := p.(string); !strings.HasPrefix(s, "collect: register native: ") || !strings.Contains(s, c.want) {
					t.Errorf("panic %v, want %q", p, c.want)
				}
			}()
			var r registry
			r.register(n)
		})
	}
}

func TestNewNatives(t *testing.T) {
	Register(native("fake.made"))
	idle := native("fake.idle")
	idle.New = func(o NativeOptions) Collector {
		if len(o.MemoryPIDs) == 0 {
			return nil
		}
		return fake{"fake.idle"}
	}
	Register(idle)
	m := NewNatives(NativeOptions{})
	if c, ok := m["fake.made"]; !ok || c.Name() != "fake.made" {
		t.Errorf("NewNatives: %v", m)
	}
	if c, ok := m["fake.idle"]; !ok || c != nil {
		t.Errorf("a native with nothing to do: %v, %v; want nil, true", c, ok)
	}
	if c := NewNatives(NativeOptions{MemoryPIDs: []int{1}})["fake.idle"]; c == nil {
		t.Error("a native given something to do: nil")
	}
}
