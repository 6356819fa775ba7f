package seal

import (
	"bytes"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// sleepClock tells how long a thread slept (blocked, neither running nor
// waiting for a CPU) between two readings: around a write, the time the
// output medium made it wait. It reads the thread's schedstat (time on a
// CPU, time runnable and waiting for one), so that on a busy machine the
// time the writer waited for a CPU does not pass for a slow medium.
//
// The goroutine is not locked to its thread: a locked thread costs a
// hand-off between threads at every channel wait (measured: twice the
// context switches, and a tenth of the CPUs' use lost while sealing).
// A goroutine keeps its thread through a system call, so the two
// readings around a write are of one thread; busy says which, and a
// pair of readings from two threads (the goroutine moved between them)
// is not used.
type sleepClock struct {
	files map[int]*os.File // each thread's schedstat, opened once
	buf   [96]byte
}

// maxClockThreads bounds the files kept open: Go runs a handful of
// threads; past this, a reading opens and closes its file.
const maxClockThreads = 32

// newSleepClock returns a clock, or nil where the kernel does not say.
func newSleepClock() *sleepClock {
	c := &sleepClock{files: map[int]*os.File{}}
	if _, _, ok := c.busy(); !ok {
		c.close()
		return nil
	}
	return c
}

// busy returns the calling thread's id and its time running or runnable
// so far.
func (c *sleepClock) busy() (int, time.Duration, bool) {
	tid := unix.Gettid()
	f := c.files[tid]
	if f == nil {
		var err error
		if f, err = os.Open("/proc/thread-self/schedstat"); err != nil {
			return 0, 0, false
		}
		if unix.Gettid() != tid { // moved while opening: whose file is it?
			f.Close()
			return 0, 0, false
		}
		if len(c.files) < maxClockThreads {
			c.files[tid] = f
		} else {
			defer f.Close()
		}
	}
	n, _ := f.ReadAt(c.buf[:], 0)
	fields := bytes.Fields(c.buf[:n])
	if len(fields) < 2 {
		return 0, 0, false
	}
	run, err1 := strconv.ParseInt(string(fields[0]), 10, 64)
	wait, err2 := strconv.ParseInt(string(fields[1]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return tid, time.Duration(run + wait), true
}

func (c *sleepClock) close() {
	for _, f := range c.files {
		f.Close()
	}
	clear(c.files)
}
