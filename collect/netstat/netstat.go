package netstat

import (
	"github.com/scelle/scelle/collect"
)

// Socket is one line of a /proc/net socket table, with the processes that
// hold it open. It is one line of live/net/sockets.jsonl.
type Socket struct {
	// Source is the kernel table the record was read from, as a host
	// path: "/proc/net/tcp", or "/proc/<pid>/net/tcp" for another
	// network namespace.
	Source string `json:"source"`
	// NetNS is the inode of the network namespace ("net:[N]"), 0 if unknown.
	NetNS    uint64 `json:"netns,omitempty"`
	Family   string `json:"family"`         // inet, inet6, unix, packet, netlink
	Protocol string `json:"protocol"`       // tcp, udp, udplite, raw, icmp, unix, packet, netlink
	Type     string `json:"type,omitempty"` // unix, packet: stream, dgram ...; netlink: route, audit ...

	LocalAddress  string  `json:"local_address,omitempty"`
	LocalPort     *uint16 `json:"local_port,omitempty"` // raw sockets: the IP protocol number
	RemoteAddress string  `json:"remote_address,omitempty"`
	RemotePort    *uint16 `json:"remote_port,omitempty"`

	State     string  `json:"state,omitempty"`
	StateCode *int    `json:"state_code,omitempty"`
	TxQueue   *uint64 `json:"tx_queue,omitempty"`
	RxQueue   *uint64 `json:"rx_queue,omitempty"`
	UID       *uint32 `json:"uid,omitempty"`
	Inode     uint64  `json:"inode"`

	// Unix sockets.
	UnixPath    string `json:"unix_path,omitempty"`
	UnixPathRaw []byte `json:"unix_path_raw,omitempty"` // the path's bytes when not valid UTF-8
	UnixFlags   string `json:"unix_flags,omitempty"`    // hex, as the kernel prints it

	// Packet sockets.
	EtherProtocol string `json:"ether_protocol,omitempty"` // hex, as the kernel prints it: "0003" is ETH_P_ALL
	Ifindex       *int   `json:"ifindex,omitempty"`        // 0: all interfaces
	Running       *bool  `json:"running,omitempty"`

	// Netlink sockets.
	NetlinkPortID *uint32 `json:"netlink_port_id,omitempty"`
	NetlinkGroups string  `json:"netlink_groups,omitempty"` // hex, as the kernel prints it

	// Owners are the processes with a file descriptor on this socket's
	// inode; empty when none was found (kernel sockets, time-wait, or a
	// process that could not be scanned).
	Owners []Owner `json:"owners"`
}

// Owner is a process file descriptor that refers to a socket.
type Owner struct {
	PID     int    `json:"pid"`
	FD      int    `json:"fd"`
	Comm    string `json:"comm,omitempty"`
	CommRaw []byte `json:"comm_raw,omitempty"` // comm's bytes when not valid UTF-8
}

// Interface is a network interface with its addresses. It is one line of
// live/net/interfaces.jsonl.
type Interface struct {
	Index   int    `json:"index"`
	Name    string `json:"name"`
	NameRaw []byte `json:"name_raw,omitempty"` // the name's bytes when not valid UTF-8
	// Source is where the record came from: "netlink", or "sysfs" when
	// netlink failed.
	Source    string `json:"source"`
	MAC       string `json:"mac,omitempty"`
	PermMAC   string `json:"perm_mac,omitempty"` // the hardware's own address, if it differs in use
	Broadcast string `json:"broadcast,omitempty"`
	LinkType  string `json:"link_type,omitempty"`
	Kind      string `json:"kind,omitempty"` // veth, bridge, tun, wireguard ... (virtual links)
	MTU       int    `json:"mtu"`
	OperState string `json:"operstate"`
	// Carrier is whether the link has carrier; absent when the kernel
	// does not report it (an interface that is down).
	Carrier        *bool     `json:"carrier,omitempty"`
	CarrierChanges *uint32   `json:"carrier_changes,omitempty"`
	Flags          []string  `json:"flags"`
	FlagsValue     uint32    `json:"flags_value"`
	Promiscuity    *uint32   `json:"promiscuity,omitempty"`
	Master         int       `json:"master,omitempty"`
	Link           int       `json:"link,omitempty"`
	Qdisc          string    `json:"qdisc,omitempty"`
	TxQueueLen     int       `json:"tx_queue_len,omitempty"`
	Alias          string    `json:"alias,omitempty"`
	Addresses      []Address `json:"addresses"`
}

