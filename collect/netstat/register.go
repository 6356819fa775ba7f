package netstat

import "github.com/scelle/scelle/collect"

// The network collectors, as definitions name them (collect.Register).
func init() {
	for _, n := range []collect.Native{
		{Name: "net.sockets", Description: "TCP, UDP, raw, unix and packet sockets with their owning processes",
			New: func(collect.NativeOptions) collect.Collector { return NewSockets() }},
		{Name: "net.interfaces", Description: "interfaces, addresses and link state",
			New: func(collect.NativeOptions) collect.Collector { return NewInterfaces() }},
		{Name: "net.routes", Description: "IPv4 and IPv6 routes",
			New: func(collect.NativeOptions) collect.Collector { return NewRoutes() }},
		{Name: "net.neighbours", Description: "ARP and neighbour cache",
			New: func(collect.NativeOptions) collect.Collector { return NewNeighbours() }},
		{Name: "net.dns", Description: "resolver configuration and hosts file",
			New: func(collect.NativeOptions) collect.Collector { return NewDNS() }},
		{Name: "net.netfilter", Description: "netfilter tables and connection tracking, where readable",
			New: func(collect.NativeOptions) collect.Collector { return NewNetfilter() }},
	} {
		n.Family, n.Class, n.OS = "netstat", collect.ClassNetwork, []string{"linux"}
		collect.Register(n)
	}
}
