// Command guest is the QEMU memory test's helper inside the guest
// (internal/qemutest), built static and put in the initramfs beside
// scelle:
//
//	guest kcore              print "OFFSET SIZE" of each /proc/kcore extent of System RAM,
//	                         the ranges scelle reads, for the dd baseline
//	guest run NAME CMD ARGS  run CMD and print its wall time, exit status and peak RSS
//
// Its lines start with "QEMUTEST " so the test finds them in the serial
// log.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/scelle/scelle/collect/memory"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: guest kcore | guest run NAME CMD [ARGS...]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "kcore":
		src, err := memory.Open(memory.HostPaths)
		if err != nil {
			fmt.Fprintln(os.Stderr, "guest kcore:", err)
			os.Exit(1)
		}
		defer src.Close()
		if src.Name != memory.SourceKcore {
			fmt.Fprintln(os.Stderr, "guest kcore: the source is", src.Name)
			os.Exit(1)
		}
		for _, e := range src.Extents {
			fmt.Printf("%d %d\n", e.Offset, e.Size())
		}
	case "run":
		if len(os.Args) < 4 {
			os.Exit(2)
		}
		name := os.Args[2]
		cmd := exec.Command(os.Args[3], os.Args[4:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		start := time.Now()
		err := cmd.Run()
		wall := time.Since(start)
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			fmt.Fprintln(os.Stderr, "guest run:", err)
			code = -1
		}
		var maxrss int64
		if cmd.ProcessState != nil {
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				maxrss = ru.Maxrss // KiB on Linux: the child's VmHWM
			}
		}
		fmt.Printf("QEMUTEST run %s seconds=%.3f exit=%d maxrss_kib=%d\n", name, wall.Seconds(), code, maxrss)
		os.Exit(0)
	default:
		os.Exit(2)
	}
}
