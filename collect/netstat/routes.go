package netstat

import (
	"context"
	"encoding/binary"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/scelle/scelle/collect"
)

type routeCollector struct{ base }

// NewRoutes returns the net.routes collector. It stores the netlink route
// dump of every table and family as the kernel sent it
// (live/netlink/rtm_getroute.bin), /proc/net/route, /proc/net/ipv6_route
// and /proc/net/fib_trie as is, and the routes (live/net/routes.jsonl).
// When netlink fails, the records come from /proc/net/route (IPv4 main
// table only) and /proc/net/ipv6_route, and the item is partial, saying why.
func NewRoutes() collect.Collector { return &routeCollector{base{name: "net.routes"}} }

const routesName = "live/net/routes.jsonl"

// Collect implements collect.Collector.
func (c *routeCollector) Collect(ctx context.Context, s *collect.Session) error {
	proc := s.Env.Linux.Proc
	files := []string{"route", "ipv6_route", "fib_trie"}
	planned := []string{"netlink:RTM_GETROUTE"}
	for _, f := range files {
		planned = append(planned, path.Join(proc, "net", f))
	}
	if skipVolatile(s, collect.KindKernel, planned...) {
		skipVolatile(s, collect.KindGenerated, routesName)
		return nil
	}
	raw, dumpErr := c.netlink(ctx, rtmGetRoute)
	putRaw(ctx, s, "live/netlink/rtm_getroute.bin", "netlink:RTM_GETROUTE", raw, dumpErr)
	for _, f := range files {
		s.CopyKernel(ctx, "live/proc/net/"+f, path.Join(proc, "net", f), maxRaw)
	}
	names := c.ifNames(ctx, s.Env)
	src := "netlink:RTM_GETROUTE"
	if len(raw) == 0 {
		src = path.Join(proc, "net/route") + " + " + path.Join(proc, "net/ipv6_route")
	}
	putJSONL(ctx, s, routesName, src, func(w *recordWriter) error {
		var p problems
		if len(raw) > 0 {
			if dumpErr != nil {
				p.add("RTM_GETROUTE dump incomplete: %v", dumpErr)
			}
			msgs, err := ParseMessages(raw)
			if err != nil {
				p.add("RTM_GETROUTE: %v", err)
			}
			for _, m := range msgs {
				if m.Type != rtmNewRoute {
					continue
				}
				r, err := parseRoute(m)
				if err != nil {
					p.add("%v", err)
				}
				r.Dev = names[r.Ifindex]
				for i := range r.Nexthops {
					r.Nexthops[i].Dev = names[r.Nexthops[i].Ifindex]
				}
				if err := w.Write(r); err != nil {
					p.add("%v", err)
					return p.err()
				}
			}
			return p.err()
		}
		p.add("netlink RTM_GETROUTE failed (%v): routes read from /proc/net/route (IPv4 main table only) and /proc/net/ipv6_route", dumpErr)
		emit := func(r Route) error { return w.Write(r) }
		err := readTable(ctx, path.Join(proc, "net/route"), func(rd io.Reader) error {
			return ParseRoute(rd, "/proc/net/route", binary.NativeEndian, emit)
		})
		if stop := p.addTableErr(ctx, err); stop != nil {
			return stop
		}
		err = readTable(ctx, path.Join(proc, "net/ipv6_route"), func(rd io.Reader) error {
			return ParseIPv6Route(rd, "/proc/net/ipv6_route", emit)
		})
		if stop := p.addTableErr(ctx, err); stop != nil {
			return stop
		}
		return p.err()
	})
	return ctx.Err()
}

// addTableErr records a table's error. When the error must stop the
// generation it returns all the problems so far, else nil.
func (p *problems) addTableErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	p.add("%v", err)
	if isStop(ctx, err) {
		return p.err()
	}
	return nil
}

// ifNames maps interface indexes to names, from netlink or else /sys.
func (b *base) ifNames(ctx context.Context, env *collect.Env) map[int]string {
	names := map[int]string{}
	if raw, _ := b.netlink(ctx, rtmGetLink); len(raw) > 0 {
		msgs, _ := ParseMessages(raw)
		for _, m := range msgs {
			if m.Type != rtmNewLink {
				continue
			}
			if it, _ := parseLink(m); it.Name != "" {
				names[it.Index] = it.Name
			}
		}
		return names
	}
	list, _ := sysNames(env.Linux.Sys)
	for _, n := range list {
		b, err := collect.ReadFile(ctx, path.Join(env.Linux.Sys, "class/net", n, "ifindex"), maxSmall)
		if err != nil {
			continue
		}
		if i, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			names[i] = n
		}
	}
	return names
}

type neighCollector struct{ base }

// NewNeighbours returns the net.neighbours collector. It stores the
// netlink neighbour dump (ARP, NDP and bridge forwarding entries) as the
// kernel sent it (live/netlink/rtm_getneigh.bin), /proc/net/arp as is, and
// the entries (live/net/neighbours.jsonl). When netlink fails, the records
// come from /proc/net/arp (IPv4 only) and the item is partial, saying why.
func NewNeighbours() collect.Collector { return &neighCollector{base{name: "net.neighbours"}} }

const neighboursName = "live/net/neighbours.jsonl"

// Collect implements collect.Collector.
func (c *neighCollector) Collect(ctx context.Context, s *collect.Session) error {
	proc := s.Env.Linux.Proc
	if skipVolatile(s, collect.KindKernel, "netlink:RTM_GETNEIGH", path.Join(proc, "net/arp")) {
		skipVolatile(s, collect.KindGenerated, neighboursName)
		return nil
	}
	raw, dumpErr := c.netlink(ctx, rtmGetNeigh)
	putRaw(ctx, s, "live/netlink/rtm_getneigh.bin", "netlink:RTM_GETNEIGH", raw, dumpErr)
	s.CopyKernel(ctx, "live/proc/net/arp", path.Join(proc, "net/arp"), maxRaw)
	names := c.ifNames(ctx, s.Env)
	src := "netlink:RTM_GETNEIGH"
	if len(raw) == 0 {
		src = path.Join(proc, "net/arp")
	}
	putJSONL(ctx, s, neighboursName, src, func(w *recordWriter) error {
		var p problems
		if len(raw) > 0 {
			if dumpErr != nil {
				p.add("RTM_GETNEIGH dump incomplete: %v", dumpErr)
			}
			msgs, err := ParseMessages(raw)
			if err != nil {
				p.add("RTM_GETNEIGH: %v", err)
			}
			for _, m := range msgs {
				if m.Type != rtmNewNeigh {
					continue
				}
				n, err := parseNeigh(m)
				if err != nil {
					p.add("%v", err)
				}
				n.Dev = names[n.Ifindex]
				if err := w.Write(n); err != nil {
					p.add("%v", err)
					return p.err()
				}
			}
			return p.err()
		}
		p.add("netlink RTM_GETNEIGH failed (%v): entries read from /proc/net/arp; IPv6 neighbours not available", dumpErr)
		err := readTable(ctx, path.Join(proc, "net/arp"), func(rd io.Reader) error {
			return ParseARP(rd, "/proc/net/arp", func(n Neighbour) error { return w.Write(n) })
		})
		if stop := p.addTableErr(ctx, err); stop != nil {
			return stop
		}
		return p.err()
	})
	return ctx.Err()
}
