package winlive

import (
	"context"
	"runtime"
	"testing"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/collecttest"
)

// TestCollectorsSkip checks that on a dead box, and on another OS than
// Windows, every collector records each of its items as skipped with the
// reason, and stores nothing.
func TestCollectorsSkip(t *testing.T) {
	for _, live := range []bool{false, true} {
		if live && runtime.GOOS == "windows" {
			continue // the live run is TestLiveEveryCollector's
		}
		want := reasonDeadBox
		if runtime.GOOS != "windows" {
			want = reasonUnsupported
		}
		for _, n := range natives() {
			sink := &collecttest.Sink{}
			var outs collecttest.Outcomes
			env := &collect.Env{Root: "/", Live: live}
			c := n.c
			if err := c.Collect(context.Background(), collect.NewSession(env, c, sink, outs.Add)); err != nil {
				t.Fatal(err)
			}
			if len(sink.Files) != 0 || len(outs.All) != len(c.sources) || len(c.sources) == 0 {
				t.Errorf("%s: %d stored, %d outcomes for %d sources", c.name, len(sink.Files), len(outs.All), len(c.sources))
			}
			for _, o := range outs.All {
				if o.Status != collect.Skipped || o.Reason != want || o.Collector != c.name || o.Class != c.class.String() {
					t.Errorf("%s: %+v", c.name, o)
				}
			}
		}
	}
}
