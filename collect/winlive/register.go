package winlive

import (
	"context"

	"github.com/scelle/scelle/collect"
)

// collectFunc collects one native on a live Windows host; nil on other
// systems (other.go).
type collectFunc func(ctx context.Context, s *collect.Session) error

// natives are the package's collectors, in order of volatility, with the
// items each plans (recorded as skipped where it cannot run).
func natives() []struct {
	collect.Native
	c *collector
} {
	type n = struct {
		collect.Native
		c *collector
	}
	mk := func(name string, class collect.Class, desc string, run collectFunc, sources ...string) n {
		return n{collect.Native{Name: name, Class: class, Description: desc},
			&collector{name: name, class: class, sources: sources, run: run}}
	}
	p, net, sys := collect.ClassProcess, collect.ClassNetwork, collect.ClassSystem
	return []n{
		mk("win.processes", p, "processes from Toolhelp32 and NtQuerySystemInformation compared, with users, integrity, command lines, modules",
			runProcesses, srcProcesses, srcToolhelp),
		mk("win.images", p, "SHA-256 and Authenticode status of every process image and loaded module file",
			runImages, srcImages),
		mk("win.sockets", net, "TCP and UDP tables, IPv4 and IPv6, with owning processes",
			runSockets, srcTCP4, srcTCP6, srcUDP4, srcUDP6),
		mk("win.interfaces", net, "interfaces, addresses and link state (GetAdaptersAddresses)",
			runInterfaces, srcAdapters),
		mk("win.routes", net, "IPv4 and IPv6 routes (GetIpForwardTable2)", runRoutes, srcRoutes),
		mk("win.neighbours", net, "ARP and neighbour cache (GetIpNetTable2)", runNeighbours, srcNeighbours),
		mk("win.dns", net, "DNS client cache, read from the cache only, and the hosts file", runDNS, srcDNSCache),
		mk("win.firewall", net, "firewall profile state, from the registry", runFirewall, srcFirewall),
		mk("win.smb", net, "SMB sessions and shares (NetSessionEnum, NetShareEnum)", runSMB, srcSMBSessions, srcSMBShares),
		mk("win.time", sys, "clock, time zone, boot time and uptime, time service settings", runTime, srcTime),
		mk("win.identity", sys, "computer name, domain, OS version and build, install date, machine GUID, SMBIOS ids",
			runIdentity, srcIdentity, srcSMBIOS),
		mk("win.sessions", sys, "logged-on sessions (WTS) and logon sessions with type and time (LSA)",
			runSessions, srcWTS, srcLSA),
		mk("win.accounts", sys, "local users and groups with their members", runAccounts, srcUsers, srcGroups),
		mk("win.services", sys, "services with state, start type, binary, account and the binary's SHA-256",
			runServices, srcServices),
		mk("win.drivers", sys, "loaded kernel drivers (EnumDeviceDrivers)", runDrivers, srcDrivers),
		mk("win.autoruns", sys, "autorun registry keys of HKLM and every loaded user hive, read live",
			runAutoruns, srcAutoruns),
		mk("win.environment", sys, "system environment variables", runEnvironment, srcEnvironment),
		mk("win.tpm", sys, "TPM presence and identity (manufacturer, firmware), through TBS", runTPM, srcTPM),
	}
}

// Sources of the items (an API call or a registry key).
const (
	srcProcesses   = "NtQuerySystemInformation(SystemProcessInformation)"
	srcToolhelp    = "CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS)"
	srcImages      = "process images and modules"
	srcTCP4        = "GetExtendedTcpTable(AF_INET)"
	srcTCP6        = "GetExtendedTcpTable(AF_INET6)"
	srcUDP4        = "GetExtendedUdpTable(AF_INET)"
	srcUDP6        = "GetExtendedUdpTable(AF_INET6)"
	srcAdapters    = "GetAdaptersAddresses"
	srcRoutes      = "GetIpForwardTable2"
	srcNeighbours  = "GetIpNetTable2"
	srcDNSCache    = "DnsGetCacheDataTable"
	srcFirewall    = `HKLM\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy`
	srcSMBSessions = "NetSessionEnum"
	srcSMBShares   = "NetShareEnum"
	srcTime        = "GetSystemTimePreciseAsFileTime; GetTickCount64; GetDynamicTimeZoneInformation; GetSystemTimeAdjustment"
	srcIdentity    = "GetComputerNameEx; RtlGetVersion; NetGetJoinInformation; registry"
	srcSMBIOS      = "GetSystemFirmwareTable(RSMB)"
	srcWTS         = "WTSEnumerateSessions"
	srcLSA         = "LsaEnumerateLogonSessions"
	srcUsers       = "NetUserEnum"
	srcGroups      = "NetLocalGroupEnum"
	srcServices    = "EnumServicesStatusEx"
	srcDrivers     = "EnumDeviceDrivers"
	srcAutoruns    = "registry autorun keys"
	srcEnvironment = `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment`
	srcTPM         = "TBS (go-tpm windowstpm)"
)

func init() {
	for _, n := range natives() {
		c := n.c
		n.Family, n.OS = "winlive", []string{"windows"}
		n.New = func(collect.NativeOptions) collect.Collector { cc := *c; return &cc }
		collect.Register(n.Native)
	}
}

// Collectors returns the package's collectors, in order of volatility.
func Collectors() []collect.Collector {
	var out []collect.Collector
	for _, n := range natives() {
		out = append(out, n.c)
	}
	return out
}
