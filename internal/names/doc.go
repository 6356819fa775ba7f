// Package names maps the paths of a bag's archive to paths that can be
// created on Windows and macOS, whose file systems refuse or change names
// that Linux keeps: reserved device names (CON, aux.txt), a trailing dot
// or space, the characters <>:"|?* (and ":" on macOS, which Finder shows
// as "/"), and names that differ only in case (both systems' default file
// systems are case-insensitive; macOS's also ignores the Unicode form).
//
// A name that must change is written with percent escapes: "%" and two
// upper-case hex digits for each byte replaced ("CON" is "CO%4E", "x:y"
// is "x%3Ay", "a." is "a%2E"). An archive name never holds "%" (the bag's
// own encoding escapes it as "^25"), so an escape cannot be mistaken for a
// name. A name still too long once escaped is cut and ended with "%~" and
// 16 hex digits of the SHA-256 of the archive name; of two names in a
// folder that the system would take for one, the second is written with
// "%=" and those 16 digits before its extension ("a%=0123456789abcdef.txt").
// Neither mark comes out of the escaping, so the mapping is injective: two
// archive paths never map to the same file (but for a collision of 64 bits
// of SHA-256).
//
// Component and Key are pure functions of a name and an operating system
// (a GOOS value: "windows", "darwin"; every other system keeps the names).
// A Mapper maps the paths of one bag, remembering each folder's names so
// that case collisions are resolved; it is deterministic: the same paths
// in the same order map the same way. A Census counts, for Windows and
// macOS at once, the names a Mapper would change, keeping hashes, not
// names: it serves verify's note.
//
// Neither Mapper nor Census is safe for concurrent use.
package names
