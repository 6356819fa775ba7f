package netstat

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/collecttest"
)

const (
	selfNS  = 4026531840
	otherNS = 4026532000
)

// fixtureEnv builds a fake /proc and /sys: the testdata tables, process
// 100 (sshd) holding sockets 1001 (fds 3 and 7) and 5001 (fd 4), process
// 200 in another network namespace holding socket 9001, process 300
// whose fd folder is gone (it exited), and process 400 with an fd that
// cannot be read.
func fixtureEnv(t *testing.T) *collect.Env {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("collectors need Linux")
	}
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("fixture tables are those of a little-endian host")
	}
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS("testdata")); err != nil {
		t.Fatal(err)
	}
	proc := filepath.Join(root, "proc")
	mk := func(p, content string) {
		t.Helper()
		p = filepath.Join(proc, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(p, target string) {
		t.Helper()
		p = filepath.Join(proc, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	link("self/ns/net", "net:[4026531840]")
	mk("100/comm", "sshd\n")
	link("100/ns/net", "net:[4026531840]")
	link("100/fd/0", "/dev/null")
	link("100/fd/3", "socket:[1001]")
	link("100/fd/4", "socket:[5001]")
	link("100/fd/7", "socket:[1001]")
	link("100/fd/8", "pipe:[77]")
	link("100/fd/9", "socket:[7001]")
	mk("200/comm", "contain\xffed\n")
	link("200/ns/net", "net:[4026532000]")
	link("200/fd/5", "socket:[9001]")
	mk("200/net/tcp", "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"+
		"   0: 0100007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9001 1 0000000000000000 100 0 0 10 0\n")
	mk("200/net/unix", "Num       RefCount Protocol Flags    Type St Inode Path\n")
	link("300/ns/net", "net:[4026531840]")
	mk("400/fd/9", "not a link: readlink fails with EINVAL")
	return &collect.Env{Root: root, Live: true, Linux: collect.LinuxPaths{Proc: proc, Sys: filepath.Join(root, "sys")}}
}

func run(t *testing.T, c collect.Collector, env *collect.Env) (*collecttest.Sink, *collecttest.Outcomes) {
	t.Helper()
	sink, outs := &collecttest.Sink{}, &collecttest.Outcomes{}
	if err := c.Collect(context.Background(), collect.NewSession(env, c, sink, outs.Add)); err != nil {
		t.Fatalf("collect: %v", err)
	}
	return sink, outs
}

// outcome returns the one outcome for src, of kind if given.
func outcome(t *testing.T, outs *collecttest.Outcomes, src string, kind ...string) collect.Outcome {
	t.Helper()
	var got []collect.Outcome
	for _, o := range outs.BySource(src) {
		if len(kind) == 0 || o.Kind == kind[0] {
			got = append(got, o)
		}
	}
	if len(got) != 1 {
		var all []string
		for _, o := range outs.All {
			all = append(all, o.Source)
		}
		t.Fatalf("%d outcomes for %s; have:\n%s", len(got), src, strings.Join(all, "\n"))
	}
	return got[0]
}

func records[T any](t *testing.T, b []byte) []T {
	t.Helper()
	var out []T
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var v T
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, v)
	}
	return out
}

func TestSocketsCollector(t *testing.T) {
	env := fixtureEnv(t)
	sink, outs := run(t, NewSockets(), env)

	want, _ := os.ReadFile("testdata/proc/net/tcp")
	if !bytes.Equal(sink.Files["live/proc/net/tcp"], want) {
		t.Error("live/proc/net/tcp is not the table as is")
	}
	if o := outcome(t, outs, filepath.Join(env.Linux.Proc, "net/raw6")); o.Status != collect.Skipped || o.Reason != "not present" {
		t.Errorf("raw6: %s %s", o.Status, o.Reason)
	}
	if _, ok := sink.Files["live/proc/200/net/tcp"]; !ok {
		t.Error("the other namespace's tcp table was not stored")
	}
	o := outs.All[len(outs.All)-1]
	if o.Path != "data/"+socketsName || o.Status != collect.Partial ||
		!strings.Contains(o.Reason, "/proc/net/tcp: 1 malformed lines skipped; first, line 5") ||
		!strings.Contains(o.Reason, "the fd links of 1 processes were not all readable (pids 400)") {
		t.Errorf("sockets.jsonl outcome: %s %s %q", o.Path, o.Status, o.Reason)
	}

	socks := records[Socket](t, sink.Files[socketsName])
	byInode := map[uint64]Socket{}
	for _, s := range socks {
		if s.Inode != 0 {
			byInode[s.Inode] = s
		}
		if s.Owners == nil {
			t.Errorf("socket %d: owners is null, want []", s.Inode)
		}
	}
	// 3 tcp + 3 tcp6 + 1 udp + 1 raw + 5 unix + 2 packet + 2 netlink, and 1 in the other namespace.
	if len(socks) != 18 {
		t.Errorf("%d records, want 18", len(socks))
	}
	tests := []struct {
		inode  uint64
		source string
		netns  uint64
		owners []Owner
	}{
		{1001, "/proc/net/tcp", selfNS, []Owner{{PID: 100, FD: 3, Comm: "sshd"}, {PID: 100, FD: 7, Comm: "sshd"}}},
		{5001, "/proc/net/unix", selfNS, []Owner{{PID: 100, FD: 4, Comm: "sshd"}}},
		{7001, "/proc/net/netlink", selfNS, []Owner{{PID: 100, FD: 9, Comm: "sshd"}}},
		{1002, "/proc/net/tcp", selfNS, []Owner{}},
		{9001, "/proc/200/net/tcp", otherNS, []Owner{{PID: 200, FD: 5, Comm: "contain\ufffded", CommRaw: []byte("contain\xffed")}}},
	}
	for _, tt := range tests {
		s, ok := byInode[tt.inode]
		if !ok {
			t.Errorf("socket %d missing", tt.inode)
			continue
		}
		if s.Source != tt.source || s.NetNS != tt.netns || !reflect.DeepEqual(s.Owners, tt.owners) {
			t.Errorf("socket %d: source %s netns %d owners %+v; want %s %d %+v", tt.inode, s.Source, s.NetNS, s.Owners, tt.source, tt.netns, tt.owners)
		}
	}
	if s := byInode[9001]; s.LocalAddress != "127.0.0.1" || *s.LocalPort != 53 || s.State != "LISTEN" {
		t.Errorf("socket 9001: %+v", s)
	}
}

func TestDeadBoxSkipsVolatile(t *testing.T) {
	env := fixtureEnv(t)
	env.Live = false
	for _, c := range []collect.Collector{NewSockets(), NewInterfaces(), NewRoutes(), NewNeighbours(), NewNetfilter()} {
		sink, outs := run(t, c, env)
		if len(sink.Files) != 0 {
			t.Errorf("%s stored %v on a dead box", c.Name(), sink.Order)
		}
		if len(outs.All) < 2 {
			t.Errorf("%s: %d outcomes", c.Name(), len(outs.All))
		}
		for _, o := range outs.All {
			if o.Status != collect.Skipped || o.Reason != reasonDeadBox {
				t.Errorf("%s: %s %s %s", c.Name(), o.Source, o.Status, o.Reason)
			}
		}
	}
}

// fakeDump answers netlink requests from fixtures, or fails.
func fakeDump(fail error) dumpFunc {
	return func(ctx context.Context, typ uint16) ([]byte, error) {
		if fail != nil {
			return nil, fail
		}
		switch typ {
		case rtmGetLink:
			return fixtureLinks(), nil
		case rtmGetAddr:
			return fixtureAddrs(), nil
		case rtmGetRoute:
			return fixtureRoutes(), nil
		case rtmGetNeigh:
			return fixtureNeighs(), nil
		}
		return nil, errors.New("unexpected request")
	}
}

func addrList(it Interface) []string {
	var out []string
	for _, a := range it.Addresses {
		out = append(out, a.Address+"/"+string(rune('0'+a.PrefixLen/100))+string(rune('0'+a.PrefixLen/10%10))+string(rune('0'+a.PrefixLen%10)))
	}
	return out
}

func TestInterfacesCollector(t *testing.T) {
	env := fixtureEnv(t)
	c := &ifaceCollector{base{name: "net.interfaces", dump: fakeDump(nil)}}
	sink, outs := run(t, c, env)
	if !bytes.Equal(sink.Files["live/netlink/rtm_getlink.bin"], fixtureLinks()) {
		t.Error("the link dump is not stored as received")
	}
	if got := string(sink.Files["live/sys/class/net/eth0/operstate"]); got != "down\n" {
		t.Errorf("eth0/operstate %q", got)
	}
	if o := outcome(t, outs, filepath.Join(env.Linux.Sys, "class/net/eth0/speed")); o.Status != collect.Skipped || o.Reason != "not present" {
		t.Errorf("speed: %s %s", o.Status, o.Reason)
	}
	if o := outcome(t, outs, "netlink:RTM_GETLINK + netlink:RTM_GETADDR"); o.Status != collect.Collected {
		t.Errorf("interfaces.jsonl: %s %s", o.Status, o.Reason)
	}
	ifs := records[Interface](t, sink.Files[interfacesName])
	if len(ifs) != 2 || ifs[0].Name != "lo" || ifs[1].Name != "eth0" {
		t.Fatalf("interfaces %+v", ifs)
	}
	if got := addrList(ifs[0]); !reflect.DeepEqual(got, []string{"127.0.0.1/008"}) {
		t.Errorf("lo addresses %v", got)
	}
	if got := addrList(ifs[1]); !reflect.DeepEqual(got, []string{"10.0.2.15/032", "2001:db8::2/064"}) {
		t.Errorf("eth0 addresses %v", got)
	}
	if ifs[1].Carrier == nil || *ifs[1].Carrier || ifs[1].OperState != "down" || ifs[1].Source != "netlink" {
		t.Errorf("eth0 link state %+v", ifs[1])
	}
}

func TestInterfacesFallback(t *testing.T) {
	env := fixtureEnv(t)
	c := &ifaceCollector{base{name: "net.interfaces", dump: fakeDump(errors.New("netlink: permission denied"))}}
	sink, outs := run(t, c, env)
	if o := outcome(t, outs, "netlink:RTM_GETLINK"); o.Status != collect.Failed || o.Reason != "netlink: permission denied" {
		t.Errorf("RTM_GETLINK: %s %s", o.Status, o.Reason)
	}
	o := outcome(t, outs, filepath.Join(env.Linux.Sys, "class/net")+" + "+filepath.Join(env.Linux.Proc, "net/if_inet6"), collect.KindGenerated)
	if o.Status != collect.Partial || !strings.Contains(o.Reason, "IPv4 addresses not available") {
		t.Errorf("interfaces.jsonl: %s %s", o.Status, o.Reason)
	}
	ifs := records[Interface](t, sink.Files[interfacesName])
	if len(ifs) != 2 || ifs[0].Name != "lo" || ifs[0].Index != 1 || ifs[1].Name != "eth0" || ifs[1].Source != "sysfs" {
		t.Fatalf("interfaces %+v", ifs)
	}
	if got := addrList(ifs[0]); !reflect.DeepEqual(got, []string{"::1/128"}) {
		t.Errorf("lo addresses %v", got)
	}
	eth := ifs[1]
	if eth.MAC != "52:54:00:12:34:56" || eth.MTU != 1500 || eth.OperState != "down" || eth.Carrier == nil || *eth.Carrier ||
		!reflect.DeepEqual(eth.Flags, []string{"BROADCAST", "MULTICAST"}) || eth.LinkType != "ether" {
		t.Errorf("eth0 %+v", eth)
	}
}

func TestRoutesAndNeighbours(t *testing.T) {
	env := fixtureEnv(t)
	sink, _ := run(t, &routeCollector{base{name: "net.routes", dump: fakeDump(nil)}}, env)
	routes := records[Route](t, sink.Files[routesName])
	if len(routes) != 3 || routes[0].Dev != "eth0" || routes[0].Gateway != "10.0.2.1" || routes[2].Nexthops[0].Dev != "eth0" {
		t.Errorf("routes %+v", routes)
	}
	if _, ok := sink.Files["live/proc/net/route"]; !ok {
		t.Error("/proc/net/route not stored")
	}

	sink, outs := run(t, &routeCollector{base{name: "net.routes", dump: fakeDump(errors.New("no netlink"))}}, env)
	routes = records[Route](t, sink.Files[routesName])
	if len(routes) != 4 || routes[0].Source != "/proc/net/route" || routes[3].Source != "/proc/net/ipv6_route" {
		t.Errorf("fallback routes %+v", routes)
	}
	if o := outcome(t, outs, "netlink:RTM_GETROUTE", collect.KindKernel); o.Status != collect.Failed {
		t.Errorf("RTM_GETROUTE %s", o.Status)
	}

	sink, _ = run(t, &neighCollector{base{name: "net.neighbours", dump: fakeDump(nil)}}, env)
	ns := records[Neighbour](t, sink.Files[neighboursName])
	if len(ns) != 2 || ns[0].Dev != "eth0" || ns[0].LinkAddress != "52:54:00:12:35:02" || ns[1].Address != "fe80::1" {
		t.Errorf("neighbours %+v", ns)
	}
	sink, outs = run(t, &neighCollector{base{name: "net.neighbours", dump: fakeDump(errors.New("no netlink"))}}, env)
	ns = records[Neighbour](t, sink.Files[neighboursName])
	if len(ns) != 2 || ns[0].Source != "/proc/net/arp" {
		t.Errorf("fallback neighbours %+v", ns)
	}
	if o := outcome(t, outs, "netlink:RTM_GETNEIGH", collect.KindKernel); o.Status != collect.Failed {
		t.Errorf("RTM_GETNEIGH %s", o.Status)
	}
}

// skipLinksOnWindows skips a test whose point is how the collector treats
// a Linux symbolic link in a Linux root: Windows (and wine) resolve such
// links otherwise, so the case is checked on Linux only.
func skipLinksOnWindows(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("Linux symbolic links in the root: checked on Linux, Windows resolves them otherwise")
	}
}

