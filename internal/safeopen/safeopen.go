// Package safeopen opens evidence files for reading while changing as
// little as possible on the host: no access-time update where the kernel
// allows it, no blocking open of FIFOs, sockets or devices, no final symlink
// followed, and, under a root folder, no path that resolves outside it.
// OpenAt and OpenDirAt open one name in an open folder, with the same
// guarantees, for walks whose depth a path cannot hold (PATH_MAX).
package safeopen

import (
	"errors"
	"os"
	"strings"
)

// ErrNotRegular is returned when the path names something other than a
// regular file (a FIFO, socket, device, directory or symbolic link). Such
// files are recorded by the caller, never read.
var ErrNotRegular = errors.New("not a regular file")

// Open opens the regular file at path, an absolute path on the host.
// The returned file's NoATime reports whether O_NOATIME was honoured.
func Open(path string) (*File, error) { return openIn("", path) }

// OpenIn opens the regular file at rel, a slash-separated path taken
// relative to root, resolving every symbolic link on the way as if root
// were "/" (so an image's absolute links stay inside the image).
func OpenIn(root, rel string) (*File, error) { return openIn(root, rel) }

// File is an open evidence file.
type File struct {
	*os.File
	// NoATime reports whether the file was opened with O_NOATIME, so
	// reading it does not change its access time.
	NoATime bool
}

// OpenDir opens the directory at rel under root (root "" or "/" for the
// host) for listing, without following a final link, without updating its
// access time where allowed, and without leaving root.
func OpenDir(root, rel string) (*os.File, error) { return openDir(root, rel) }

// OpenAt opens the regular file name in the open folder dir, with the
// guarantees of Open: no access-time update where the kernel allows it, no
// link followed, and nothing opened that is not a regular file (what a
// stat of name shows as a FIFO, socket or device is refused unopened; what
// is swapped in before the open is refused without blocking). name is one
// path component: a name holding a separator, "", "." or ".." is refused.
// Only name is resolved, never a path, so the depth of dir does not
// matter. The file's name is dir's joined with name.
func OpenAt(dir *os.File, name string) (*File, error) { return openAt(dir, name) }

// OpenDirAt opens the folder name in the open folder dir for listing, with
// the guarantees of OpenDir: no link followed, no access-time update where
// allowed. name is one path component, as for OpenAt.
func OpenDirAt(dir *os.File, name string) (*os.File, error) { return openDirAt(dir, name) }

// ErrNotName is returned by OpenAt and OpenDirAt for a name that is not
// one path component.
var ErrNotName = errors.New("not a single path component")

// oneName reports whether name is one path component.
func oneName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/`+string(os.PathSeparator))
}

// OpenParent opens, as an O_PATH handle, the folder that holds rel under
// root, resolving links inside root only; it returns the handle and the
// final name. The caller stats or reads links relative to it.
func OpenParent(root, rel string) (*os.File, string, error) { return openParent(root, rel) }
