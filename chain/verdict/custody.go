package verdict

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/seal"
)

// checkCustody sums up the check of the custody log against the bag
// (chain.CheckCustodyDir's result): its chain, each line's signature, the
// acquired and sealed events signed with the bag's key and naming its
// root. A sealed bag must have one; a folder never sealed is checked only
// if it has one.
func checkCustody(rep *seal.Report, c *chain.CustodyCheck, err error) {
	if errors.Is(err, fs.ErrNotExist) && !rep.Sealed {
		return
	}
	rep.Checks = append(rep.Checks, Custody(c, err, rep.Sealed))
}

// Custody sums up a custody log check (chain.CheckCustodyDir's result)
// for a bag sealed or not, as the "custody" check.
func Custody(c *chain.CustodyCheck, err error, sealed bool) seal.Check {
	ok, where, detail := custodyVerdict(c, err, sealed)
	return seal.Check{Name: CheckCustody, OK: ok, Where: where, Detail: detail}
}

func custodyVerdict(c *chain.CustodyCheck, err error, sealed bool) (ok bool, where, detail string) {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, chain.CustodyFile, "missing: a sealed bag keeps its signed custody log beside the archive"
	case err != nil:
		return false, chain.CustodyFile, err.Error()
	case c.Err != nil:
		return false, fmt.Sprintf("%s line %d", chain.CustodyFile, c.Err.Line),
			fmt.Sprintf("%v; the %d lines before it hold", c.Err, len(c.Entries))
	case len(c.Entries) == 0:
		return false, chain.CustodyFile, "empty: no acquired event"
	case sealed && c.Sealed() == nil:
		n := len(c.Entries)
		return false, fmt.Sprintf("%s line %d", chain.CustodyFile, n+1),
			fmt.Sprintf("%s line %d: no sealed event after line %d: the bag is sealed but its custody log does not say so (the sealed line was removed, or the collection stopped between sealing and logging)", chain.CustodyFile, n+1, n)
	case !sealed:
		return true, chain.CustodyFile, fmt.Sprintf("%d events chained and signed, acquired with the bag's key; head %s", len(c.Entries), c.Head())
	}
	return true, chain.CustodyFile, fmt.Sprintf("%d events chained and signed, acquired and sealed with the bag's key; head %s", len(c.Entries), c.Head())
}