// Address is an address assigned to an interface.
type Address struct {
	Family    string   `json:"family"`
	Address   string   `json:"address"`
	PrefixLen int      `json:"prefix_len"`
	Peer      string   `json:"peer,omitempty"`
	Broadcast string   `json:"broadcast,omitempty"`
	Scope     string   `json:"scope"`
	Label     string   `json:"label,omitempty"`
	Flags     []string `json:"flags"`
	// Lifetimes in seconds from collection; -1 is forever. Absent when
	// not known (the /proc fallback).
	ValidLifetime     int64 `json:"valid_lifetime,omitempty"`
	PreferredLifetime int64 `json:"preferred_lifetime,omitempty"`
}

// Route is one route. It is one line of live/net/routes.jsonl.
type Route struct {
	Source      string    `json:"source"` // netlink, /proc/net/route, /proc/net/ipv6_route
	Family      string    `json:"family"`
	Table       string    `json:"table,omitempty"`
	TableID     uint32    `json:"table_id,omitempty"`
	Type        string    `json:"type,omitempty"`
	Protocol    string    `json:"protocol,omitempty"`
	Scope       string    `json:"scope,omitempty"`
	Destination string    `json:"destination"`
	From        string    `json:"from,omitempty"` // source prefix (policy routing, IPv6 subtrees)
	Gateway     string    `json:"gateway,omitempty"`
	PrefSource  string    `json:"pref_source,omitempty"`
	Dev         string    `json:"dev,omitempty"`
	Ifindex     int       `json:"ifindex,omitempty"`
	InIfindex   int       `json:"in_ifindex,omitempty"`
	Metric      int64     `json:"metric"`
	TOS         int       `json:"tos,omitempty"`
	Flags       []string  `json:"flags,omitempty"`
	FlagsValue  uint32    `json:"flags_value"`
	Nexthops    []Nexthop `json:"nexthops,omitempty"`
}

// Nexthop is one path of a multipath route.
type Nexthop struct {
	Gateway string `json:"gateway,omitempty"`
	Dev     string `json:"dev,omitempty"`
	Ifindex int    `json:"ifindex"`
	Weight  int    `json:"weight"`
}

// Neighbour is one neighbour (ARP or NDP) cache entry. It is one line of
// live/net/neighbours.jsonl.
type Neighbour struct {
	Source      string   `json:"source"` // netlink or /proc/net/arp
	Family      string   `json:"family"`
	Address     string   `json:"address"`
	LinkAddress string   `json:"link_address,omitempty"`
	Dev         string   `json:"dev,omitempty"`
	Ifindex     int      `json:"ifindex,omitempty"`
	State       []string `json:"state"`
	StateValue  uint32   `json:"state_value"`
	Flags       []string `json:"flags"`
	HWType      string   `json:"hw_type,omitempty"` // /proc/net/arp only, as printed
	// Seconds before collection that the entry was last confirmed
	// reachable, used, and updated (netlink only).
	ConfirmedAgo *float64 `json:"confirmed_ago,omitempty"`
	UsedAgo      *float64 `json:"used_ago,omitempty"`
	UpdatedAgo   *float64 `json:"updated_ago,omitempty"`
}

// Collectors returns the package's collectors: net.sockets,
// net.interfaces, net.routes, net.neighbours, net.dns and net.netfilter.
func Collectors() []collect.Collector {
	return []collect.Collector{
		NewSockets(),
		NewInterfaces(),
		NewRoutes(),
		NewNeighbours(),
		NewDNS(),
		NewNetfilter(),
	}
}
