package verdict

import (
	"errors"
	"io/fs"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/seal"
	"github.com/scelle/scelle/seal/tpm"
)

// checkTPM adds the TPM checks of a sealed bag (docs/tpm.md): tpm-start,
// tpm-end and tpm-continuity, or one "tpm" check for a bag made without
// a TPM. A bag whose record and folder hold no TPM evidence gets none.
// rec is the record's members when the caller has read them already (a
// record of a million items is not read twice); nil: they are read here.
func checkTPM(rep *seal.Report, dir bagDir, rec *chain.Record) {
	if rep.Root == "" {
		return // no sealed root to bind
	}
	var bag tpm.Bag
	bag.Root = rep.Root
	var err error
	if rec == nil {
		var f fs.File
		if f, err = dir.fsys.Open(seal.RecordFile); err == nil {
			rec, err = chain.ScanRecord(f, nil)
			f.Close()
		}
	}
	if err == nil {
		bag.Collection, bag.KeyFingerprint, bag.Start = rec.Collection, rec.Key.Fingerprint, rec.Extra[tpm.RecordKey]
	}
	if err != nil {
		// The record checks say what is wrong with it; say here only
		// that the TPM evidence cannot be checked without it.
		if _, serr := fs.Stat(dir.fsys, tpm.File); !errors.Is(serr, fs.ErrNotExist) {
			rep.Checks = append(rep.Checks, seal.Check{Name: tpm.CheckStart, Where: seal.RecordFile,
				Detail: "cannot check the TPM evidence without the record: " + err.Error()})
		}
		return
	}
	rep.Checks = append(rep.Checks, tpm.CheckBesideFS(dir.fsys, bag)...)
}
