//go:build !windows

package winlive

import (
	"errors"
	"time"
)

// Uptime is Windows's alone.
func Uptime() (time.Duration, error) { return 0, errors.New("GetTickCount64: not Windows") }

// On other systems than Windows the collectors record their items as
// skipped (collector.Collect).
var (
	runProcesses, runImages                                                  collectFunc
	runSockets, runInterfaces, runRoutes, runNeighbours, runDNS, runFirewall collectFunc
	runSMB, runTime, runIdentity, runSessions, runAccounts, runServices      collectFunc
	runDrivers, runAutoruns, runEnvironment, runTPM                          collectFunc
)
