package winlive

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/netstat"
)

var (
	runSockets    collectFunc = collectSockets
	runInterfaces collectFunc = collectInterfaces
	runRoutes     collectFunc = collectRoutes
	runNeighbours collectFunc = collectNeighbours
	runDNS        collectFunc = collectDNS
	runFirewall   collectFunc = collectFirewall
	runSMB        collectFunc = collectSMB
)

const (
	tcpTableOwnerPIDAll = 5
	udpTableOwnerPID    = 1
)

// sizedTable calls a function that fills a table given its buffer and
// a pointer to its size, then args (GetExtendedTcpTable,
// GetExtendedUdpTable, GetIpNetTable), and returns the table cut to its
// rows: a count at offset 0, rows of rowSize bytes from offset 4.
func sizedTable(p *windows.LazyProc, rowSize int, args ...uintptr) ([]byte, error) {
	if err := find(p); err != nil {
		return nil, err
	}
	b, err := growCall(64<<10, 256<<20, func(b []byte) (int, error) {
		size := uint32(len(b))
		r, _, _ := p.Call(append([]uintptr{uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&size))}, args...)...)
		if r != 0 {
			return int(size), fmt.Errorf("%s: %w", p.Name, windows.Errno(r))
		}
		return 0, nil
	})
	if err != nil {
		return nil, err
	}
	return tableBytes(b, 4, rowSize), nil
}

// processNames maps pids to image names, from a Toolhelp32 snapshot.
func processNames() map[uint32]string {
	m := map[uint32]string{}
	procs, _ := toolhelpProcesses()
	for _, e := range procs {
		m[e.ProcessID] = windows.UTF16ToString(e.ExeFile[:])
	}
	return m
}

func collectSockets(ctx context.Context, s *collect.Session) error {
	names := processNames()
	var all []Socket
	var problems []error
	for _, t := range []struct {
		src, file string
		proc      *windows.LazyProc
		rowSize   int
		family    uint32
		class     uintptr
		parse     func([]byte, bool) ([]Socket, error)
		v6        bool
	}{
		{srcTCP4, "tcp4", procGetExtendedTcpTable, tcp4RowSize, windows.AF_INET, tcpTableOwnerPIDAll, ParseTCPTable, false},
		{srcTCP6, "tcp6", procGetExtendedTcpTable, tcp6RowSize, windows.AF_INET6, tcpTableOwnerPIDAll, ParseTCPTable, true},
		{srcUDP4, "udp4", procGetExtendedUdpTable, udp4RowSize, windows.AF_INET, udpTableOwnerPID, ParseUDPTable, false},
		{srcUDP6, "udp6", procGetExtendedUdpTable, udp6RowSize, windows.AF_INET6, udpTableOwnerPID, ParseUDPTable, true},
	} {
		b, err := sizedTable(t.proc, t.rowSize, 0, uintptr(t.family), t.class, 0)
		putRaw(ctx, s, "live/windows/net/"+t.file+".bin", t.src, b, err)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", t.src, err))
			continue
		}
		socks, err := t.parse(b, t.v6)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", t.src, err))
		}
		for i := range socks {
			socks[i].Process = names[socks[i].PID]
		}
		all = append(all, socks...)
	}
	putLines(ctx, s, "live/windows/net/sockets.jsonl", "GetExtendedTcpTable; GetExtendedUdpTable", all, errors.Join(problems...))
	return ctx.Err()
}

