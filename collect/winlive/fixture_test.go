package winlive

import (
	"encoding/binary"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf16"
)

var update = flag.Bool("update", false, "rewrite the constructed fixtures of testdata")

// Builders of the structures the decoders read, as Windows lays them
// out (64-bit, little-endian). The constructed fixtures of testdata are
// made by them (TestConstructedFixtures), and the fuzzers use them to
// check what they decode.

var le = binary.LittleEndian

func utf16Bytes(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = le.AppendUint16(b, u)
	}
	return b
}

// arena lays out structures at increasing addresses from base, as the
// API's allocations would be.
type arena struct {
	base uint64
	b    []byte
}

// put appends b, 8-byte aligned, and returns its address.
func (a *arena) put(b []byte) uint64 {
	for len(a.b)%8 != 0 {
		a.b = append(a.b, 0)
	}
	addr := a.base + uint64(len(a.b))
	a.b = append(a.b, b...)
	return addr
}

// str puts a UTF-16 string, NUL-terminated, and returns its address.
func (a *arena) str(s string) uint64 { return a.put(append(utf16Bytes(s), 0, 0)) }

// ustr returns a UNICODE_STRING for s, its text put in the arena.
func (a *arena) ustr(s string) []byte {
	b := make([]byte, unicodeStringSize)
	if s == "" {
		return b
	}
	n := len(utf16Bytes(s))
	le.PutUint16(b, uint16(n))
	le.PutUint16(b[2:], uint16(n+2))
	le.PutUint64(b[8:], a.str(s))
	return b
}

func (a *arena) segment() Segment { return Segment{Base: a.base, Bytes: a.b} }

// buildPEB makes a PEB whose parameters hold cmd, cwd and image, and
// returns the memory and the PEB's address.
func buildPEB(cmd, cwd, image string) (Segment, uint64) {
	a := &arena{base: 0x7ff6_0000_0000}
	peb := a.put(make([]byte, 0x40))
	rup := make([]byte, rupSize)
	copy(rup[rupCurrentDirectory:], a.ustr(cwd))
	copy(rup[rupImagePathName:], a.ustr(image))
	copy(rup[rupCommandLine:], a.ustr(cmd))
	params := a.put(rup)
	le.PutUint64(a.b[peb-a.base+pebProcessParameters:], params)
	return a.segment(), peb
}

// buildDNSCache makes a DNS_CACHE_ENTRY list.
func buildDNSCache(entries []DNSCacheEntry) (Segment, uint64) {
	a := &arena{base: 0x1_2000_0000}
	var prev uint64
	var head uint64
	for _, e := range entries {
		rec := make([]byte, dnsCacheEntrySize)
		le.PutUint64(rec[8:], a.str(e.Name))
		le.PutUint16(rec[16:], e.Type)
		le.PutUint32(rec[20:], e.Flags)
		addr := a.put(rec)
		if prev != 0 {
			le.PutUint64(a.b[prev-a.base:], addr)
		} else {
			head = addr
		}
		prev = addr
	}
	return a.segment(), head
}

// buildSID encodes a SID given as its authority and sub-authorities.
func buildSID(auth uint64, subs ...uint32) []byte {
	b := []byte{1, byte(len(subs)), byte(auth >> 40), byte(auth >> 32), byte(auth >> 24), byte(auth >> 16), byte(auth >> 8), byte(auth)}
	for _, s := range subs {
		b = le.AppendUint32(b, s)
	}
	return b
}

// buildLogonSession makes a SECURITY_LOGON_SESSION_DATA.
func buildLogonSession(ls LogonSession, luid uint64, sid []byte, logonFT uint64) (Segment, uint64) {
	a := &arena{base: 0x2_0000_0000}
	b := make([]byte, logonSessionSize)
	le.PutUint32(b, logonSessionSize)
	le.PutUint32(b[4:], uint32(luid))
	le.PutUint32(b[8:], uint32(luid>>32))
	copy(b[16:], a.ustr(ls.User))
	copy(b[32:], a.ustr(ls.Domain))
	copy(b[48:], a.ustr(ls.AuthPkg))
	le.PutUint32(b[64:], ls.LogonType)
	le.PutUint32(b[68:], ls.SessionID)
	if sid != nil {
		le.PutUint64(b[72:], a.put(sid))
	}
	le.PutUint64(b[80:], logonFT)
	copy(b[88:], a.ustr(ls.Server))
	copy(b[104:], a.ustr(ls.DNSDomain))
	copy(b[120:], a.ustr(ls.UPN))
	addr := a.put(b)
	return a.segment(), addr
}

