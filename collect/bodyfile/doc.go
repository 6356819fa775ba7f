// Package bodyfile lists file system trees as a Sleuth Kit 3.x bodyfile
// (the input of mactime and of timeline tools) and, from the same walk,
// lists the files a responder looks at first: set-user-ID and
// set-group-ID files, world-writable files and folders, hidden files and
// files whose owner or group has no account.
//
// The walk reads metadata only: it never opens a file for reading, never
// follows a symbolic link, never enters /proc, /sys or /dev unless a root
// lies inside them, never enters the folders the caller excludes (the
// output folder), and does not cross into kernel pseudo file systems,
// network or FUSE file systems, or automount points. Each such folder is
// listed itself and recorded as skipped, with why. Every entry is read by
// its name in its open folder, never by its path, so entries nested beyond
// the longest path the kernel resolves (PATH_MAX) are listed, with their
// whole path; a folder MaxDepth levels below a root is listed and not
// entered.
//
// # Output
//
// Everything is stored under parsed/bodyfile/ with the Walker's Base name:
//
//	<base>.000.body, <base>.001.body ...         the bodyfile, in chunks
//	<base>.suid.000.jsonl ...                    set-user-ID / set-group-ID files
//	<base>.world-writable.000.jsonl ...          world-writable entries
//	<base>.hidden.000.jsonl ...                  hidden entries
//	<base>.unowned.000.jsonl ...                 entries with an unknown owner or group
//
// Each output is cut into chunks of at most ChunkSize bytes (4 MiB by
// default; 8 MiB before 2026-12-06), at line boundaries, numbered from 000 with at least three
// digits; concatenating the chunks in number order gives the whole
// output. Chunk 000 is always stored, even when empty, so that an empty
// list means "none found" rather than "not looked for". Memory use is
// bounded by the chunk buffers and by the folder depth, not by the number
// of files: folders are read in batches and no list of paths is kept.
//
// # Bodyfile lines
//
//	MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|crtime
//
// MD5 is always "0" (no content is read). name is the path as seen on the
// host (under the collection root), and for a symbolic link
// "name -> target". inode is the inode number. mode_as_string is the
// file's type letter, "/", the type letter again and the permissions as
// ls prints them ("r/rrwsr-xr-x"): fls prints the directory entry's type
// before "/" and the inode's after, which on a live file system are the
// same. Type letters: r regular, d directory, l symbolic link, p FIFO,
// c character device, b block device, s socket, - unknown. Times are
// integer seconds since 1970 UTC (negative before); crtime is the birth
// time from statx, 0 when the file system or kernel does not report it.
//
// Names and link targets are escaped so that every line has exactly
// eleven fields, " -> " only ever separates a link from its target, and
// the original bytes can be recovered: '%', '|' and the '>' of every "->"
// are written %25, %7C and %3E (mactime decodes %HH, so it shows these
// characters as they are); control bytes 0x00-0x1f and 0x7f are written
// as a backslash and three octal digits ("\012" for a newline), and a
// backslash as two ("\\"), which mactime shows as written (it drops
// lines whose decoded name holds a newline). Other bytes, including
// invalid UTF-8, are written as they are. (fls instead replaces control
// characters with '^' and leaves '|' as is.)
//
// # Lists
//
// Each list line is a JSON object (see Entry) for one directory entry:
//
//   - suid: a non-directory with the set-user-ID or set-group-ID bit.
//   - world-writable: an entry writable by others (mode o+w) that is not a
//     symbolic link (whose mode is always 0777) and not a folder with the
//     sticky bit (such as /tmp).
//   - hidden: an entry whose name begins with '.' and that is not below a
//     login home folder, and, anywhere, an entry whose name is made only of
//     dots and white space ("...", ". ") and is not "." or "..". The login
//     home folders are /root and the home folders in the root's /etc/passwd
//     of accounts whose shell does not end in "nologin" or "false"; a home
//     of "/" is ignored.
//   - unowned: an entry whose UID has no line in the root's /etc/passwd or
//     whose GID has none in its /etc/group (local accounts only: accounts
//     from a directory service show here too). When one of the two files
//     cannot be read, that check is not made and the failure is recorded.
//
// A Walker is a collect.Collector; it is not safe for concurrent use.
package bodyfile
