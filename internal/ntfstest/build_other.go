//go:build !linux

package ntfstest

import "testing"

// Build skips tb: images are built with ntfs-3g, on Linux only.
func Build(tb testing.TB, opts Options) *Image {
	tb.Helper()
	tb.Skip("ntfstest: NTFS images are built on Linux only")
	return nil
}
