// Package users collects who is and was logged in to a Linux host, and its
// local accounts: the utmp, wtmp and btmp login records, lastlog, the
// wtmpdb and lastlog2 databases, and /etc/passwd, group, shadow and gshadow.
//
// Every source file is stored raw (as "fs"+path, through
// collect.Session.CopyFile) and, where scelle can read its format, also as
// parsed JSON Lines: volatile state under "live/users/", records parsed
// from disk under "parsed/users/". docs/schema/users.md gives each record's
// fields. Text fields keep valid UTF-8 and write other bytes as \xNN; the
// exact bytes are then given again, base64, in the field of the same name
// with the suffix "_raw". Parsed password state never includes a password
// hash.
//
// The record parsers (UtmpReader, ScanLastlog, ParseUtmp, ParseLastlog) are
// portable: they parse bytes, never panic on malformed input, and read
// streaming, so a file of any size is parsed in bounded memory. They read
// glibc's little-endian layouts; DetectUtmpLayout and DetectLastlogLayout
// tell the 32-bit time layout (x86_64, i386, 32-bit ARM) from the 64-bit
// one (aarch64, s390x, loongarch64) by the file's content.
//
// The collectors are safe to run one at a time on a Session, as the
// collect.Runner does; the parsers hold no shared state.
package users
