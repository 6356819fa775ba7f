// Package seal writes, reads and verifies scelle's evidence bag.
//
// A bag is a BagIt (RFC 8493) bag stored as a PAX tar archive compressed
// with zstd, one zstd frame per tar entry, so that an archive cut short
// still decodes up to its last whole entry. Beside the archive, the
// output folder holds its SHA-256, the signed root fingerprint and the
// journal. docs/format.md is the normative specification; every check
// the Verifier makes can be repeated with standard tools.
//
// A Writer is used by one goroutine at a time. It hashes and compresses
// each item in one pass as it streams it; it keeps the manifest, not the
// payload, in memory. Create starts a bag in a folder named with the
// ".partial" suffix; Seal completes it and renames the folder; a Writer
// that is never sealed leaves a folder whose journal still proves every
// item it completed.
package seal
