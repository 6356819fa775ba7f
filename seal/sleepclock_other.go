//go:build !linux

package seal

import "time"

// sleepClock is Linux's alone: elsewhere the adapter counts a write's
// whole time as the medium's.
type sleepClock struct{}

func newSleepClock() *sleepClock { return nil }

func (c *sleepClock) busy() (int, time.Duration, bool) { return 0, 0, false }

func (c *sleepClock) busyOf(int) (time.Duration, bool) { return 0, false }

func (c *sleepClock) close() {}
