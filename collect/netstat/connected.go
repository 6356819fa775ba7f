package netstat

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/scelle/scelle/collect"
)

// Connected names what shows that the host is still on a network: each
// interface whose link is up with an address beyond the host itself
// (global scope), and each default route. The responder is meant to
// have cut the network before collecting; this says whether it is so.
// Nothing is returned for a host that is not live.
func Connected(env *collect.Env, ifs []Interface) []string {
	if !env.Live {
		return nil
	}
	var out []string
	for _, i := range ifs {
		if i.OperState != "up" && (i.Carrier == nil || !*i.Carrier) {
			continue
		}
		var addrs []string
		for _, a := range i.Addresses {
			if a.Scope == "global" {
				addrs = append(addrs, fmt.Sprintf("%s/%d", a.Address, a.PrefixLen))
			}
		}
		if len(addrs) > 0 {
			out = append(out, fmt.Sprintf("interface %s is up with %s", i.Name, strings.Join(addrs, ", ")))
		}
	}
	return append(out, defaultRoutes(env)...)
}

// defaultRoutes names the IPv4 and IPv6 default routes of the main
// tables, read from /proc/net/route and /proc/net/ipv6_route.
func defaultRoutes(env *collect.Env) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out []string
	emit := func(r Route) error {
		if r.Destination == "0.0.0.0/0" || r.Destination == "::/0" {
			if r.Gateway != "" || r.Dev != "" && r.Dev != "lo" {
				out = append(out, fmt.Sprintf("default route via %s dev %s", r.Gateway, r.Dev))
			}
		}
		return nil
	}
	if b, err := collect.ReadFile(ctx, path.Join(env.Linux.Proc, "net/route"), 1<<20); err == nil {
		ParseRoute(bytes.NewReader(b), "/proc/net/route", binary.NativeEndian, emit)
	}
	if b, err := collect.ReadFile(ctx, path.Join(env.Linux.Proc, "net/ipv6_route"), 1<<20); err == nil {
		ParseIPv6Route(bytes.NewReader(b), "/proc/net/ipv6_route", emit)
	}
	return out
}
