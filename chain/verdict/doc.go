// Package verdict makes every check of a bag's output folder and sums
// them up in one Verdict: the archive and its entries, the manifests,
// the root and its signature, the journal (package seal), the collection
// record against the manifest, the custody log beside the bag, its RFC
// 3161 timestamp tokens and its TPM evidence.
//
// Check only reads the folder. Its error is for a folder it cannot read
// at all (or an identity that opens none of an encrypted archive's
// recipients); every finding about the bag is a seal.Check in the
// Verdict. scelle verify prints a Verdict; scelle report states it;
// custody add --event verified records it; scelle collect reads its new
// bag back through it.
//
// The package never imports collect, and it never prints.
package verdict
