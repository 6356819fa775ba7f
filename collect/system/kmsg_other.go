//go:build !linux

package system

import (
	"context"
	"errors"
	"os"
)

func readKmsg(ctx context.Context, p string, limit int) (kmsgResult, error) {
	return kmsgResult{}, &os.PathError{Op: "open", Path: p, Err: errors.ErrUnsupported}
}
