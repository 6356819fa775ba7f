// Package winetest runs Windows programs under wine for the tests that
// run on Linux: it makes the wine prefix (setup.sh, once), builds Windows
// programs with the go command, and starts them in that prefix.
//
// Prefix skips a test when wine or MinGW's binutils are missing, and
// fails it when the CI variable is set (CI installs them: .ci/run). The
// programs of one test share the prefix's wineserver, so they see each
// other's processes, as on one Windows host.
package winetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/scelle/scelle/internal/testtool"
)

// dir is this package's folder, which holds setup.sh and exec.sh.
func dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Prefix makes the wine prefix if needed and returns its path.
func Prefix(t testing.TB) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("wine runs Windows programs on Linux")
	}
	out, err := exec.Command("sh", filepath.Join(dir(), "setup.sh")).CombinedOutput()
	if err != nil {
		testtool.Missing(t, "no wine prefix (install Debian's wine64 and binutils-mingw-w64-x86-64): %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// Command returns a command that runs the Windows program exe under wine
// in prefix.
func Command(prefix, exe string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(dir(), "exec.sh"), append([]string{exe}, args...)...)
	cmd.Env = append(os.Environ(), "WINEPREFIX="+prefix)
	return cmd
}

// Build builds the Go package or file src (static, for windows/amd64)
// into out.
func Build(t testing.TB, src, out string, cwd string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, src)
	cmd.Dir = cwd
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=windows go build %s: %v\n%s", src, err, b)
	}
}

// WindowsPath returns the path wine gives the Linux path p: on drive Z:,
// which wine maps to /.
func WindowsPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		abs = p
	}
	return `Z:` + strings.ReplaceAll(abs, "/", `\`)
}

// DriveC returns the Linux folder of the prefix's drive C:, the system
// drive of the programs it runs.
func DriveC(prefix string) string { return filepath.Join(prefix, "drive_c") }
