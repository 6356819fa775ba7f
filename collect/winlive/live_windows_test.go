package winlive

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/collecttest"
)

// liveRun runs one collector on this host and returns what it stored
// and its outcomes.
func liveRun(t *testing.T, name string) (*collecttest.Sink, []collect.Outcome) {
	t.Helper()
	env := &collect.Env{Root: `C:\`, Live: true, OS: "windows"}
	var c collect.Collector
	for _, x := range Collectors() {
		if x.Name() == name {
			c = x
		}
	}
	if c == nil {
		t.Fatalf("no collector %s", name)
	}
	sink := &collecttest.Sink{}
	var outs collecttest.Outcomes
	if err := c.Collect(context.Background(), collect.NewSession(env, c, sink, outs.Add)); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, o := range outs.All {
		t.Logf("%s: %s %s %s %q", name, o.Status, o.Source, o.Path, o.Reason)
	}
	return sink, outs.All
}

// records decodes a stored JSON Lines file.
func records[T any](t *testing.T, sink *collecttest.Sink, name string) []T {
	t.Helper()
	b, ok := sink.Files[name]
	if !ok {
		t.Fatalf("%s not stored", name)
	}
	var out []T
	dec := json.NewDecoder(bytesReader(b))
	for dec.More() {
		var v T
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, v)
	}
	return out
}

func TestLiveEveryCollector(t *testing.T) {
	for _, c := range Collectors() {
		t.Run(c.Name(), func(t *testing.T) {
			_, outs := liveRun(t, c.Name())
			if len(outs) == 0 {
				t.Errorf("%s recorded no outcome", c.Name())
			}
		})
	}
}

func TestLiveDump(t *testing.T) {
	for _, c := range Collectors() {
		sink, _ := liveRun(t, c.Name())
		for _, n := range sink.Order {
			b := sink.Files[n]
			if len(b) > 1500 {
				b = b[:1500]
			}
			t.Logf("== %s (%d bytes)\n%s", n, len(sink.Files[n]), b)
		}
	}
}
