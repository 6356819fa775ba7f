// Package export turns a sealed bag into the formats analysts load into
// their tools: a CASE/UCO JSON-LD graph (CaseUCO), a Sleuth Kit bodyfile
// (Bodyfile) and a JSON Lines timeline for Timesketch (JSONL).
//
// Write reads the output folder and never writes to it, and it never
// extracts the archive: it reads record.json beside the archive twice as
// a stream (its members, then its items one by one), then decodes the
// archive once, entry by entry, with seal.ArchiveReader. Memory is
// bounded by the stored items' paths and hashes (to check each entry
// against the record), never by the evidence itself. The caller owns the
// writer; Write buffers its output and flushes it before it returns.
//
// While it reads, Write checks that what it exports is what was sealed:
// every payload entry has the SHA-256 and size the record gives it and
// every stored item of the record is in the archive; record.json is
// byte for byte the bag's scelle/record.json; the tag manifest lists
// that record with its hash, hashes to root.txt and is signed by
// root.sig with root.pub.pem's key; the archive hashes to
// evidence.tar.zst.sha256. When a format exports the custody log
// (case-uco, jsonl), the log must hold to its end. Any difference ends
// the export with an error that wraps ErrMismatch, after some output may
// have been written: the caller must discard it (scelle export writes
// FILE.partial and renames it only on success). Write does not check the
// journal, nor whose key signed: scelle verify does.
//
// WriteFS is Write on a bag read through an fs.FS, such as a bag in an S3
// store (vault.Store.Open): the same checks and the same output.
//
// export reads the record and the custody log through package chain and
// the bag through package seal; it never imports collect. Calls on
// different folders or writers are safe at the same time.
package export
