package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/scelle/scelle/internal/s3test"
	"github.com/scelle/scelle/internal/testtool"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"scelle": func() { main() },
		// listener: hold a listening loopback socket, print its port,
		// sleep until killed (the live triage test's suspect process).
		"listener": listenerMain,
		// maxrss CMD ARGS...: run CMD, then print its peak RSS in KiB on
		// standard error. A child's ru_maxrss counts the memory of the
		// process it was forked from, so a small process must fork it.
		"maxrss": maxrssMain,
	})
}

// TestScripts runs the CLI behaviour scripts in testdata/*.txtar.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		// [versitygw]: the S3 engine is installed (make deps); a script
		// that needs it fails without it when CI is set.
		Condition: func(cond string) (bool, error) {
			if cond != "versitygw" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			_, err := s3test.Binary()
			return err == nil || testtool.CI(), nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// tsa VAR: start an RFC 3161 TSA on loopback (tsa_test.go).
			"tsa": cmdTSA,
			// s3; s3bucket VAR [nolock]; s3delete BUCKET KEY; s3slow
			// VAR; s3parts BUCKET PREFIX N; basename VAR PATH: an S3
			// store with Object Lock (s3_test.go).
			"s3":       cmdS3,
			"s3bucket": cmdS3Bucket,
			"s3delete": cmdS3Delete,
			"s3slow":   cmdS3Slow,
			"s3parts":  cmdS3Parts,
			"basename": cmdBasename,
			// exit N CMD ARGS...: run CMD and require exit code N.
			"exit": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 2 {
					ts.Fatalf("usage: exit CODE CMD [ARGS...]")
				}
				want, err := strconv.Atoi(args[0])
				ts.Check(err)
				err = ts.Exec(args[1], args[2:]...)
				got := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					got = ee.ExitCode()
				} else if err != nil {
					ts.Fatalf("%v", err)
				}
				if got != want {
					ts.Fatalf("exit code %d, want %d", got, want)
				}
			},
			// bagdir VAR DIR: set VAR to the one folder inside DIR.
			"bagdir": func(ts *testscript.TestScript, neg bool, args []string) {
				entries, err := os.ReadDir(ts.MkAbs(args[1]))
				ts.Check(err)
				if len(entries) != 1 {
					ts.Fatalf("%d entries in %s, want 1", len(entries), args[1])
				}
				ts.Setenv(args[0], filepath.Join(ts.MkAbs(args[1]), entries[0].Name()))
			},
			// flipbyte FILE OFFSET: change one byte of FILE.
			"flipbyte": func(ts *testscript.TestScript, neg bool, args []string) {
				p := ts.MkAbs(args[0])
				b, err := os.ReadFile(p)
				ts.Check(err)
				off, err := strconv.Atoi(args[1])
				ts.Check(err)
				if off < 0 {
					off += len(b)
				}
				b[off] ^= 0x20
				ts.Check(os.WriteFile(p, b, 0o644))
			},
			// mode FILE PERM: require FILE's permission bits.
			"mode": func(ts *testscript.TestScript, neg bool, args []string) {
				fi, err := os.Stat(ts.MkAbs(args[0]))
				ts.Check(err)
				if got := fmt.Sprintf("%#o", fi.Mode().Perm()); got != args[1] {
					ts.Fatalf("%s mode %s, want %s", args[0], got, args[1])
				}
			},
		},
	})
}
