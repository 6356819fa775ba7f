// Package verdict makes every check of a bag's output folder and sums
// them up in one Verdict: the archive and its entries, the manifests,
// the root and its signature, the journal (package seal), the collection
// record against the manifest, the custody log beside the bag, its RFC
// 3161 timestamp tokens and its TPM evidence.
//
// A bag's own checks prove only that it agrees with itself: anyone who
// holds it can change it and seal it again with a new key. The Verdict
// therefore also lists its anchors (Anchor), what ties it to the
// collection from outside: the root of the procès-verbal, the signing
// key's fingerprint and a custody head, when the caller gives them in
// Options, and the TPM quotes and RFC 3161 tokens beside the bag. It names
// the signer of each custody line: the bag's key, a trusted key the
// caller gives, or an unknown one. It notes (Unportable) the payload names
// that Windows or macOS cannot create as they are, counted from the record
// as it is checked (package internal/names).
//
// Check only reads the folder. Its error is for a folder it cannot read
// at all, an identity that opens none of an encrypted archive's
// recipients, or an anchor that is not a fingerprint (ErrMalformed);
// every finding about the bag is a seal.Check in the Verdict, and an
// anchor given that does not hold is a failed check. scelle verify prints a Verdict; scelle report states it;
// custody add --event verified records it; scelle collect reads its new
// bag back through it.
//
// The package never imports collect, and it never prints.
package verdict
