// Command scelle collects evidence from a live Linux host into a sealed,
// signed evidence bag, and verifies, lists and extracts such bags.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/scelle/scelle/internal/hint"
	"github.com/scelle/scelle/internal/visible"
)

// Set at build time with -ldflags "-X main.version=... -X main.revision=...".
var (
	version  = "dev"
	revision = ""
)

// Exit codes, the same for every command.
const (
	exitOK           = 0
	exitError        = 1 // the command failed; nothing sealed
	exitUsage        = 2 // bad flags or arguments
	exitIncomplete   = 3 // collect: sealed, but some items failed, the run was interrupted or nothing was collected
	exitVerifyFailed = 4 // verify, extract: a check failed (changed or damaged bytes)
	exitUnsealed     = 5 // verify: never sealed (cut short); what it still proves is listed
)

const exitCodesHelp = `Exit codes:
  0  success: sealed and complete, or verified
  1  error: the command failed (nothing sealed)
  2  usage: bad flags or arguments
  3  collect: sealed, but some items failed, the run was interrupted, or
     nothing was collected (the bag is valid evidence of what it holds)
  4  verify, extract: a check failed (changed or damaged bytes);
     collect: the bag written does not verify when read back
  5  verify: the bag was never sealed; what it still proves is listed`

// codedError carries an exit code through cobra to main.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &codedError{code, err} }

// printedError ends a command whose outcome it has printed already (a
// verdict, a collection's summary): main exits with code and prints
// nothing more. why is for callers and tests, not the user.
type printedError struct {
	code int
	why  string
}

func (e *printedError) Error() string { return e.why }

// memoryLimit is the soft heap limit that keeps a collection within its
// memory budget on the host (GOMEMLIMIT overrides it).
const memoryLimit = 40 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	err := root.ExecuteContext(ctx)
	os.Exit(exitCode(err))
}

// exitCode prints err once, with its hint, and returns the exit code
// that goes with it. Both may hold host paths and bag names: they are
// printed visibly escaped.
func exitCode(err error) int {
	code := codeOf(err)
	var pe *printedError
	if err == nil || errors.As(err, &pe) {
		return code
	}
	fmt.Fprintf(os.Stderr, "scelle: %s\n", visible.String(err.Error()))
	if h := hint.Of(err); h != "" {
		fmt.Fprintf(os.Stderr, "hint: %s\n", visible.String(h))
	}
	if code == exitUsage {
		fmt.Fprintf(os.Stderr, "Run 'scelle --help' for usage.\n")
	}
	return code
}

// codeOf is the exit code that goes with err.
func codeOf(err error) int {
	var pe *printedError
	var ce *codedError
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &pe):
		return pe.code
	case errors.As(err, &ce):
		return ce.code
	case errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command"):
		return exitUsage
	}
	return exitError
}

type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "scelle",
		Short: "Collect and seal evidence from a live host; verify sealed bags",
		Long: `scelle captures the volatile state of a live host first (processes,
network, users, kernel), then temporary file systems, logs and configuration,
hashing and compressing everything in one pass into a sealed, signed evidence
bag with a chain-of-custody record.

` + exitCodesHelp,
		Version:       versionString(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(newCollectCmd(), newProfilesCmd(), newVerifyCmd(), newReportCmd(), newLsCmd(), newExtractCmd(), newExportCmd(), newKeyCmd(), newCustodyCmd(), newTimestampCmd(), newVersionCmd(), newManCmd())
	for _, c := range root.Commands() {
		c.Args = wrapArgs(c.Args)
	}
	return root
}

// wrapArgs turns argument errors into usage errors.
func wrapArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	if v == nil {
		return nil
	}
	return func(c *cobra.Command, args []string) error {
		if err := v(c, args); err != nil {
			return &usageError{err}
		}
		return nil
	}
}

func versionString() string {
	return fmt.Sprintf("%s (revision %s)", version, vcsRevision())
}

func vcsRevision() string {
	if revision != "" {
		return revision
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}
