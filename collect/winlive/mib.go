package winlive

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
)

// Socket is one record of live/windows/net/sockets.jsonl: a row of a
// TCP or UDP table with its owning process.
type Socket struct {
	Protocol      string `json:"protocol"` // tcp, tcp6, udp, udp6
	LocalAddress  string `json:"local_address"`
	LocalPort     uint16 `json:"local_port"`
	RemoteAddress string `json:"remote_address,omitempty"`
	RemotePort    uint16 `json:"remote_port,omitempty"`
	State         string `json:"state,omitempty"`
	StateCode     uint32 `json:"state_code,omitempty"`
	PID           uint32 `json:"pid"`
	// Process is the owning process's image name, from the process
	// list taken at the same time ("" when the pid is not in it).
	Process string `json:"process,omitempty"`
}

// tcpStates names MIB_TCP_STATE values.
var tcpStates = []string{1: "CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2",
	"CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT", "DELETE_TCB"}

func tcpState(v uint32) string {
	if v < uint32(len(tcpStates)) && tcpStates[v] != "" {
		return tcpStates[v]
	}
	return "state(" + strconv.FormatUint(uint64(v), 10) + ")"
}

// maxRows bounds the rows decoded from one table.
const maxRows = 4 << 20

// Row sizes of the owner-pid tables (GetExtendedTcpTable and
// GetExtendedUdpTable with TCP_TABLE_OWNER_PID_ALL, UDP_TABLE_OWNER_PID).
const (
	tcp4RowSize = 24
	tcp6RowSize = 56
	udp4RowSize = 12
	udp6RowSize = 28
)

// tableRows checks a table of a 32-bit count at offset 0 and rows of
// size from offset start, and returns the row count to read. A table
// shorter than its count says is read as far as it goes, with an error.
func tableRows(buf []byte, start, size int) (int, error) {
	if len(buf) < 4 {
		return 0, fmt.Errorf("table of %d bytes: no entry count", len(buf))
	}
	n := uint64(binary.LittleEndian.Uint32(buf))
	if len(buf) < start {
		if n == 0 {
			return 0, nil
		}
		return 0, fmt.Errorf("table of %d bytes: no room for its %d rows", len(buf), n)
	}
	fit := uint64(len(buf)-start) / uint64(size)
	var err error
	if n > fit {
		err = fmt.Errorf("table says %d rows, %d bytes hold %d", n, len(buf), fit)
		n = fit
	}
	if n > maxRows {
		err = fmt.Errorf("more than %d rows", maxRows)
		n = maxRows
	}
	return int(n), err
}

// tableBytes returns buf cut after the rows its count says it holds
// (all of buf when they do not fit: the decoder then says so).
func tableBytes(buf []byte, start, size int) []byte {
	if len(buf) < 4 {
		return buf
	}
	end := uint64(start) + uint64(binary.LittleEndian.Uint32(buf))*uint64(size)
	if end <= uint64(len(buf)) {
		return buf[:end]
	}
	return buf
}

