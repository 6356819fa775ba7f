package winlive

import (
	"context"
	"io"
	"runtime"
	"testing"

	"github.com/scelle/scelle/collect"
)

// discard is a Sink that reads and drops what it is given.
type discard struct{}

func (discard) Put(ctx context.Context, m collect.Meta, r io.Reader) (collect.Stored, error) {
	n, err := io.Copy(io.Discard, r)
	return collect.Stored{Path: "data/" + m.Name, Size: n}, err
}

// BenchmarkVolatile runs every win.* collector once per iteration, as
// the windows-triage profile's volatile part does, and reports the heap
// in use at the end of the run (MiB) besides the time.
func BenchmarkVolatile(b *testing.B) {
	env := &collect.Env{Root: `C:\`, Live: true, OS: "windows"}
	var peak uint64
	for b.Loop() {
		for _, c := range Collectors() {
			if err := c.Collect(context.Background(), collect.NewSession(env, c, discard{}, func(collect.Outcome) {})); err != nil {
				b.Fatal(err)
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
