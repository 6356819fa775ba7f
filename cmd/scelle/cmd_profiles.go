package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/profile"
	"github.com/scelle/scelle/internal/units"
	"github.com/scelle/scelle/internal/visible"
)

func newProfilesCmd() *cobra.Command {
	var defs string
	var verbose bool
	c := &cobra.Command{
		Use:   "profiles",
		Short: "List the collection profiles and the items they take",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runProfiles(defs, verbose, cmd.OutOrStdout())
		},
	}
	c.Flags().StringVar(&defs, "definitions", "", "also load definition files from this folder")
	c.Flags().BoolVarP(&verbose, "verbose", "v", false, "show each item's paths and size cap, and the native collectors")
	return c
}

// runProfiles lists the profiles. Definitions given with --definitions
// are the user's: their names, descriptions and paths are printed
// visibly escaped.
func runProfiles(defs string, verbose bool, w io.Writer) error {
	show := func(ss []string) string { return visible.String(strings.Join(ss, " ")) }
	set, err := profile.Load(defs)
	if err != nil {
		return err
	}
	for _, p := range set.Profiles() {
		def := ""
		switch p.Name {
		case profile.DefaultFor(runtime.GOOS):
			def = " (default)"
		case profile.WindowsProfile:
			def = " (default with --image)"
		}
		fmt.Fprintf(w, "%s%s: %s\n", visible.String(p.Name), def, visible.String(p.Description))
		fmt.Fprintf(w, "  os: %s\n", show(p.OS))
		fmt.Fprintf(w, "  bodyfile of: %s\n", show(p.Bodyfile))
		for _, it := range p.Items {
			class := it.Class.String()
			if it.Native != "" && it.Class == 0 {
				class = "native"
			}
			only := ""
			if !slices.Equal(it.OS, p.OS) {
				only = " (os: " + show(it.OS) + ")"
			}
			fmt.Fprintf(w, "  %-28s %-8s %s%s\n", visible.String(it.Name), class, visible.String(it.Description), only)
			if verbose && len(it.Paths) > 0 {
				capText := "default cap"
				if size, ok := it.MaxFileSize(p.Name); ok {
					capText = "no cap"
					if size > 0 {
						capText = units.Bytes(size) + " cap"
					}
				}
				fmt.Fprintf(w, "  %28s %s (%s)\n", "", show(it.Paths), capText)
			}
		}
		fmt.Fprintln(w)
	}
	if verbose {
		fmt.Fprintln(w, "native collectors:")
		for _, n := range collect.Natives() {
			fmt.Fprintf(w, "  %-28s %-8s %-8s %s\n", n.Name, n.Class, strings.Join(n.OS, " "), n.Description)
		}
	}
	return nil
}
