// Package extract writes a sealed bag's files into a folder, keeping only
// what the bag proves: scelle extract's engine.
//
// Run reads the bag's archive once, entry by entry, through
// seal.BagReader (decrypting it with Options.Identities when it is
// encrypted), and writes each entry to DEST/evidence/PATH, the name tar
// would give it. DEST must not exist or be empty (ErrNotEmpty); it is
// opened as an os.Root, so that no entry can be written outside it, a
// path may be longer than PATH_MAX, and no existing file is followed or
// replaced. With Options.NamesFor set to a system whose names differ
// (package internal/names: windows, darwin), each entry it cannot create
// is written under a mapped name, listed in DEST/NameMapFile, and
// DEST/MappedManifestFile holds the manifest with the written names
// (both are written as ".partial" files and renamed when complete).
//
// Each file's SHA-256 is checked as it is written, against the signed
// journal and the manifest; at the archive's end, every file written that
// no signed manifest or journal line proves is removed, and so is each
// one a check names. Nothing unproven is left in DEST: when Run stops
// early (a path that leaves DEST, a damaged archive), it removes every
// file no journal line proves before it returns (Result.Stopped counts
// them). The error then wraps ErrFailed, as it does when any check failed
// (Result.Findings names each); Result.NotChecked lists what Run cannot
// check (the root and the key against the ones noted at the seizure, the
// custody log, the time stamps: package verdict does).
//
// Findings and NotChecked hold strings from the bag as they are: the
// caller escapes them before it shows them (package internal/visible).
// Run prints nothing, and closes every file and folder it opens before it
// returns; calls into different folders are safe at the same time.
//
// RunFS is Run on a bag read through an fs.FS, such as a bag in an S3
// store (vault.Store.Open): the same checks, and nothing of the bag is
// written but DEST.
//
// extract reads the record through package chain and the bag through
// package seal; it never imports collect.
package extract
