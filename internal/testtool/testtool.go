// Package testtool is how a test finds the real tools it drives (mactime,
// versitygw, mkntfs...): a missing tool skips the test on a developer's
// machine, fails it under CI (where .ci/run installs every one, and a
// skip would let a check that cannot run pass unseen), and skips it on
// Windows, where the tests run under wine and these Linux programs
// cannot be started: the Linux run of the same test drives them.
package testtool

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// CI reports whether the tests run under CI, which sets CI.
func CI() bool { return os.Getenv("CI") != "" }

// Missing ends the test because something it needs is not here: a skip,
// or a failure under CI on Linux.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	switch {
	case runtime.GOOS == "windows":
		t.Skipf("%s (a Linux tool: the Linux run of this test drives it)", msg)
	case CI():
		t.Fatalf("%s (.ci/run installs it)", msg)
	default:
		t.Skip(msg)
	}
}

// Need returns the path of tool, or ends the test as Missing does,
// naming the Debian package that has it.
func Need(t testing.TB, tool, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		Missing(t, "%s not found: install the Debian package %s", tool, pkg)
	}
	return p
}
