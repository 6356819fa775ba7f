// Package chaintest seals small bags the way scelle collect does (a
// record listing every file, the acquired and sealed custody events) for
// the tests of the packages that check them (verdict, vault). It is for
// tests only.
package chaintest

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"io"
	"testing"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/seal"
)

// File is one collected file of a test bag: its host path (stored as
// "fs" + Source) and its content.
type File struct {
	Source string
	Size   int64
	Body   io.Reader
}

// SealBag seals in dir, with key, a bag of case C-1 and collection
// c0ffee holding files, each a collected item of the record, with the
// acquired and sealed custody events signed by key.
func SealBag(t testing.TB, dir string, key ed25519.PrivateKey, files ...File) *seal.Sealed {
	t.Helper()
	w, err := seal.Create(dir, seal.Options{Key: key, Collection: "c0ffee", Tool: "scelle test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.AppendCustody(w.PartialDir(), chain.AcquiredEvent("", "C-1", "box", "scelle test", nil), key); err != nil {
		t.Fatal(err)
	}
	pub, _ := seal.PublicKeyPEM(w.PublicKey())
	rec := &chain.Record{Format: chain.RecordFormat, Collection: "c0ffee", Case: "C-1",
		Key: chain.Key{Fingerprint: seal.KeyFingerprint(w.PublicKey()), PublicKey: string(pub)}}
	for _, f := range files {
		res, err := w.Put(context.Background(), seal.Entry{Name: "fs" + f.Source, Size: f.Size}, f.Body)
		if err != nil {
			t.Fatal(err)
		}
		rec.Items = append(rec.Items, evidence.Item{Collector: "files", Class: "disk", Source: f.Source, Path: res.Path,
			Kind: "file", Status: evidence.Collected, Size: res.Size, SHA256: hex.EncodeToString(res.SHA256[:])})
	}
	rec.Summarize()
	b, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	s, err := w.Seal(b, seal.BagInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.AppendCustody(dir, chain.SealedEvent(s, rec.Summary, nil), key); err != nil {
		t.Fatal(err)
	}
	return s
}
