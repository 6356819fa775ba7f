package netstat

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
)

// Netlink message and attribute layout (linux/netlink.h, linux/rtnetlink.h,
// linux/if_link.h, linux/if_addr.h, linux/neighbour.h). Declared here so
// that the parser builds and is tested on every OS.
const (
	nlmsgHdrLen = 16
	nlaHdrLen   = 4

	nlmsgError = 2
	nlmsgDone  = 3

	nlmFDumpIntr = 0x10

	rtmNewLink  = 16
	rtmGetLink  = 18
	rtmNewAddr  = 20
	rtmGetAddr  = 22
	rtmNewRoute = 24
	rtmGetRoute = 26
	rtmNewNeigh = 28
	rtmGetNeigh = 30

	afUnspec = 0
	afInet   = 2
	afInet6  = 10

	iflaAddress        = 1
	iflaBroadcast      = 2
	iflaIfname         = 3
	iflaMTU            = 4
	iflaLink           = 5
	iflaQdisc          = 6
	iflaMaster         = 10
	iflaTxqlen         = 13
	iflaOperstate      = 16
	iflaLinkinfo       = 18
	iflaIfalias        = 20
	iflaPromiscuity    = 30
	iflaCarrier        = 33
	iflaCarrierChanges = 35
	iflaPermAddress    = 54
	iflaInfoKind       = 1

	ifaAddress   = 1
	ifaLocal     = 2
	ifaLabel     = 3
	ifaBroadcast = 4
	ifaCacheinfo = 6
	ifaFlagsAttr = 8

	rtaDst       = 1
	rtaSrc       = 2
	rtaIIF       = 3
	rtaOIF       = 4
	rtaGateway   = 5
	rtaPriority  = 6
	rtaPrefsrc   = 7
	rtaMultipath = 9
	rtaTable     = 15
	rtaVia       = 18

	ndaDst       = 1
	ndaLladdr    = 2
	ndaCacheinfo = 3
)

// Message is one netlink message: its header fields and payload.
type Message struct {
	Type  uint16
	Flags uint16
	Seq   uint32
	Pid   uint32
	Data  []byte // the payload after the 16-byte header, within the message length
}

// ParseMessages splits b, a sequence of netlink messages in the host's
// byte order as the kernel sends them, into messages. It returns the
// messages before the first malformed header with an error.
func ParseMessages(b []byte) ([]Message, error) {
	var out []Message
	for off := 0; off < len(b); {
		if len(b)-off < nlmsgHdrLen {
			return out, fmt.Errorf("netlink message at offset %d: %d bytes left, header needs %d", off, len(b)-off, nlmsgHdrLen)
		}
		h := b[off:]
		n := int(binary.NativeEndian.Uint32(h[0:4]))
		if n < nlmsgHdrLen || n > len(h) {
			return out, fmt.Errorf("netlink message at offset %d: length %d out of range (%d bytes left)", off, n, len(h))
		}
		out = append(out, Message{
			Type:  binary.NativeEndian.Uint16(h[4:6]),
			Flags: binary.NativeEndian.Uint16(h[6:8]),
			Seq:   binary.NativeEndian.Uint32(h[8:12]),
			Pid:   binary.NativeEndian.Uint32(h[12:16]),
			Data:  h[nlmsgHdrLen:n:n],
		})
		off += align4(n)
	}
	return out, nil
}

func align4(n int) int { return (n + 3) &^ 3 }

// attr is one route attribute (struct rtattr / nlattr).
type attr struct {
	Type uint16 // without the NLA_F_NESTED and NLA_F_NET_BYTEORDER bits
	Data []byte
}

