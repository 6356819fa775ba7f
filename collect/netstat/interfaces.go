package netstat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/internal/safeopen"
)

// sysAttrs are the /sys/class/net/<if>/ attributes copied as is.
var sysAttrs = []string{
	"ifindex", "iflink", "ifalias", "address", "perm_address", "broadcast", "addr_assign_type",
	"type", "flags", "mtu", "operstate", "carrier", "carrier_changes", "carrier_up_count",
	"carrier_down_count", "dormant", "link_mode", "duplex", "speed", "tx_queue_len",
	"name_assign_type", "uevent",
}

type ifaceCollector struct{ base }

// NewInterfaces returns the net.interfaces collector. It stores the
// netlink link and address dumps as the kernel sent them
// (live/netlink/rtm_getlink.bin, live/netlink/rtm_getaddr.bin), each
// interface's /sys/class/net attributes
// (live/sys/class/net/<if>/<attr>), /proc/net/dev and /proc/net/if_inet6,
// and the interfaces with their addresses (live/net/interfaces.jsonl).
// When netlink fails, the records come from /sys and /proc/net/if_inet6
// and the item is partial, saying why.
func NewInterfaces() collect.Collector { return &ifaceCollector{base{name: "net.interfaces"}} }

const interfacesName = "live/net/interfaces.jsonl"

// Collect implements collect.Collector.
func (c *ifaceCollector) Collect(ctx context.Context, s *collect.Session) error {
	env := s.Env
	if skipVolatile(s, collect.KindKernel, "netlink:RTM_GETLINK", "netlink:RTM_GETADDR",
		path.Join(env.Linux.Sys, "class/net"), path.Join(env.Linux.Proc, "net/dev"), path.Join(env.Linux.Proc, "net/if_inet6")) {
		skipVolatile(s, collect.KindGenerated, interfacesName)
		return nil
	}
	links, linkErr := c.netlink(ctx, rtmGetLink)
	putRaw(ctx, s, "live/netlink/rtm_getlink.bin", "netlink:RTM_GETLINK", links, linkErr)
	addrs, addrErr := c.netlink(ctx, rtmGetAddr)
	putRaw(ctx, s, "live/netlink/rtm_getaddr.bin", "netlink:RTM_GETADDR", addrs, addrErr)
	for _, f := range []string{"dev", "if_inet6"} {
		s.CopyKernel(ctx, "live/proc/net/"+f, path.Join(env.Linux.Proc, "net", f), maxRaw)
	}
	names, err := sysNames(env.Linux.Sys)
	if err != nil {
		s.Fail(path.Join(env.Linux.Sys, "class/net"), collect.KindDir, err)
	}
	for _, name := range names {
		for _, a := range sysAttrs {
			if err := ctx.Err(); err != nil {
				return err
			}
			copySys(ctx, s, name, a)
		}
	}
	ifs, ierr := buildInterfaces(ctx, env, links, linkErr, addrs, addrErr)
	putJSONL(ctx, s, interfacesName, interfacesSource(env, links, addrs), func(w *recordWriter) error {
		for _, it := range ifs {
			if err := w.Write(it); err != nil {
				if ierr != nil {
					return fmt.Errorf("%v; %w", ierr, err)
				}
				return err
			}
		}
		return ierr
	})
	return ctx.Err()
}

// interfacesSource says what the interface records are decoded from.
func interfacesSource(env *collect.Env, links, addrs []byte) string {
	var src []string
	if len(links) > 0 {
		src = append(src, "netlink:RTM_GETLINK")
	} else {
		src = append(src, path.Join(env.Linux.Sys, "class/net"))
	}
	if len(addrs) > 0 {
		src = append(src, "netlink:RTM_GETADDR")
	} else {
		src = append(src, path.Join(env.Linux.Proc, "net/if_inet6"))
	}
	return strings.Join(src, " + ")
}

