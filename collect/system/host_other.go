//go:build !linux

package system

import (
	"errors"
	"time"
)

var errNotLinux = errors.New("not supported on this operating system")

func adjtimex() (ntpRaw, error) { return ntpRaw{}, errNotLinux }

func monotonic() (time.Duration, error) { return 0, errNotLinux }

func uname() (*Uname, error) { return nil, errNotLinux }