// adapters calls GetAdaptersAddresses and converts what it returns.
func adapters() ([]Adapter, error) {
	const flags = windows.GAA_FLAG_INCLUDE_PREFIX | windows.GAA_FLAG_INCLUDE_GATEWAYS | windows.GAA_FLAG_INCLUDE_ALL_INTERFACES
	var first *windows.IpAdapterAddresses
	b, err := growCall(32<<10, 16<<20, func(b []byte) (int, error) {
		size := uint32(len(b))
		p := (*windows.IpAdapterAddresses)(unsafe.Pointer(&b[0]))
		err := windows.GetAdaptersAddresses(windows.AF_UNSPEC, flags, 0, p, &size)
		if errors.Is(err, windows.ERROR_BUFFER_OVERFLOW) {
			return int(size), errTooSmall
		}
		first = p
		return 0, err
	})
	if err != nil {
		return nil, fmt.Errorf("GetAdaptersAddresses: %w", err)
	}
	_ = b // keeps the buffer the adapters point into alive
	var out []Adapter
	for a := first; a != nil && len(out) < 4096; a = a.Next {
		ad := Adapter{AdapterName: windows.BytePtrToString(a.AdapterName), Description: utf16Ptr(a.Description),
			IPv6Index: a.Ipv6IfIndex, IfType: a.IfType, LUID: a.Luid, DNSSuffix: utf16Ptr(a.DnsSuffix),
			DHCPEnabled: a.Flags&0x4 != 0, SpeedTx: a.TransmitLinkSpeed, SpeedRx: a.ReceiveLinkSpeed}
		ad.Interface = netstat.Interface{Index: int(a.IfIndex), Name: utf16Ptr(a.FriendlyName), Source: srcAdapters,
			MTU: int(a.Mtu), OperState: operState(a.OperStatus), LinkType: ifTypes[a.IfType], Flags: []string{},
			Addresses: []netstat.Address{}}
		if ad.Index == 0 {
			ad.Index = int(a.Ipv6IfIndex)
		}
		n := a.PhysicalAddressLength
		ad.MAC = mac(a.PhysicalAddress[:], n)
		for u := a.FirstUnicastAddress; u != nil; u = u.Next {
			ip, ok := netip.AddrFromSlice(u.Address.IP())
			if !ok {
				continue
			}
			fam := "inet"
			if !ip.Unmap().Is4() {
				fam = "inet6"
			} else {
				ip = ip.Unmap()
			}
			ad.Addresses = append(ad.Addresses, netstat.Address{Family: fam, Address: ip.String(),
				PrefixLen: int(u.OnLinkPrefixLength), Scope: addressScope(ip), Flags: []string{}})
		}
		for d := a.FirstDnsServerAddress; d != nil; d = d.Next {
			ad.DNSServers = append(ad.DNSServers, sockaddrString(d.Address))
		}
		for g := a.FirstGatewayAddress; g != nil; g = g.Next {
			ad.Gateways = append(ad.Gateways, sockaddrString(g.Address))
		}
		if a.Dhcpv4Server.Sockaddr != nil {
			ad.DHCPv4Server = sockaddrString(a.Dhcpv4Server)
		}
		out = append(out, ad)
	}
	return out, nil
}

func sockaddrString(a windows.SocketAddress) string {
	if a.Sockaddr == nil {
		return ""
	}
	if ip, ok := netip.AddrFromSlice(a.IP()); ok {
		return ip.Unmap().String()
	}
	return ""
}

func collectInterfaces(ctx context.Context, s *collect.Session) error {
	ads, err := adapters()
	putLines(ctx, s, "live/windows/net/interfaces.jsonl", srcAdapters, ads, err)
	return ctx.Err()
}

// Interfaces returns the host's interfaces as every OS records them,
// and what shows it still on a network (interfaces up with a global
// address, default routes with a gateway), as netstat.Connected says it
// for Linux.
func Interfaces(env *collect.Env) (ifs []netstat.Interface, connected []string, err error) {
	if !env.Live {
		return nil, nil, errors.New(reasonDeadBox)
	}
	ads, err := adapters()
	if err != nil {
		return nil, nil, err
	}
	names := map[uint32]string{}
	for _, a := range ads {
		ifs = append(ifs, a.Interface)
		names[uint32(a.Index)] = a.Name
		if a.IPv6Index != 0 {
			names[a.IPv6Index] = a.Name
		}
	}
	connected = netstat.Connected(env, ifs)
	if b, err := forwardTable(); err == nil {
		routes, _ := ParseForwardTable(b)
		connected = append(connected, defaultRouteNotes(routes, names)...)
	}
	return ifs, connected, nil
}