// port decodes a port stored in network byte order in the low 16 bits
// of a 32-bit little-endian field.
func port(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

// ParseTCPTable decodes a MIB_TCPTABLE_OWNER_PID (ipv6 false) or a
// MIB_TCP6TABLE_OWNER_PID.
func ParseTCPTable(buf []byte, ipv6 bool) ([]Socket, error) {
	le := binary.LittleEndian
	if ipv6 {
		return parseSockets(buf, tcp6RowSize, "tcp6", func(r []byte, s *Socket) {
			s.LocalAddress = addr6(r[0:16], le.Uint32(r[16:]))
			s.LocalPort = port(r[20:])
			s.RemoteAddress = addr6(r[24:40], le.Uint32(r[40:]))
			s.RemotePort = port(r[44:])
			s.StateCode, s.PID = le.Uint32(r[48:]), le.Uint32(r[52:])
			s.State = tcpState(s.StateCode)
		})
	}
	return parseSockets(buf, tcp4RowSize, "tcp", func(r []byte, s *Socket) {
		s.StateCode = le.Uint32(r)
		s.LocalAddress, s.LocalPort = addr4(r[4:8]), port(r[8:])
		s.RemoteAddress, s.RemotePort = addr4(r[12:16]), port(r[16:])
		s.PID = le.Uint32(r[20:])
		s.State = tcpState(s.StateCode)
	})
}

// ParseUDPTable decodes a MIB_UDPTABLE_OWNER_PID (ipv6 false) or a
// MIB_UDP6TABLE_OWNER_PID.
func ParseUDPTable(buf []byte, ipv6 bool) ([]Socket, error) {
	le := binary.LittleEndian
	if ipv6 {
		return parseSockets(buf, udp6RowSize, "udp6", func(r []byte, s *Socket) {
			s.LocalAddress, s.LocalPort, s.PID = addr6(r[0:16], le.Uint32(r[16:])), port(r[20:]), le.Uint32(r[24:])
		})
	}
	return parseSockets(buf, udp4RowSize, "udp", func(r []byte, s *Socket) {
		s.LocalAddress, s.LocalPort, s.PID = addr4(r[0:4]), port(r[4:]), le.Uint32(r[8:])
	})
}

// parseSockets decodes the rows of size bytes that follow a table's
// 4-byte count, each by row, as far as the buffer holds them.
func parseSockets(buf []byte, size int, proto string, row func(r []byte, s *Socket)) ([]Socket, error) {
	n, err := tableRows(buf, 4, size)
	out := make([]Socket, 0, n)
	for i := 0; i < n; i++ {
		s := Socket{Protocol: proto}
		row(buf[4+i*size:4+(i+1)*size], &s)
		out = append(out, s)
	}
	return out, err
}

func addr4(b []byte) string { return netip.AddrFrom4([4]byte(b[:4])).String() }

func addr6(b []byte, scope uint32) string {
	a := netip.AddrFrom16([16]byte(b[:16]))
	if scope != 0 && (a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast()) {
		a = a.WithZone(strconv.FormatUint(uint64(scope), 10))
	}
	return a.String()
}

// Address families of SOCKADDR_INET.
const (
	afInet  = 2
	afInet6 = 23
)

// sockaddrInetSize is the size of SOCKADDR_INET.
const sockaddrInetSize = 28

// sockaddrInet decodes a SOCKADDR_INET: its address (with the scope of
// an IPv6 link-local address) and port, or "" for an unknown family.
func sockaddrInet(b []byte) (addr string, p uint16, family string) {
	switch binary.LittleEndian.Uint16(b) {
	case afInet:
		return addr4(b[4:8]), port(b[2:]), "inet"
	case afInet6:
		return addr6(b[8:24], binary.LittleEndian.Uint32(b[24:])), port(b[2:]), "inet6"
	}
	return "", 0, "family(" + strconv.Itoa(int(binary.LittleEndian.Uint16(b))) + ")"
}

// Route is one record of live/windows/net/routes.jsonl, a
// MIB_IPFORWARD_ROW2.
type Route struct {
	Family            string `json:"family"`
	Destination       string `json:"destination"`
	NextHop           string `json:"next_hop"`
	InterfaceIndex    uint32 `json:"interface_index"`
	InterfaceLUID     uint64 `json:"interface_luid"`
	Interface         string `json:"interface,omitempty"`
	Metric            uint32 `json:"metric"`
	Protocol          uint32 `json:"protocol"`
	Origin            uint32 `json:"origin"`
	Loopback          bool   `json:"loopback"`
	Immortal          bool   `json:"immortal"`
	AgeSeconds        uint32 `json:"age_seconds"`
	ValidLifetime     uint32 `json:"valid_lifetime"`
	PreferredLifetime uint32 `json:"preferred_lifetime"`
}

// Row sizes of MIB_IPFORWARD_TABLE2 and MIB_IPNET_TABLE2, whose rows
// start at offset 8 (after the count, aligned).
const (
	forwardRowSize = 104
	netRowSize     = 88
)

// ParseForwardTable decodes a MIB_IPFORWARD_TABLE2 (GetIpForwardTable2).
func ParseForwardTable(buf []byte) ([]Route, error) {
	le := binary.LittleEndian
	n, err := tableRows(buf, 8, forwardRowSize)
	out := make([]Route, 0, n)
	for i := 0; i < n; i++ {
		r := buf[8+i*forwardRowSize : 8+(i+1)*forwardRowSize]
		dst, _, fam := sockaddrInet(r[12:])
		hop, _, _ := sockaddrInet(r[44:])
		rt := Route{Family: fam, Destination: dst, NextHop: hop,
			InterfaceLUID: le.Uint64(r), InterfaceIndex: le.Uint32(r[8:]),
			ValidLifetime: le.Uint32(r[76:]), PreferredLifetime: le.Uint32(r[80:]),
			Metric: le.Uint32(r[84:]), Protocol: le.Uint32(r[88:]),
			Loopback: r[92] != 0, Immortal: r[95] != 0, AgeSeconds: le.Uint32(r[96:]), Origin: le.Uint32(r[100:])}
		if dst != "" {
			rt.Destination += "/" + strconv.Itoa(int(r[12+sockaddrInetSize]))
		}
		out = append(out, rt)
	}
	return out, err
}

// Neighbour is one record of live/windows/net/neighbours.jsonl, a
// MIB_IPNET_ROW2 (the ARP and IPv6 neighbour caches).
type Neighbour struct {
	Family         string `json:"family"`
	Address        string `json:"address"`
	MAC            string `json:"mac"`
	InterfaceIndex uint32 `json:"interface_index"`
	InterfaceLUID  uint64 `json:"interface_luid"`
	Interface      string `json:"interface,omitempty"`
	State          string `json:"state"`
	IsRouter       bool   `json:"is_router"`
	Unreachable    bool   `json:"unreachable"`
}

var neighbourStates = []string{"unreachable", "incomplete", "probe", "delay", "stale", "reachable", "permanent"}

// ParseNetTable decodes a MIB_IPNET_TABLE2 (GetIpNetTable2).
func ParseNetTable(buf []byte) ([]Neighbour, error) {
	le := binary.LittleEndian
	n, err := tableRows(buf, 8, netRowSize)
	out := make([]Neighbour, 0, n)
	for i := 0; i < n; i++ {
		r := buf[8+i*netRowSize : 8+(i+1)*netRowSize]
		a, _, fam := sockaddrInet(r)
		nb := Neighbour{Family: fam, Address: a, InterfaceIndex: le.Uint32(r[28:]), InterfaceLUID: le.Uint64(r[32:]),
			MAC: mac(r[40:72], le.Uint32(r[72:])), IsRouter: r[80]&1 != 0, Unreachable: r[80]&2 != 0}
		if st := le.Uint32(r[76:]); st < uint32(len(neighbourStates)) {
			nb.State = neighbourStates[st]
		} else {
			nb.State = "state(" + strconv.FormatUint(uint64(st), 10) + ")"
		}
		out = append(out, nb)
	}
	return out, err
}

// mac formats the first n bytes of b (at most len(b)) as a hardware
// address.
func mac(b []byte, n uint32) string {
	if uint64(n) > uint64(len(b)) {
		n = uint32(len(b))
	}
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 3*n)
	for i, c := range b[:n] {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, hex[c>>4], hex[c&15])
	}
	return string(out)
}

// ipNetRowSize is the size of MIB_IPNETROW (GetIpNetTable, IPv4 only).
const ipNetRowSize = 24

var ipNetTypes = []string{1: "other", "invalid", "dynamic", "static"}

// ParseIPNetTable decodes a MIB_IPNETTABLE (GetIpNetTable): the IPv4 ARP
// cache, read where GetIpNetTable2 is missing.
func ParseIPNetTable(buf []byte) ([]Neighbour, error) {
	le := binary.LittleEndian
	n, err := tableRows(buf, 4, ipNetRowSize)
	out := make([]Neighbour, 0, n)
	for i := 0; i < n; i++ {
		r := buf[4+i*ipNetRowSize : 4+(i+1)*ipNetRowSize]
		nb := Neighbour{Family: "inet", InterfaceIndex: le.Uint32(r), MAC: mac(r[8:16], le.Uint32(r[4:])), Address: addr4(r[16:20])}
		if t := le.Uint32(r[20:]); t < uint32(len(ipNetTypes)) && ipNetTypes[t] != "" {
			nb.State = ipNetTypes[t]
		} else {
			nb.State = "type(" + strconv.FormatUint(uint64(t), 10) + ")"
		}
		out = append(out, nb)
	}
	return out, err
}
