package netstat

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sockLine renders the fields of a socket a test checks.
func sockLine(s Socket) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s", s.Family, s.Protocol)
	if s.Type != "" {
		fmt.Fprintf(&b, "/%s", s.Type)
	}
	if s.LocalPort != nil {
		fmt.Fprintf(&b, " %s:%d -> %s:%d", s.LocalAddress, *s.LocalPort, s.RemoteAddress, *s.RemotePort)
	}
	fmt.Fprintf(&b, " %s", s.State)
	if s.StateCode != nil {
		fmt.Fprintf(&b, "(%d)", *s.StateCode)
	}
	if s.TxQueue != nil {
		fmt.Fprintf(&b, " tx=%d", *s.TxQueue)
	}
	if s.RxQueue != nil {
		fmt.Fprintf(&b, " rx=%d", *s.RxQueue)
	}
	if s.UID != nil {
		fmt.Fprintf(&b, " uid=%d", *s.UID)
	}
	fmt.Fprintf(&b, " inode=%d", s.Inode)
	if s.UnixPath != "" {
		fmt.Fprintf(&b, " path=%q", s.UnixPath)
	}
	if s.NetlinkPortID != nil {
		fmt.Fprintf(&b, " port=%d groups=%s", *s.NetlinkPortID, s.NetlinkGroups)
	}
	if s.Ifindex != nil {
		fmt.Fprintf(&b, " proto=%s ifindex=%d running=%v", s.EtherProtocol, *s.Ifindex, *s.Running)
	}
	return b.String()
}

func parseFixture(t *testing.T, file string, parse func(*os.File, func(Socket) error) error) ([]string, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata/proc/net", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	err = parse(f, func(s Socket) error {
		if s.Source != "/proc/net/"+file {
			t.Errorf("source %q", s.Source)
		}
		got = append(got, sockLine(s))
		return nil
	})
	return got, err
}

func TestParseSocketTables(t *testing.T) {
	le := binary.LittleEndian
	inetLE := func(proto string) func(*os.File, func(Socket) error) error {
		return func(f *os.File, emit func(Socket) error) error {
			return ParseInet(f, "/proc/net/"+filepath.Base(f.Name()), proto, le, emit)
		}
	}
	tests := []struct {
		file    string
		parse   func(*os.File, func(Socket) error) error
		want    []string
		badLine int // line of the first malformed line, 0 if none
	}{
		{"tcp", inetLE("tcp"), []string{
			"inet/tcp 127.0.0.1:8080 -> 0.0.0.0:0 LISTEN(10) tx=0 rx=128 uid=0 inode=1001",
			"inet/tcp 10.0.2.2:22 -> 10.0.2.10:54321 ESTABLISHED(1) tx=16 rx=36 uid=1000 inode=1002",
			"inet/tcp 127.0.0.1:41394 -> 127.0.0.1:8080 TIME_WAIT(6) tx=0 rx=0 uid=0 inode=0",
		}, 5},
		{"tcp6", inetLE("tcp"), []string{
			"inet6/tcp :::80 -> :::0 LISTEN(10) tx=0 rx=0 uid=0 inode=2001",
			"inet6/tcp ::ffff:127.0.0.1:8080 -> ::ffff:127.0.0.1:50000 ESTABLISHED(1) tx=0 rx=0 uid=33 inode=2002",
			"inet6/tcp 2001:db8::1:443 -> 2001:db8::2:59120 ESTABLISHED(1) tx=0 rx=0 uid=0 inode=2003",
		}, 0},
		{"udp", inetLE("udp"), []string{
			"inet/udp 0.0.0.0:68 -> 0.0.0.0:0 CLOSE(7) tx=0 rx=0 uid=0 inode=3001",
		}, 0},
		{"udp6", inetLE("udp"), nil, 0},
		{"raw", inetLE("raw"), []string{
			"inet/raw 0.0.0.0:1 -> 0.0.0.0:0 CLOSE(7) tx=0 rx=0 uid=0 inode=4001",
		}, 0},
		{"unix", func(f *os.File, emit func(Socket) error) error { return ParseUnix(f, "/proc/net/unix", emit) }, []string{
			`unix/unix/stream LISTEN(1) inode=5001 path="/run/systemd/private"`,
			`unix/unix/stream LISTEN(1) inode=5002 path="@/tmp/.X11-unix/X0"`,
			`unix/unix/stream CONNECTED(3) inode=5003`,
			`unix/unix/dgram UNCONNECTED(1) inode=5004 path="/tmp/my sock "`,
			`unix/unix/seqpacket UNCONNECTED(1) inode=123456 path="@bad\xffname@x"`,
		}, 0},
		{"packet", func(f *os.File, emit func(Socket) error) error { return ParsePacket(f, "/proc/net/packet", emit) }, []string{
			"packet/packet/raw  rx=0 uid=0 inode=6001 proto=0003 ifindex=2 running=true",
			"packet/packet/dgram  rx=512 uid=101 inode=6002 proto=88cc ifindex=0 running=true",
		}, 0},
		{"netlink", func(f *os.File, emit func(Socket) error) error { return ParseNetlink(f, "/proc/net/netlink", emit) }, []string{
			"netlink/netlink/route  tx=0 rx=0 inode=4 port=0 groups=00000000",
			"netlink/netlink/audit  tx=0 rx=0 inode=7001 port=812 groups=00000001",
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := parseFixture(t, tt.file, tt.parse)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			var perr *ParseError
			switch {
			case tt.badLine == 0 && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.badLine != 0 && (!errors.As(err, &perr) || perr.Line != tt.badLine || perr.Bad != 1):
				t.Errorf("error %v, want a ParseError of 1 line at line %d", err, tt.badLine)
			}
		})
	}
}

