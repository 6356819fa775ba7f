package main

import (
	"os"
	"syscall"
)

// usage returns a finished process's CPU times in µs; Windows keeps no
// peak working set of a process that has exited, so its RSS is 0.
func usage(ps *os.ProcessState) (rssKiB, userUs, sysUs int64) {
	ru := ps.SysUsage().(*syscall.Rusage)
	return 0, ru.UserTime.Nanoseconds() / 1000, ru.KernelTime.Nanoseconds() / 1000
}
