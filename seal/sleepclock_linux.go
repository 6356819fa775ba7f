package seal

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"time"
)

// sleepClock tells how long the calling thread slept (blocked, neither
// running nor waiting for a CPU) between two readings: in a write, the
// time the output medium made it wait. It reads the thread's
// /proc/thread-self/schedstat (time on a CPU, time runnable and waiting
// for one), so that on a busy machine the time the writer waited for a
// CPU does not pass for a slow medium. The goroutine that uses it is
// locked to its thread.
type sleepClock struct {
	f   *os.File
	buf [96]byte
}

// newSleepClock locks the calling goroutine to its thread and returns
// its clock, or nil where the kernel does not say.
func newSleepClock() *sleepClock {
	runtime.LockOSThread()
	f, err := os.Open("/proc/thread-self/schedstat")
	if err != nil {
		return nil
	}
	c := &sleepClock{f: f}
	if _, ok := c.busy(); !ok {
		f.Close()
		return nil
	}
	return c
}

// busy returns the thread's time running or runnable so far.
func (c *sleepClock) busy() (time.Duration, bool) {
	n, _ := c.f.ReadAt(c.buf[:], 0)
	fields := bytes.Fields(c.buf[:n])
	if len(fields) < 2 {
		return 0, false
	}
	run, err1 := strconv.ParseInt(string(fields[0]), 10, 64)
	wait, err2 := strconv.ParseInt(string(fields[1]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(run + wait), true
}

func (c *sleepClock) close() {
	c.f.Close()
	runtime.UnlockOSThread()
}
