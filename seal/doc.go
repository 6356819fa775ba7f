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
// item it completed. With Options.Adaptive, the zstd level follows the
// output's pace (lighter when the CPU is the limit, harder when the
// medium is), and each change is a journal event line (LevelEvent).
//
// A BagReader (OpenBag) reads a bag's archive back, entry by entry, in one
// pass, in memory that does not grow with the bag, and checks each entry
// as it goes: against its journal line, then against the manifests, the
// root, its signature and the archive's sums (see BagReader for the
// list). Verify,
// scelle export and scelle extract all read through it. An entry is an
// io.Reader; what the caller does not read of it, Next reads and checks.
// A BagReader is used by one goroutine, and its caller must Close it.
// Its findings wrap ErrMismatch; VerifyWith makes its Report, in its own
// words, from what the BagReader read.
package seal