// mibTable copies a MIB table an iphlpapi function allocated (a count,
// padded to 8 bytes, then rows) and frees it.
func mibTable(p unsafe.Pointer, rowSize int) []byte {
	defer windows.FreeMibTable(p)
	n := *(*uint32)(p)
	if n > maxRows {
		n = maxRows
	}
	return bytesAt(p, 8+int(n)*rowSize)
}

func forwardTable() ([]byte, error) {
	if sz := unsafe.Sizeof(windows.MibIpForwardRow2{}); sz != forwardRowSize {
		return nil, fmt.Errorf("MIB_IPFORWARD_ROW2 is %d bytes here, the decoder reads %d", sz, forwardRowSize)
	}
	var t *windows.MibIpForwardTable2
	if err := windows.GetIpForwardTable2(windows.AF_UNSPEC, &t); err != nil {
		return nil, fmt.Errorf("GetIpForwardTable2: %w", err)
	}
	return mibTable(unsafe.Pointer(t), forwardRowSize), nil
}

// interfaceNames maps interface indexes to friendly names.
func interfaceNames() map[uint32]string {
	m := map[uint32]string{}
	ads, _ := adapters()
	for _, a := range ads {
		m[uint32(a.Index)] = a.Name
		if a.IPv6Index != 0 {
			m[a.IPv6Index] = a.Name
		}
	}
	return m
}

func collectRoutes(ctx context.Context, s *collect.Session) error {
	b, err := forwardTable()
	putRaw(ctx, s, "live/windows/net/ipforward-table2.bin", srcRoutes, b, err)
	if err != nil {
		return ctx.Err()
	}
	routes, perr := ParseForwardTable(b)
	names := interfaceNames()
	for i := range routes {
		routes[i].Interface = names[routes[i].InterfaceIndex]
	}
	putLines(ctx, s, "live/windows/net/routes.jsonl", srcRoutes, routes, perr)
	return ctx.Err()
}

func collectNeighbours(ctx context.Context, s *collect.Session) error {
	var b []byte
	err := find(procGetIpNetTable2)
	if err == nil {
		var t unsafe.Pointer
		if r, _, _ := procGetIpNetTable2.Call(windows.AF_UNSPEC, uintptr(unsafe.Pointer(&t))); r != 0 {
			err = fmt.Errorf("GetIpNetTable2: %w", windows.Errno(r))
		} else {
			b = mibTable(t, netRowSize)
		}
	}
	names := interfaceNames()
	if err != nil {
		// GetIpNetTable2 (Vista) is missing or failed (wine lacks it): the
		// IPv4 ARP cache through GetIpNetTable, said in the outcome.
		s.Fail(srcNeighbours, collect.KindKernel, err)
		v4, err4 := sizedTable(procGetIpNetTable, ipNetRowSize, 0)
		putRaw(ctx, s, "live/windows/net/ipnet-table.bin", "GetIpNetTable", v4, err4)
		if err4 != nil {
			return ctx.Err()
		}
		nbs, perr := ParseIPNetTable(v4)
		for i := range nbs {
			nbs[i].Interface = names[nbs[i].InterfaceIndex]
		}
		putLines(ctx, s, "live/windows/net/neighbours.jsonl", "GetIpNetTable", nbs,
			errors.Join(fmt.Errorf("IPv4 only, from GetIpNetTable: %w", err), perr))
		return ctx.Err()
	}
	putRaw(ctx, s, "live/windows/net/ipnet-table2.bin", srcNeighbours, b, nil)
	nbs, perr := ParseNetTable(b)
	for i := range nbs {
		nbs[i].Interface = names[nbs[i].InterfaceIndex]
	}
	putLines(ctx, s, "live/windows/net/neighbours.jsonl", srcNeighbours, nbs, perr)
	return ctx.Err()
}

// dnsQueryNoWireQuery asks the DNS client for what its cache holds only:
// no query leaves the host.
const dnsQueryNoWireQuery = 0x10

