// Package timestamp gets and checks RFC 3161 time-stamp tokens over a
// bag's root fingerprint: one of the seal's outside anchors, which shows
// that the bag existed, as sealed, no later than the time a time-stamping
// authority (TSA) states.
//
// The message imprint of the request is the root itself: the root is
// already a SHA-256 (of the tag manifest), so the request says
// hashAlgorithm SHA-256 and hashedMessage = the 32 root bytes; nothing is
// hashed again. A token therefore verifies with
//
//	openssl ts -verify -in timestamp-1.tsr -digest ROOT_HEX -CAfile timestamp-1.ca.pem
//
// and equally with -data evidence/tagmanifest-sha256.txt once extracted.
//
// A token is stored beside the bag as timestamp-<n>.tsr (File), n counting
// from 1: the DER TimeStampResp exactly as the TSA sent it (status and
// token), which is what `openssl ts -verify -in` and `openssl ts -reply -in
// -text` read without -token_in. The CA bundle the operator trusted for
// it, when given, is saved as timestamp-<n>.ca.pem (CAFile).
// docs/timestamps.md says what a token proves and how to check one by hand.
//
// What it reads and writes: Request speaks to the TSA over HTTP and
// returns the reply; Verify works offline on bytes the caller read; Store
// writes new token files into a bag's output folder (never replacing one)
// and List lists them. The caller owns the bytes and the folder; every
// function is safe for concurrent use, apart from two Store calls on the
// same folder at once.
//
// timestamp imports neither collect nor chain: it knows a root, not a bag.
package timestamp
