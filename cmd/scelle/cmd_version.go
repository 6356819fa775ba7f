package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/internal/acquire"
	"github.com/scelle/scelle/internal/visible"
)

func newVersionCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version, revision, Go version, OS/arch and the SHA-256 of this executable",
		Long: `Print the version and revision of scelle, the Go version it was built with,
its OS and architecture, and the path and SHA-256 of the executable as it
runs: the same identity a collection records in record.json ("tool"), to
compare with the published SHA256SUMS before a collection.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVersion(cmd.OutOrStdout(), asJSON)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the identity as JSON")
	return c
}

// versionInfo is what scelle version prints: the tool identity of the
// collection record, and the Go version.
type versionInfo struct {
	chain.Tool
	Go string `json:"go"`
}

// runVersion prints this program's identity. The path is the host's:
// it is printed visibly escaped.
func runVersion(w io.Writer, asJSON bool) error {
	v := versionInfo{Tool: acquire.ToolIdentity(version, vcsRevision()), Go: runtime.Version()}
	if asJSON {
		b, err := json.MarshalIndent(v, "", " ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", visible.JSON(b))
		return err
	}
	sum := v.SHA256
	if sum == "" {
		sum = "unknown (the executable could not be read)"
	}
	path := v.Path
	if path == "" {
		path = "unknown"
	}
	_, err := fmt.Fprintf(w, "scelle %s (revision %s)\ngo:         %s\nos/arch:    %s/%s\nexecutable: %s\nsha256:     %s\n",
		visible.String(v.Version), visible.String(v.Revision), v.Go, v.GoOS, v.GoArch, visible.String(path), sum)
	return err
}
