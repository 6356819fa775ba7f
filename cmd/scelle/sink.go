package main

import (
	"context"
	"errors"
	"io"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/seal"
)

// bagSink adapts the bag writer to the collector's Sink. An output
// failure (disk full, stick pulled) cancels the collection.
type bagSink struct {
	w      *seal.Writer
	cancel context.CancelCauseFunc
}

func (b *bagSink) Put(ctx context.Context, m collect.Meta, r io.Reader) (collect.Stored, error) {
	res, err := b.w.Put(ctx, seal.Entry{Name: m.Name, Size: m.Size, ModTime: m.ModTime}, r)
	if errors.Is(err, seal.ErrOutput) {
		b.cancel(err)
	}
	return collect.Stored{Path: res.Path, Size: res.Size, SHA256: res.SHA256, Padded: res.Padded,
		Truncated: res.Truncated}, err
}
