//go:build !linux

package netstat

import (
	"context"
	"errors"
	"fmt"
	"runtime"
)

// supported reports whether the live collectors can run on this OS.
const supported = false

func netlinkDump(ctx context.Context, typ uint16) ([]byte, error) {
	return nil, fmt.Errorf("netlink on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
