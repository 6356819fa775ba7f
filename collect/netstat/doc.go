// Package netstat collects a live host's network state: its sockets with
// the processes that own them, its interfaces, addresses and link states,
// routes, neighbour caches, name resolution settings and what /proc shows
// of netfilter.
//
// Everything is read from the kernel's own interfaces: the /proc/net
// tables, /sys/class/net and NETLINK_ROUTE dumps made with raw system
// calls. No program of the host is run. Each kernel source is stored as
// is (the /proc and /sys files under "live/proc/..." and "live/sys/...",
// the netlink answers under "live/netlink/<request>.bin") beside the
// records scelle parsed from it (JSON Lines under "live/net/"), whose
// schemas docs/schema/netstat.md documents. When netlink fails, the
// records are built from /proc and /sys and the item is recorded as
// partial with the reason.
//
// The /proc/net tables are read twice: once copied as is, once parsed.
// Both are snapshots of tables that change while they are read; a socket
// that opened or closed in between may be in one and not the other.
//
// The collectors read the network namespace scelle runs in; net.sockets
// also reads the socket tables of every other network namespace that a
// process is in (containers), through /proc/<pid>/net. Interfaces,
// routes and neighbours are those of scelle's namespace only.
//
// On a dead-box collection (collect.Env.Live false) every volatile item is
// recorded as skipped; net.dns still copies its files from the image.
// Collectors are used by one goroutine at a time, as collect.Runner does.
package netstat
