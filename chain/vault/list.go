package vault

import (
	"bytes"
	"context"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/scelle/scelle/chain"
)

// BagSummary is one bag of a prefix, as its custody log (the latest
// version in the store) describes it. List does not verify the log
// against the bag: Verify does.
type BagSummary struct {
	Prefix      string `json:"prefix"` // the bag's folder, PREFIX/BAG/
	Case        string `json:"case,omitempty"`
	Host        string `json:"host,omitempty"`
	Acquired    string `json:"acquired,omitempty"` // time of the acquired event
	Sealed      string `json:"sealed,omitempty"`   // time of the sealed event
	Root        string `json:"root,omitempty"`
	Items       *int   `json:"items,omitempty"`
	RetainUntil string `json:"retain_until,omitempty"` // the earliest of the last stored event's objects
	LegalHold   bool   `json:"legal_hold,omitempty"`
	NoLock      bool   `json:"no_lock,omitempty"`
	LastEvent   string `json:"last_event,omitempty"`
	LastTime    string `json:"last_time,omitempty"`
	// Err says why the custody log could not be read ("" when it was).
	Err string `json:"error,omitempty"`
}

// List returns a summary of each bag folder directly under loc, read from
// its custody log only (a few KiB a bag), in name order.
func (s *Store) List(ctx context.Context, loc Location) ([]BagSummary, error) {
	var out []BagSummary
	for o := range s.core.Client.ListObjects(ctx, loc.Bucket, minio.ListObjectsOptions{Prefix: loc.folder()}) {
		if o.Err != nil {
			return nil, s.classify(o.Err, loc.Bucket)
		}
		if !strings.HasSuffix(o.Key, "/") {
			continue // an object, not a folder
		}
		out = append(out, s.summary(ctx, loc.Bucket, o.Key))
	}
	return out, nil
}

func (s *Store) summary(ctx context.Context, bucket, prefix string) BagSummary {
	b := BagSummary{Prefix: prefix}
	custody, _, err := s.readCustody(ctx, bucket, prefix+custodyName)
	if err != nil {
		b.Err = err.Error()
		return b
	}
	c, err := chain.ReadCustody(bytes.NewReader(custody))
	if err != nil {
		b.Err = err.Error()
		return b
	}
	if c.Err != nil {
		b.Err = c.Err.Error()
	}
	for _, e := range c.Entries {
		switch e.Event {
		case chain.EventAcquired:
			b.Case, b.Host, b.Acquired = e.Case, e.Host, e.Time
		case chain.EventSealed:
			b.Sealed, b.Root, b.Items = e.Time, e.Root, e.Items
		case chain.EventStored:
			if e.Store.Bucket == bucket && e.Store.Prefix == prefix {
				b.RetainUntil, b.LegalHold, b.NoLock = "", false, e.Store.NoLock
				for _, o := range e.Store.Objects {
					if o.RetainUntil != "" && (b.RetainUntil == "" || o.RetainUntil < b.RetainUntil) {
						b.RetainUntil = o.RetainUntil
					}
					b.LegalHold = b.LegalHold || o.LegalHold
				}
			}
		}
		b.LastEvent, b.LastTime = e.Event, e.Time
	}
	return b
}
