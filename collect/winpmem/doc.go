// Package winpmem captures the physical memory of a live Windows host
// through the examiner's own copy of WinPmem: reading RAM on Windows
// needs a signed kernel driver, which scelle does not ship and never takes
// from the host.
//
// Collector opens the program once, so that the file cannot change while
// it is held (on Windows, shared for reading only: no one may write,
// rename or delete it), records its SHA-256, starts that same path, hashes
// the file again once the process runs, and refuses (kills the process,
// stores nothing of its output) a file whose two hashes differ. WinPmem is
// run as PATH Args... (default "-": winpmem_mini writes the raw image to
// its standard output), and its output is streamed into the bag in chunks
// of EntryChunk bytes, one entry each (ChunkName: the entries
// concatenated in name order are the raw image); the bag's tar entries
// need their size first, which a stream of unknown length cannot give for
// one entry. Each chunk is listed in RangesEntry with its SHA-256, in the
// line format of collect/memory's capture (RangeLine), and SourceEntry
// records the program's path, both hashes, its arguments, its exit status,
// the bytes read and the SHA-256 of the whole stream. Its standard error
// (bounded) is stored as StderrEntry. Without a program, the collector
// records the RAM as skipped, with the reason.
//
// Memory: one chunk buffer. A Collector is for one collection at a time.
package winpmem
