package netstat

import (
	"context"
	"errors"
	"io/fs"
	"path"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/internal/safeopen"
)

// netfilterFiles are the /proc/net netfilter files copied as is.
var netfilterFiles = []string{
	"ip_tables_names", "ip6_tables_names", "arp_tables_names",
	"ip_tables_matches", "ip_tables_targets", "ip6_tables_matches", "ip6_tables_targets",
	"nf_conntrack", "nf_conntrack_expect", "stat/nf_conntrack",
}

// netfilterDirs are the /proc/net folders whose files are copied as is.
var netfilterDirs = []string{"netfilter", "xt_recent", "ipt_hashlimit", "ip6t_hashlimit"}

const rulesetSource = "netlink:NFNL_SUBSYS_NFTABLES and getsockopt:IPT_SO_GET_ENTRIES"

type netfilterCollector struct{ base }

// NewNetfilter returns the net.netfilter collector. It copies what /proc
// exposes of netfilter as is: the names of the loaded iptables tables and
// their matches and targets (live/proc/net/ip_tables_names ...), the
// connection tracking table (live/proc/net/nf_conntrack, capped at 64
// MiB) and its statistics, and every file of /proc/net/netfilter,
// xt_recent, ipt_hashlimit and ip6t_hashlimit. Missing files are recorded
// as not present. The rules themselves are recorded as not collected:
// the kernel exposes them only through nfnetlink and getsockopt.
func NewNetfilter() collect.Collector { return &netfilterCollector{base{name: "net.netfilter"}} }

// Collect implements collect.Collector.
func (c *netfilterCollector) Collect(ctx context.Context, s *collect.Session) error {
	proc := s.Env.Linux.Proc
	var planned []string
	for _, f := range netfilterFiles {
		planned = append(planned, path.Join(proc, "net", f))
	}
	for _, d := range netfilterDirs {
		planned = append(planned, path.Join(proc, "net", d))
	}
	if skipVolatile(s, collect.KindKernel, planned...) {
		return nil
	}
	for _, f := range netfilterFiles {
		if err := ctx.Err(); err != nil {
			return err
		}
		limit := int64(maxRaw)
		if f == "nf_conntrack" {
			limit = maxConntrack
		}
		s.CopyKernel(ctx, "live/proc/net/"+f, path.Join(proc, "net", f), limit)
	}
	for _, d := range netfilterDirs {
		dir := path.Join(proc, "net", d)
		f, err := safeopen.OpenDir("", dir)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				s.Skip(dir, collect.KindDir, "not present")
			} else {
				s.Fail(dir, collect.KindDir, err)
			}
			continue
		}
		entries, err := f.ReadDir(-1)
		f.Close()
		if err != nil {
			s.Fail(dir, collect.KindDir, err)
		}
		if len(entries) == 0 && err == nil {
			s.Skip(dir, collect.KindDir, "empty: no entries")
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			p := path.Join(dir, e.Name())
			if e.IsDir() {
				s.Skip(p, collect.KindDir, "folder: not descended")
				continue
			}
			s.CopyKernel(ctx, "live/proc/net/"+d+"/"+e.Name(), p, maxRaw)
		}
	}
	s.Skip(rulesetSource, collect.KindKernel,
		"not collected: the kernel exposes iptables and nftables rules only through nfnetlink and getsockopt, which this version does not read")
	return nil
}