// parseAttrs splits b into attributes.
func parseAttrs(b []byte) ([]attr, error) {
	var out []attr
	for off := 0; off < len(b); {
		if len(b)-off < nlaHdrLen {
			return out, fmt.Errorf("attribute at offset %d: %d bytes left", off, len(b)-off)
		}
		n := int(binary.NativeEndian.Uint16(b[off:]))
		if n < nlaHdrLen || n > len(b)-off {
			return out, fmt.Errorf("attribute at offset %d: length %d out of range", off, n)
		}
		out = append(out, attr{Type: binary.NativeEndian.Uint16(b[off+2:]) & 0x3fff, Data: b[off+nlaHdrLen : off+n : off+n]})
		off += align4(n)
	}
	return out, nil
}

// errorMessage decodes the errno of an NLMSG_ERROR or NLMSG_DONE payload.
func errorMessage(m Message) error {
	if len(m.Data) < 4 {
		if m.Type == nlmsgDone {
			return nil // some kernels send DONE without a payload
		}
		return errors.New("netlink error message too short")
	}
	code := int32(binary.NativeEndian.Uint32(m.Data))
	if code == 0 {
		return nil
	}
	if code < 0 {
		code = -code
	}
	return fmt.Errorf("netlink: %w", syscall.Errno(code))
}

func u32(b []byte) (uint32, bool) {
	if len(b) < 4 {
		return 0, false
	}
	return binary.NativeEndian.Uint32(b), true
}

func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// ipString formats a 4- or 16-byte address; other lengths as hex.
func ipString(b []byte) string {
	if a, ok := netip.AddrFromSlice(b); ok {
		return a.String()
	}
	return hwString(b)
}

// hwString formats a link-layer address as colon-separated hex bytes.
func hwString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return net.HardwareAddr(b).String()
}

// familyName names an address family.
func familyName(f uint8) string {
	switch f {
	case afInet:
		return "inet"
	case afInet6:
		return "inet6"
	case 7:
		return "bridge"
	case 28:
		return "mpls"
	}
	return "af" + strconv.Itoa(int(f))
}

// parseLink decodes an RTM_NEWLINK message.
func parseLink(m Message) (Interface, error) {
	var it Interface
	if len(m.Data) < 16 {
		return it, fmt.Errorf("RTM_NEWLINK payload of %d bytes, need 16", len(m.Data))
	}
	it.LinkType = linkTypeName(binary.NativeEndian.Uint16(m.Data[2:4]))
	it.Index = int(int32(binary.NativeEndian.Uint32(m.Data[4:8])))
	flags := binary.NativeEndian.Uint32(m.Data[8:12])
	it.FlagsValue = flags
	it.Flags = ifFlagNames(flags)
	it.Source = "netlink"
	attrs, err := parseAttrs(m.Data[16:])
	for _, a := range attrs {
		switch a.Type {
		case iflaIfname:
			it.Name = cstring(a.Data)
		case iflaAddress:
			it.MAC = hwString(a.Data)
		case iflaBroadcast:
			it.Broadcast = hwString(a.Data)
		case iflaPermAddress:
			it.PermMAC = hwString(a.Data)
		case iflaMTU:
			if v, ok := u32(a.Data); ok {
				it.MTU = int(v)
			}
		case iflaLink:
			if v, ok := u32(a.Data); ok && int32(v) != int32(it.Index) {
				it.Link = int(int32(v))
			}
		case iflaMaster:
			if v, ok := u32(a.Data); ok {
				it.Master = int(int32(v))
			}
		case iflaQdisc:
			it.Qdisc = cstring(a.Data)
		case iflaTxqlen:
			if v, ok := u32(a.Data); ok {
				it.TxQueueLen = int(v)
			}
		case iflaOperstate:
			if len(a.Data) >= 1 {
				it.OperState = operStateName(a.Data[0])
			}
		case iflaCarrier:
			if len(a.Data) >= 1 {
				c := a.Data[0] != 0
				it.Carrier = &c
			}
		case iflaCarrierChanges:
			if v, ok := u32(a.Data); ok {
				it.CarrierChanges = &v
			}
		case iflaPromiscuity:
			if v, ok := u32(a.Data); ok {
				it.Promiscuity = &v
			}
		case iflaIfalias:
			it.Alias = cstring(a.Data)
		case iflaLinkinfo:
			nested, _ := parseAttrs(a.Data)
			for _, n := range nested {
				if n.Type == iflaInfoKind {
					it.Kind = cstring(n.Data)
				}
			}
		}
	}
	if err != nil {
		return it, fmt.Errorf("link %d attributes: %w", it.Index, err)
	}
	return it, nil
}