// copySys stores one sysfs attribute. Attributes the kernel refuses to
// report in the interface's present state (carrier, speed or duplex of an
// interface that is down: EINVAL) are recorded as skipped with that reason.
func copySys(ctx context.Context, s *collect.Session, name, attr string) {
	p := path.Join(s.Env.Linux.Sys, "class/net", name, attr)
	if _, err := collect.ReadFile(ctx, p, maxSmall); err != nil {
		switch {
		case errors.Is(err, syscall.EINVAL), errors.Is(err, syscall.EOPNOTSUPP), errors.Is(err, syscall.ENODATA):
			s.Skip(p, collect.KindKernel, fmt.Sprintf("the kernel does not report it in the interface's present state (%v)", unwrapErrno(err)))
			return
		case errors.Is(err, fs.ErrNotExist):
			s.Skip(p, collect.KindKernel, "not present")
			return
		}
	}
	s.CopyKernel(ctx, "live/sys/class/net/"+name+"/"+attr, p, maxSmall)
}

func unwrapErrno(err error) error {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return err
}

// sysNames lists /sys/class/net.
func sysNames(sys string) ([]string, error) {
	f, err := safeopen.OpenDir("", path.Join(sys, "class/net"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	sort.Strings(names)
	return names, err
}

// Interfaces returns the host's network interfaces with their MAC,
// addresses, operational state and carrier, for the collection record's
// identity block. It reads netlink, and /sys/class/net and
// /proc/net/if_inet6 under env when netlink fails; a non-nil error with a
// non-empty result says what is missing from it.
func Interfaces(env *collect.Env) ([]Interface, error) {
	if !supported {
		return nil, errors.New(reasonUnsupported)
	}
	if !env.Live {
		return nil, errors.New(reasonDeadBox)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	links, linkErr := netlinkDump(ctx, rtmGetLink)
	addrs, addrErr := netlinkDump(ctx, rtmGetAddr)
	return buildInterfaces(ctx, env, links, linkErr, addrs, addrErr)
}

// buildInterfaces decodes the link and address dumps, falling back to
// /sys and /proc for what netlink did not give. The error says what was
// not available.
func buildInterfaces(ctx context.Context, env *collect.Env, links []byte, linkErr error, addrs []byte, addrErr error) ([]Interface, error) {
	var p problems
	byIndex := map[int]*Interface{}
	var ifs []*Interface
	if len(links) > 0 {
		if linkErr != nil {
			p.add("RTM_GETLINK dump incomplete: %v", linkErr)
		}
		msgs, err := ParseMessages(links)
		if err != nil {
			p.add("RTM_GETLINK: %v", err)
		}
		for _, m := range msgs {
			if m.Type != rtmNewLink {
				continue
			}
			it, err := parseLink(m)
			if err != nil {
				p.add("%v", err)
			}
			if _, dup := byIndex[it.Index]; dup {
				continue
			}
			it.Addresses = []Address{}
			byIndex[it.Index] = &it
			ifs = append(ifs, &it)
		}
	} else {
		p.add("netlink RTM_GETLINK failed (%v): interfaces read from %s/class/net", linkErr, env.Linux.Sys)
		names, err := sysNames(env.Linux.Sys)
		if err != nil {
			p.add("list %s/class/net: %v", env.Linux.Sys, err)
		}
		for _, name := range names {
			it, err := sysInterface(ctx, env.Linux.Sys, name)
			if err != nil {
				p.add("%v", err)
			}
			if _, dup := byIndex[it.Index]; dup && it.Index != 0 {
				continue
			}
			byIndex[it.Index] = &it
			ifs = append(ifs, &it)
		}
	}
	if len(addrs) > 0 {
		if addrErr != nil {
			p.add("RTM_GETADDR dump incomplete: %v", addrErr)
		}
		msgs, err := ParseMessages(addrs)
		if err != nil {
			p.add("RTM_GETADDR: %v", err)
		}
		for _, m := range msgs {
			if m.Type != rtmNewAddr {
				continue
			}
			idx, a, err := parseAddr(m)
			if err != nil {
				p.add("%v", err)
			}
			if it := byIndex[idx]; it != nil {
				it.Addresses = append(it.Addresses, a)
			} else {
				p.add("address %s on unknown interface index %d", a.Address, idx)
			}
		}
	} else {
		p.add("netlink RTM_GETADDR failed (%v): IPv6 addresses read from %s/net/if_inet6; IPv4 addresses not available", addrErr, env.Linux.Proc)
		err := readTable(ctx, path.Join(env.Linux.Proc, "net/if_inet6"), func(r io.Reader) error {
			return ParseIfInet6(r, "/proc/net/if_inet6", func(a IfAddr) error {
				if it := byIndex[a.Index]; it != nil {
					it.Addresses = append(it.Addresses, a.Address)
				} else {
					p.add("address %s on unknown interface %q (index %d)", a.Address.Address, a.Name, a.Index)
				}
				return nil
			})
		})
		if err != nil {
			p.add("%v", err)
		}
	}
	sort.SliceStable(ifs, func(i, j int) bool { return ifs[i].Index < ifs[j].Index })
	out := make([]Interface, len(ifs))
	for i, it := range ifs {
		if !utf8.ValidString(it.Name) {
			it.NameRaw = []byte(it.Name)
		}
		out[i] = *it
	}
	return out, p.err()
}

// sysInterface reads an interface's attributes from /sys/class/net/<name>.
func sysInterface(ctx context.Context, sys, name string) (Interface, error) {
	it := Interface{Name: name, Source: "sysfs", Addresses: []Address{}, Flags: []string{}}
	dir := path.Join(sys, "class/net", name)
	read := func(attr string) (string, error) {
		b, err := collect.ReadFile(ctx, path.Join(dir, attr), maxSmall)
		return strings.TrimSpace(string(b)), err
	}
	var p problems
	num := func(attr string, base, bits int) (uint64, bool) {
		v, err := read(attr)
		if err != nil {
			if !errors.Is(err, syscall.EINVAL) && !errors.Is(err, fs.ErrNotExist) {
				p.add("%s: %v", attr, err)
			}
			return 0, false
		}
		n, err := strconv.ParseUint(strings.TrimPrefix(v, "0x"), base, bits)
		if err != nil {
			p.add("%s %q: %v", attr, v, err)
			return 0, false
		}
		return n, true
	}
	if v, ok := num("ifindex", 10, 31); ok {
		it.Index = int(v)
	}
	if v, ok := num("mtu", 10, 31); ok {
		it.MTU = int(v)
	}
	if v, ok := num("flags", 16, 32); ok {
		it.FlagsValue = uint32(v)
		it.Flags = ifFlagNames(uint32(v))
	}
	if v, ok := num("type", 10, 16); ok {
		it.LinkType = linkTypeName(uint16(v))
	}
	if v, ok := num("tx_queue_len", 10, 31); ok {
		it.TxQueueLen = int(v)
	}
	if v, ok := num("carrier", 10, 8); ok {
		c := v != 0
		it.Carrier = &c
	}
	if v, ok := num("carrier_changes", 10, 32); ok {
		c := uint32(v)
		it.CarrierChanges = &c
	}
	it.MAC, _ = read("address")
	it.Broadcast, _ = read("broadcast")
	it.OperState, _ = read("operstate")
	it.Alias, _ = read("ifalias")
	if err := p.err(); err != nil {
		return it, fmt.Errorf("%s: %w", dir, err)
	}
	return it, nil
}

// readTable opens the kernel file at p and hands it to fn.
func readTable(ctx context.Context, p string, fn func(r io.Reader) error) error {
	f, err := safeopen.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return fn(collect.NewContextReader(ctx, f))
}