func TestUnixPathRaw(t *testing.T) {
	s, err := parseUnixLine("0000000000000000: 00000002 00000000 00000000 0005 01 7 @bad\xffname")
	if err != nil {
		t.Fatal(err)
	}
	if string(s.UnixPathRaw) != "@bad\xffname" {
		t.Errorf("unix_path_raw %q", s.UnixPathRaw)
	}
	s, err = parseUnixLine("0000000000000000: 00000002 00000000 00000000 0005 01 7 /ok")
	if err != nil || s.UnixPathRaw != nil {
		t.Errorf("valid path: raw %q, err %v", s.UnixPathRaw, err)
	}
}

func TestKernelAddrByteOrder(t *testing.T) {
	tests := []struct {
		hex   string
		order binary.ByteOrder
		want  string
	}{
		{"0100007F", binary.LittleEndian, "127.0.0.1"},
		{"7F000001", binary.BigEndian, "127.0.0.1"},
		{"0000000000000000FFFF00000100007F", binary.LittleEndian, "::ffff:127.0.0.1"},
		{"00000000000000000000FFFF7F000001", binary.BigEndian, "::ffff:127.0.0.1"},
		{"B80D0120000000000000000001000000", binary.LittleEndian, "2001:db8::1"},
		{"20010DB8000000000000000000000001", binary.BigEndian, "2001:db8::1"},
		{"00000000000000000000000001000000", binary.LittleEndian, "::1"},
	}
	for _, tt := range tests {
		a, err := kernelAddr(tt.hex, tt.order)
		if err != nil || a.String() != tt.want {
			t.Errorf("kernelAddr(%s, %v) = %v, %v; want %s", tt.hex, tt.order, a, err, tt.want)
		}
	}
	for _, bad := range []string{"", "0100007", "0100007G", "0100007F00"} {
		if _, err := kernelAddr(bad, binary.LittleEndian); err == nil {
			t.Errorf("kernelAddr(%q): no error", bad)
		}
	}
}

func routeLine(r Route) string {
	s := fmt.Sprintf("%s %s %s", r.Source, r.Family, r.Destination)
	if r.From != "" {
		s += " from " + r.From
	}
	if r.Gateway != "" {
		s += " via " + r.Gateway
	}
	return s + fmt.Sprintf(" dev %s metric %d table %s flags %v", r.Dev, r.Metric, r.Table, r.Flags)
}

func TestParseRoutes(t *testing.T) {
	var got []string
	emit := func(r Route) error { got = append(got, routeLine(r)); return nil }
	f, err := os.Open("testdata/proc/net/route")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := ParseRoute(f, "/proc/net/route", binary.LittleEndian, emit); err != nil {
		t.Fatal(err)
	}
	g, err := os.Open("testdata/proc/net/ipv6_route")
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := ParseIPv6Route(g, "/proc/net/ipv6_route", emit); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/proc/net/route inet 0.0.0.0/0 via 10.0.2.1 dev eth0 metric 100 table main flags [UP GATEWAY]",
		"/proc/net/route inet 10.0.2.0/24 dev eth0 metric 100 table main flags [UP]",
		"/proc/net/ipv6_route inet6 2001:db8::/64 dev eth0 metric 256 table  flags [UP]",
		"/proc/net/ipv6_route inet6 ::/0 via 2001:db8::1 dev eth0 metric 1024 table  flags [UP GATEWAY]",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := parseRouteLine("eth0 00000000 00000000 0001 0 0 0 00FF00FF 0 0 0", binary.LittleEndian); err == nil {
		t.Error("non-contiguous mask accepted")
	}
}

func TestParseARPAndIfInet6(t *testing.T) {
	f, err := os.Open("testdata/proc/net/arp")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	err = ParseARP(f, "/proc/net/arp", func(n Neighbour) error {
		got = append(got, fmt.Sprintf("%s %s %s %s %v", n.Family, n.Address, n.LinkAddress, n.Dev, n.State))
		return nil
	})
	want := []string{
		"inet 10.0.2.1 52:54:00:12:35:02 eth0 [COMPLETE]",
		"inet 10.0.2.9 00:00:00:00:00:00 eth0 [INCOMPLETE]",
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("arp: %v\n%s", err, strings.Join(got, "\n"))
	}
	g, err := os.Open("testdata/proc/net/if_inet6")
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	got = nil
	err = ParseIfInet6(g, "/proc/net/if_inet6", func(a IfAddr) error {
		got = append(got, fmt.Sprintf("%d %s %s/%d %s %v", a.Index, a.Name, a.Address.Address, a.PrefixLen, a.Scope, a.Flags))
		return nil
	})
	want = []string{
		"2 eth0 2001:db8::2/64 global [permanent]",
		"1 lo ::1/128 host [permanent]",
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("if_inet6: %v\n%s", err, strings.Join(got, "\n"))
	}
}

func TestScanTableStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := ParseInet(strings.NewReader("h\n 0: 0100007F:0001 00000000:0000 0A 0:0 0:0 0 0 0 1\n 1: 0100007F:0002 00000000:0000 0A 0:0 0:0 0 0 0 2\n"),
		"x", "tcp", binary.LittleEndian, func(Socket) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err %v after %d records; want stop after 1", err, n)
	}
	long := "h\n" + strings.Repeat("x", maxLine+1) + "\n"
	if err := ParseInet(strings.NewReader(long), "x", "tcp", binary.LittleEndian, func(Socket) error { return nil }); err == nil {
		t.Error("over-long line accepted")
	}
}
