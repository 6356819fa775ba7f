// Package fileio holds the few file operations every part of scelle needs
// and must get right the same way on Linux, macOS and Windows: writing a
// file so that it is whole or absent, flushing a folder after a rename,
// reading a small file without blocking on a FIFO or opening a device,
// and hashing a file.
//
// Output files are written as NAME.partial, flushed, closed and renamed:
// a crash or an error never leaves a file under its final name that looks
// valid but is not. A ".partial" file is created exclusively, so two
// writers never interleave in it; one left by a crash is named in the
// error and must be removed by hand.
//
// The functions keep no state and are safe for concurrent use on
// different paths. The package imports nothing of scelle.
package fileio
