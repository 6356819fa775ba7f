package seal

import (
	"encoding/binary"
	"math/bits"

	sha256 "github.com/minio/sha256-simd"
)

// SetDigest is an order-free digest of a set of (path, SHA-256) pairs: how
// many were added, and the sum modulo 2^256 of the SHA-256 of each
// "path NUL hex". Two listings of the same pairs, in any order, have the
// same digest; two different listings have the same one only by a chance
// of about 2^-256, or by design: a sum of hashes is not collision
// resistant against whoever chooses the pairs. So it serves to check that
// two lists one signer made agree (the record and the manifest of a bag
// whose signature holds), never to authenticate a list. The zero value is
// the digest of no pair.
type SetDigest struct {
	sum [4]uint64
	n   int
}

// Add adds one pair.
func (d *SetDigest) Add(path, sha256Hex string) {
	h := sha256.New()
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write([]byte(sha256Hex))
	var b [32]byte
	h.Sum(b[:0])
	var carry uint64
	for i := range d.sum {
		d.sum[i], carry = bits.Add64(d.sum[i], binary.LittleEndian.Uint64(b[8*i:]), carry)
	}
	d.n++
}

// Len is the number of pairs added.
func (d *SetDigest) Len() int { return d.n }
