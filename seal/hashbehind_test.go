package seal

import (
	"bytes"
	"hash"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/minio/sha256-simd"
)

// TestBehind: bytes written to several hashes in turn, in pieces of any
// size (a buffer's worth and more among them), sum as hashing them at
// once does; a reader hashed behind sums what was read.
func TestBehind(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(rng.IntN(256))
	}
	b := newBehind()
	defer b.stop()
	for round := range 50 {
		var parts [3][]byte
		hs := [3]hash.Hash{}
		for i := range hs {
			hs[i] = sha256.New()
		}
		for range 1 + rng.IntN(20) {
			i, n := rng.IntN(3), rng.IntN(behindSize*2+7)
			off := rng.IntN(len(data) - n)
			p := data[off : off+n]
			b.write(hs[i], p)
			parts[i] = append(parts[i], p...)
		}
		for i := range hs {
			want := sha256.Sum256(parts[i])
			if got := b.sum(hs[i]); !bytes.Equal(got, want[:]) {
				t.Fatalf("round %d, hash %d: %x, want %x", round, i, got, want)
			}
		}
	}

	r := newHashBehind(bytes.NewReader(data), sha256.New())
	if _, err := io.CopyBuffer(io.Discard, r, make([]byte, 12345)); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)
	if got := r.Sum(); !bytes.Equal(got, want[:]) {
		t.Fatalf("reader: %x, want %x", got, want)
	}
	r.Stop()
}
