package report

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/fileio"
)

// Written is a verdict and the report files that state it.
type Written struct {
	HTML, PDF string
	Root      string
	Verdict   *verdict.Verdict
}

// Write verifies the output folder dir (package verdict) and writes
// report.html and report.pdf into out, each through a ".partial" file
// renamed once whole. issued, when not zero, is printed as the issue
// date. The error is for a report it could not write, not for the
// verdict, which the reports state.
func Write(dir, out string, issued time.Time, opts *verdict.Options) (*Written, error) {
	return write(fileio.DirFS(dir), folderName(dir), out, issued, opts, func(o verdict.Options) (*verdict.Verdict, *Stored, error) {
		v, err := verdict.Check(dir, o)
		return v, nil, err
	})
}

// WriteFS is Write on the output folder at the root of fsys (a bag read
// from elsewhere, such as an S3 store), named name (its last element is
// the folder's name). check verifies the bag with the options given
// (their Record set: the record is read once); it returns the verdict and,
// for a bag read from an S3 store, where it was read, which the report
// states. A nil check is verdict.CheckFS.
func WriteFS(fsys fs.FS, name, out string, issued time.Time, opts *verdict.Options, check func(verdict.Options) (*verdict.Verdict, *Stored, error)) (*Written, error) {
	if check == nil {
		check = func(o verdict.Options) (*verdict.Verdict, *Stored, error) {
			v, err := verdict.CheckFS(fsys, name, o)
			return v, nil, err
		}
	}
	return write(fsys, path.Base(path.Clean(name)), out, issued, opts, check)
}

func write(fsys fs.FS, folder, out string, issued time.Time, opts *verdict.Options, check func(verdict.Options) (*verdict.Verdict, *Stored, error)) (*Written, error) {
	var vopts verdict.Options
	if opts != nil {
		vopts = *opts
	}
	// The record is read once, for the report and the record-items check.
	digest := &verdict.RecordDigest{}
	r, err := build(fsys, folder, digest.Add)
	if err != nil {
		return nil, err
	}
	digest.Record = r.Record
	vopts.Record = digest
	v, stored, err := check(vopts)
	if err != nil {
		return nil, err
	}
	r.Stored = stored
	r.SetVerification(v.Checks, v.Status.String())
	r.SetAnchors(v.Anchors)
	r.SetSigners(v.Signers, vopts.TrustedKeys)
	r.Generated = issued
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	res := &Written{HTML: filepath.Join(out, HTMLFile), PDF: filepath.Join(out, PDFFile),
		Root: r.Root, Verdict: v}
	if err := writeFileAtomic(res.HTML, r.WriteHTML); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(res.PDF, r.WritePDF); err != nil {
		return nil, err
	}
	return res, nil
}

// writeFileAtomic writes path whole or not at all.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	if err := fileio.WriteFileAtomic(path, write, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
