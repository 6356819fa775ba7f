//go:build !windows

package winpmem

import (
	"errors"
	"os"
)

// openHeld opens path for reading. Unix systems have no share modes: the
// file is hashed again once the program runs (Collector).
func openHeld(path string) (*os.File, error) { return os.Open(path) }

// physicalMemory is Windows's alone: elsewhere (tests, with a stand-in
// program) the collector keeps the Runner's time limit.
func physicalMemory() (uint64, error) { return 0, errors.New("not Windows") }