func TestDNSCollector(t *testing.T) {
	skipLinksOnWindows(t)
	root := t.TempDir()
	write := func(p, content string) {
		t.Helper()
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/hosts", "127.0.0.1 localhost\n10.6.6.6 update.example.com\n")
	write("run/systemd/resolve/stub-resolv.conf", "nameserver 127.0.0.53\n")
	write("etc/nsswitch.conf", "hosts: files dns\n")
	if err := os.Symlink("../run/systemd/resolve/stub-resolv.conf", filepath.Join(root, "etc/resolv.conf")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/usr/share/hostname", filepath.Join(root, "etc/host.conf")); err != nil {
		t.Fatal(err)
	}
	env := &collect.Env{Root: root, Live: false}
	sink, outs := run(t, NewDNS(), env)
	if o := outcome(t, outs, "/etc/resolv.conf"); o.Kind != collect.KindSymlink || o.LinkTarget != "../run/systemd/resolve/stub-resolv.conf" {
		t.Errorf("resolv.conf: %s %q", o.Kind, o.LinkTarget)
	}
	if got := string(sink.Files["fs/run/systemd/resolve/stub-resolv.conf"]); got != "nameserver 127.0.0.53\n" {
		t.Errorf("link target copy %q", got)
	}
	if got := string(sink.Files["fs/etc/hosts"]); !strings.Contains(got, "update.example.com") {
		t.Errorf("hosts %q", got)
	}
	if o := outcome(t, outs, "/etc/hostname"); o.Status != collect.Skipped || o.Reason != "not present" {
		t.Errorf("hostname: %s %s", o.Status, o.Reason)
	}
	if o := outcome(t, outs, "/usr/share/hostname"); o.Status != collect.Skipped || !strings.Contains(o.Reason, "outside /etc and /run") {
		t.Errorf("outside target: %s %s", o.Status, o.Reason)
	}
}

func TestDNSLinkLoop(t *testing.T) {
	skipLinksOnWindows(t)
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/hosts", filepath.Join(root, "etc/resolv.conf")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("resolv.conf", filepath.Join(root, "etc/hosts")); err != nil {
		t.Fatal(err)
	}
	_, outs := run(t, NewDNS(), &collect.Env{Root: root})
	loops := 0
	for _, o := range outs.All {
		if strings.Contains(o.Reason, "loops back") {
			loops++
		}
	}
	if loops != 2 {
		t.Errorf("%d loop outcomes, want 2 (one per starting file)", loops)
	}
}

