// Package collect gathers evidence from a host and hands it to a Sink.
//
// A Collector captures one source family (processes, sockets, files ...).
// The Runner runs collectors in order of volatility (RFC 3227): processes
// and memory first, then network, system and kernel state, temporary file
// systems, and logs and configuration last. Every planned item ends as an
// Outcome: collected, partial, skipped or failed, with the reason, so that
// nothing is silently missing.
//
// collect never writes anywhere itself: it streams each artifact's bytes to
// the Sink it is given (the seal package's bag writer in scelle) and reports
// outcomes through callbacks. It never runs a program of the host; it reads
// the kernel's interfaces (/proc, /sys, netlink) and on-disk records.
//
// An Env says where and how to collect. Its fields hold for every OS but
// one: Env.Linux, where the collectors of a Linux host find /proc and
// /sys; a Windows collector reads Root, Live, OS and the limits, and
// ignores it. LinuxEnv makes the Env of a live Linux host (root "/") or
// of a mounted Linux image (any other root); HostEnv, that of the host
// scelle runs on. Env.OS, the OS of the host collected, decides which
// profiles and items apply (collect/profile).
//
// # Native collectors
//
// A native collector is built in Go and named by the definitions of
// collect/profile. Each family package (collect/proc, collect/netstat ...)
// registers its natives once, from an init function, with Register: name,
// family, volatility class, the OSes whose hosts it collects, a one-line
// description and a constructor. A name registered twice, or an incomplete
// Native, panics when the binary starts. Package collect/natives imports
// every family, so that a binary importing it (collect/profile does) links
// them all. Natives lists the registry, sorted by name: the profile
// loader, "scelle profiles -v" and, through a test, docs/definitions.md
// all read that one list.
//
// Options reach the natives through NativeOptions: every constructor
// receives the whole struct and reads the fields it needs, and returns nil
// when they leave it nothing to do. The caller that sets an option (the
// command's --memory) thus never names the collector that reads it; a new
// option is a new field of NativeOptions. The registry is written by init
// functions and only read afterwards; its functions are safe for
// concurrent use.
//
// A Session is safe for use by one collector goroutine at a time; the Runner
// gives each collector the session in turn.
package collect
