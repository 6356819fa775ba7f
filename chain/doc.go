// Package chain holds what makes a bag evidence in proceedings: the
// collection record (who collected what, where, when, with which tool,
// and how each planned item ended) and the hash-linked custody log that
// every later holder signs.
//
// The record: Record is record.json; ReadRecord reads it whole and
// ScanRecord item by item, in memory bounded however many items it holds.
// While a collection runs, an ItemSpool holds its items out of memory (in
// ItemSpoolFile, beside the bag) and writes the record at the end with the
// same bytes Record.Marshal gives. The custody log: AppendCustody adds a
// signed event to custody.jsonl beside the bag; CheckCustody and
// CheckCustodyDir check it line by line against the bag. Only
// AppendCustody, NewItemSpool and ItemSpool write files; the caller owns
// the folder. Neither an ItemSpool nor a CustodyCheck is safe for
// concurrent use.
//
// What is built from them lives in sub-packages: the court report in
// chain/report, the analysts' exports in chain/export. The RFC 3161
// time-stamps over the root are in seal/timestamp.
//
// chain reads bags through package seal; it never imports collect.
package chain