func TestNetfilterCollector(t *testing.T) {
	env := fixtureEnv(t)
	sink, outs := run(t, NewNetfilter(), env)
	if got := string(sink.Files["live/proc/net/ip_tables_names"]); got != "filter\nnat\n" {
		t.Errorf("ip_tables_names %q", got)
	}
	if _, ok := sink.Files["live/proc/net/xt_recent/SSH"]; !ok {
		t.Error("xt_recent/SSH not stored")
	}
	if o := outcome(t, outs, filepath.Join(env.Linux.Proc, "net/nf_conntrack")); o.Status != collect.Skipped || o.Reason != "not present" {
		t.Errorf("nf_conntrack: %s %s", o.Status, o.Reason)
	}
	if o := outcome(t, outs, filepath.Join(env.Linux.Proc, "net/netfilter")); o.Status != collect.Skipped || o.Reason != "not present" {
		t.Errorf("netfilter dir: %s %s", o.Status, o.Reason)
	}
	if o := outcome(t, outs, rulesetSource); o.Status != collect.Skipped {
		t.Errorf("ruleset: %s", o.Status)
	}
}

func TestCollectorNames(t *testing.T) {
	var got []string
	for _, c := range Collectors() {
		if c.Class() != collect.ClassNetwork {
			t.Errorf("%s: class %s", c.Name(), c.Class())
		}
		got = append(got, c.Name())
	}
	want := []string{"net.sockets", "net.interfaces", "net.routes", "net.neighbours", "net.dns", "net.netfilter"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%v", got)
	}
}
