package netstat

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/scelle/scelle/collect"
)

// dnsFiles are the name resolution settings copied from disk.
var dnsFiles = []string{"/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/hostname", "/etc/host.conf"}

// maxLinkHops bounds a chain of links followed from one file.
const maxLinkHops = 8

type dnsCollector struct{ base }

// NewDNS returns the net.dns collector. It copies /etc/resolv.conf,
// /etc/hosts, /etc/nsswitch.conf, /etc/hostname and /etc/host.conf from
// disk (under the collection root) as fs/etc/<file>. A file that is a
// symbolic link is recorded as a link; its target is then copied too
// (as fs/<target>) when it lies under /etc or /run (resolv.conf managed by
// systemd-resolved, NetworkManager or resolvconf), and recorded as not
// followed otherwise.
func NewDNS() collect.Collector { return &dnsCollector{base{name: "net.dns"}} }

// Collect implements collect.Collector.
func (c *dnsCollector) Collect(ctx context.Context, s *collect.Session) error {
	for _, p := range dnsFiles {
		if err := ctx.Err(); err != nil {
			return err
		}
		copyFollowing(ctx, s, p)
	}
	return nil
}

// copyFollowing copies p, then each link target in turn while it stays
// under /etc or /run.
func copyFollowing(ctx context.Context, s *collect.Session, p string) {
	seen := map[string]bool{p: true}
	for hop := 0; ; hop++ {
		o := s.CopyFile(ctx, p, 0)
		if o.Kind != collect.KindSymlink || o.LinkTarget == "" {
			return
		}
		t := o.LinkTarget
		if !path.IsAbs(t) {
			t = path.Join(path.Dir(p), t)
		}
		t = path.Clean(t)
		switch {
		case seen[t]:
			s.Skip(t, collect.KindFile, fmt.Sprintf("link %s loops back to %s: not followed again", p, t))
			return
		case hop+1 >= maxLinkHops:
			s.Skip(t, collect.KindFile, fmt.Sprintf("target of link %s: more than %d links in a row, not followed", p, maxLinkHops))
			return
		case !followable(t):
			s.Skip(t, collect.KindFile, fmt.Sprintf("target of link %s lies outside /etc and /run: not followed", p))
			return
		}
		seen[t] = true
		p = t
	}
}

func followable(p string) bool {
	for _, dir := range []string{"/etc/", "/run/", "/var/run/"} {
		if strings.HasPrefix(p, dir) {
			return true
		}
	}
	return false
}
