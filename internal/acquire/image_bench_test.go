package acquire

import (
	"context"
	"testing"

	"github.com/scelle/scelle/internal/ntfstest"
)

// BenchmarkCollectImage collects the windows-triage set of a 2 GiB NTFS
// volume holding 100,000 files, in a GPT disk image (docs/performance.md,
// "Windows triage of an NTFS image"). The image is built once and cached
// by ntfstest (a few minutes the first time).
func BenchmarkCollectImage(b *testing.B) {
	img := ntfstest.Build(b, ntfstest.Options{Layout: ntfstest.GPT, ExtraFiles: 100000, VolumeSize: 2 << 30})
	b.ResetTimer()
	for b.Loop() {
		res, err := Run(context.Background(), Options{Case: "bench", Out: b.TempDir(), Image: img.Path,
			NoReadBack: true, Version: "bench"}, Progress{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.Sealed.Items), "items")
	}
}
