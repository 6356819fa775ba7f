package winlive

import (
	"errors"
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Functions that golang.org/x/sys/windows does not wrap, found at run
// time: a function the host lacks (wine lacks some) is an error of the
// item that needs it, never a crash.
var (
	iphlpapi = windows.NewLazySystemDLL("iphlpapi.dll")
	dnsapi   = windows.NewLazySystemDLL("dnsapi.dll")
	netapi32 = windows.NewLazySystemDLL("netapi32.dll")
	secur32  = windows.NewLazySystemDLL("secur32.dll")
	psapi    = windows.NewLazySystemDLL("psapi.dll")
	kernel32 = windows.NewLazySystemDLL("kernel32.dll")

	procGetExtendedTcpTable           = iphlpapi.NewProc("GetExtendedTcpTable")
	procGetExtendedUdpTable           = iphlpapi.NewProc("GetExtendedUdpTable")
	procGetIpNetTable2                = iphlpapi.NewProc("GetIpNetTable2")
	procGetIpNetTable                 = iphlpapi.NewProc("GetIpNetTable")
	procDnsGetCacheDataTable          = dnsapi.NewProc("DnsGetCacheDataTable")
	procNetSessionEnum                = netapi32.NewProc("NetSessionEnum")
	procNetShareEnum                  = netapi32.NewProc("NetShareEnum")
	procNetLocalGroupEnum             = netapi32.NewProc("NetLocalGroupEnum")
	procNetLocalGroupGetMembers       = netapi32.NewProc("NetLocalGroupGetMembers")
	procLsaEnumerateLogonSessions     = secur32.NewProc("LsaEnumerateLogonSessions")
	procLsaGetLogonSessionData        = secur32.NewProc("LsaGetLogonSessionData")
	procLsaFreeReturnBuffer           = secur32.NewProc("LsaFreeReturnBuffer")
	procEnumDeviceDrivers             = psapi.NewProc("EnumDeviceDrivers")
	procGetDeviceDriverFileNameW      = psapi.NewProc("GetDeviceDriverFileNameW")
	procGetSystemFirmwareTable        = kernel32.NewProc("GetSystemFirmwareTable")
	procGetTickCount64                = kernel32.NewProc("GetTickCount64")
	procGetDynamicTimeZoneInformation = kernel32.NewProc("GetDynamicTimeZoneInformation")
	procGetSystemTimeAdjustment       = kernel32.NewProc("GetSystemTimeAdjustment")
	procGetProcessHandleCount         = kernel32.NewProc("GetProcessHandleCount")
)

// errNotExported marks a function the host's DLL does not export.
var errNotExported = errors.New("not available on this host")

// find reports whether p exists, as an error naming it.
func find(p *windows.LazyProc) error {
	if err := p.Find(); err != nil {
		return fmt.Errorf("%s: %w (%v)", p.Name, errNotExported, err)
	}
	return nil
}

// callWin32 calls a function that returns a Win32 error code (0 for
// success).
func callWin32(p *windows.LazyProc, args ...uintptr) error {
	if err := find(p); err != nil {
		return err
	}
	r, _, _ := p.Call(args...)
	if r != 0 {
		return fmt.Errorf("%s: %w", p.Name, syscall.Errno(r))
	}
	return nil
}

// growCall calls fill with a buffer, growing it while fill says it is
// too small (ERROR_INSUFFICIENT_BUFFER, ERROR_MORE_DATA, or a status the
// caller maps to errTooSmall), up to limit bytes.
func growCall(start, limit int, fill func(b []byte) (need int, err error)) ([]byte, error) {
	size := start
	for tries := 0; tries < 8; tries++ {
		b := make([]byte, size)
		need, err := fill(b)
		if !errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) && !errors.Is(err, windows.ERROR_MORE_DATA) && !errors.Is(err, errTooSmall) {
			if err != nil {
				return nil, err
			}
			if need > 0 && need < len(b) {
				b = b[:need]
			}
			return b, nil
		}
		if need <= size {
			need = size * 2
		}
		if need > limit {
			return nil, fmt.Errorf("needs %d bytes, more than %d", need, limit)
		}
		size = need + need/8
	}
	return nil, errors.New("the table kept growing")
}

var errTooSmall = errors.New("buffer too small")

// selfMemory is Memory of scelle's own process, read with
// ReadProcessMemory so that a bad pointer from an API is an error, not a
// crash.
type selfMemory struct{}

func (selfMemory) Read(addr uint64, n int) ([]byte, error) {
	return processMemory{windows.CurrentProcess()}.Read(addr, n)
}

// processMemory is Memory of another process.
type processMemory struct{ h windows.Handle }

func (m processMemory) Read(addr uint64, n int) ([]byte, error) {
	if n < 0 || n > 1<<20 {
		return nil, fmt.Errorf("read of %d bytes refused", n)
	}
	b := make([]byte, n)
	if n == 0 {
		return b, nil
	}
	var done uintptr
	if err := windows.ReadProcessMemory(m.h, uintptr(addr), &b[0], uintptr(n), &done); err != nil {
		return nil, fmt.Errorf("ReadProcessMemory %#x (%d bytes): %w", addr, n, err)
	}
	if int(done) != n {
		return nil, fmt.Errorf("ReadProcessMemory %#x: %d of %d bytes", addr, done, n)
	}
	return b, nil
}

// bytesAt copies n bytes at p, memory an API returned.
func bytesAt(p unsafe.Pointer, n int) []byte {
	return append([]byte(nil), unsafe.Slice((*byte)(p), n)...)
}

// utf16Ptr returns the NUL-terminated string at p ("" for nil).
func utf16Ptr(p *uint16) string { return windows.UTF16PtrToString(p) }