func sockaddr(a netip.Addr, port uint16) []byte {
	b := make([]byte, sockaddrInetSize)
	if a.Is4() {
		le.PutUint16(b, afInet)
		x := a.As4()
		copy(b[4:], x[:])
	} else {
		le.PutUint16(b, afInet6)
		x := a.As16()
		copy(b[8:], x[:])
		if z := a.Zone(); z != "" {
			var id uint32
			for _, c := range z {
				id = id*10 + uint32(c-'0')
			}
			le.PutUint32(b[24:], id)
		}
	}
	b[2], b[3] = byte(port>>8), byte(port)
	return b
}

// encodeSockets makes an owner-pid table of socks, all of one protocol.
func encodeSockets(proto string, socks []Socket) []byte {
	b := le.AppendUint32(nil, uint32(len(socks)))
	p32 := func(p uint16) []byte { return []byte{byte(p >> 8), byte(p), 0, 0} }
	a6 := func(s string) ([]byte, uint32) {
		a := netip.MustParseAddr(s)
		x := a.As16()
		sa := sockaddr(a, 0)
		return x[:], le.Uint32(sa[24:])
	}
	for _, s := range socks {
		switch proto {
		case "tcp":
			b = le.AppendUint32(b, s.StateCode)
			x := netip.MustParseAddr(s.LocalAddress).As4()
			b = append(append(b, x[:]...), p32(s.LocalPort)...)
			y := netip.MustParseAddr(s.RemoteAddress).As4()
			b = append(append(b, y[:]...), p32(s.RemotePort)...)
			b = le.AppendUint32(b, s.PID)
		case "tcp6":
			x, sx := a6(s.LocalAddress)
			b = append(le.AppendUint32(append(b, x...), sx), p32(s.LocalPort)...)
			y, sy := a6(s.RemoteAddress)
			b = append(le.AppendUint32(append(b, y...), sy), p32(s.RemotePort)...)
			b = le.AppendUint32(le.AppendUint32(b, s.StateCode), s.PID)
		case "udp":
			x := netip.MustParseAddr(s.LocalAddress).As4()
			b = le.AppendUint32(append(append(b, x[:]...), p32(s.LocalPort)...), s.PID)
		case "udp6":
			x, sx := a6(s.LocalAddress)
			b = le.AppendUint32(append(le.AppendUint32(append(b, x...), sx), p32(s.LocalPort)...), s.PID)
		}
	}
	return b
}

// encodeNetTable makes a MIB_IPNET_TABLE2 of neighbours.
func encodeNetTable(nbs []Neighbour, states []uint32, macs [][]byte) []byte {
	b := make([]byte, 8)
	le.PutUint32(b, uint32(len(nbs)))
	for i, n := range nbs {
		r := make([]byte, netRowSize)
		copy(r, sockaddr(netip.MustParseAddr(n.Address), 0))
		le.PutUint32(r[28:], n.InterfaceIndex)
		le.PutUint64(r[32:], n.InterfaceLUID)
		copy(r[40:72], macs[i])
		le.PutUint32(r[72:], uint32(len(macs[i])))
		le.PutUint32(r[76:], states[i])
		if n.IsRouter {
			r[80] |= 1
		}
		b = append(b, r...)
	}
	return b
}

// encodeSMBIOS makes a RawSMBIOSData of structures given as their
// formatted area (type, length and handle included) and strings.
func encodeSMBIOS(major, minor byte, structs ...struct {
	formatted []byte
	strs      []string
}) []byte {
	var t []byte
	for _, s := range structs {
		t = append(t, s.formatted...)
		for _, x := range s.strs {
			t = append(append(t, x...), 0)
		}
		if len(s.strs) == 0 {
			t = append(t, 0)
		}
		t = append(t, 0)
	}
	h := []byte{0, major, minor, 0}
	return append(le.AppendUint32(h, uint32(len(t))), t...)
}

