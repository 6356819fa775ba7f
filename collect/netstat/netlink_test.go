package netstat

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"reflect"
	"syscall"
	"testing"
)

// Builders of netlink messages as the kernel sends them (host order).

func nlmsg(typ, flags uint16, payload ...[]byte) []byte {
	var body []byte
	for _, p := range payload {
		body = append(body, p...)
	}
	b := make([]byte, nlmsgHdrLen, align4(nlmsgHdrLen+len(body)))
	binary.NativeEndian.PutUint32(b[0:], uint32(nlmsgHdrLen+len(body)))
	binary.NativeEndian.PutUint16(b[4:], typ)
	binary.NativeEndian.PutUint16(b[6:], flags)
	binary.NativeEndian.PutUint32(b[8:], 7)
	b = append(b, body...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func rtattr(typ uint16, data []byte) []byte {
	b := make([]byte, nlaHdrLen, align4(nlaHdrLen+len(data)))
	binary.NativeEndian.PutUint16(b[0:], uint16(nlaHdrLen+len(data)))
	binary.NativeEndian.PutUint16(b[2:], typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func le32(v uint32) []byte {
	b := make([]byte, 4)
	binary.NativeEndian.PutUint32(b, v)
	return b
}

func str0(s string) []byte { return append([]byte(s), 0) }

func ifinfomsg(index int32, typ uint16, flags uint32) []byte {
	b := make([]byte, 16)
	binary.NativeEndian.PutUint16(b[2:], typ)
	binary.NativeEndian.PutUint32(b[4:], uint32(index))
	binary.NativeEndian.PutUint32(b[8:], flags)
	return b
}

func ifaddrmsg(fam, plen, flags, scope uint8, index uint32) []byte {
	b := []byte{fam, plen, flags, scope, 0, 0, 0, 0}
	binary.NativeEndian.PutUint32(b[4:], index)
	return b
}

func rtmsg(fam, dstLen, table, proto, scope, typ uint8) []byte {
	return []byte{fam, dstLen, 0, 0, table, proto, scope, typ, 0, 0, 0, 0}
}

func ndmsg(fam uint8, index int32, state uint16, flags uint8) []byte {
	b := make([]byte, 12)
	b[0] = fam
	binary.NativeEndian.PutUint32(b[4:], uint32(index))
	binary.NativeEndian.PutUint16(b[8:], state)
	b[10] = flags
	return b
}

func ip(s string) []byte { return netip.MustParseAddr(s).AsSlice() }

func done() []byte { return nlmsg(nlmsgDone, 2, le32(0)) }

// Fixture dumps of a host with lo and eth0.
func fixtureLinks() []byte {
	var b []byte
	b = append(b, nlmsg(rtmNewLink, 2, ifinfomsg(1, 772, 0x10049),
		rtattr(iflaIfname, str0("lo")), rtattr(iflaMTU, le32(65536)), rtattr(iflaOperstate, []byte{0}),
		rtattr(iflaCarrier, []byte{1}), rtattr(iflaAddress, make([]byte, 6)))...)
	b = append(b, nlmsg(rtmNewLink, 2, ifinfomsg(2, 1, 0x1103),
		rtattr(iflaIfname, str0("eth0")), rtattr(iflaMTU, le32(1500)), rtattr(iflaOperstate, []byte{2}),
		rtattr(iflaCarrier, []byte{0}), rtattr(iflaCarrierChanges, le32(4)), rtattr(iflaPromiscuity, le32(1)),
		rtattr(iflaAddress, []byte{0x52, 0x54, 0, 0x12, 0x34, 0x56}),
		rtattr(iflaPermAddress, []byte{0x52, 0x54, 0, 0xaa, 0xbb, 0xcc}),
		rtattr(iflaLinkinfo|0x8000, rtattr(iflaInfoKind, str0("veth"))))...)
	return append(b, done()...)
}

func fixtureAddrs() []byte {
	var b []byte
	b = append(b, nlmsg(rtmNewAddr, 2, ifaddrmsg(afInet, 8, 0x80, 254, 1),
		rtattr(ifaAddress, ip("127.0.0.1")), rtattr(ifaLocal, ip("127.0.0.1")), rtattr(ifaLabel, str0("lo")),
		rtattr(ifaCacheinfo, append(le32(0xffffffff), le32(0xffffffff)...)))...)
	b = append(b, nlmsg(rtmNewAddr, 2, ifaddrmsg(afInet, 32, 0x80, 0, 2),
		rtattr(ifaAddress, ip("10.8.0.2")), rtattr(ifaLocal, ip("10.0.2.15")))...)
	b = append(b, nlmsg(rtmNewAddr, 2, ifaddrmsg(afInet6, 64, 0, 0, 2),
		rtattr(ifaAddress, ip("2001:db8::2")), rtattr(ifaFlagsAttr, le32(0x282)),
		rtattr(ifaCacheinfo, append(le32(1800), le32(3600)...)))...)
	return append(b, done()...)
}

func fixtureRoutes() []byte {
	var b []byte
	b = append(b, nlmsg(rtmNewRoute, 2, rtmsg(afInet, 0, 254, 16, 0, 1),
		rtattr(rtaTable, le32(254)), rtattr(rtaGateway, ip("10.0.2.1")), rtattr(rtaOIF, le32(2)),
		rtattr(rtaPriority, le32(100)), rtattr(rtaPrefsrc, ip("10.0.2.15")))...)
	b = append(b, nlmsg(rtmNewRoute, 2, rtmsg(afInet6, 64, 254, 2, 0, 1),
		rtattr(rtaTable, le32(1000)), rtattr(rtaDst, ip("2001:db8::")), rtattr(rtaOIF, le32(2)))...)
	nh := make([]byte, 8)
	gw := rtattr(rtaGateway, ip("10.0.2.254"))
	binary.NativeEndian.PutUint16(nh[0:], uint16(8+len(gw)))
	nh[3] = 1 // weight 2
	binary.NativeEndian.PutUint32(nh[4:], 2)
	b = append(b, nlmsg(rtmNewRoute, 2, rtmsg(afInet, 24, 254, 4, 0, 1),
		rtattr(rtaDst, ip("192.0.2.0")), rtattr(rtaMultipath, append(nh, gw...)))...)
	return append(b, done()...)
}

func fixtureNeighs() []byte {
	var b []byte
	b = append(b, nlmsg(rtmNewNeigh, 2, ndmsg(afInet, 2, 0x02, 0x80),
		rtattr(ndaDst, ip("10.0.2.1")), rtattr(ndaLladdr, []byte{0x52, 0x54, 0, 0x12, 0x35, 2}),
		rtattr(ndaCacheinfo, append(append(le32(150), le32(20)...), append(le32(1234), le32(1)...)...)))...)
	b = append(b, nlmsg(rtmNewNeigh, 2, ndmsg(afInet6, 2, 0x20, 0), rtattr(ndaDst, ip("fe80::1")))...)
	return append(b, done()...)
}

func TestParseMessages(t *testing.T) {
	b := fixtureLinks()
	msgs, err := ParseMessages(b)
	if err != nil || len(msgs) != 3 || msgs[2].Type != nlmsgDone {
		t.Fatalf("%d messages, %v", len(msgs), err)
	}
	// A header claiming more bytes than there are.
	bad := append([]byte(nil), b...)
	binary.NativeEndian.PutUint32(bad[0:], uint32(len(b)+4))
	if msgs, err := ParseMessages(bad); err == nil || len(msgs) != 0 {
		t.Errorf("overlong message: %d messages, %v", len(msgs), err)
	}
	if _, err := ParseMessages(b[:10]); err == nil {
		t.Error("short header accepted")
	}
	if err := errorMessage(Message{Type: nlmsgError, Data: le32(^uint32(syscall.EPERM) + 1)}); !errors.Is(err, syscall.EPERM) {
		t.Errorf("error message: %v", err)
	}
}

func TestParseLinkAddr(t *testing.T) {
	msgs, _ := ParseMessages(fixtureLinks())
	eth, err := parseLink(msgs[1])
	if err != nil {
		t.Fatal(err)
	}
	carrier := false
	four, one := uint32(4), uint32(1)
	want := Interface{Index: 2, Name: "eth0", Source: "netlink", MAC: "52:54:00:12:34:56", PermMAC: "52:54:00:aa:bb:cc",
		LinkType: "ether", Kind: "veth", MTU: 1500, OperState: "down", Carrier: &carrier, CarrierChanges: &four,
		Flags: []string{"UP", "BROADCAST", "PROMISC", "MULTICAST"}, FlagsValue: 0x1103, Promiscuity: &one}
	if !reflect.DeepEqual(eth, want) {
		t.Errorf("link\n got %+v\nwant %+v", eth, want)
	}
	msgs, _ = ParseMessages(fixtureAddrs())
	var got []Address
	for _, m := range msgs[:3] {
		_, a, err := parseAddr(m)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, a)
	}
	wantA := []Address{
		{Family: "inet", Address: "127.0.0.1", PrefixLen: 8, Scope: "host", Label: "lo", Flags: []string{"permanent"}, ValidLifetime: -1, PreferredLifetime: -1},
		{Family: "inet", Address: "10.0.2.15", PrefixLen: 32, Peer: "10.8.0.2", Scope: "global", Flags: []string{"permanent"}},
		{Family: "inet6", Address: "2001:db8::2", PrefixLen: 64, Scope: "global", Flags: []string{"nodad", "permanent", "noprefixroute"}, ValidLifetime: 3600, PreferredLifetime: 1800},
	}
	if !reflect.DeepEqual(got, wantA) {
		t.Errorf("addresses\n got %+v\nwant %+v", got, wantA)
	}
}

func TestParseRouteNeigh(t *testing.T) {
	msgs, _ := ParseMessages(fixtureRoutes())
	var got []Route
	for _, m := range msgs[:3] {
		r, err := parseRoute(m)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	want := []Route{
		{Source: "netlink", Family: "inet", Table: "main", TableID: 254, Type: "unicast", Protocol: "dhcp", Scope: "global",
			Destination: "0.0.0.0/0", Gateway: "10.0.2.1", PrefSource: "10.0.2.15", Ifindex: 2, Metric: 100},
		{Source: "netlink", Family: "inet6", Table: "1000", TableID: 1000, Type: "unicast", Protocol: "kernel", Scope: "global",
			Destination: "2001:db8::/64", Ifindex: 2},
		{Source: "netlink", Family: "inet", Table: "main", TableID: 254, Type: "unicast", Protocol: "static", Scope: "global",
			Destination: "192.0.2.0/24", Nexthops: []Nexthop{{Gateway: "10.0.2.254", Ifindex: 2, Weight: 2}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("routes\n got %+v\nwant %+v", got, want)
	}
	msgs, _ = ParseMessages(fixtureNeighs())
	n, err := parseNeigh(msgs[0])
	if err != nil {
		t.Fatal(err)
	}
	if n.Address != "10.0.2.1" || n.LinkAddress != "52:54:00:12:35:02" || !reflect.DeepEqual(n.State, []string{"REACHABLE"}) ||
		!reflect.DeepEqual(n.Flags, []string{"router"}) || *n.ConfirmedAgo != 1.5 || *n.UsedAgo != 0.2 || *n.UpdatedAgo != 12.34 {
		t.Errorf("neighbour %+v", n)
	}
	n, _ = parseNeigh(msgs[1])
	if n.Family != "inet6" || n.Address != "fe80::1" || !reflect.DeepEqual(n.State, []string{"FAILED"}) || n.ConfirmedAgo != nil {
		t.Errorf("neighbour %+v", n)
	}
}

func TestFlagNamesKeepUnknownBits(t *testing.T) {
	got := ifFlagNames(0x1 | 0x80000000)
	if !reflect.DeepEqual(got, []string{"UP", "0x80000000"}) {
		t.Errorf("%v", got)
	}
	if got := nudStateNames(0); !reflect.DeepEqual(got, []string{"NONE"}) {
		t.Errorf("%v", got)
	}
}
