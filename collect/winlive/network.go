package winlive

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/scelle/scelle/collect/netstat"
)

// Adapter is one record of live/windows/net/interfaces.jsonl: an adapter
// as GetAdaptersAddresses describes it.
type Adapter struct {
	// Interface holds the fields that every OS's interface records share
	// (netstat.Interface); Name is the friendly name, OperState "up",
	// "down", "testing", "unknown", "dormant", "notpresent" or
	// "lowerlayerdown".
	netstat.Interface
	AdapterName  string   `json:"adapter_name"` // the adapter's GUID
	Description  string   `json:"description"`
	IPv6Index    uint32   `json:"ipv6_index,omitempty"`
	IfType       uint32   `json:"if_type"`
	LUID         uint64   `json:"luid"`
	DNSSuffix    string   `json:"dns_suffix,omitempty"`
	DNSServers   []string `json:"dns_servers,omitempty"`
	Gateways     []string `json:"gateways,omitempty"`
	DHCPv4Server string   `json:"dhcpv4_server,omitempty"`
	DHCPEnabled  bool     `json:"dhcp_enabled"`
	SpeedTx      uint64   `json:"transmit_link_speed,omitempty"`
	SpeedRx      uint64   `json:"receive_link_speed,omitempty"`
}

// operStates names IF_OPER_STATUS values.
var operStates = []string{1: "up", "down", "testing", "unknown", "dormant", "notpresent", "lowerlayerdown"}

func operState(v uint32) string {
	if v < uint32(len(operStates)) && operStates[v] != "" {
		return operStates[v]
	}
	return "state(" + strconv.FormatUint(uint64(v), 10) + ")"
}

// ifTypes names the common IANA interface types.
var ifTypes = map[uint32]string{1: "other", 6: "ether", 23: "ppp", 24: "loopback", 71: "ieee80211", 131: "tunnel",
	144: "ieee1394", 243: "wwanpp", 244: "wwanpp2"}

// addressScope gives an address the scope Linux records use: "host" for
// loopback, "link" for link-local, "global" otherwise.
func addressScope(a netip.Addr) string {
	switch {
	case a.IsLoopback():
		return "host"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link"
	}
	return "global"
}

// defaultRouteNotes names the default routes of a route table with a
// gateway, as netstat.Connected names Linux's.
func defaultRouteNotes(routes []Route, names map[uint32]string) []string {
	var out []string
	for _, r := range routes {
		if r.Destination != "0.0.0.0/0" && r.Destination != "::/0" {
			continue
		}
		if r.NextHop == "" || r.NextHop == "0.0.0.0" || r.NextHop == "::" {
			continue
		}
		dev := names[r.InterfaceIndex]
		if dev == "" {
			dev = fmt.Sprintf("interface %d", r.InterfaceIndex)
		}
		out = append(out, fmt.Sprintf("default route via %s dev %s", r.NextHop, dev))
	}
	return out
}

// HostsEntry is one line of the hosts file that names addresses.
type HostsEntry struct {
	Line    int      `json:"line"`
	Address string   `json:"address"`
	Names   []string `json:"names"`
	Error   string   `json:"error,omitempty"`
}

// ParseHosts decodes a hosts file: each line that is not empty or a
// comment gives an address and its names. A line whose address does not
// parse is kept with an error.
func ParseHosts(b []byte) []HostsEntry {
	out := []HostsEntry{}
	for i, line := range strings.Split(string(b), "\n") {
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		e := HostsEntry{Line: i + 1, Address: printable([]byte(f[0])), Names: []string{}}
		for _, n := range f[1:] {
			e.Names = append(e.Names, printable([]byte(n)))
		}
		if _, err := netip.ParseAddr(f[0]); err != nil {
			e.Error = err.Error()
		}
		out = append(out, e)
	}
	return out
}