// parseAddr decodes an RTM_NEWADDR message; index is the interface's.
func parseAddr(m Message) (index int, a Address, err error) {
	if len(m.Data) < 8 {
		return 0, a, fmt.Errorf("RTM_NEWADDR payload of %d bytes, need 8", len(m.Data))
	}
	a.Family = familyName(m.Data[0])
	a.PrefixLen = int(m.Data[1])
	flags := uint32(m.Data[2])
	a.Scope = scopeName(m.Data[3])
	index = int(int32(binary.NativeEndian.Uint32(m.Data[4:8])))
	attrs, err := parseAttrs(m.Data[8:])
	var address, local string
	for _, at := range attrs {
		switch at.Type {
		case ifaAddress:
			address = ipString(at.Data)
		case ifaLocal:
			local = ipString(at.Data)
		case ifaLabel:
			a.Label = cstring(at.Data)
		case ifaBroadcast:
			a.Broadcast = ipString(at.Data)
		case ifaFlagsAttr:
			if v, ok := u32(at.Data); ok {
				flags = v
			}
		case ifaCacheinfo:
			if len(at.Data) >= 8 {
				pref := binary.NativeEndian.Uint32(at.Data[0:4])
				valid := binary.NativeEndian.Uint32(at.Data[4:8])
				a.PreferredLifetime = lifetime(pref)
				a.ValidLifetime = lifetime(valid)
			}
		}
	}
	// IPv4 puts the interface's own address in IFA_LOCAL and the peer (on
	// point-to-point links) in IFA_ADDRESS; IPv6 has IFA_ADDRESS only.
	a.Address = address
	if local != "" {
		a.Address = local
		if address != "" && address != local {
			a.Peer = address
		}
	}
	a.Flags = ifaFlagNames(flags)
	if err != nil {
		return index, a, fmt.Errorf("address attributes: %w", err)
	}
	return index, a, nil
}

// lifetime returns seconds, or -1 for "forever" (0xffffffff).
func lifetime(v uint32) int64 {
	if v == 0xffffffff {
		return -1
	}
	return int64(v)
}

// parseRoute decodes an RTM_NEWROUTE message.
func parseRoute(m Message) (Route, error) {
	var r Route
	if len(m.Data) < 12 {
		return r, fmt.Errorf("RTM_NEWROUTE payload of %d bytes, need 12", len(m.Data))
	}
	fam := m.Data[0]
	r.Family = familyName(fam)
	dstLen, srcLen := int(m.Data[1]), int(m.Data[2])
	r.TOS = int(m.Data[3])
	table := uint32(m.Data[4])
	r.Protocol = routeProtoName(m.Data[5])
	r.Scope = scopeName(m.Data[6])
	r.Type = routeTypeName(m.Data[7])
	r.FlagsValue = binary.NativeEndian.Uint32(m.Data[8:12])
	r.Source = "netlink"
	attrs, err := parseAttrs(m.Data[12:])
	var dst, src string
	for _, a := range attrs {
		switch a.Type {
		case rtaDst:
			dst = ipString(a.Data)
		case rtaSrc:
			src = ipString(a.Data)
		case rtaGateway:
			r.Gateway = ipString(a.Data)
		case rtaVia:
			if len(a.Data) >= 2 {
				r.Gateway = ipString(a.Data[2:])
			}
		case rtaPrefsrc:
			r.PrefSource = ipString(a.Data)
		case rtaOIF:
			if v, ok := u32(a.Data); ok {
				r.Ifindex = int(int32(v))
			}
		case rtaIIF:
			if v, ok := u32(a.Data); ok {
				r.InIfindex = int(int32(v))
			}
		case rtaPriority:
			if v, ok := u32(a.Data); ok {
				r.Metric = int64(v)
			}
		case rtaTable:
			if v, ok := u32(a.Data); ok {
				table = v
			}
		case rtaMultipath:
			r.Nexthops = parseNexthops(a.Data)
		}
	}
	if dst == "" {
		dst = zeroAddr(fam)
	}
	r.Destination = cidr(dst, dstLen)
	if src != "" || srcLen != 0 {
		if src == "" {
			src = zeroAddr(fam)
		}
		r.From = cidr(src, srcLen)
	}
	r.Table = tableName(table)
	r.TableID = table
	if err != nil {
		return r, fmt.Errorf("route %s attributes: %w", r.Destination, err)
	}
	return r, nil
}

