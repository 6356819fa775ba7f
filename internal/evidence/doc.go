// Package evidence declares, once, the schema of one evidence item as the
// collection record holds it: the Item (what was looked for, where it went
// in the bag, how it ended), its Status, and the Stat of a file taken
// before and after it was read.
//
// Every layer uses these types: collectors fill an Item (collect.Outcome
// is an Item), the item spool and the record of package chain write and
// read them, and the report and the exports read them. Their JSON is the
// record's, member for member (docs/format.md, sections 7.2 to 7.4): a
// change here changes the bag format.
//
// Stat carries what POSIX reports (statx on Linux) and, for Windows
// collectors, what NTFS adds (attributes, stream name, MFT entry and
// sequence, the $STANDARD_INFORMATION and $FILE_NAME times) in a member
// omitted when empty, so that a Linux record's bytes do not change.
//
// evidence is a leaf: it imports nothing of scelle, holds no state and
// does no I/O. Its values are plain data, safe to copy and to read from
// several goroutines.
package evidence
