package acquire

import (
	"slices"
	"strings"
	"testing"
)

// TestWindowsPatterns: the paths a responder types on a Windows host
// become patterns from the system drive's root; those that cannot be read
// there are refused with the reason, never left to match nothing.
func TestWindowsPatterns(t *testing.T) {
	got, err := windowsPatterns([]string{`C:\Users\*\NTUSER.DAT`, `c:/Windows/System32/config/SAM`, `\ProgramData\**`, `/Temp/a b.txt`, `Users\Bob`}, "C:")
	want := []string{"/Users/*/NTUSER.DAT", "/Windows/System32/config/SAM", "/ProgramData/**", "/Temp/a b.txt", "Users/Bob"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	for _, tc := range []struct{ path, want string }{
		{`D:\evidence\x.exe`, "on drive D:, but a live collection reads drive C:"},
		{`\\server\share\x`, "a network or device path"},
		{`\\?\C:\Users`, "a network or device path"},
	} {
		if _, err := windowsPatterns([]string{tc.path}, "C:"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.path, err, tc.want)
		}
	}
}
