//go:build !linux

package ntfs

import "testing"

// need skips: the NTFS test images are made with mkntfs and an ntfs-3g
// mount, on Linux.
func need(t testing.TB, tools ...string) {
	t.Helper()
	t.Skip("NTFS test images are made on Linux")
}

func makeVolume(t testing.TB, img string, mib int, label string, files map[string][]byte, sparse map[string]int64) {
	t.Skip("NTFS test images are made on Linux")
}
