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
// The first reading is of the thread that makes the write (busy), the
// second of that same thread by its id (busyOf), wherever the goroutine
// runs by then: after a long system call the Go runtime may give it to
// another thread when no processor is free at once (every one busy
// compressing). That thread's wait for a processor then counts as
// sleep, as it does when the goroutine stays: a few milliseconds, Go's
// time slice, and the adapter rises only when the writer seldom waits
// for compression, which a seal short of CPU is not. Dropping such
// writes instead (an earlier way) dropped most of them exactly when the
// workers kept busy ahead of a slow medium, and the level never rose.
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
	d, ok := c.busyOf(tid)
	return tid, d, ok
}

// busyOf returns thread tid's time running or runnable so far, from any
// thread. The thread's schedstat is named by its id, not as the calling
// thread's, so a goroutine that moves meanwhile still reads tid's.
func (c *sleepClock) busyOf(tid int) (time.Duration, bool) {
	f := c.files[tid]
	if f == nil {
		var err error
		if f, err = os.Open("/proc/self/task/" + strconv.Itoa(tid) + "/schedstat"); err != nil {
			return 0, false
		}
		if len(c.files) < maxClockThreads {
			c.files[tid] = f
		} else {
			defer f.Close()
		}
	}
	return c.read(f)
}

func (c *sleepClock) read(f *os.File) (time.Duration, bool) {
	n, _ := f.ReadAt(c.buf[:], 0)
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
	for _, f := range c.files {
		f.Close()
	}
	clear(c.files)
}
