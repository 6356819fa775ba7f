package netstat

import (
	"strconv"
)

// Names of kernel constants, as iproute2 prints them. Unknown values are
// printed as numbers so nothing is lost.

type flagName struct {
	bit  uint32
	name string
}

func flagNames(v uint32, table []flagName) []string {
	out := []string{}
	for _, f := range table {
		if v&f.bit != 0 {
			out = append(out, f.name)
			v &^= f.bit
		}
	}
	for bit := uint32(1); v != 0; bit <<= 1 {
		if v&bit != 0 {
			out = append(out, "0x"+strconv.FormatUint(uint64(bit), 16))
			v &^= bit
		}
	}
	return out
}

// linux/if.h net_device_flags.
var ifFlags = []flagName{
	{0x1, "UP"}, {0x2, "BROADCAST"}, {0x4, "DEBUG"}, {0x8, "LOOPBACK"},
	{0x10, "POINTOPOINT"}, {0x20, "NOTRAILERS"}, {0x40, "RUNNING"}, {0x80, "NOARP"},
	{0x100, "PROMISC"}, {0x200, "ALLMULTI"}, {0x400, "MASTER"}, {0x800, "SLAVE"},
	{0x1000, "MULTICAST"}, {0x2000, "PORTSEL"}, {0x4000, "AUTOMEDIA"}, {0x8000, "DYNAMIC"},
	{0x10000, "LOWER_UP"}, {0x20000, "DORMANT"}, {0x40000, "ECHO"},
}

func ifFlagNames(v uint32) []string { return flagNames(v, ifFlags) }

// linux/if_addr.h IFA_F_*.
var ifaFlags = []flagName{
	{0x1, "secondary"}, {0x2, "nodad"}, {0x4, "optimistic"}, {0x8, "dadfailed"},
	{0x10, "homeaddress"}, {0x20, "deprecated"}, {0x40, "tentative"}, {0x80, "permanent"},
	{0x100, "managetempaddr"}, {0x200, "noprefixroute"}, {0x400, "mcautojoin"}, {0x800, "stable-privacy"},
}

func ifaFlagNames(v uint32) []string { return flagNames(v, ifaFlags) }

// linux/neighbour.h NUD_*.
var nudStates = []flagName{
	{0x01, "INCOMPLETE"}, {0x02, "REACHABLE"}, {0x04, "STALE"}, {0x08, "DELAY"},
	{0x10, "PROBE"}, {0x20, "FAILED"}, {0x40, "NOARP"}, {0x80, "PERMANENT"},
}

func nudStateNames(v uint16) []string {
	if v == 0 {
		return []string{"NONE"}
	}
	return flagNames(uint32(v), nudStates)
}

// linux/neighbour.h NTF_*.
var ntfFlags = []flagName{
	{0x01, "use"}, {0x02, "self"}, {0x04, "master"}, {0x08, "proxy"},
	{0x10, "extern_learn"}, {0x20, "offloaded"}, {0x40, "sticky"}, {0x80, "router"},
}

func ntfFlagNames(v uint8) []string { return flagNames(uint32(v), ntfFlags) }

// linux/if_arp.h ARPHRD_*, the common ones.
var linkTypes = map[uint16]string{
	0: "netrom", 1: "ether", 24: "ieee1394", 32: "infiniband", 256: "slip", 512: "ppp",
	768: "ipip", 769: "tunnel6", 772: "loopback", 776: "sit", 778: "gre", 783: "irda",
	801: "ieee80211", 803: "ieee80211_radiotap", 823: "ip6gre", 824: "netlink", 65534: "none",
	65535: "void",
}

func linkTypeName(v uint16) string {
	if n, ok := linkTypes[v]; ok {
		return n
	}
	return strconv.Itoa(int(v))
}

// RFC 2863 operational states, as the kernel numbers them (IF_OPER_*).
var operStates = []string{"unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up"}

func operStateName(v uint8) string {
	if int(v) < len(operStates) {
		return operStates[v]
	}
	return strconv.Itoa(int(v))
}

// rt_scope_t.
func scopeName(v uint8) string {
	switch v {
	case 0:
		return "global"
	case 200:
		return "site"
	case 253:
		return "link"
	case 254:
		return "host"
	case 255:
		return "nowhere"
	}
	return strconv.Itoa(int(v))
}

