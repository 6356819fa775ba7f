package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/seal"
)

type verifyOptions struct {
	JSON bool
}

func newVerifyCmd() *cobra.Command {
	var opts verifyOptions
	c := &cobra.Command{
		Use:   "verify BAGDIR",
		Short: "Verify a bag: archive hash, payload, manifests, root, signature, record, journal",
		Long: `Verify the output folder of a collection without extracting it: the archive's
SHA-256, every payload file against the manifest, the tag manifest, the root
fingerprint, the Ed25519 signature, the collection record and the signed,
hash-chained journal. Each verdict names the file, entry or line that differs.
On a bag that was never sealed (a killed run, a pulled stick), it lists what
the journal still proves.

` + exitCodesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(opts, args[0], cmd.OutOrStdout())
		},
	}
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the report as JSON")
	return c
}

func runVerify(opts verifyOptions, dir string, stdout io.Writer) error {
	rep, err := seal.Verify(dir)
	if err != nil {
		return err
	}
	if rep.Sealed && len(rep.Failed()) == 0 {
		checkRecord(rep, dir)
	}
	verdict := "VERIFIED"
	code := exitOK
	switch {
	case !rep.Sealed:
		verdict, code = "NOT SEALED", exitUnsealed
	case !rep.OK():
		verdict, code = "FAILED", exitVerifyFailed
	}
	if opts.JSON {
		b, _ := json.MarshalIndent(struct {
			Verdict string `json:"verdict"`
			*seal.Report
		}{verdict, rep}, "", " ")
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		for _, c := range rep.Checks {
			mark := "ok  "
			if !c.OK {
				mark = "FAIL"
			}
			line := fmt.Sprintf("%s  %-15s %s", mark, c.Name, c.Detail)
			if c.Where != "" && !c.OK {
				line += " [" + c.Where + "]"
			}
			fmt.Fprintln(stdout, line)
		}
		if !rep.Sealed || !rep.OK() {
			fmt.Fprintf(stdout, "proven:  %d items whose content matches the signed journal or manifest\n", rep.Proven)
			for _, it := range rep.Items {
				if !it.Proven && it.Why != "" {
					fmt.Fprintf(stdout, "unproven: %s: %s\n", it.Path, it.Why)
				}
			}
		}
		if rep.Root != "" {
			fmt.Fprintf(stdout, "root:    %s\n", rep.Root)
		}
		fmt.Fprintf(stdout, "verdict: %s\n", verdict)
	}
	if code != exitOK {
		return withCode(code, errors.New(""))
	}
	return nil
}

// checkRecord cross-checks the collection record with the manifest: every
// stored item of the record is in the bag with its hash, and nothing else.
func checkRecord(rep *seal.Report, dir string) {
	f, err := os.Open(filepath.Join(dir, seal.RecordFile))
	if err != nil {
		rep.Checks = append(rep.Checks, seal.Check{Name: "record-items", Where: seal.RecordFile, Detail: err.Error()})
		return
	}
	defer f.Close()
	rec, err := chain.ReadRecord(f)
	if err != nil {
		rep.Checks = append(rep.Checks, seal.Check{Name: "record-items", Where: seal.RecordFile, Detail: err.Error()})
		return
	}
	man := map[string]string{}
	for _, it := range rep.Items {
		if strings.HasPrefix(it.Path, seal.PayloadDir+"/") {
			man[it.Path] = it.SHA256
		}
	}
	if bad := rec.CheckItems(man); len(bad) > 0 {
		rep.Checks = append(rep.Checks, seal.Check{Name: "record-items", Where: seal.RecordFile,
			Detail: fmt.Sprintf("%d mismatches: %s", len(bad), strings.Join(bad[:min(len(bad), 10)], "; "))})
		return
	}
	rep.Checks = append(rep.Checks, seal.Check{Name: "record-items", OK: true, Where: seal.RecordFile,
		Detail: fmt.Sprintf("%d items, %d stored, all in the manifest", len(rec.Items), len(man))})
}
