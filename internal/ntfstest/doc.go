// Package ntfstest builds NTFS test images laid out like a Windows
// system, for the tests of the packages that read NTFS (the raw volume
// reader, the $MFT timeline, scelle collect --image).
//
// Build formats a volume with Debian's mkntfs, mounts it with ntfs-3g
// (FUSE, alternate data streams through streams_interface=xattr), plants
// one file of every artifact family of the Windows triage (registry hives
// with their .LOG1/.LOG2, event logs, Prefetch, SRUM, the WMI repository,
// scheduled tasks, Startup folders, PSReadLine history, LNK files and jump
// lists, $Recycle.Bin $I files, Windows Timeline, browser histories,
// hosts, setupapi, WER), a download with a Zone.Identifier stream, a
// fragmented file, a sparse file and a file deleted before the volume is
// unmounted, then leaves the volume as a bare partition image or puts it
// into an MBR or a GPT disk image (sfdisk, sgdisk). The registry hives are
// a real hive, the NTUSER.DAT that www.velocidex.com/golang/regparser
// ships as test data, fetched through the Go module proxy (go mod
// download) at a pinned version and checked against a pinned SHA-256;
// other artifacts are synthetic bytes with their format's signature.
//
// Images are cached outside the repository, under
// $SCELLE_NTFSTEST_CACHE or else the user cache folder
// (~/.cache/scelle-ntfstest), by a key over the builder's version and
// the Options: the first test to ask builds the image (a few seconds),
// every later test binary reuses it. Concurrent builders of the same key
// wait on a file lock. An image returned by Build is shared: tests must
// open it read-only and never write to it.
//
// Build needs Linux, root, /dev/fuse and the tools of the Debian packages
// ntfs-3g, fdisk and gdisk, and the go command for the hive. When one is
// missing it skips the test, unless the environment variable CI is set:
// then it fails it, since CI installs them (.ci/run).
//
// Image.Files is the manifest the tests compare against: each planted
// file (and each named stream) with its path inside the volume, SHA-256,
// size, $STANDARD_INFORMATION times and flags (deleted, sparse,
// fragmented, stream). The builder checks what it claims: after
// unmounting it reads back, with ntfsinfo, that the fragmented file has
// several runs, the sparse file the sparse flag and the deleted file's
// record is free, and fails the build otherwise.
package ntfstest
