// Package volume says which file system holds a folder, and the largest
// file it can hold, so that a collection refuses at start an output
// medium its archive could outgrow (a FAT32 stick holds no file of 4 GiB
// or more) instead of failing hours later.
//
// Of reads the file system of the folder or of its nearest existing
// parent: statfs's magic number on Linux, GetVolumeInformation on
// Windows; elsewhere the file system is unknown and no limit is claimed.
// It writes nothing and is safe for concurrent use.
package volume
