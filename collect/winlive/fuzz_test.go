package winlive

import (
	"strings"
	"testing"
)

// FuzzParseProcessInformation checks that any buffer decodes without a
// panic, into no more entries than it can hold, each name read from the
// buffer itself.
func FuzzParseProcessInformation(f *testing.F) {
	b := readFixture(f, "spi-wine8.bin")
	f.Add(b[8:], le.Uint64(b))
	f.Add(b[8:300], le.Uint64(b))
	f.Fuzz(func(t *testing.T, buf []byte, base uint64) {
		procs, _ := ParseProcessInformation(buf, base)
		if len(procs) > len(buf)/spiSize {
			t.Fatalf("%d entries from %d bytes", len(procs), len(buf))
		}
		for _, p := range procs {
			if len(p.ImageName) > 3*len(buf) {
				t.Fatalf("name of %d bytes from a buffer of %d", len(p.ImageName), len(buf))
			}
		}
	})
}

// FuzzSocketTables checks that a socket table decodes without a panic,
// and that its rows, written back as Windows lays them out, decode to
// the same sockets.
func FuzzSocketTables(f *testing.F) {
	for _, n := range []string{"tcp4-wine8.bin", "tcp6-wine8.bin", "udp4-constructed.bin", "udp6-constructed.bin"} {
		f.Add(readFixture(f, n))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, k := range []struct {
			proto string
			parse func([]byte, bool) ([]Socket, error)
			v6    bool
		}{{"tcp", ParseTCPTable, false}, {"tcp6", ParseTCPTable, true}, {"udp", ParseUDPTable, false}, {"udp6", ParseUDPTable, true}} {
			socks, _ := k.parse(b, k.v6)
			again, err := k.parse(encodeSockets(k.proto, socks), k.v6)
			if err != nil || mustJSON(again) != mustJSON(socks) {
				t.Fatalf("%s round trip: %v\n%s\n%s", k.proto, err, mustJSON(socks), mustJSON(again))
			}
		}
	})
}

// FuzzRouteTables checks the route and neighbour decoders on any bytes.
func FuzzRouteTables(f *testing.F) {
	for _, n := range []string{"ipforward2-wine8.bin", "ipnet-wine8.bin", "ipnet2-constructed.bin"} {
		f.Add(readFixture(f, n))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		routes, _ := ParseForwardTable(b)
		nbs, _ := ParseNetTable(b)
		v4, _ := ParseIPNetTable(b)
		if len(routes)*forwardRowSize > len(b) || len(nbs)*netRowSize > len(b) || len(v4)*ipNetRowSize > len(b) {
			t.Fatalf("more rows than %d bytes hold", len(b))
		}
		for _, r := range routes {
			if r.Destination != "" && !strings.Contains(r.Destination, "/") {
				t.Fatalf("destination %q without a prefix length", r.Destination)
			}
		}
	})
}

// FuzzParseSMBIOS checks that any firmware table decodes without a
// panic and that every string it keeps is printable ASCII.
func FuzzParseSMBIOS(f *testing.F) {
	f.Add(readFixture(f, "smbios-wine8.bin"))
	f.Add(readFixture(f, "smbios-constructed.bin"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := ParseSMBIOS(b)
		if len(s.Structures) > len(b)/4 {
			t.Fatalf("%d structures from %d bytes", len(s.Structures), len(b))
		}
		for _, m := range []map[string]string{s.BIOS, s.System, s.Baseboard, s.Chassis} {
			for k, v := range m {
				for _, c := range []byte(v) {
					if c < 0x20 || c > 0x7e {
						t.Fatalf("%s = %q", k, v)
					}
				}
			}
		}
	})
}

// FuzzMemoryWalkers checks the decoders that follow pointers (the PEB's
// parameters, the DNS cache list, a logon session) on any memory: they
// end, without a panic, reading only what the segment holds.
func FuzzMemoryWalkers(f *testing.F) {
	for _, n := range []string{"peb-constructed.bin", "dnscache-constructed.bin", "logon-constructed.bin"} {
		m, a := memFixture(readFixture(f, n))
		f.Add(m.Bytes, m.Base, a)
	}
	f.Fuzz(func(t *testing.T, b []byte, base, start uint64) {
		m := Segment{Base: base, Bytes: b}
		ReadProcessParams(m, start, 1<<12)
		es, _ := WalkDNSCache(m, start)
		if len(es) > len(b)/dnsCacheEntrySize+1 {
			t.Fatalf("%d cache entries from %d bytes", len(es), len(b))
		}
		ReadLogonSession(m, start)
		ReadSID(m, start)
	})
}

// FuzzParseHosts checks that every line that names an address is kept.
func FuzzParseHosts(f *testing.F) {
	f.Add([]byte("127.0.0.1 localhost\n# x\n::1 a b\nbad\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		for _, line := range strings.Split(string(b), "\n") {
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			if len(strings.Fields(line)) > 0 {
				n++
			}
		}
		if got := ParseHosts(b); len(got) != n {
			t.Fatalf("%d entries, %d lines with fields", len(got), n)
		}
	})
}

// FuzzResolveImagePath checks that a service's command line never
// panics the resolver and that a quoted path comes back whole.
func FuzzResolveImagePath(f *testing.F) {
	f.Add(`"C:\Program Files\a b\x.exe" -k`)
	f.Add(`\SystemRoot\system32\drivers\x.sys`)
	f.Fuzz(func(t *testing.T, s string) {
		ResolveImagePath(s, `C:\Windows`)
		if !strings.ContainsAny(s, "\"") && strings.HasPrefix(s, "C:") {
			q := `"` + s + `" arg`
			if got := ResolveImagePath(q, `C:\Windows`); got != strings.TrimSpace(s) && got != s {
				t.Fatalf("quoted %q: %q", q, got)
			}
		}
	})
}
