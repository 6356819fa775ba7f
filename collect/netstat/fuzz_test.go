package netstat

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func seedFile(f *testing.F, name string) {
	b, err := os.ReadFile(filepath.Join("testdata/proc/net", name))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
}

// kernelHex prints an address as /proc/net/tcp does on a little-endian host.
func kernelHex(a netip.Addr) string {
	b := a.AsSlice()
	var s strings.Builder
	for i := 0; i < len(b); i += 4 {
		fmt.Fprintf(&s, "%08X", binary.LittleEndian.Uint32(b[i:]))
	}
	return s.String()
}

// FuzzParseInet checks that every socket parsed from arbitrary input
// prints back, the way the kernel prints it, to a line that parses to the
// same socket.
func FuzzParseInet(f *testing.F) {
	for _, n := range []string{"tcp", "tcp6", "udp", "raw"} {
		seedFile(f, n)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = ParseInet(bytes.NewReader(b), "fuzz", "tcp", binary.LittleEndian, func(s Socket) error {
			la, err1 := netip.ParseAddr(s.LocalAddress)
			ra, err2 := netip.ParseAddr(s.RemoteAddress)
			if err1 != nil || err2 != nil || la.Is4() != ra.Is4() {
				t.Fatalf("addresses %q %q", s.LocalAddress, s.RemoteAddress)
			}
			line := fmt.Sprintf("0: %s:%04X %s:%04X %02X %08X:%08X 00:00000000 00000000 %d 0 %d",
				kernelHex(la), *s.LocalPort, kernelHex(ra), *s.RemotePort, *s.StateCode, *s.TxQueue, *s.RxQueue, *s.UID, s.Inode)
			again, err := parseInetLine(line, "tcp", binary.LittleEndian)
			if err != nil {
				t.Fatalf("re-parse %q: %v", line, err)
			}
			if sockLine(again) != sockLine(s) {
				t.Fatalf("round trip\n%s\n%s", sockLine(s), sockLine(again))
			}
			return nil
		})
	})
}

func FuzzParseUnix(f *testing.F) {
	seedFile(f, "unix")
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = ParseUnix(bytes.NewReader(b), "fuzz", func(s Socket) error {
			if s.Family != "unix" || s.StateCode == nil {
				t.Fatalf("socket %+v", s)
			}
			if strings.ContainsAny(s.UnixPath, "\n") {
				t.Fatalf("path %q holds a newline", s.UnixPath)
			}
			return nil
		})
	})
}

func FuzzParsePacket(f *testing.F) {
	seedFile(f, "packet")
	seedFile(f, "netlink")
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = ParseNetlink(bytes.NewReader(b), "fuzz", func(s Socket) error {
			if s.NetlinkPortID == nil || s.Type == "" {
				t.Fatalf("socket %+v", s)
			}
			return nil
		})
		_ = ParsePacket(bytes.NewReader(b), "fuzz", func(s Socket) error {
			if s.Ifindex == nil || s.UID == nil || s.EtherProtocol == "" {
				t.Fatalf("socket %+v", s)
			}
			return nil
		})
	})
}

func FuzzParseRouteTables(f *testing.F) {
	seedFile(f, "route")
	seedFile(f, "ipv6_route")
	seedFile(f, "arp")
	seedFile(f, "if_inet6")
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(r Route) error {
			if _, err := netip.ParsePrefix(r.Destination); err != nil {
				t.Fatalf("destination %q: %v", r.Destination, err)
			}
			return nil
		}
		_ = ParseRoute(bytes.NewReader(b), "fuzz", binary.LittleEndian, check)
		_ = ParseIPv6Route(bytes.NewReader(b), "fuzz", check)
		_ = ParseARP(bytes.NewReader(b), "fuzz", func(n Neighbour) error {
			if _, err := netip.ParseAddr(n.Address); err != nil {
				t.Fatalf("address %q", n.Address)
			}
			return nil
		})
		_ = ParseIfInet6(bytes.NewReader(b), "fuzz", func(a IfAddr) error {
			if a.PrefixLen > 128 {
				t.Fatalf("prefix %d", a.PrefixLen)
			}
			return nil
		})
	})
}

// FuzzNetlink decodes arbitrary bytes as a netlink dump of each kind.
func FuzzNetlink(f *testing.F) {
	f.Add(fixtureLinks())
	f.Add(fixtureAddrs())
	f.Add(fixtureRoutes())
	f.Add(fixtureNeighs())
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := ParseMessages(b)
		end := 0
		for _, m := range msgs {
			end += align4(nlmsgHdrLen + len(m.Data))
		}
		if err == nil && end < len(b) {
			t.Fatalf("messages cover %d of %d bytes", end, len(b))
		}
		for _, m := range msgs {
			_, _ = parseLink(m)
			_, _, _ = parseAddr(m)
			_, _ = parseRoute(m)
			_, _ = parseNeigh(m)
			_ = errorMessage(m)
		}
	})
}
