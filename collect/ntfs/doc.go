// Package ntfs reads NTFS file systems raw, from a disk image, a
// partition image, a block device or a live Windows volume (\\.\C:),
// over www.velocidex.com/golang/go-ntfs, and finds them on MBR and GPT
// disks.
//
// Partitions lists a disk's partition table (MBR with its logical
// partitions, or GPT behind a protective MBR) and marks the NTFS ones by
// their boot sector's OEM id. Open checks a volume's boot sector
// (ParseBoot) and its first $MFT records; Volume.ReadDir, Lookup, Stat
// and OpenStream then read folders, MFT records and data streams
// (alternate data streams by name, sparse and compressed ones included;
// File.Allocated lists a sparse stream's extents that hold data).
//
// ImageLayout finds the NTFS volumes of a disk image, partition image or
// block device (opened read only, never written) for scelle collect
// --image; LiveVolumes lists a live Windows host's fixed NTFS volumes.
// Tree is the collector of a Windows profile's file items: it takes its
// patterns on each volume of collect.Env.Windows, raw from an image, and
// on a live host through Windows first (backup semantics), raw when
// Windows holds the file locked or refuses it; each item records which
// (read_via). LayoutCollector stores an image's layout in the bag.
//
// Everything read is untrusted. go-ntfs trusts what it reads, so every
// call into it runs under a guard: reads outside the volume fail, a call
// that reads more than a bound or outlives its context is aborted, and a
// panic becomes an error wrapping ErrCorrupt. Sizes that the volume
// cannot hold are refused (ErrTooLarge) before anything is read. Memory
// is bounded by go-ntfs's page cache (4 MiB) and record cache (1000
// records) per Volume, and by the caller's buffers.
//
// A Volume's methods are safe for concurrent use and run one at a time;
// the io.ReaderAt given to Open must stay open while the Volume is used.
package ntfs
