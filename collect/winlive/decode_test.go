package winlive

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseProcessInformationWine(t *testing.T) {
	b := readFixture(t, "spi-wine8.bin")
	procs, err := ParseProcessInformation(b[8:], le.Uint64(b))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]SysProcess{}
	for _, p := range procs {
		if p.Error != "" || p.ImageName == "" || p.PID == 0 || p.CreateTime == nil {
			t.Errorf("process %+v", p)
		}
		byName[p.ImageName] = p
	}
	if len(procs) != 7 {
		t.Errorf("%d processes, want 7", len(procs))
	}
	svc, me := byName["services.exe"], byName["winlive.test.exe"]
	if svc.PID != 56 || svc.ParentPID != 40 || svc.SessionID != 1 || svc.HandleCount != 128 || svc.Threads != 9 {
		t.Errorf("services.exe = %+v", svc)
	}
	if me.PID != 32 || me.WorkingSetSize != 20742144 || !me.CreateTime.Equal(time.Date(2026, 12, 5, 19, 19, 14, 27867000, time.UTC)) {
		t.Errorf("winlive.test.exe = %+v", me)
	}
	for _, p := range procs {
		if p.ImageName == "svchost.exe" && p.ParentPID != svc.PID {
			t.Errorf("svchost.exe's parent %d, want services.exe", p.ParentPID)
		}
	}
}

func TestParseProcessInformationHostile(t *testing.T) {
	b := readFixture(t, "spi-wine8.bin")
	base, buf := le.Uint64(b), append([]byte(nil), b[8:]...)
	// A next offset that leaves the buffer: the entries before it, and an error.
	bad := append([]byte(nil), buf...)
	le.PutUint32(bad, uint32(len(bad)))
	if procs, err := ParseProcessInformation(bad, base); len(procs) != 1 || err == nil || !strings.Contains(err.Error(), "leaves the buffer") {
		t.Errorf("next out of the buffer: %d, %v", len(procs), err)
	}
	// A next offset too small to hold an entry (a loop onto itself is 0:
	// the end; smaller than an entry is refused).
	bad = append([]byte(nil), buf...)
	le.PutUint32(bad, 8)
	if _, err := ParseProcessInformation(bad, base); err == nil {
		t.Error("next offset of 8 accepted")
	}
	// A name pointing outside the buffer: kept, with an error.
	bad = append([]byte(nil), buf...)
	le.PutUint64(bad[64:], base-4096)
	procs, err := ParseProcessInformation(bad, base)
	if err != nil || procs[0].Error == "" || procs[0].ImageName != "" || procs[1].ImageName != "services.exe" {
		t.Errorf("name out of the buffer: %+v, %v", procs[0], err)
	}
	// Cut short.
	if procs, err := ParseProcessInformation(buf[:300], base); len(procs) != 1 || err == nil {
		t.Errorf("cut: %d, %v", len(procs), err)
	}
	if _, err := ParseProcessInformation(nil, 0); err == nil {
		t.Error("empty buffer accepted")
	}
}

