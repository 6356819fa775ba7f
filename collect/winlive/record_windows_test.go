package winlive

import (
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

// TestLayouts checks the offsets the portable decoders read against the
// structures of golang.org/x/sys/windows, as this build lays them out.
func TestLayouts(t *testing.T) {
	var spi windows.SYSTEM_PROCESS_INFORMATION
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"SYSTEM_PROCESS_INFORMATION", unsafe.Sizeof(spi), spiSize},
		{"NumberOfThreads", unsafe.Offsetof(spi.NumberOfThreads), 4},
		{"CreateTime", unsafe.Offsetof(spi.CreateTime), 32},
		{"UserTime", unsafe.Offsetof(spi.UserTime), 40},
		{"KernelTime", unsafe.Offsetof(spi.KernelTime), 48},
		{"ImageName", unsafe.Offsetof(spi.ImageName), 56},
		{"BasePriority", unsafe.Offsetof(spi.BasePriority), 72},
		{"UniqueProcessID", unsafe.Offsetof(spi.UniqueProcessID), 80},
		{"InheritedFromUniqueProcessID", unsafe.Offsetof(spi.InheritedFromUniqueProcessID), 88},
		{"HandleCount", unsafe.Offsetof(spi.HandleCount), 96},
		{"SessionID", unsafe.Offsetof(spi.SessionID), 100},
		{"VirtualSize", unsafe.Offsetof(spi.VirtualSize), 120},
		{"WorkingSetSize", unsafe.Offsetof(spi.WorkingSetSize), 144},
		{"PrivatePageCount", unsafe.Offsetof(spi.PrivatePageCount), 200},
		{"MIB_IPFORWARD_ROW2", unsafe.Sizeof(windows.MibIpForwardRow2{}), forwardRowSize},
		{"MIB_IPFORWARD_ROW2.DestinationPrefix", unsafe.Offsetof(windows.MibIpForwardRow2{}.DestinationPrefix), 12},
		{"MIB_IPFORWARD_ROW2.NextHop", unsafe.Offsetof(windows.MibIpForwardRow2{}.NextHop), 44},
		{"MIB_IPFORWARD_ROW2.Metric", unsafe.Offsetof(windows.MibIpForwardRow2{}.Metric), 84},
		{"MIB_IPFORWARD_ROW2.Origin", unsafe.Offsetof(windows.MibIpForwardRow2{}.Origin), 100},
		{"USER_INFO_3", unsafe.Sizeof(userInfo3{}), 184},
		{"SHARE_INFO_2", unsafe.Sizeof(shareInfo2{}), 56},
		{"LOCALGROUP_MEMBERS_INFO_2", unsafe.Sizeof(localGroupMembersInfo2{}), 24},
		{"DYNAMIC_TIME_ZONE_INFORMATION", unsafe.Sizeof(dynamicTimeZone{}), 432},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, decoders read %d", c.name, c.got, c.want)
		}
	}
}

// TestRecordFixtures writes the raw tables of this host to the folder
// SCELLE_WINLIVE_RECORD names (the fixtures of testdata were recorded so,
// under wine 8; see testdata/README.md). It opens loopback sockets first,
// so that the TCP tables have rows (wine lists the Linux host's sockets
// too, with pid 0).
func TestRecordFixtures(t *testing.T) {
	dir := os.Getenv("SCELLE_WINLIVE_RECORD")
	if dir == "" {
		t.Skip("SCELLE_WINLIVE_RECORD not set")
	}
	for _, n := range []string{"tcp4", "tcp6"} {
		l, err := net.Listen(n, map[string]string{"tcp4": "127.0.0.1:0", "tcp6": "[::1]:0"}[n])
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		c, err := net.Dial(n, l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	for _, n := range []string{"udp4", "udp6"} {
		c, err := net.ListenPacket(n, map[string]string{"udp4": "127.0.0.1:0", "udp6": "[::1]:0"}[n])
		if err != nil {
			t.Logf("no %s socket of the test's own (wine refuses it: %v)", n, err)
			continue
		}
		defer c.Close()
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	buf, base, err := querySystemProcesses()
	if err != nil {
		t.Fatal(err)
	}
	write("spi-wine8.bin", append(binary.LittleEndian.AppendUint64(nil, base), buf...))
	for _, c := range []struct {
		name    string
		proc    *windows.LazyProc
		rowSize int
		args    []uintptr
	}{
		{"tcp4", procGetExtendedTcpTable, tcp4RowSize, []uintptr{0, windows.AF_INET, tcpTableOwnerPIDAll, 0}},
		{"tcp6", procGetExtendedTcpTable, tcp6RowSize, []uintptr{0, windows.AF_INET6, tcpTableOwnerPIDAll, 0}},
		{"udp4", procGetExtendedUdpTable, udp4RowSize, []uintptr{0, windows.AF_INET, udpTableOwnerPID, 0}},
		{"udp6", procGetExtendedUdpTable, udp6RowSize, []uintptr{0, windows.AF_INET6, udpTableOwnerPID, 0}},
		{"ipnet", procGetIpNetTable, ipNetRowSize, []uintptr{0}},
	} {
		b, err := sizedTable(c.proc, c.rowSize, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		write(c.name+"-wine8.bin", b)
	}
	b, err := forwardTable()
	if err != nil {
		t.Fatal(err)
	}
	write("ipforward2-wine8.bin", b)
	b, err = firmwareTable('R'<<24 | 'S'<<16 | 'M'<<8 | 'B')
	if err != nil {
		t.Fatal(err)
	}
	write("smbios-wine8.bin", b)
}
