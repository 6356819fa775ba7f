package main

import (
	"time"

	"github.com/scelle/scelle/chain/report"
	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/seal"
)

// verification checks dir as scelle verify does, and gives its report,
// verdict and exit code.
func verification(dir string) (rep *seal.Report, text string, code int, err error) {
	v, err := verdict.Check(dir, verdict.Options{})
	if err != nil {
		return nil, "", 0, err
	}
	return v.Report, v.Status.String(), verdictCode(v.Status), nil
}

// verdictEncrypted is the verdict on an encrypted bag checked without an
// identity.
var verdictEncrypted = verdict.Encrypted.String()

// writeReports writes the reports of the bag in dir into it, as scelle
// collect does once the bag is sealed.
func writeReports(dir string) error {
	_, err := report.Write(dir, dir, time.Time{}, nil)
	return err
}
