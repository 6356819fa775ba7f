package ntfs

import (
	"bytes"
	"crypto/sha256"
)

// pattern returns n bytes that differ from one call to the next.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}

func sum(b []byte) [32]byte { return sha256.Sum256(b) }

func equalBytes(a, b []byte) bool { return bytes.Equal(a, b) }
