// Package system collects the host's time, identity and kernel state
// (ARTIFACTS.md section 3, users and logins aside).
//
// Collectors returns the collectors, all of class collect.ClassSystem, in
// order of volatility: system.time, system.dmesg, system.kernel,
// system.mounts, system.bpf and system.identity. Each stores the raw
// kernel files it reads under "live/proc/..." and "live/sys/...", the
// on-disk files under "fs/...", and the records it parses from them as
// JSON Lines under "live/system/" (docs/schema/system.md). The parsed
// tables (modules, mounts, swaps, sysctl, taint, binfmt_misc, dmesg) are
// made from exactly the bytes stored raw, never from a second read; the
// time and identity records are the samples Clock and Identify take.
//
// Identify and Clock give the command a fast summary of the host for the
// collection record; they never fail, they note what they could not read.
//
// Nothing here runs a host program or writes to the host. The only device
// opened is the kernel log, /dev/kmsg, read-only and non-blocking, after
// checking that it is the character device 1:11.
//
// The parsers (ParseModules, ParseMountinfo, ParseSwaps, ParseKmsg,
// ParseOSRelease, ParseBinfmt, DecodeTaint) take untrusted bytes and never
// panic; lines they cannot parse are returned as records with an error,
// never dropped. They are safe for concurrent use.
package system
