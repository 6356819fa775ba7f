package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/seal"
)

// bagSink adapts the bag writer to the collector's Sink. An output
// failure (disk full, stick pulled) cancels the collection.
type bagSink struct {
	w      *seal.Writer
	cancel context.CancelCauseFunc
	// budget bounds the archive's size (0: none); reserve is kept for the
	// tag files written at sealing.
	budget, reserve int64
}

func (b *bagSink) Put(ctx context.Context, m collect.Meta, r io.Reader) (collect.Stored, error) {
	if b.budget > 0 {
		// An item is taken only if it fits even uncompressed, so the
		// largest items are the ones left out when space runs short.
		size := m.Size
		if size < 0 {
			size = 16 << 20
		}
		if left := b.budget - b.reserve - b.w.Written(); size > left {
			return collect.Stored{}, &collect.SkipError{Reason: fmt.Sprintf("output budget: %d bytes would exceed the %d left of --max-output", size, max(left, 0))}
		}
	}
	res, err := b.w.Put(ctx, seal.Entry{Name: m.Name, Size: m.Size, ModTime: m.ModTime}, r)
	if errors.Is(err, seal.ErrOutput) {
		b.cancel(err)
	}
	return collect.Stored{Path: res.Path, Size: res.Size, SHA256: res.SHA256, Padded: res.Padded,
		Truncated: res.Truncated}, err
}
