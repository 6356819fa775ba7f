package netstat

import (
	"net"
	"os"
	"slices"
	"testing"

	"github.com/scelle/scelle/collect"
)

func liveEnv() *collect.Env {
	env := collect.LinuxEnv("/")
	return &env
}

// TestLiveSocketOwner opens a listening socket and finds it, owned by this
// process's fd, in sockets.jsonl.
func TestLiveSocketOwner(t *testing.T) {
	if testing.Short() {
		t.Skip("live host test")
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback: %v", err)
	}
	defer l.Close()
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	rc, err := l.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fd := -1
	if err := rc.Control(func(x uintptr) { fd = int(x) }); err != nil {
		t.Fatal(err)
	}

	sink, outs := run(t, NewSockets(), liveEnv())
	if o := outcome(t, outs, "/proc/net/tcp"); o.Status != collect.Collected || len(sink.Files["live/proc/net/tcp"]) == 0 {
		t.Errorf("/proc/net/tcp: %s %s", o.Status, o.Reason)
	}
	var found *Socket
	for _, s := range records[Socket](t, sink.Files[socketsName]) {
		if s.Protocol == "tcp" && s.LocalAddress == "127.0.0.1" && *s.LocalPort == port && s.State == "LISTEN" {
			found = &s
			break
		}
	}
	if found == nil {
		t.Fatalf("listening socket 127.0.0.1:%d not in sockets.jsonl", port)
	}
	want := Owner{PID: os.Getpid(), FD: fd}
	if !slices.ContainsFunc(found.Owners, func(o Owner) bool { return o.PID == want.PID && o.FD == want.FD && o.Comm != "" }) {
		t.Errorf("owners %+v, want pid %d fd %d", found.Owners, want.PID, want.FD)
	}
	if uint32(os.Getuid()) != *found.UID || found.Inode == 0 || found.NetNS == 0 {
		t.Errorf("socket %+v", *found)
	}
}

// TestLiveLoopback finds lo with 127.0.0.1/8 through netlink, in the
// collector's records and through Interfaces.
func TestLiveLoopback(t *testing.T) {
	if testing.Short() {
		t.Skip("live host test")
	}
	check := func(what string, ifs []Interface) {
		t.Helper()
		i := slices.IndexFunc(ifs, func(it Interface) bool { return it.Name == "lo" })
		if i < 0 {
			t.Fatalf("%s: no lo in %+v", what, ifs)
		}
		lo := ifs[i]
		if lo.Source != "netlink" || lo.LinkType != "loopback" || !slices.Contains(lo.Flags, "LOOPBACK") {
			t.Errorf("%s: lo %+v", what, lo)
		}
		if !slices.ContainsFunc(lo.Addresses, func(a Address) bool { return a.Address == "127.0.0.1" && a.PrefixLen == 8 }) {
			t.Errorf("%s: lo addresses %+v", what, lo.Addresses)
		}
	}
	sink, outs := run(t, NewInterfaces(), liveEnv())
	for _, src := range []string{"netlink:RTM_GETLINK", "netlink:RTM_GETADDR", "netlink:RTM_GETLINK + netlink:RTM_GETADDR"} {
		if o := outcome(t, outs, src); o.Status != collect.Collected {
			t.Errorf("%s: %s %s", src, o.Status, o.Reason)
		}
	}
	if got := string(sink.Files["live/sys/class/net/lo/address"]); got != "00:00:00:00:00:00\n" {
		t.Errorf("lo/address %q", got)
	}
	check("interfaces.jsonl", records[Interface](t, sink.Files[interfacesName]))
	ifs, err := Interfaces(liveEnv())
	if err != nil {
		t.Fatal(err)
	}
	check("Interfaces", ifs)
}

// TestLiveRoutesNeighbours dumps the live tables: the netlink dumps must
// decode completely.
func TestLiveRoutesNeighbours(t *testing.T) {
	if testing.Short() {
		t.Skip("live host test")
	}
	sink, outs := run(t, NewRoutes(), liveEnv())
	if o := outcome(t, outs, "netlink:RTM_GETROUTE", collect.KindGenerated); o.Status != collect.Collected {
		t.Errorf("routes: %s %s", o.Status, o.Reason)
	}
	routes := records[Route](t, sink.Files[routesName])
	if !slices.ContainsFunc(routes, func(r Route) bool { return r.Table == "local" && r.Destination == "127.0.0.1/32" && r.Dev == "lo" }) {
		t.Errorf("no local route to 127.0.0.1 in %d routes", len(routes))
	}
	_, outs = run(t, NewNeighbours(), liveEnv())
	if o := outcome(t, outs, "netlink:RTM_GETNEIGH", collect.KindGenerated); o.Status != collect.Collected {
		t.Errorf("neighbours: %s %s", o.Status, o.Reason)
	}
}
