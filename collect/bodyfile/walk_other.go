//go:build !linux

package bodyfile

import (
	"context"

	"github.com/scelle/scelle/collect"
)

// Collect implements collect.Collector. The walk needs Linux's statx and
// directory file descriptors; elsewhere every root is recorded as skipped.
func (w *Walker) Collect(ctx context.Context, s *collect.Session) error {
	for _, r := range cleanRoots(w.Roots) {
		s.Skip(r, collect.KindDir, "bodyfile walk is implemented for Linux only")
	}
	return nil
}
