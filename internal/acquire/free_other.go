//go:build !linux

package acquire

// freeSpace returns -1: the RAM is captured on Linux only.
func freeSpace(string) int64 { return -1 }