func zeroAddr(fam uint8) string {
	switch fam {
	case afInet:
		return "0.0.0.0"
	case afInet6:
		return "::"
	}
	return ""
}

func cidr(addr string, n int) string {
	if addr == "" {
		return ""
	}
	return addr + "/" + strconv.Itoa(n)
}

// parseNexthops decodes RTA_MULTIPATH: a list of struct rtnexthop, each
// followed by its own attributes.
func parseNexthops(b []byte) []Nexthop {
	var out []Nexthop
	for off := 0; off+8 <= len(b); {
		n := int(binary.NativeEndian.Uint16(b[off:]))
		if n < 8 || n > len(b)-off {
			break
		}
		nh := Nexthop{Weight: int(b[off+3]) + 1, Ifindex: int(int32(binary.NativeEndian.Uint32(b[off+4:])))}
		attrs, _ := parseAttrs(b[off+8 : off+n])
		for _, a := range attrs {
			switch a.Type {
			case rtaGateway:
				nh.Gateway = ipString(a.Data)
			case rtaVia:
				if len(a.Data) >= 2 {
					nh.Gateway = ipString(a.Data[2:])
				}
			}
		}
		out = append(out, nh)
		off += align4(n)
	}
	return out
}

// parseNeigh decodes an RTM_NEWNEIGH message.
func parseNeigh(m Message) (Neighbour, error) {
	var nb Neighbour
	if len(m.Data) < 12 {
		return nb, fmt.Errorf("RTM_NEWNEIGH payload of %d bytes, need 12", len(m.Data))
	}
	nb.Family = familyName(m.Data[0])
	nb.Ifindex = int(int32(binary.NativeEndian.Uint32(m.Data[4:8])))
	state := binary.NativeEndian.Uint16(m.Data[8:10])
	nb.State = nudStateNames(state)
	nb.StateValue = uint32(state)
	nb.Flags = ntfFlagNames(m.Data[10])
	nb.Source = "netlink"
	attrs, err := parseAttrs(m.Data[12:])
	for _, a := range attrs {
		switch a.Type {
		case ndaDst:
			nb.Address = ipString(a.Data)
		case ndaLladdr:
			nb.LinkAddress = hwString(a.Data)
		case ndaCacheinfo:
			if len(a.Data) >= 12 {
				// struct nda_cacheinfo: clock_t ticks (USER_HZ, 100 per
				// second on Linux) since the entry was confirmed, used, updated.
				nb.ConfirmedAgo = ticks(binary.NativeEndian.Uint32(a.Data[0:4]))
				nb.UsedAgo = ticks(binary.NativeEndian.Uint32(a.Data[4:8]))
				nb.UpdatedAgo = ticks(binary.NativeEndian.Uint32(a.Data[8:12]))
			}
		}
	}
	if err != nil {
		return nb, fmt.Errorf("neighbour %s attributes: %w", nb.Address, err)
	}
	return nb, nil
}

// ticks converts a clock_t count (USER_HZ = 100) to seconds.
func ticks(v uint32) *float64 {
	s := float64(v) / 100
	return &s
}
