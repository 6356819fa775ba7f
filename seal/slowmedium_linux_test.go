package seal

import (
	"time"

	"golang.org/x/sys/unix"
)

// mediumWait blocks the calling thread for d in a system call, as a write
// to a slow medium does (time.Sleep would park the goroutine and free its
// thread, which no medium does).
func mediumWait(d time.Duration) {
	ts := unix.NsecToTimespec(d.Nanoseconds())
	for unix.Nanosleep(&ts, &ts) == unix.EINTR {
	}
}
