// Package memory reads the physical RAM of a live Linux host and writes it
// as a LiME image, range by range, each range hashed as it is written.
//
// What is RAM: the top-level "System RAM" lines of /proc/iomem
// (ParseIomem). Where it is read: Open tries /proc/kcore, then /dev/crash,
// then /dev/mem, and keeps the first that works, recording why each one
// before it was refused (absent, permission, kernel lockdown,
// STRICT_DEVMEM, not the expected file or device, unreadable). For
// /proc/kcore, the RAM ranges are intersected with the PT_LOAD segments
// that have a physical address (ParseKcore, Plan), and a physical address
// pa is read at p_offset + (pa - p_paddr); for the devices, at pa itself.
// What cannot be read (kcore maps whole pages and iomem can end inside
// one; holes in kcore's map) is returned as a Gap with its reason, never
// filled with zeros.
//
// LiMEWriter writes the image: for each range, records of a 32-byte header
// (magic 0x4C694D45, version 1, first and last physical address, 0) and
// the bytes, at most one buffer (1 MiB) per record, so that no header
// claims a byte that was not read; a range cut by a read error ends with
// the bytes really read, and its RangeResult says how many and why.
// ReadLiME reads such an image back, record by record, for verification.
// The per-range results, the gaps and the VMCOREINFO note (kernel release)
// are what the caller records beside the image.
//
// RAM is the collector (memory.ram, registered from register.go, in the
// triage and full profiles after the kernel state): it stores
// SourceEntry (the plan and the kernel's identity), IomemEntry, the image
// as chunks of at most EntryChunk bytes under ImageDir, each a complete
// LiME file of one record named by its first physical address (ChunkName),
// and RangesEntry (one RangeLine per chunk and per gap). Each chunk is read
// whole into one buffer before it is stored, so that its size is known to
// the sink and its header claims only bytes read; the collector's memory
// is that buffer. A capture that cannot run is one skipped item (source
// ItemSource) with the reason. RAM implements collect.Lengthy: its time
// limit grows with the System RAM.
//
// The kernel's own answer is recorded as it is: /proc/kcore returns zeros
// for pages it will not read (offline, poisoned, ballooned), and those
// zeros are in the image as the kernel gave them.
//
// Devices: scelle never opens a device while it collects files. Physical
// memory is the one deliberate exception, confined to Open on Linux: it
// opens /dev/crash or /dev/mem read-only, only after checking that the
// path is exactly the expected character device (1:1 for /dev/mem, the
// misc minor /proc/misc gives "crash"), before and after the open.
// /proc/kcore is a regular file of procfs.
//
// A Source is owned by its caller, who must Close it; a Source and a
// LiMEWriter are for one goroutine at a time. The parsers (ParseIomem,
// ParseKcore, ReadLiME, ParseVMCOREINFO, ParseVMCOREINFOLocation,
// ParseLockdown) take untrusted bytes, bound what they read, never panic,
// and are safe for concurrent use. On other systems than Linux, Open
// returns an error wrapping errors.ErrUnsupported; the parsers and the
// LiME writer and reader work everywhere.
package memory
