//go:build !windows

package winpmem

import "os"

// openHeld opens path for reading. Unix systems have no share modes: the
// file is hashed again once the program runs (Collector).
func openHeld(path string) (*os.File, error) { return os.Open(path) }