// RTN_*.
var routeTypes = []string{"unspec", "unicast", "local", "broadcast", "anycast", "multicast",
	"blackhole", "unreachable", "prohibit", "throw", "nat", "xresolve"}

func routeTypeName(v uint8) string {
	if int(v) < len(routeTypes) {
		return routeTypes[v]
	}
	return strconv.Itoa(int(v))
}

// RTPROT_*.
var routeProtos = map[uint8]string{
	0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static", 8: "gated", 9: "ra",
	10: "mrt", 11: "zebra", 12: "bird", 13: "dnrouted", 14: "xorp", 15: "ntk", 16: "dhcp",
	17: "mrouted", 18: "keepalived", 42: "babel", 99: "openr", 186: "bgp", 187: "isis",
	188: "ospf", 189: "rip", 192: "eigrp",
}

func routeProtoName(v uint8) string {
	if n, ok := routeProtos[v]; ok {
		return n
	}
	return strconv.Itoa(int(v))
}

// RT_TABLE_*.
func tableName(v uint32) string {
	switch v {
	case 0:
		return "unspec"
	case 252:
		return "compat"
	case 253:
		return "default"
	case 254:
		return "main"
	case 255:
		return "local"
	}
	return strconv.FormatUint(uint64(v), 10)
}

// TCP states (include/net/tcp_states.h); /proc/net/udp and raw use the
// same numbers (ESTABLISHED when connected, CLOSE when not).
var tcpStates = []string{"", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV", "BOUND_INACTIVE"}

func tcpStateName(v int) string {
	if v > 0 && v < len(tcpStates) {
		return tcpStates[v]
	}
	return strconv.Itoa(v)
}

// socket_state (include/uapi/linux/net.h), as /proc/net/unix prints it.
var unixStates = []string{"FREE", "UNCONNECTED", "CONNECTING", "CONNECTED", "DISCONNECTING"}

func unixStateName(v int) string {
	if v >= 0 && v < len(unixStates) {
		return unixStates[v]
	}
	return strconv.Itoa(v)
}

// socket types (SOCK_*).
var sockTypes = []string{"", "stream", "dgram", "raw", "rdm", "seqpacket", "dccp"}

func sockTypeName(v int) string {
	if v > 0 && v < len(sockTypes) {
		return sockTypes[v]
	}
	if v == 10 {
		return "packet"
	}
	return strconv.Itoa(v)
}

// linux/route.h RTF_* (the /proc/net/route and ipv6_route flags).
var rtfFlags = []flagName{
	{0x1, "UP"}, {0x2, "GATEWAY"}, {0x4, "HOST"}, {0x8, "REINSTATE"}, {0x10, "DYNAMIC"},
	{0x20, "MODIFIED"}, {0x40, "MTU"}, {0x80, "WINDOW"}, {0x100, "IRTT"}, {0x200, "REJECT"},
	{0x10000, "DEFAULT"}, {0x40000, "ADDRCONF"}, {0x80000, "PREFIX_RT"}, {0x100000, "ANYCAST"},
	{0x200000, "NONEXTHOP"}, {0x400000, "EXPIRES"}, {0x800000, "ROUTEINFO"},
	{0x1000000, "CACHE"}, {0x2000000, "FLOW"}, {0x4000000, "POLICY"}, {0x80000000, "LOCAL"},
}

func rtfFlagNames(v uint32) []string { return flagNames(v, rtfFlags) }

// linux/if_arp.h ATF_* (the /proc/net/arp flags).
var atfFlags = []flagName{
	{0x02, "COMPLETE"}, {0x04, "PERMANENT"}, {0x08, "PUBLISHED"}, {0x10, "USETRAILERS"},
	{0x20, "NETMASK"}, {0x40, "DONTPUB"},
}

func atfFlagNames(v uint32) []string { return flagNames(v, atfFlags) }

// netlink protocols (linux/netlink.h NETLINK_*).
var netlinkProtos = []string{"route", "unused", "usersock", "firewall", "sock_diag", "nflog", "xfrm",
	"selinux", "iscsi", "audit", "fib_lookup", "connector", "netfilter", "ip6_fw", "dnrtmsg",
	"kobject_uevent", "generic", "", "scsitransport", "ecryptfs", "rdma", "crypto", "smc"}

func netlinkProtoName(v int) string {
	if v >= 0 && v < len(netlinkProtos) && netlinkProtos[v] != "" {
		return netlinkProtos[v]
	}
	return strconv.Itoa(v)
}
