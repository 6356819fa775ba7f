// Package mft parses the NTFS master file table ($MFT) into a timeline:
// a Sleuth Kit bodyfile (mactime -b reads it) and JSON Lines with the
// $STANDARD_INFORMATION and $FILE_NAME times of each entry side by side,
// its entry and sequence numbers, whether it is in use or deleted, its
// size, named streams and full path.
//
// ParseRecord parses one FILE record: it applies and checks the fixups
// (update sequence array), then reads $STANDARD_INFORMATION, every
// $FILE_NAME, every $DATA attribute (size, sparse, compressed, the number
// of runs) and a resident $ATTRIBUTE_LIST. Records are untrusted bytes:
// every offset and length is checked against the record, the number of
// attributes, list entries and data runs is bounded, and a record that
// does not hold gets an error wrapping ErrEmpty, ErrBadMagic, ErrFixup or
// ErrAttribute, never a panic (FuzzParseRecord).
//
// Walk reads a $MFT stream through an io.ReaderAt, sequentially in
// chunks, and yields every entry that is not empty and not an extension
// record, deleted entries included (a freed record keeps its attributes
// until it is reused). An entry's attribute list is followed into its
// extension records (at most 64), whose names and streams are folded into
// the entry. Full paths are rebuilt from the parent references of
// $FILE_NAME, through a cache of folder paths bounded by
// Options.PathCache; a folder that is not cached is read again from the
// stream. A parent whose sequence number does not match (the folder was
// deleted and its record reused), a parent chain deeper than 512 folders
// or that loops, and a parent that is not a folder make the entry an
// orphan, under \$OrphanFiles as The Sleuth Kit names it. Memory is
// bounded by the cache and a chunk of records, whatever the size of
// $MFT.
//
// Timeline writes both outputs from one walk. Nothing here reads the
// volume itself: data outside $MFT (a non-resident attribute list, the
// files' contents) is not read, and an entry that needs it says so in
// its error. Walks on different readers are safe at the same time; a
// walk calls its callback from the calling goroutine only.
package mft
