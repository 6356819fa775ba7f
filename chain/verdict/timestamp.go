package verdict

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/internal/fileio"
	"github.com/scelle/scelle/seal"
	"github.com/scelle/scelle/seal/timestamp"
)

// checkTimestamps adds one "timestamp" check per token beside the bag
// (timestamp-<n>.tsr), made offline: the token's imprint is the root, its
// signature holds, its signer has the time-stamping key usage, and it
// chains to the CA file saved with it (timestamp-<n>.ca.pem); without that
// file the check holds on the rest and says the chain was not checked.
// A timestamped event of the custody log (events: the lines that hold)
// that names the file must give its SHA-256, and one that names a file
// that is not there fails.
func checkTimestamps(rep *seal.Report, dir bagDir, now time.Time, events []chain.CustodyEntry) {
	ns, err := timestamp.ListFS(dir.fsys)
	if err != nil {
		rep.Checks = append(rep.Checks, seal.Check{Name: CheckTimestampToken, Where: dir.name, Detail: err.Error()})
		return
	}
	for _, n := range ns {
		ok, detail := checkTimestamp(dir.fsys, n, rep.Root, now)
		if ok {
			ok, detail = custodyNames(events, timestamp.File(n), dir.fsys, detail)
		}
		rep.Checks = append(rep.Checks, seal.Check{Name: CheckTimestampToken, OK: ok, Where: timestamp.File(n), Detail: detail})
	}
	checkTokensPresent(rep, dir, events)
}

// checkTokensPresent fails a timestamped event whose token file is not
// there: a token removed, or never copied with the bag.
func checkTokensPresent(rep *seal.Report, dir bagDir, events []chain.CustodyEntry) {
	for _, e := range events {
		if e.Event != chain.EventTimestamped {
			continue
		}
		_, err := fs.Stat(dir.fsys, e.TokenFile)
		if err == nil {
			continue
		}
		why := "is not there: the token was removed, or not copied with the bag"
		if !errors.Is(err, fs.ErrNotExist) {
			why = "cannot be read: " + err.Error()
		}
		rep.Checks = append(rep.Checks, seal.Check{Name: CheckTimestampToken, Where: e.TokenFile,
			Detail: fmt.Sprintf("%s line %d (timestamped) names the token %s, which %s", chain.CustodyFile, e.Seq, e.TokenFile, why)})
	}
}

// custodyNames checks the token file against the timestamped events of
// the custody log that name it.
func custodyNames(events []chain.CustodyEntry, name string, fsys fs.FS, detail string) (bool, string) {
	var lines []string
	for _, e := range events {
		if e.Event != chain.EventTimestamped || e.TokenFile != name {
			continue
		}
		b, err := fileio.ReadSmallFS(fsys, name, timestamp.MaxResponse)
		if err != nil {
			return false, err.Error()
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != e.TokenSHA256 {
			return false, fmt.Sprintf("%s: its SHA-256 is %s, but %s line %d names %s: the file was replaced", name, got, chain.CustodyFile, e.Seq, e.TokenSHA256)
		}
		lines = append(lines, fmt.Sprint(e.Seq))
	}
	if len(lines) == 0 {
		return true, detail + "; no custody event names it"
	}
	return true, detail + "; " + chain.CustodyFile + " line " + strings.Join(lines, ", ") + " names it"
}

// CheckTimestamp checks token n beside the bag in dir against the root
// rootHex, offline, at time now (see checkTimestamps).
func CheckTimestamp(dir string, n int, rootHex string, now time.Time) (ok bool, detail string) {
	return checkTimestamp(fileio.DirFS(dir), n, rootHex, now)
}

func checkTimestamp(fsys fs.FS, n int, rootHex string, now time.Time) (ok bool, detail string) {
	name, caName := timestamp.File(n), timestamp.CAFile(n)
	root, err := hex.DecodeString(rootHex)
	if err != nil || len(root) != sha256.Size {
		return false, name + ": not checked: the bag has no root fingerprint to check it against"
	}
	token, err := fileio.ReadSmallFS(fsys, name, timestamp.MaxResponse)
	if err != nil {
		return false, err.Error()
	}
	var pool *x509.CertPool
	switch pem, err := fs.ReadFile(fsys, caName); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return false, err.Error()
	default:
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return false, caName + ": no PEM certificate"
		}
	}
	info, err := timestamp.Verify(token, root, pool, now)
	note := ""
	var ie x509.CertificateInvalidError
	if errors.As(err, &ie) && ie.Reason == x509.Expired {
		// A certificate has expired since: check the chain as at the
		// token's time, and say so.
		if i, ierr := timestamp.Verify(token, root, nil, now); ierr == nil {
			if i, ierr = timestamp.Verify(token, root, pool, i.Time); ierr == nil {
				info, err = i, nil
				note = "; a certificate of the chain has expired since: the chain holds as at the token's time (revocation not checked)"
			}
		}
	}
	if err != nil {
		return false, name + ": " + err.Error()
	}
	detail = fmt.Sprintf("%s: %s%s by %s (serial %s): the imprint is the root, the signature holds, time-stamping key usage; ",
		name, info.Time.Format(time.RFC3339), Accuracy(info), info.TSA, info.Serial)
	if info.Chain == nil {
		detail += "chain NOT checked (no " + caName + "): who the TSA is rests on its own certificate"
	} else {
		detail += "chains to " + info.Chain[len(info.Chain)-1].Subject.String() + " (" + caName + ")" + note
	}
	if info.QCStatement {
		detail += "; " + QualifiedClaim
	}
	return true, detail
}

// QualifiedClaim is what a verdict says of a token that claims to be a
// qualified time stamp.
const QualifiedClaim = "the token claims to be a qualified time stamp (ETSI EN 319 422 qcStatement): only the EU trusted list can confirm the TSA is qualified"

// Accuracy is a token's accuracy as " ±D", or "" when it gives none.
func Accuracy(info *timestamp.Info) string {
	if info.Accuracy == 0 {
		return ""
	}
	return " ±" + info.Accuracy.String()
}
