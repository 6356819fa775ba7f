//go:build linux

package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"
	sha256 "github.com/minio/sha256-simd"
)

// Go floors: what the libraries scelle uses cost on the same files, with
// none of scelle's work around them (no tar, journal, fsync, collector).
// bench runs itself with -floor so that each floor is a child process
// measured like the others.
var floorKinds = []struct {
	name, doc string
}{
	{"read", "read every file (1 MiB buffer), no work"},
	{"sha", "sha256-simd of every file"},
	{"zstd", "klauspost zstd as seal.Writer sets it (SpeedDefault, concurrency 2, 8 MiB window, CRC), a frame per file"},
	{"sha+zstd", "both in one pass, in one goroutine, as seal.Writer does, without tar, journal or fsync"},
}

// runFloor is the child side of -floor.
func runFloor(kind, root string) error {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var enc *zstd.Encoder
	if kind == "zstd" || kind == "sha+zstd" {
		enc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderCRC(true),
			zstd.WithEncoderConcurrency(2), zstd.WithWindowSize(8<<20))
		if err != nil {
			return err
		}
	}
	var cw countWriter
	buf := make([]byte, 1<<20)
	var sink [32]byte
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		h := sha256.New()
		if enc != nil {
			enc.Reset(&cw)
		}
		for {
			n, err := f.Read(buf)
			if n > 0 {
				switch kind {
				case "sha":
					h.Write(buf[:n])
				case "zstd":
					enc.Write(buf[:n])
				case "sha+zstd":
					h.Write(buf[:n])
					enc.Write(buf[:n])
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				f.Close()
				return err
			}
		}
		f.Close()
		if enc != nil {
			if err := enc.Close(); err != nil {
				return err
			}
		}
		copy(sink[:], h.Sum(nil))
	}
	fmt.Printf("files=%d out=%d\n", len(files), cw.n)
	return nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
