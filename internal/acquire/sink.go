package acquire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/seal"
)

// Estimates of what the output folder holds besides the items' bytes, so
// that --max-output bounds the whole folder, not only the archive.
const (
	// sealReserve is kept for the files written at sealing and beside the
	// archive that do not grow with the items: bagit.txt, bag-info.txt,
	// the tag manifest, root.txt, root.sig, root.pub.pem, the archive's
	// .sha256, the custody log, and the record's fixed part.
	sealReserve = 64 << 10
	// perOutcome is what each outcome (stored or not) adds: its journal
	// line, beside the archive and copied into it; its record entry, in
	// record.json and in the archive; its manifest line.
	perOutcome = 3 << 10
	// perEntry is an archive entry's tar header(s), padding and frame.
	perEntry = 2 << 10
)

// bagSink adapts the bag writer to the collector's Sink. An output
// failure (disk full, stick pulled) cancels the collection.
type bagSink struct {
	w      *seal.Writer
	cancel context.CancelCauseFunc
	// budget bounds the output folder's size (0: none).
	budget int64
	// outcomes counts the outcomes recorded so far (see recorded).
	outcomes atomic.Int64
}

// recorded counts one more outcome against the budget.
func (b *bagSink) recorded() { b.outcomes.Add(1) }

// left is what the budget still allows for the bytes of one more item.
func (b *bagSink) left() int64 {
	return b.budget - sealReserve - perEntry - b.w.Written() - (b.outcomes.Load()+1)*perOutcome
}

func (b *bagSink) Put(ctx context.Context, m collect.Meta, r io.Reader) (collect.Stored, error) {
	if ctx.Err() != nil {
		// Interrupted: store nothing more (a reader on a cancelled context
		// would yield only zero padding).
		return collect.Stored{}, &collect.SkipError{Reason: "interrupted before this item was read"}
	}
	if b.budget > 0 {
		// An item is taken only if it fits even uncompressed, so the
		// largest items are the ones left out when space runs short.
		size := m.Size
		if size < 0 {
			size = 16 << 20
		}
		if left := b.left(); size > left {
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