func TestParseSocketTables(t *testing.T) {
	tcp4, err := ParseTCPTable(readFixture(t, "tcp4-wine8.bin"), false)
	if err != nil || len(tcp4) != 5 {
		t.Fatalf("tcp4: %d rows, %v", len(tcp4), err)
	}
	// The test that recorded the table listened on 127.0.0.1:37967 and
	// connected to it from 41269: its end carries its pid (32), the end
	// wine took from the Linux host carries 0.
	want := Socket{Protocol: "tcp", LocalAddress: "127.0.0.1", LocalPort: 41269, RemoteAddress: "127.0.0.1", RemotePort: 37967,
		State: "ESTABLISHED", StateCode: 5, PID: 32}
	if tcp4[3] != want {
		t.Errorf("tcp4[3] = %+v", tcp4[3])
	}
	if tcp4[1].State != "LISTEN" || tcp4[1].LocalPort != 37967 {
		t.Errorf("tcp4[1] = %+v", tcp4[1])
	}
	tcp6, err := ParseTCPTable(readFixture(t, "tcp6-wine8.bin"), true)
	if err != nil || len(tcp6) != 3 || tcp6[0].LocalAddress != "::1" || tcp6[0].LocalPort != 45661 || tcp6[1].RemotePort != 45661 {
		t.Errorf("tcp6: %+v, %v", tcp6, err)
	}
	udp6, err := ParseUDPTable(readFixture(t, "udp6-constructed.bin"), true)
	if err != nil || len(udp6) != 2 || udp6[1].LocalAddress != "fe80::1c2e:8f9a:77b1:2d4%12" || udp6[1].LocalPort != 546 || udp6[1].PID != 1312 {
		t.Errorf("udp6: %+v, %v", udp6, err)
	}
	udp4, err := ParseUDPTable(readFixture(t, "udp4-constructed.bin"), false)
	if err != nil || len(udp4) != 3 || udp4[1] != (Socket{Protocol: "udp", LocalAddress: "192.168.1.20", LocalPort: 5353, PID: 2188}) {
		t.Errorf("udp4: %+v, %v", udp4, err)
	}
	for _, name := range []string{"udp4-wine8.bin", "udp6-wine8.bin"} {
		if s, err := ParseUDPTable(readFixture(t, name), strings.HasPrefix(name, "udp6")); err != nil || len(s) != 0 {
			t.Errorf("%s: %v, %v", name, s, err)
		}
	}
	// A count larger than the rows present: what is there, and an error.
	b := readFixture(t, "tcp4-wine8.bin")
	le.PutUint32(b, 1000)
	if s, err := ParseTCPTable(b, false); len(s) != 5 || err == nil {
		t.Errorf("count too large: %d rows, %v", len(s), err)
	}
	if _, err := ParseTCPTable([]byte{1}, false); err == nil {
		t.Error("table of one byte accepted")
	}
}

func TestParseRoutesAndNeighbours(t *testing.T) {
	routes, err := ParseForwardTable(readFixture(t, "ipforward2-wine8.bin"))
	if err != nil || len(routes) != 2 {
		t.Fatalf("routes: %+v, %v", routes, err)
	}
	if r := routes[0]; r.Destination != "0.0.0.0/0" || r.NextHop != "192.0.2.1" || r.InterfaceIndex != 4 || !r.Immortal {
		t.Errorf("default route %+v", r)
	}
	if notes := defaultRouteNotes(routes, map[uint32]string{4: "eth0"}); len(notes) != 1 || notes[0] != "default route via 192.0.2.1 dev eth0" {
		t.Errorf("default routes: %q", notes)
	}
	v4, err := ParseIPNetTable(readFixture(t, "ipnet-wine8.bin"))
	if err != nil || len(v4) != 9 || v4[0] != (Neighbour{Family: "inet", Address: "192.0.2.1", MAC: "02:fc:00:00:00:05", InterfaceIndex: 4, State: "dynamic"}) {
		t.Errorf("ipnet: %+v, %v", v4, err)
	}
	nbs, err := ParseNetTable(readFixture(t, "ipnet2-constructed.bin"))
	if err != nil || len(nbs) != 3 {
		t.Fatalf("ipnet2: %+v, %v", nbs, err)
	}
	if n := nbs[0]; n.Address != "192.168.1.1" || n.MAC != "00:1a:2b:3c:4d:5e" || n.State != "reachable" || !n.IsRouter {
		t.Errorf("ipnet2[0] = %+v", n)
	}
	if n := nbs[1]; n.Family != "inet6" || n.Address != "fe80::1%12" || n.State != "stale" {
		t.Errorf("ipnet2[1] = %+v", n)
	}
}

