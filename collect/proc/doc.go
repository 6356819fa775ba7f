// Package proc collects the process table of a live Linux host from /proc:
// one record per process with its identity, credentials, command line,
// environment, links, namespaces and open file descriptors, the raw kernel
// files they were parsed from, the SHA-256 of every running executable (and
// the bytes of deleted or memfd executables), a check for processes hidden
// from /proc listings, and, on request, the memory of selected processes.
//
// Every collector reads the kernel's interfaces only, under
// Env.Linux.Proc; it never runs a program of the host and never follows a
// path on disk to reach an executable (it reads through the /proc/PID/exe
// magic link). A record's text fields hold the kernel's bytes; bytes that
// are not UTF-8 are written as \xNN and the exact bytes are then given
// again, base64 encoded, in the field of the same name with the suffix
// "_raw". The record schemas are documented in docs/schema/proc.md.
//
// Collectors returns the collectors; each is used by one goroutine at a
// time, through the collect.Session the Runner gives it. On other systems
// than Linux they record their items as skipped.
package proc
