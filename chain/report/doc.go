// Package report builds the court report of an output folder: one
// bilingual (French, then English) document for the legal team and the
// commissaire de justice. It says who collected what, where, when and with
// which tool, what could not be collected and why, the root fingerprint
// (in type and as a QR code), the custody events and their signers, the
// verdict of verification and how to repeat it with standard tools.
// The reasons and the checks' details are the record's and the
// verification's English technical texts: each is kept as it is, after
// the French and English label of its class (report_reasons.go).
//
// Build reads an output folder (record.json, required; root.txt,
// evidence.tar.zst.sha256, root.pub.pem, custody.jsonl and the files added
// beside the bag) into a Report; it reads the record's items one at a time
// and keeps a bounded digest of them (ItemDigest). It verifies nothing of
// the bag: the caller verifies it and hands the result to
// SetVerification. The report is rendered twice from one model, as a
// self-contained HTML file (WriteHTML) and as a PDF (WritePDF), to writers
// the caller owns; report writes no file itself. Both renderings are
// deterministic: the same folder and verification give the same bytes,
// and nothing in them depends on when or where the report was made unless
// Generated is set. A Report is not safe for concurrent use.
//
// Write verifies a folder and writes both files; WriteFS does the same
// for a bag read through an fs.FS, such as a bag in an S3 store, with the
// caller's verification (vault.Store.Verify), and the report then says
// where the bag was read (Report.Stored: endpoint, location, versions).
//
// Every string from the host, the bag, the record or the custody log is
// written visibly escaped (package visible), as scelle shows it on the
// terminal: neither rendering holds a control, bidirectional or invisible
// character from them, and a note at the end says how escapes read when
// there are any.
//
// report reads the record and the custody log through package chain and
// the bag's files through package seal; it never imports collect.
package report
