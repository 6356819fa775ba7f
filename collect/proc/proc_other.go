//go:build !linux

package proc

import (
	"context"
	"runtime"

	"github.com/scelle/scelle/collect"
)

var unsupported = "process collection is not supported on " + runtime.GOOS

func skipAll(s *collect.Session) error {
	s.Skip(s.Env.Linux.Proc, collect.KindGenerated, unsupported)
	return nil
}

// Collect implements collect.Collector.
func (t *Table) Collect(ctx context.Context, s *collect.Session) error { return skipAll(s) }

// Collect implements collect.Collector.
func (e *Executables) Collect(ctx context.Context, s *collect.Session) error { return skipAll(s) }

// Collect implements collect.Collector.
func (h *Hidden) Collect(ctx context.Context, s *collect.Session) error { return skipAll(s) }

// Collect implements collect.Collector.
func (m *Memory) Collect(ctx context.Context, s *collect.Session) error { return skipAll(s) }
