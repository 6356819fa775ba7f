//go:build !linux

package seal

import "time"

// mediumWait stands for a slow medium's write: elsewhere than on Linux the
// adapter counts a write's whole time as the medium's.
func mediumWait(d time.Duration) { time.Sleep(d) }
