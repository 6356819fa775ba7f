//go:build !unix

package fileio

import (
	"io/fs"
	"os"
)

func openNonBlocking(path string) (*os.File, error) { return os.Open(path) }

var errExist = fs.ErrExist
