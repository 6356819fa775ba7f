package netstat

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxLine bounds one line of a kernel table; longer lines are an error.
const maxLine = 64 << 10

// ParseError reports the lines of a kernel table that could not be
// parsed. The other lines were parsed.
type ParseError struct {
	Source string
	Bad    int   // number of lines not parsed
	Line   int   // number (from 1) of the first of them
	Err    error // why the first of them was not parsed
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("parse %s: %d malformed lines skipped; first, line %d: %v", e.Source, e.Bad, e.Line, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// badLine marks an error about one line, as opposed to an error that
// stops the scan (the emit callback's).
type badLine struct{ err error }

func (b badLine) Error() string { return b.err.Error() }

// scanTable calls fn for each non-empty line of r after the first header
// lines. Errors fn wraps in badLine are counted and reported as a
// *ParseError at the end; other errors stop the scan.
func scanTable(r io.Reader, src string, header int, fn func(line string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxLine)
	var perr *ParseError
	n := 0
	for sc.Scan() {
		n++
		if n <= header {
			continue
		}
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := fn(line); err != nil {
			var bl badLine
			if !errors.As(err, &bl) {
				return err
			}
			if perr == nil {
				perr = &ParseError{Source: src, Line: n, Err: bl.err}
			}
			perr.Bad++
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s after line %d: %w", src, n, err)
	}
	if perr != nil {
		return perr
	}
	return nil
}

// kernelAddr decodes an address as /proc/net/{tcp,udp,raw}[6] and
// /proc/net/route print it: the in-memory (network order) bytes taken as
// 32-bit words of the host's byte order, each printed as %08X. On a
// little-endian host 127.0.0.1 is "0100007F".
func kernelAddr(s string, order binary.ByteOrder) (netip.Addr, error) {
	if len(s) != 8 && len(s) != 32 {
		return netip.Addr{}, fmt.Errorf("address %q: want 8 or 32 hex digits", s)
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("address %q: %w", s, err)
	}
	b := make([]byte, len(raw))
	for i := 0; i < len(raw); i += 4 {
		order.PutUint32(b[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	a, _ := netip.AddrFromSlice(b)
	return a, nil
}

// netAddr decodes an address printed in network byte order (%pi6 in
// /proc/net/ipv6_route and if_inet6).
func netAddr(s string) (netip.Addr, error) {
	if len(s) != 32 {
		return netip.Addr{}, fmt.Errorf("address %q: want 32 hex digits", s)
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("address %q: %w", s, err)
	}
	a, _ := netip.AddrFromSlice(raw)
	return a, nil
}

func hexUint(s string, bits int) (uint64, error) { return strconv.ParseUint(s, 16, bits) }

// endpoint splits "ADDR:PORT" of an inet socket table.
func endpoint(s string, order binary.ByteOrder) (netip.Addr, uint16, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.Addr{}, 0, fmt.Errorf("endpoint %q: no port", s)
	}
	addr, err := kernelAddr(a, order)
	if err != nil {
		return addr, 0, err
	}
	port, err := hexUint(p, 16)
	if err != nil {
		return addr, 0, fmt.Errorf("endpoint %q: port: %w", s, err)
	}
	return addr, uint16(port), nil
}

// ParseInet parses /proc/net/{tcp,tcp6,udp,udp6,udplite,udplite6,raw,raw6,
// icmp,icmp6} from r, calling emit for each socket. proto names the table's
// protocol ("tcp"); order is the byte order of the host that printed it.
// Malformed lines are skipped and reported as a *ParseError at the end.
func ParseInet(r io.Reader, src, proto string, order binary.ByteOrder, emit func(Socket) error) error {
	return scanTable(r, src, 1, func(line string) error {
		s, err := parseInetLine(line, proto, order)
		if err != nil {
			return badLine{err}
		}
		s.Source = src
		return emit(s)
	})
}

// parseInetLine parses
//
//	sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
func parseInetLine(line, proto string, order binary.ByteOrder) (Socket, error) {
	var s Socket
	f := strings.Fields(line)
	if len(f) < 10 {
		return s, fmt.Errorf("%d fields, want at least 10", len(f))
	}
	if !strings.HasSuffix(f[0], ":") {
		return s, fmt.Errorf("slot %q: no colon", f[0])
	}
	la, lp, err := endpoint(f[1], order)
	if err != nil {
		return s, fmt.Errorf("local: %w", err)
	}
	ra, rp, err := endpoint(f[2], order)
	if err != nil {
		return s, fmt.Errorf("remote: %w", err)
	}
	if la.Is4() != ra.Is4() {
		return s, fmt.Errorf("local and remote address families differ")
	}
	st, err := hexUint(f[3], 8)
	if err != nil {
		return s, fmt.Errorf("state %q: %w", f[3], err)
	}
	txs, rxs, ok := strings.Cut(f[4], ":")
	if !ok {
		return s, fmt.Errorf("queues %q: no colon", f[4])
	}
	tx, err := hexUint(txs, 32)
	if err != nil {
		return s, fmt.Errorf("tx_queue %q: %w", txs, err)
	}
	rx, err := hexUint(rxs, 32)
	if err != nil {
		return s, fmt.Errorf("rx_queue %q: %w", rxs, err)
	}
	uid, err := strconv.ParseUint(f[7], 10, 32)
	if err != nil {
		return s, fmt.Errorf("uid %q: %w", f[7], err)
	}
	inode, err := strconv.ParseUint(f[9], 10, 64)
	if err != nil {
		return s, fmt.Errorf("inode %q: %w", f[9], err)
	}
	s.Family = "inet"
	if la.Is6() {
		s.Family = "inet6"
	}
	code := int(st)
	u := uint32(uid)
	s.Protocol = proto
	s.LocalAddress, s.LocalPort = la.String(), &lp
	s.RemoteAddress, s.RemotePort = ra.String(), &rp
	s.State, s.StateCode = tcpStateName(code), &code
	s.TxQueue, s.RxQueue = &tx, &rx
	s.UID = &u
	s.Inode = inode
	return s, nil
}

// ParseUnix parses /proc/net/unix:
//
//	Num RefCount Protocol Flags Type St Inode [Path]
//
// The path is everything after the single space that follows the inode
// (it may hold spaces). The kernel prints an abstract name's leading NUL,
// and any NUL inside it, as '@'.
func ParseUnix(r io.Reader, src string, emit func(Socket) error) error {
	return scanTable(r, src, 1, func(line string) error {
		s, err := parseUnixLine(line)
		if err != nil {
			return badLine{err}
		}
		s.Source = src
		return emit(s)
	})
}

const unixAcceptCon = 0x10000 // __SO_ACCEPTCON: a listening socket

func parseUnixLine(line string) (Socket, error) {
	var s Socket
	var f [7]string
	rest := line
	for i := range f {
		rest = strings.TrimLeft(rest, " ")
		end := strings.IndexByte(rest, ' ')
		if end < 0 {
			end = len(rest)
		}
		f[i], rest = rest[:end], rest[end:]
		if f[i] == "" {
			return s, fmt.Errorf("%d fields, want at least 7", i)
		}
	}
	if !strings.HasSuffix(f[0], ":") {
		return s, fmt.Errorf("slot %q: no colon", f[0])
	}
	flags, err := hexUint(f[3], 32)
	if err != nil {
		return s, fmt.Errorf("flags %q: %w", f[3], err)
	}
	typ, err := hexUint(f[4], 16)
	if err != nil {
		return s, fmt.Errorf("type %q: %w", f[4], err)
	}
	st, err := hexUint(f[5], 8)
	if err != nil {
		return s, fmt.Errorf("state %q: %w", f[5], err)
	}
	inode, err := strconv.ParseUint(f[6], 10, 64)
	if err != nil {
		return s, fmt.Errorf("inode %q: %w", f[6], err)
	}
	if rest != "" {
		// rest starts with the single separating space.
		s.UnixPath = rest[1:]
		if !utf8.ValidString(s.UnixPath) {
			s.UnixPathRaw = []byte(s.UnixPath)
		}
	}
	code := int(st)
	s.Family, s.Protocol, s.Type = "unix", "unix", sockTypeName(int(typ))
	s.StateCode = &code
	s.State = unixStateName(code)
	if flags&unixAcceptCon != 0 {
		s.State = "LISTEN"
	}
	s.UnixFlags = f[3]
	s.Inode = inode
	return s, nil
}

// ParsePacket parses /proc/net/packet:
//
//	sk RefCnt Type Proto Iface R Rmem User Inode
func ParsePacket(r io.Reader, src string, emit func(Socket) error) error {
	return scanTable(r, src, 1, func(line string) error {
		s, err := parsePacketLine(line)
		if err != nil {
			return badLine{err}
		}
		s.Source = src
		return emit(s)
	})
}

func parsePacketLine(line string) (Socket, error) {
	var s Socket
	f := strings.Fields(line)
	if len(f) < 9 {
		return s, fmt.Errorf("%d fields, want 9", len(f))
	}
	typ, err := strconv.Atoi(f[2])
	if err != nil {
		return s, fmt.Errorf("type %q: %w", f[2], err)
	}
	if _, err := hexUint(f[3], 16); err != nil {
		return s, fmt.Errorf("protocol %q: %w", f[3], err)
	}
	ifindex, err := strconv.Atoi(f[4])
	if err != nil {
		return s, fmt.Errorf("iface %q: %w", f[4], err)
	}
	running := f[5] != "0"
	rmem, err := strconv.ParseUint(f[6], 10, 64)
	if err != nil {
		return s, fmt.Errorf("rmem %q: %w", f[6], err)
	}
	uid, err := strconv.ParseUint(f[7], 10, 32)
	if err != nil {
		return s, fmt.Errorf("uid %q: %w", f[7], err)
	}
	inode, err := strconv.ParseUint(f[8], 10, 64)
	if err != nil {
		return s, fmt.Errorf("inode %q: %w", f[8], err)
	}
	u := uint32(uid)
	s.Family, s.Protocol, s.Type = "packet", "packet", sockTypeName(typ)
	s.EtherProtocol = f[3]
	s.Ifindex, s.Running = &ifindex, &running
	s.RxQueue, s.UID, s.Inode = &rmem, &u, inode
	return s, nil
}

// ParseRoute parses /proc/net/route (IPv4, main table only):
//
//	Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT
//
// Addresses are printed like those of /proc/net/tcp (see ParseInet).
func ParseRoute(r io.Reader, src string, order binary.ByteOrder, emit func(Route) error) error {
	return scanTable(r, src, 1, func(line string) error {
		rt, err := parseRouteLine(line, order)
		if err != nil {
			return badLine{err}
		}
		rt.Source = src
		return emit(rt)
	})
}

func parseRouteLine(line string, order binary.ByteOrder) (Route, error) {
	var rt Route
	f := strings.Fields(line)
	if len(f) < 8 {
		return rt, fmt.Errorf("%d fields, want at least 8", len(f))
	}
	dst, err := kernelAddr(f[1], order)
	if err != nil || !dst.Is4() {
		return rt, fmt.Errorf("destination %q: %v", f[1], err)
	}
	gw, err := kernelAddr(f[2], order)
	if err != nil || !gw.Is4() {
		return rt, fmt.Errorf("gateway %q: %v", f[2], err)
	}
	flags, err := hexUint(f[3], 32)
	if err != nil {
		return rt, fmt.Errorf("flags %q: %w", f[3], err)
	}
	metric, err := strconv.ParseInt(f[6], 10, 64)
	if err != nil {
		return rt, fmt.Errorf("metric %q: %w", f[6], err)
	}
	mask, err := kernelAddr(f[7], order)
	if err != nil || !mask.Is4() {
		return rt, fmt.Errorf("mask %q: %v", f[7], err)
	}
	m := mask.As4()
	bits := 0
	v := binary.BigEndian.Uint32(m[:])
	for v&0x80000000 != 0 {
		bits++
		v <<= 1
	}
	if v != 0 {
		return rt, fmt.Errorf("mask %s is not contiguous", mask)
	}
	rt.Family, rt.Table, rt.TableID = "inet", "main", 254
	rt.Destination = cidr(dst.String(), bits)
	if flags&0x2 != 0 || gw != netip.IPv4Unspecified() {
		rt.Gateway = gw.String()
	}
	rt.Dev = f[0]
	rt.Metric = metric
	rt.FlagsValue = uint32(flags)
	rt.Flags = rtfFlagNames(uint32(flags))
	return rt, nil
}

// ParseIPv6Route parses /proc/net/ipv6_route:
//
//	dst dst_len src src_len next_hop metric refcnt use flags dev
//
// with addresses in network byte order and numbers in hex.
func ParseIPv6Route(r io.Reader, src string, emit func(Route) error) error {
	return scanTable(r, src, 0, func(line string) error {
		rt, err := parseIPv6RouteLine(line)
		if err != nil {
			return badLine{err}
		}
		rt.Source = src
		return emit(rt)
	})
}

func parseIPv6RouteLine(line string) (Route, error) {
	var rt Route
	f := strings.Fields(line)
	if len(f) < 10 {
		return rt, fmt.Errorf("%d fields, want 10", len(f))
	}
	dst, err := netAddr(f[0])
	if err != nil {
		return rt, fmt.Errorf("destination: %w", err)
	}
	dlen, err := hexUint(f[1], 8)
	if err != nil || dlen > 128 {
		return rt, fmt.Errorf("destination length %q: out of range", f[1])
	}
	from, err := netAddr(f[2])
	if err != nil {
		return rt, fmt.Errorf("source: %w", err)
	}
	slen, err := hexUint(f[3], 8)
	if err != nil || slen > 128 {
		return rt, fmt.Errorf("source length %q: out of range", f[3])
	}
	gw, err := netAddr(f[4])
	if err != nil {
		return rt, fmt.Errorf("next hop: %w", err)
	}
	metric, err := hexUint(f[5], 32)
	if err != nil {
		return rt, fmt.Errorf("metric %q: %w", f[5], err)
	}
	flags, err := hexUint(f[8], 32)
	if err != nil {
		return rt, fmt.Errorf("flags %q: %w", f[8], err)
	}
	rt.Family = "inet6"
	rt.Destination = cidr(dst.String(), int(dlen))
	if slen != 0 {
		rt.From = cidr(from.String(), int(slen))
	}
	if gw != netip.IPv6Unspecified() {
		rt.Gateway = gw.String()
	}
	rt.Metric = int64(metric)
	rt.Dev = f[9]
	rt.FlagsValue = uint32(flags)
	rt.Flags = rtfFlagNames(uint32(flags))
	return rt, nil
}

// ParseARP parses /proc/net/arp:
//
//	IP address  HW type  Flags  HW address  Mask  Device
func ParseARP(r io.Reader, src string, emit func(Neighbour) error) error {
	return scanTable(r, src, 1, func(line string) error {
		n, err := parseARPLine(line)
		if err != nil {
			return badLine{err}
		}
		n.Source = src
		return emit(n)
	})
}

func parseARPLine(line string) (Neighbour, error) {
	var n Neighbour
	f := strings.Fields(line)
	if len(f) < 6 {
		return n, fmt.Errorf("%d fields, want 6", len(f))
	}
	ip, err := netip.ParseAddr(f[0])
	if err != nil {
		return n, fmt.Errorf("address: %w", err)
	}
	flags, err := hexUint(strings.TrimPrefix(f[2], "0x"), 32)
	if err != nil {
		return n, fmt.Errorf("flags %q: %w", f[2], err)
	}
	n.Family = familyName(afInet)
	n.Address = ip.String()
	n.HWType = f[1]
	n.LinkAddress = f[3]
	n.Dev = f[5]
	n.StateValue = uint32(flags)
	n.State = atfFlagNames(uint32(flags))
	if flags&0x02 == 0 {
		n.State = append(n.State, "INCOMPLETE")
	}
	n.Flags = []string{}
	return n, nil
}

// IfAddr is an address from /proc/net/if_inet6 with its interface.
type IfAddr struct {
	Name  string
	Index int
	Address
}

// ParseIfInet6 parses /proc/net/if_inet6 (IPv6 addresses; no header):
//
//	address ifindex prefix_len scope flags name
func ParseIfInet6(r io.Reader, src string, emit func(IfAddr) error) error {
	return scanTable(r, src, 0, func(line string) error {
		a, err := parseIfInet6Line(line)
		if err != nil {
			return badLine{err}
		}
		return emit(a)
	})
}

func parseIfInet6Line(line string) (IfAddr, error) {
	var a IfAddr
	f := strings.Fields(line)
	if len(f) < 6 {
		return a, fmt.Errorf("%d fields, want 6", len(f))
	}
	ip, err := netAddr(f[0])
	if err != nil {
		return a, err
	}
	idx, err := hexUint(f[1], 31)
	if err != nil {
		return a, fmt.Errorf("ifindex %q: %w", f[1], err)
	}
	plen, err := hexUint(f[2], 8)
	if err != nil || plen > 128 {
		return a, fmt.Errorf("prefix length %q: out of range", f[2])
	}
	scope, err := hexUint(f[3], 8)
	if err != nil {
		return a, fmt.Errorf("scope %q: %w", f[3], err)
	}
	flags, err := hexUint(f[4], 32)
	if err != nil {
		return a, fmt.Errorf("flags %q: %w", f[4], err)
	}
	a.Name, a.Index = f[5], int(idx)
	a.Family = "inet6"
	a.Address.Address = ip.String()
	a.PrefixLen = int(plen)
	// if_inet6 prints ipv6_addr_scope() values (0x00 global, 0x10 host,
	// 0x20 link, 0x40 site), not rt_scope_t.
	switch scope {
	case 0x00:
		a.Scope = "global"
	case 0x10:
		a.Scope = "host"
	case 0x20:
		a.Scope = "link"
	case 0x40:
		a.Scope = "site"
	default:
		a.Scope = "0x" + f[3]
	}
	a.Flags = ifaFlagNames(uint32(flags))
	return a, nil
}

// ParseNetlink parses /proc/net/netlink:
//
//	sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
//
// Eth is the netlink protocol (NETLINK_ROUTE, NETLINK_AUDIT ...), Pid the
// socket's port id (0 for the kernel's own sockets).
func ParseNetlink(r io.Reader, src string, emit func(Socket) error) error {
	return scanTable(r, src, 1, func(line string) error {
		s, err := parseNetlinkLine(line)
		if err != nil {
			return badLine{err}
		}
		s.Source = src
		return emit(s)
	})
}

func parseNetlinkLine(line string) (Socket, error) {
	var s Socket
	f := strings.Fields(line)
	if len(f) < 10 {
		return s, fmt.Errorf("%d fields, want 10", len(f))
	}
	proto, err := strconv.Atoi(f[1])
	if err != nil {
		return s, fmt.Errorf("protocol %q: %w", f[1], err)
	}
	port, err := strconv.ParseUint(f[2], 10, 32)
	if err != nil {
		return s, fmt.Errorf("port id %q: %w", f[2], err)
	}
	if _, err := hexUint(f[3], 32); err != nil {
		return s, fmt.Errorf("groups %q: %w", f[3], err)
	}
	rmem, err := strconv.ParseUint(f[4], 10, 64)
	if err != nil {
		return s, fmt.Errorf("rmem %q: %w", f[4], err)
	}
	wmem, err := strconv.ParseUint(f[5], 10, 64)
	if err != nil {
		return s, fmt.Errorf("wmem %q: %w", f[5], err)
	}
	inode, err := strconv.ParseUint(f[9], 10, 64)
	if err != nil {
		return s, fmt.Errorf("inode %q: %w", f[9], err)
	}
	p := uint32(port)
	s.Family, s.Protocol, s.Type = "netlink", "netlink", netlinkProtoName(proto)
	s.NetlinkPortID, s.NetlinkGroups = &p, f[3]
	s.RxQueue, s.TxQueue = &rmem, &wmem
	s.Inode = inode
	return s, nil
}
