//go:build !linux

package mft

func cpuSeconds() (float64, bool) { return 0, false }
