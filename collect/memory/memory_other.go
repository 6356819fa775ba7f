//go:build !linux

package memory

import (
	"errors"
	"fmt"
)

// Open is not supported on this system: physical memory is read through
// Linux's /proc/kcore, /dev/crash or /dev/mem.
func Open(p Paths) (*Source, error) {
	return nil, fmt.Errorf("physical memory capture: %w", errors.ErrUnsupported)
}
