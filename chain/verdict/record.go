package verdict

import (
	"fmt"
	"strings"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/internal/names"
	"github.com/scelle/scelle/seal"
)

// RecordDigest is what the record-items check needs of a record: its
// header, its number of items, and the digest of its stored items'
// (path, SHA-256) pairs. A caller that reads the record anyway (the
// report) fills one with Add and passes it in Options.Record, so that
// the record is read once.
type RecordDigest struct {
	Record *chain.Record
	n      int
	stored seal.SetDigest
	census *names.Census // the names Windows or macOS cannot create (names.go)
}

// Add counts one item of the record.
func (d *RecordDigest) Add(it *evidence.Item) {
	d.n++
	if it.Path != "" {
		d.stored.Add(it.Path, it.SHA256)
		d.countNames(it.Path)
	}
}

// checkRecord cross-checks the collection record with the manifest: every
// stored item of the record is in the bag with its hash, and nothing else.
// The record is read as a stream (unless d gives it as read already) and
// compared through a digest of its (path, SHA-256) pairs; only when they
// differ is it read whole, with the bag's entries, to say which items
// differ. It returns the digest, nil when the record does not read.
func checkRecord(rep *seal.Report, dir bagDir, d *RecordDigest) *RecordDigest {
	fail := func(detail string) {
		rep.Checks = append(rep.Checks, seal.Check{Name: CheckRecordItems, Where: seal.RecordFile, Detail: detail})
	}
	if d == nil {
		d = &RecordDigest{}
		f, err := dir.fsys.Open(seal.RecordFile)
		if err != nil {
			fail(err.Error())
			return nil
		}
		d.Record, err = chain.ScanRecord(f, func(it *evidence.Item) error {
			d.Add(it)
			return nil
		})
		f.Close()
		if err != nil {
			fail(err.Error())
			return nil
		}
	}
	if d.Record.Key.Fingerprint != rep.Key {
		fail(fmt.Sprintf("the record names key %s, the bag is signed with %s", d.Record.Key.Fingerprint, rep.Key))
		return d
	}
	if d.stored != rep.Payload {
		fail(recordMismatches(dir))
		return d
	}
	rep.Checks = append(rep.Checks, seal.Check{Name: CheckRecordItems, OK: true, Where: seal.RecordFile,
		Detail: fmt.Sprintf("%d items, %d stored, all in the manifest", d.n, d.stored.Len())})
	return d
}

// recordMismatches lists the items in which the record and the bag in dir
// differ, holding both in memory.
func recordMismatches(dir bagDir) string {
	const unknown = "the record's stored items and the manifest differ"
	full, err := dir.verify(seal.VerifyOptions{Items: true})
	if err != nil {
		return fmt.Sprintf("%s (%v)", unknown, err)
	}
	f, err := dir.fsys.Open(seal.RecordFile)
	if err != nil {
		return fmt.Sprintf("%s (%v)", unknown, err)
	}
	defer f.Close()
	rec, err := chain.ReadRecord(f)
	if err != nil {
		return fmt.Sprintf("%s (%v)", unknown, err)
	}
	man := map[string]string{}
	for _, it := range full.Items {
		if strings.HasPrefix(it.Path, seal.PayloadDir+"/") {
			man[it.Path] = it.SHA256
		}
	}
	bad := rec.CheckItems(man)
	if len(bad) == 0 {
		return unknown
	}
	return fmt.Sprintf("%d mismatches: %s", len(bad), strings.Join(bad[:min(len(bad), 10)], "; "))
}