func collectDNS(ctx context.Context, s *collect.Session) error {
	entries, err := dnsCache()
	if err == nil {
		for i := range entries {
			entries[i].Records = cachedRecords(entries[i].Name, entries[i].Type)
		}
	}
	putLines(ctx, s, "live/windows/net/dns-cache.jsonl", srcDNSCache, entries, err)
	copyHosts(ctx, s)
	return ctx.Err()
}

// dnsCache reads the DNS client cache's table. DnsGetCacheDataTable is
// undocumented: it is looked up first, and its list is walked through
// ReadProcessMemory, so that a bad pointer is an error, not a crash.
func dnsCache() ([]DNSCacheEntry, error) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		return nil, errors.New("DNS_CACHE_ENTRY is decoded in its 64-bit layout only")
	}
	if err := find(procDnsGetCacheDataTable); err != nil {
		return nil, err
	}
	var head uintptr
	r, _, e := procDnsGetCacheDataTable.Call(uintptr(unsafe.Pointer(&head)))
	if r == 0 {
		if en, ok := e.(windows.Errno); ok && en != 0 {
			return nil, fmt.Errorf("DnsGetCacheDataTable: %w", e)
		}
		return nil, errors.New("DnsGetCacheDataTable returned FALSE: the DNS client service does not answer")
	}
	entries, err := WalkDNSCache(selfMemory{}, uint64(head))
	if entries == nil {
		entries = []DNSCacheEntry{}
	}
	return entries, err
}

// cachedRecords returns the cached answers for name and type, as text.
func cachedRecords(name string, typ uint16) []string {
	var rec *windows.DNSRecord
	if err := windows.DnsQuery(name, typ, dnsQueryNoWireQuery, nil, &rec, nil); err != nil {
		return nil
	}
	defer windows.DnsRecordListFree(rec, 1)
	var out []string
	for r := rec; r != nil && len(out) < 256; r = r.Next {
		v := ""
		switch r.Type {
		case 1:
			v = netip.AddrFrom4([4]byte(r.Data[:4])).String()
		case 28:
			v = netip.AddrFrom16([16]byte(r.Data[:16])).String()
		case 2, 5, 12:
			v = utf16Ptr(*(**uint16)(unsafe.Pointer(&r.Data[0])))
		default:
			v = fmt.Sprintf("type %d, %d bytes", r.Type, r.Length)
		}
		out = append(out, fmt.Sprintf("%s %s ttl=%d %s", utf16Ptr(r.Name), dnsTypeName(r.Type), r.Ttl, v))
	}
	return out
}

// copyHosts stores the hosts file from the folder the registry names
// (DataBasePath), and its parsed entries. The file is taken by its full
// path, whatever Env.Root is, and stored as "fs/<drive letter>/<path>"
// ("fs/C/Windows/System32/drivers/etc/hosts").
func copyHosts(ctx context.Context, s *collect.Session) {
	dir := `%SystemRoot%\System32\drivers\etc`
	if k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Services\Tcpip\Parameters`, registry.QUERY_VALUE); err == nil {
		if v, _, err := k.GetStringValue("DataBasePath"); err == nil && v != "" {
			dir = v
		}
		k.Close()
	}
	full, err := registry.ExpandString(dir)
	if err != nil {
		s.Fail(dir, collect.KindFile, err)
		return
	}
	full = filepath.Join(full, "hosts")
	vol := filepath.VolumeName(full)
	bagPath := path.Clean("/" + strings.TrimSuffix(vol, ":") + "/" + filepath.ToSlash(full[len(vol):]))
	d, err := os.Open(filepath.Dir(full))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			s.Skip(bagPath, collect.KindFile, collect.ReasonNotPresent)
		} else {
			s.Fail(bagPath, collect.KindFile, err)
		}
		return
	}
	defer d.Close()
	if o := s.CopyFileAt(ctx, d, "hosts", bagPath, maxHostsFile); o.Path == "" {
		return
	}
	b, err := collect.ReadFile(ctx, full, maxHostsFile)
	if err != nil {
		s.Fail(full, collect.KindGenerated, fmt.Errorf("parse hosts: %w", err))
		return
	}
	putLines(ctx, s, "live/windows/net/hosts.jsonl", full, ParseHosts(b), nil)
}
