package system

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// adjtimex reads the kernel's clock discipline state without changing it.
func adjtimex() (ntpRaw, error) {
	var tx unix.Timex // Modes 0: read only
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return ntpRaw{}, err
	}
	return ntpRaw{
		state:     state,
		status:    int64(tx.Status),
		offset:    int64(tx.Offset),
		freq:      int64(tx.Freq),
		maxerror:  int64(tx.Maxerror),
		esterror:  int64(tx.Esterror),
		constant:  int64(tx.Constant),
		precision: int64(tx.Precision),
		tolerance: int64(tx.Tolerance),
		tick:      int64(tx.Tick),
		tai:       int64(tx.Tai),
	}, nil
}

// monotonic returns CLOCK_MONOTONIC.
func monotonic() (time.Duration, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0, err
	}
	return time.Duration(ts.Nano()), nil
}

// uname returns the running kernel's uname(2).
func uname() (*Uname, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return nil, fmt.Errorf("uname: %w", err)
	}
	return &Uname{
		Sysname:    unix.ByteSliceToString(u.Sysname[:]),
		Nodename:   unix.ByteSliceToString(u.Nodename[:]),
		Release:    unix.ByteSliceToString(u.Release[:]),
		Version:    unix.ByteSliceToString(u.Version[:]),
		Machine:    unix.ByteSliceToString(u.Machine[:]),
		Domainname: unix.ByteSliceToString(u.Domainname[:]),
	}, nil
}