func TestParseSMBIOS(t *testing.T) {
	s := ParseSMBIOS(readFixture(t, "smbios-constructed.bin"))
	if len(s.Errors) > 0 || s.Version != "3.4" || len(s.Structures) != 4 {
		t.Fatalf("%+v", s)
	}
	if s.System["serial"] != "5CG3271XYZ" || s.System["uuid"] != "c719123d-c5c4-4a40-aa1f-6d2a48adfda4" ||
		s.System["product"] != "Latitude 7440" || s.System["sku"] != "SKU-0C0C" || s.BIOS["release_date"] != "07/12/2024" ||
		s.Baseboard["serial"] != "/5CG3271XYZ/CNFCW0041A0123/" {
		t.Errorf("%+v", s)
	}
	w := ParseSMBIOS(readFixture(t, "smbios-wine8.bin"))
	types := []uint8{}
	for _, st := range w.Structures {
		types = append(types, st.Type)
	}
	if len(w.Errors) > 0 || w.Version != "2.4" || string(types) != string([]uint8{0, 1, 3, 2, 32, 127}) ||
		w.System["uuid"] != "c719123d-c5c4-4a40-aa1f-6d2a48adfda4" {
		t.Errorf("wine: %+v", w)
	}
	// Strings that are not terminated, a length below the header, a
	// header alone: errors, never a panic.
	b := readFixture(t, "smbios-constructed.bin")
	for _, bad := range [][]byte{b[:len(b)-3], b[:9], b[:3]} {
		if s := ParseSMBIOS(bad); len(s.Errors) == 0 {
			t.Errorf("%d bytes: no error", len(bad))
		}
	}
	bad := append([]byte(nil), b...)
	bad[9] = 2 // the first structure's length
	if s := ParseSMBIOS(bad); len(s.Errors) == 0 || len(s.Structures) != 0 {
		t.Errorf("length 2: %+v", s)
	}
	// Printable: a control byte in a string is escaped.
	if got := printable([]byte("a\x00b\\")); got != `a\x00b\x5c` {
		t.Errorf("printable: %q", got)
	}
}

func TestReadProcessParams(t *testing.T) {
	m, peb := memFixture(readFixture(t, "peb-constructed.bin"))
	p, err := ReadProcessParams(m, peb, 1<<16)
	if err != nil || p.CommandLine != `"C:\Windows\System32\svchost.exe" -k netsvcs -p -s Schedule` || p.Cwd != `C:\Windows\system32\` ||
		p.ImagePath != `C:\Windows\System32\svchost.exe` || p.CommandLineCut {
		t.Fatalf("%+v, %v", p, err)
	}
	p, err = ReadProcessParams(m, peb, 16)
	if err != nil || p.CommandLine != `"C:\Wind` || !p.CommandLineCut {
		t.Errorf("capped: %+v, %v", p, err)
	}
	if _, err := ReadProcessParams(m, peb+1<<20, 16); !errors.Is(err, errOutside) {
		t.Errorf("PEB outside: %v", err)
	}
	if _, err := ReadProcessParams(m, 0, 16); err == nil {
		t.Error("null PEB accepted")
	}
}

func TestWalkDNSCache(t *testing.T) {
	m, head := memFixture(readFixture(t, "dnscache-constructed.bin"))
	es, err := WalkDNSCache(m, head)
	if err != nil || len(es) != 3 || mustJSON(es[1]) != mustJSON(DNSCacheEntry{Name: "evil.example", Type: 28, TypeName: "AAAA", Flags: 0x2000}) {
		t.Fatalf("%+v, %v", es, err)
	}
	// A list whose last entry points back to the first.
	loop := Segment{Base: m.Base, Bytes: append([]byte(nil), m.Bytes...)}
	second := le.Uint64(loop.Bytes[head-loop.Base:])
	third := le.Uint64(loop.Bytes[second-loop.Base:])
	le.PutUint64(loop.Bytes[third-loop.Base:], head)
	if es, err := WalkDNSCache(loop, head); len(es) != 3 || err == nil || !strings.Contains(err.Error(), "loops") {
		t.Errorf("loop: %+v, %v", es, err)
	}
	// A next pointer out of the memory.
	le.PutUint64(loop.Bytes[head-loop.Base:], 0xdead0000)
	if es, err := WalkDNSCache(loop, head); len(es) != 1 || !errors.Is(err, errOutside) {
		t.Errorf("bad next: %+v, %v", es, err)
	}
}

