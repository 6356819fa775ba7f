// Package units writes byte counts the way scelle prints them, with
// binary (IEC) prefixes.
package units

import "fmt"

// IEC scales n to the largest binary prefix that keeps it at 1 or more:
// it returns the scaled value and the prefix letter ("" below 1 KiB, then
// "K", "M", "G", "T", "P", "E").
func IEC(n int64) (float64, string) {
	const unit = 1024
	if n < unit {
		return float64(n), ""
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return float64(n) / float64(div), string("KMGTPE"[exp])
}

// Bytes writes n as "512 B" or "1.5 MiB".
func Bytes(n int64) string {
	v, p := IEC(n)
	if p == "" {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %siB", v, p)
}
