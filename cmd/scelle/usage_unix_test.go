//go:build unix

package main

import (
	"os"
	"syscall"
)

// usage returns a finished process's peak RSS in KiB and its user and
// system CPU time in µs.
func usage(ps *os.ProcessState) (rssKiB, userUs, sysUs int64) {
	ru := ps.SysUsage().(*syscall.Rusage)
	return int64(ru.Maxrss), ru.Utime.Nano() / 1000, ru.Stime.Nano() / 1000
}