func TestReadLogonSession(t *testing.T) {
	m, addr := memFixture(readFixture(t, "logon-constructed.bin"))
	ls, err := ReadLogonSession(m, addr)
	want := LogonSession{LogonID: "0x3e7a1c", User: "alice", Domain: "CORP", AuthPkg: "Kerberos", LogonType: 10,
		LogonKind: "remote-interactive", SessionID: 2, SID: "S-1-5-21-1004336348-1177238915-682003330-1104",
		Server: "DC01", DNSDomain: "CORP.EXAMPLE", UPN: "alice@corp.example"}
	if err != nil || ls.LogonTime == nil || !ls.LogonTime.Equal(time.Date(2024, 12, 18, 12, 53, 20, 0, time.UTC)) {
		t.Fatalf("%+v, %v", ls, err)
	}
	ls.LogonTime = nil
	if a, b := mustJSON(ls), mustJSON(want); a != b {
		t.Errorf("got  %s\nwant %s", a, b)
	}
	// A SID pointer to garbage: the session, with the error said.
	bad := Segment{Base: m.Base, Bytes: append([]byte(nil), m.Bytes...)}
	le.PutUint64(bad.Bytes[addr-m.Base+72:], addr)
	if ls, err := ReadLogonSession(bad, addr); err != nil || ls.SID != "" || !strings.Contains(ls.ParseError, "sid") {
		t.Errorf("bad sid: %+v, %v", ls, err)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestResolveImagePath(t *testing.T) {
	for in, want := range map[string]string{
		`"C:\Program Files\Vendor\svc.exe" -run`:        `C:\Program Files\Vendor\svc.exe`,
		`C:\Program Files\Vendor\svc.exe -run`:          `C:\Program Files\Vendor\svc.exe`,
		`C:\Windows\system32\svchost.exe -k netsvcs -p`: `C:\Windows\system32\svchost.exe`,
		`\SystemRoot\System32\drivers\tcpip.sys`:        `C:\Windows\System32\drivers\tcpip.sys`,
		`System32\drivers\disk.sys`:                     `C:\Windows\System32\drivers\disk.sys`,
		`\??\C:\ProgramData\x\evil.sys`:                 `C:\ProgramData\x\evil.sys`,
		`%SystemRoot%\system32\lsass.exe`:               `C:\Windows\system32\lsass.exe`,
		// Windows tries C:\Program.exe first: the shorter path is taken.
		`C:\Program.exe Files\a.exe`: `C:\Program.exe`,
		`"C:\unterminated`:           `C:\unterminated`,
		`noext arg`:                  `noext`,
		``:                           ``,
	} {
		if got := ResolveImagePath(in, `C:\Windows`); got != want {
			t.Errorf("ResolveImagePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseHosts(t *testing.T) {
	got := ParseHosts([]byte("# comment\n127.0.0.1 localhost\r\n\n10.0.0.5\tupdate.example evil.example # planted\nnot-an-ip x\n"))
	want := `[{"line":2,"address":"127.0.0.1","names":["localhost"]},{"line":4,"address":"10.0.0.5","names":["update.example","evil.example"]},` +
		`{"line":5,"address":"not-an-ip","names":["x"],"error":"ParseAddr(\"not-an-ip\"): unable to parse IP"}]`
	if mustJSON(got) != want {
		t.Errorf("got  %s\nwant %s", mustJSON(got), want)
	}
}

func TestCompareViews(t *testing.T) {
	nt := map[uint32]string{4: "System", 600: "lsass.exe", 700: "rootkit.exe"}
	th := map[uint32]string{4: "System", 600: "lsass.exe", 800: "new.exe"}
	nt2 := map[uint32]string{4: "System", 600: "lsass.exe", 700: "rootkit.exe", 800: "new.exe"}
	th2 := map[uint32]string{4: "System", 600: "lsass.exe", 800: "new.exe"}
	hidden, once := compareViews(nt, th, nt2, th2)
	if mustJSON(hidden) != `[{"pid":700,"name":"rootkit.exe","seen_by":"ntquery"}]` || mustJSON(once) != `[800]` {
		t.Errorf("hidden %s, once %s", mustJSON(hidden), mustJSON(once))
	}
}

func TestAddressScopeAndNames(t *testing.T) {
	if integrityName(0x2000) != "medium" || integrityName(0x3000) != "high" || integrityName(0x4000) != "system" || integrityName(0) != "untrusted" {
		t.Error("integrity names")
	}
	if a := authenticodeOf(0x800B0100); a.Status != "unsigned" || a.Code != "0x800b0100" || a.Note == "" {
		t.Errorf("%+v", a)
	}
	if a := authenticodeOf(0x12345678); a.Status != "error" {
		t.Errorf("%+v", a)
	}
	if tcpState(99) != "state(99)" || operState(1) != "up" || serviceState(4) != "running" || startType(2) != "auto" || fourCC(0x494E5443) != "INTC" {
		t.Error("names")
	}
}
