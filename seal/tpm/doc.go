// Package tpm binds an evidence bag to the machine that made it and to
// the time it was made, with TPM 2.0 quotes.
//
// At the start of a collection, Quote asks the TPM to sign its SHA-256
// PCR bank and its clock (clock, resetCount, restartCount, safe) over a
// nonce derived from the collection id and the signing key's
// fingerprint (StartNonce); the evidence goes into the collection record,
// hence into the sealed bag. After sealing, a second quote signs the
// root fingerprint itself (EndNonce), and WriteBeside stores both quotes
// beside the bag as tpm.json. Verify checks one quote offline;
// CheckContinuity checks that two quotes come from the same TPM with no
// reset or restart between them; CheckBeside makes every check a
// verifier reports. docs/tpm.md says what the checks prove and what they
// do not.
//
// The signing key (the attestation key, AK) is a primary key of the
// endorsement hierarchy created from a fixed template, used and flushed:
// nothing is written to the TPM. Being a primary key, it is derived from
// the TPM's endorsement seed, so the same TPM always yields the same AK
// and a TPM can be tied to a quote later by creating the AK again.
//
// Open finds the TPM: the Linux resource manager /dev/tpmrm0 by default,
// or a swtpm command socket ("swtpm:HOST:PORT"). Where there is none it
// returns ErrNoTPM, which callers record rather than report as a
// failure. A TPM is used by one goroutine at a time; the caller must
// Close it. Evidence values are plain data, safe to share once made.
package tpm