// constructed are the fixtures made by code: name to bytes.
func constructed() map[string][]byte {
	m := map[string][]byte{}
	m["udp4-constructed.bin"] = encodeSockets("udp", []Socket{{LocalAddress: "0.0.0.0", LocalPort: 137, PID: 4},
		{LocalAddress: "192.168.1.20", LocalPort: 5353, PID: 2188}, {LocalAddress: "127.0.0.1", LocalPort: 1900, PID: 3440}})
	m["udp6-constructed.bin"] = encodeSockets("udp6", []Socket{{LocalAddress: "::", LocalPort: 500, PID: 3012},
		{LocalAddress: "fe80::1c2e:8f9a:77b1:2d4%12", LocalPort: 546, PID: 1312}})
	m["ipnet2-constructed.bin"] = encodeNetTable([]Neighbour{
		{Address: "192.168.1.1", InterfaceIndex: 12, InterfaceLUID: 0x6008001000000, IsRouter: true},
		{Address: "fe80::1%12", InterfaceIndex: 12, InterfaceLUID: 0x6008001000000},
		{Address: "224.0.0.22", InterfaceIndex: 1, InterfaceLUID: 0x18000000000000}},
		[]uint32{5, 4, 6}, [][]byte{{0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e}, {0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e}, {}})
	sys := make([]byte, 0x1b)
	sys[0], sys[1] = 1, 0x1b
	sys[4], sys[5], sys[6], sys[7], sys[0x19], sys[0x1a] = 1, 2, 3, 4, 5, 6
	copy(sys[8:], []byte{0x3d, 0x12, 0x19, 0xc7, 0xc4, 0xc5, 0x40, 0x4a, 0xaa, 0x1f, 0x6d, 0x2a, 0x48, 0xad, 0xfd, 0xa4})
	bios := make([]byte, 0x18)
	bios[1], bios[4], bios[5], bios[8] = 0x18, 1, 2, 3
	board := []byte{2, 8, 2, 0, 1, 2, 0, 3}
	m["smbios-constructed.bin"] = encodeSMBIOS(3, 4,
		struct {
			formatted []byte
			strs      []string
		}{bios, []string{"Dell Inc.", "1.21.0", "07/12/2024"}},
		struct {
			formatted []byte
			strs      []string
		}{sys, []string{"Dell Inc.", "Latitude 7440", "1.0", "5CG3271XYZ", "SKU-0C0C", "Latitude"}},
		struct {
			formatted []byte
			strs      []string
		}{board, []string{"Dell Inc.", "0KX9Y2", "/5CG3271XYZ/CNFCW0041A0123/"}},
		struct {
			formatted []byte
			strs      []string
		}{[]byte{127, 4, 3, 0}, nil})
	seg, peb := buildPEB(`"C:\Windows\System32\svchost.exe" -k netsvcs -p -s Schedule`, `C:\Windows\system32\`, `C:\Windows\System32\svchost.exe`)
	m["peb-constructed.bin"] = append(le.AppendUint64(le.AppendUint64(nil, seg.Base), peb), seg.Bytes...)
	seg, head := buildDNSCache([]DNSCacheEntry{{Name: "login.microsoftonline.com", Type: 1}, {Name: "evil.example", Type: 28, Flags: 0x2000},
		{Name: "wpad", Type: 1, Flags: 0x8000}})
	m["dnscache-constructed.bin"] = append(le.AppendUint64(le.AppendUint64(nil, seg.Base), head), seg.Bytes...)
	seg, addr := buildLogonSession(LogonSession{User: "alice", Domain: "CORP", AuthPkg: "Kerberos", LogonType: 10, SessionID: 2,
		Server: "DC01", DNSDomain: "CORP.EXAMPLE", UPN: "alice@corp.example"}, 0x3e7a1c, buildSID(5, 21, 1004336348, 1177238915, 682003330, 1104),
		133_790_000_000_000_000)
	m["logon-constructed.bin"] = append(le.AppendUint64(le.AppendUint64(nil, seg.Base), addr), seg.Bytes...)
	return m
}

// TestConstructedFixtures checks that testdata holds the constructed
// fixtures as the builders make them; -update rewrites them.
func TestConstructedFixtures(t *testing.T) {
	for name, want := range constructed() {
		p := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(p, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != string(want) {
			t.Errorf("%s differs from what the builders make (%v); run go test ./collect/winlive -run TestConstructedFixtures -update", p, err)
		}
	}
}

// readFixture reads a fixture of testdata.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// memFixture splits a fixture made of a base address, a start address
// and the bytes at base.
func memFixture(b []byte) (Segment, uint64) {
	if len(b) < 16 {
		return Segment{}, 0
	}
	return Segment{Base: le.Uint64(b), Bytes: b[16:]}, le.Uint64(b[8:])
}
