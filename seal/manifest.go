package seal

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxManifestLine bounds one manifest line (a path of 4 KiB, encoded).
const MaxManifestLine = 64 << 10

// ManifestLine formats one manifest line as BagIt and GNU sha256sum both
// read it: lower-case hex, two spaces, the encoded path, a line feed.
func ManifestLine(sum [32]byte, path string) string {
	return hex.EncodeToString(sum[:]) + "  " + path + "\n"
}

// ParseManifestLine parses one manifest line (without its line feed).
func ParseManifestLine(line string) (sum [32]byte, path string, err error) {
	line = strings.TrimSuffix(line, "\r")
	if len(line) < 66 {
		return sum, "", errors.New("line too short")
	}
	if _, err := hex.Decode(sum[:], []byte(line[:64])); err != nil {
		return sum, "", fmt.Errorf("checksum: %w", err)
	}
	// As sha256sum -c reads it: one space, a mode byte (' ' text, '*'
	// binary), then the path as it is.
	rest := line[64:]
	if rest[0] != ' ' || (rest[1] != ' ' && rest[1] != '*') {
		return sum, "", errors.New("checksum not followed by two spaces or by a space and '*'")
	}
	rest = rest[2:]
	if !ValidName(rest) {
		return sum, "", fmt.Errorf("invalid path %q", rest)
	}
	return sum, rest, nil
}

// ReadManifest calls fn for each line of a manifest. It stops at the first
// malformed line with an error naming its number.
func ReadManifest(r io.Reader, fn func(sum [32]byte, path string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), MaxManifestLine)
	n := 0
	for sc.Scan() {
		n++
		sum, p, err := ParseManifestLine(sc.Text())
		if err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if err := fn(sum, p); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", n+1, err)
	}
	return nil
}
