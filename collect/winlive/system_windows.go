package winlive

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"github.com/scelle/scelle/collect"
)

var (
	runTime        collectFunc = collectTime
	runIdentity    collectFunc = collectIdentity
	runSessions    collectFunc = collectSessions
	runAccounts    collectFunc = collectAccounts
	runServices    collectFunc = collectServices
	runDrivers     collectFunc = collectDrivers
	runAutoruns    collectFunc = collectAutoruns
	runEnvironment collectFunc = collectEnvironment
)

var (
	wtsapi32                       = windows.NewLazySystemDLL("wtsapi32.dll")
	procWTSQuerySessionInformation = wtsapi32.NewProc("WTSQuerySessionInformationW")
)

// dynamicTimeZone is DYNAMIC_TIME_ZONE_INFORMATION.
type dynamicTimeZone struct {
	Bias          int32
	StandardName  [32]uint16
	StandardDate  windows.Systemtime
	StandardBias  int32
	DaylightName  [32]uint16
	DaylightDate  windows.Systemtime
	DaylightBias  int32
	KeyName       [128]uint16
	DynamicDSTOff uint8
}

func collectTime(ctx context.Context, s *collect.Session) error {
	c := Clock{WallClock: time.Now().UTC()}
	note := func(format string, args ...any) { c.Errors = append(c.Errors, fmt.Sprintf(format, args...)) }
	if up, err := Uptime(); err != nil {
		note("%v", err)
	} else {
		c.UptimeSeconds = up.Seconds()
		c.BootTime = c.WallClock.Add(-up)
	}
	if err := find(procGetDynamicTimeZoneInformation); err != nil {
		note("%v", err)
	} else {
		var tz dynamicTimeZone
		r, _, _ := procGetDynamicTimeZoneInformation.Call(uintptr(unsafe.Pointer(&tz)))
		c.TimeZone = &TimeZone{KeyName: windows.UTF16ToString(tz.KeyName[:]), StandardName: windows.UTF16ToString(tz.StandardName[:]),
			DaylightName: windows.UTF16ToString(tz.DaylightName[:]), BiasMinutes: tz.Bias, StandardBias: tz.StandardBias,
			DaylightBias: tz.DaylightBias, DynamicDSTOff: tz.DynamicDSTOff != 0}
		switch uint32(r) {
		case 1:
			c.TimeZone.CurrentlyDaylight = "standard"
		case 2:
			c.TimeZone.CurrentlyDaylight = "daylight"
		case 0xFFFFFFFF:
			note("GetDynamicTimeZoneInformation failed")
		default:
			c.TimeZone.CurrentlyDaylight = "unknown"
		}
	}
	if err := find(procGetSystemTimeAdjustment); err != nil {
		note("%v", err)
	} else {
		var adj, inc, disabled uint32
		if r, _, e := procGetSystemTimeAdjustment.Call(uintptr(unsafe.Pointer(&adj)), uintptr(unsafe.Pointer(&inc)), uintptr(unsafe.Pointer(&disabled))); r == 0 {
			note("GetSystemTimeAdjustment: %v", e)
		} else {
			c.Adjustment = &ClockAdjustment{Adjustment100ns: adj, Increment100ns: inc, Disabled: disabled != 0}
		}
	}
	for _, p := range []string{`SYSTEM\CurrentControlSet\Services\W32Time\Parameters`, `SYSTEM\CurrentControlSet\Services\W32Time\Config`,
		`SYSTEM\CurrentControlSet\Control\TimeZoneInformation`} {
		if k, ok := readKey(registry.LOCAL_MACHINE, p, false); ok {
			c.TimeService = append(c.TimeService, k)
		}
	}
	putLines(ctx, s, "live/windows/system/time.jsonl", srcTime, []Clock{c}, nil)
	return ctx.Err()
}

// Uptime is the time since the host booted, sleep included
// (GetTickCount64, to the millisecond).
func Uptime() (time.Duration, error) {
	if err := find(procGetTickCount64); err != nil {
		return 0, err
	}
	ms, _, _ := procGetTickCount64.Call()
	return time.Duration(ms) * time.Millisecond, nil
}

func computerName(kind uint32) (string, error) {
	n := uint32(256)
	buf := make([]uint16, n)
	if err := windows.GetComputerNameEx(kind, &buf[0], &n); err != nil {
		return "", err
	}
	return windows.UTF16ToString(buf[:n]), nil
}

const currentVersion = `SOFTWARE\Microsoft\Windows NT\CurrentVersion`

func collectIdentity(ctx context.Context, s *collect.Session) error {
	var id Identity
	note := func(format string, args ...any) { id.Errors = append(id.Errors, fmt.Sprintf(format, args...)) }
	for _, n := range []struct {
		kind uint32
		dst  *string
	}{{windows.ComputerNameNetBIOS, &id.ComputerName}, {windows.ComputerNameDnsHostname, &id.DNSHostName},
		{windows.ComputerNameDnsDomain, &id.DNSDomain}, {windows.ComputerNameDnsFullyQualified, &id.FQDN}} {
		v, err := computerName(n.kind)
		if err != nil {
			note("GetComputerNameEx(%d): %v", n.kind, err)
		}
		*n.dst = v
	}
	var name *uint16
	var status uint32
	if err := windows.NetGetJoinInformation(nil, &name, &status); err != nil {
		note("NetGetJoinInformation: %v", err)
	} else {
		id.JoinName = utf16Ptr(name)
		id.JoinStatus = map[uint32]string{0: "unknown", 1: "unjoined", 2: "workgroup", 3: "domain"}[status]
		windows.NetApiBufferFree((*byte)(unsafe.Pointer(name)))
	}
	v := windows.RtlGetVersion()
	id.OSMajor, id.OSMinor, id.OSBuild, id.ProductType = v.MajorVersion, v.MinorVersion, v.BuildNumber, v.ProductType
	id.ServicePack = windows.UTF16ToString(v.CsdVersion[:])
	id.ProductName = value(registry.LOCAL_MACHINE, currentVersion, "ProductName")
	id.DisplayVer = value(registry.LOCAL_MACHINE, currentVersion, "DisplayVersion")
	id.EditionID = value(registry.LOCAL_MACHINE, currentVersion, "EditionID")
	id.OSUBR = value(registry.LOCAL_MACHINE, currentVersion, "UBR")
	id.Owner = value(registry.LOCAL_MACHINE, currentVersion, "RegisteredOwner")
	id.SystemRoot = value(registry.LOCAL_MACHINE, currentVersion, "SystemRoot")
	id.MachineGUID = value(registry.LOCAL_MACHINE, `SOFTWARE\Microsoft\Cryptography`, "MachineGuid")
	id.ProcessorArch = value(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Control\Session Manager\Environment`, "PROCESSOR_ARCHITECTURE")
	if k, err := registry.OpenKey(registry.LOCAL_MACHINE, currentVersion, registry.QUERY_VALUE); err == nil {
		if ft, _, err := k.GetIntegerValue("InstallTime"); err == nil {
			id.InstallDate = filetime(int64(ft))
		} else if sec, _, err := k.GetIntegerValue("InstallDate"); err == nil && sec > 0 {
			t := time.Unix(int64(sec), 0).UTC()
			id.InstallDate = &t
		}
		k.Close()
	}
	raw, err := firmwareTable('R'<<24 | 'S'<<16 | 'M'<<8 | 'B')
	putRaw(ctx, s, "live/windows/system/smbios.bin", srcSMBIOS, raw, err)
	if err == nil {
		sm := ParseSMBIOS(raw)
		id.SMBIOS = &sm
	} else {
		note("SMBIOS: %v", err)
	}
	putLines(ctx, s, "live/windows/system/identity.jsonl", srcIdentity, []Identity{id}, nil)
	return ctx.Err()
}

// firmwareTable calls GetSystemFirmwareTable(provider, 0).
func firmwareTable(provider uint32) ([]byte, error) {
	if err := find(procGetSystemFirmwareTable); err != nil {
		return nil, err
	}
	n, _, e := procGetSystemFirmwareTable.Call(uintptr(provider), 0, 0, 0)
	if n == 0 {
		return nil, fmt.Errorf("GetSystemFirmwareTable: %v", e)
	}
	if n > 16<<20 {
		return nil, fmt.Errorf("GetSystemFirmwareTable: %d bytes", n)
	}
	b := make([]byte, n)
	got, _, e := procGetSystemFirmwareTable.Call(uintptr(provider), 0, uintptr(unsafe.Pointer(&b[0])), n)
	if got == 0 || got > n {
		return nil, fmt.Errorf("GetSystemFirmwareTable: %v", e)
	}
	return b[:got], nil
}

func wtsString(session uint32, class uintptr) string {
	if find(procWTSQuerySessionInformation) != nil {
		return ""
	}
	var buf *uint16
	var n uint32
	r, _, _ := procWTSQuerySessionInformation.Call(0, uintptr(session), class, uintptr(unsafe.Pointer(&buf)), uintptr(unsafe.Pointer(&n)))
	if r == 0 || buf == nil {
		return ""
	}
	defer windows.WTSFreeMemory(uintptr(unsafe.Pointer(buf)))
	return utf16Ptr(buf)
}

func collectSessions(ctx context.Context, s *collect.Session) error {
	var wts []WTSSession
	var sessions *windows.WTS_SESSION_INFO
	var count uint32
	err := windows.WTSEnumerateSessions(0, 0, 1, &sessions, &count)
	if err == nil {
		for _, e := range unsafe.Slice(sessions, count) {
			wts = append(wts, WTSSession{SessionID: e.SessionID, Station: utf16Ptr(e.WindowStationName), State: wtsState(e.State),
				User: wtsString(e.SessionID, 5), Domain: wtsString(e.SessionID, 7), Client: wtsString(e.SessionID, 10)})
		}
		windows.WTSFreeMemory(uintptr(unsafe.Pointer(sessions)))
	} else {
		err = fmt.Errorf("WTSEnumerateSessions: %w", err)
	}
	putLines(ctx, s, "live/windows/system/wts-sessions.jsonl", srcWTS, wts, err)
	logons, err := lsaSessions()
	putLines(ctx, s, "live/windows/system/logon-sessions.jsonl", srcLSA, logons, err)
	return ctx.Err()
}

func lsaSessions() ([]LogonSession, error) {
	for _, p := range []*windows.LazyProc{procLsaEnumerateLogonSessions, procLsaGetLogonSessionData, procLsaFreeReturnBuffer} {
		if err := find(p); err != nil {
			return nil, err
		}
	}
	var count uint32
	var luids unsafe.Pointer
	if r, _, _ := procLsaEnumerateLogonSessions.Call(uintptr(unsafe.Pointer(&count)), uintptr(unsafe.Pointer(&luids))); r != 0 {
		return nil, fmt.Errorf("LsaEnumerateLogonSessions: NTSTATUS %#x", r)
	}
	defer procLsaFreeReturnBuffer.Call(uintptr(luids))
	var out []LogonSession
	var problems []error
	for _, luid := range unsafe.Slice((*windows.LUID)(luids), count) {
		var data unsafe.Pointer
		if r, _, _ := procLsaGetLogonSessionData.Call(uintptr(unsafe.Pointer(&luid)), uintptr(unsafe.Pointer(&data))); r != 0 || data == nil {
			problems = append(problems, fmt.Errorf("LsaGetLogonSessionData(%#x): NTSTATUS %#x", uint64(luid.HighPart)<<32|uint64(luid.LowPart), r))
			continue
		}
		ls, err := ReadLogonSession(selfMemory{}, uint64(uintptr(data)))
		procLsaFreeReturnBuffer.Call(uintptr(data))
		if err != nil {
			problems = append(problems, err)
			continue
		}
		out = append(out, ls)
	}
	if out == nil {
		out = []LogonSession{}
	}
	return out, errors.Join(problems...)
}

// userInfo3 is USER_INFO_3.
type userInfo3 struct {
	name, password                                               *uint16
	passwordAge, priv                                            uint32
	homeDir, comment                                             *uint16
	flags                                                        uint32
	scriptPath                                                   *uint16
	authFlags                                                    uint32
	fullName, usrComment, parms, workstations                    *uint16
	lastLogon, lastLogoff, acctExpires, maxStorage, unitsPerWeek uint32
	logonHours                                                   *byte
	badPwCount, numLogons                                        uint32
	logonServer                                                  *uint16
	countryCode, codePage, userID, primaryGroupID                uint32
	profile, homeDirDrive                                        *uint16
	passwordExpired                                              uint32
}

type localGroupInfo1 struct{ name, comment *uint16 }

type localGroupMembersInfo2 struct {
	sid           *windows.SID
	usage         uint32
	domainAndName *uint16
}

var privileges = []string{"guest", "user", "admin"}

func collectAccounts(ctx context.Context, s *collect.Session) error {
	users, err := localUsers()
	putLines(ctx, s, "live/windows/system/users.jsonl", srcUsers, users, err)
	var groups []Group
	err = netEnum(procNetLocalGroupEnum, []uintptr{0}, 1, func(buf unsafe.Pointer, n uint32) {
		for _, g := range unsafe.Slice((*localGroupInfo1)(buf), n) {
			groups = append(groups, Group{Name: utf16Ptr(g.name), Comment: utf16Ptr(g.comment), Members: []Member{}})
		}
	})
	for i := range groups {
		g := &groups[i]
		name, _ := windows.UTF16PtrFromString(g.Name)
		merr := netEnum(procNetLocalGroupGetMembers, []uintptr{0, uintptr(unsafe.Pointer(name))}, 2, func(buf unsafe.Pointer, n uint32) {
			for _, m := range unsafe.Slice((*localGroupMembersInfo2)(buf), n) {
				mb := Member{Name: utf16Ptr(m.domainAndName), Usage: m.usage}
				if m.sid != nil {
					mb.SID = m.sid.String()
				}
				g.Members = append(g.Members, mb)
			}
		})
		if merr != nil {
			g.Error = merr.Error()
		}
	}
	putLines(ctx, s, "live/windows/system/groups.jsonl", srcGroups, groups, err)
	return ctx.Err()
}

// userInfo1 is USER_INFO_1.
type userInfo1 struct {
	name, password    *uint16
	passwordAge, priv uint32
	homeDir, comment  *uint16
	flags             uint32
	scriptPath        *uint16
}

// localUsers lists the local accounts at the richest level NetUserEnum
// grants: 3 (last logon, profile), else 1, else 0 (the names only).
func localUsers() ([]User, error) {
	var errs []error
	for _, level := range []uint32{3, 1, 0} {
		users, err := netUsers(level)
		if err == nil {
			if level != 3 {
				return users, fmt.Errorf("NetUserEnum gave level %d only: %w", level, errors.Join(errs...))
			}
			return users, nil
		}
		errs = append(errs, fmt.Errorf("level %d: %w", level, err))
		if len(users) > 0 {
			return users, errors.Join(errs...)
		}
	}
	return nil, fmt.Errorf("NetUserEnum: %w", errors.Join(errs...))
}

func netUsers(level uint32) ([]User, error) {
	var out []User
	var resume uint32
	for round := 0; round < 1024; round++ {
		var buf *byte
		var read, total uint32
		err := windows.NetUserEnum(nil, level, 0, &buf, 0xFFFFFFFF, &read, &total, &resume)
		if buf != nil && (err == nil || errors.Is(err, windows.ERROR_MORE_DATA)) {
			out = append(out, decodeUsers(unsafe.Pointer(buf), read, level)...)
		}
		if buf != nil {
			windows.NetApiBufferFree(buf)
		}
		if err == nil {
			if out == nil {
				out = []User{}
			}
			return out, nil
		}
		if !errors.Is(err, windows.ERROR_MORE_DATA) {
			return out, err
		}
	}
	return out, errors.New("too many rounds")
}

func decodeUsers(buf unsafe.Pointer, n uint32, level uint32) []User {
	var out []User
	add := func(us User) {
		us.Disabled = us.Flags&0x2 != 0
		if sid, _, _, err := windows.LookupSID("", us.Name); err == nil {
			us.SID = sid.String()
		}
		out = append(out, us)
	}
	switch level {
	case 3:
		for _, u := range unsafe.Slice((*userInfo3)(buf), n) {
			us := User{Name: utf16Ptr(u.name), FullName: utf16Ptr(u.fullName), Comment: utf16Ptr(u.comment),
				RID: u.userID, Flags: u.flags, NumLogons: u.numLogons, BadPwCount: u.badPwCount,
				PasswordAge: u.passwordAge, Profile: utf16Ptr(u.profile), HomeDir: utf16Ptr(u.homeDir), Level: 3}
			if int(u.priv) < len(privileges) {
				us.Privilege = privileges[u.priv]
			}
			if u.lastLogon != 0 {
				t := time.Unix(int64(u.lastLogon), 0).UTC()
				us.LastLogon = &t
			}
			add(us)
		}
	case 1:
		for _, u := range unsafe.Slice((*userInfo1)(buf), n) {
			us := User{Name: utf16Ptr(u.name), Comment: utf16Ptr(u.comment), Flags: u.flags, PasswordAge: u.passwordAge,
				HomeDir: utf16Ptr(u.homeDir), Level: 1}
			if int(u.priv) < len(privileges) {
				us.Privilege = privileges[u.priv]
			}
			add(us)
		}
	default:
		for _, u := range unsafe.Slice((**uint16)(buf), n) {
			add(User{Name: utf16Ptr(u), Level: 0})
		}
	}
	return out
}

func systemRoot() string {
	if r := os.Getenv("SystemRoot"); r != "" {
		return r
	}
	if d, err := windows.GetWindowsDirectory(); err == nil {
		return d
	}
	return `C:\Windows`
}

// hashFile returns the SHA-256 of a file, or the error.
func hashFile(ctx context.Context, p string) (string, error) {
	im := Image{Path: p}
	hashImage(ctx, &im)
	if im.Error != "" {
		return im.SHA256, errors.New(im.Error)
	}
	return im.SHA256, nil
}

func collectServices(ctx context.Context, s *collect.Session) error {
	m, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT|windows.SC_MANAGER_ENUMERATE_SERVICE)
	if err != nil {
		s.Fail(srcServices, collect.KindGenerated, fmt.Errorf("OpenSCManager: %w", err))
		return nil
	}
	defer windows.CloseServiceHandle(m)
	return servicesFrom(ctx, s, m)
}

// servicesFrom enumerates again into a buffer it keeps, and describes
// each service.
func servicesFrom(ctx context.Context, s *collect.Session, m windows.Handle) error {
	var need, n, resume uint32
	windows.EnumServicesStatusEx(m, windows.SC_ENUM_PROCESS_INFO, windows.SERVICE_WIN32|windows.SERVICE_DRIVER,
		windows.SERVICE_STATE_ALL, nil, 0, &need, &n, &resume, nil)
	if need == 0 {
		return putEmpty(ctx, s)
	}
	buf := make([]byte, need+need/4+4096)
	resume = 0
	if err := windows.EnumServicesStatusEx(m, windows.SC_ENUM_PROCESS_INFO, windows.SERVICE_WIN32|windows.SERVICE_DRIVER,
		windows.SERVICE_STATE_ALL, &buf[0], uint32(len(buf)), &need, &n, &resume, nil); err != nil {
		s.Fail(srcServices, collect.KindGenerated, fmt.Errorf("EnumServicesStatusEx: %w", err))
		return nil
	}
	root := systemRoot()
	var out []Service
	for _, e := range unsafe.Slice((*windows.ENUM_SERVICE_STATUS_PROCESS)(unsafe.Pointer(&buf[0])), n) {
		if err := ctx.Err(); err != nil {
			return err
		}
		sv := Service{Name: utf16Ptr(e.ServiceName), DisplayName: utf16Ptr(e.DisplayName), Type: e.ServiceStatusProcess.ServiceType,
			State: serviceState(e.ServiceStatusProcess.CurrentState), PID: e.ServiceStatusProcess.ProcessId}
		serviceConfig(m, e.ServiceName, &sv)
		if sv.BinaryPath != "" {
			sv.ImagePath = ResolveImagePath(sv.BinaryPath, root)
			if h, err := hashFile(ctx, sv.ImagePath); err != nil {
				sv.Errors = append(sv.Errors, fmt.Sprintf("hash %s: %v", sv.ImagePath, err))
			} else {
				sv.SHA256 = h
			}
		}
		if dll := value(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Services\`+sv.Name+`\Parameters`, "ServiceDll"); dll != "" {
			if x, err := registry.ExpandString(dll); err == nil {
				dll = x
			}
			sv.ServiceDLL = dll
			if h, err := hashFile(ctx, dll); err != nil {
				sv.Errors = append(sv.Errors, fmt.Sprintf("hash %s: %v", dll, err))
			} else {
				sv.DLLSHA256 = h
			}
		}
		out = append(out, sv)
	}
	putLines(ctx, s, "live/windows/system/services.jsonl", srcServices, out, nil)
	return ctx.Err()
}

func putEmpty(ctx context.Context, s *collect.Session) error {
	putLines(ctx, s, "live/windows/system/services.jsonl", srcServices, []Service{}, nil)
	return ctx.Err()
}

func serviceConfig(m windows.Handle, name *uint16, sv *Service) {
	h, err := windows.OpenService(m, name, windows.SERVICE_QUERY_CONFIG)
	if err != nil {
		sv.Errors = append(sv.Errors, fmt.Sprintf("OpenService: %v", err))
		return
	}
	defer windows.CloseServiceHandle(h)
	var need uint32
	windows.QueryServiceConfig(h, nil, 0, &need)
	if need == 0 || need > 1<<20 {
		sv.Errors = append(sv.Errors, "QueryServiceConfig: no size")
		return
	}
	b := make([]byte, need)
	cfg := (*windows.QUERY_SERVICE_CONFIG)(unsafe.Pointer(&b[0]))
	if err := windows.QueryServiceConfig(h, cfg, need, &need); err != nil {
		sv.Errors = append(sv.Errors, fmt.Sprintf("QueryServiceConfig: %v", err))
		return
	}
	sv.StartType = startType(cfg.StartType)
	sv.BinaryPath = utf16Ptr(cfg.BinaryPathName)
	sv.Account = utf16Ptr(cfg.ServiceStartName)
}

func collectDrivers(ctx context.Context, s *collect.Session) error {
	if err := errors.Join(find(procEnumDeviceDrivers), find(procGetDeviceDriverFileNameW)); err != nil {
		s.Fail(srcDrivers, collect.KindGenerated, err)
		return nil
	}
	bases := make([]uintptr, 4096)
	var need uint32
	if r, _, e := procEnumDeviceDrivers.Call(uintptr(unsafe.Pointer(&bases[0])), uintptr(len(bases))*unsafe.Sizeof(bases[0]), uintptr(unsafe.Pointer(&need))); r == 0 {
		s.Fail(srcDrivers, collect.KindGenerated, fmt.Errorf("EnumDeviceDrivers: %v", e))
		return nil
	}
	n := int(need / uint32(unsafe.Sizeof(bases[0])))
	var problems []error
	if n > len(bases) {
		problems = append(problems, fmt.Errorf("%d drivers, the first %d listed", n, len(bases)))
		n = len(bases)
	}
	root := systemRoot()
	out := []Driver{}
	for _, base := range bases[:n] {
		d := Driver{Base: fmt.Sprintf("%#x", base)}
		buf := make([]uint16, windows.MAX_LONG_PATH)
		if r, _, e := procGetDeviceDriverFileNameW.Call(base, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf))); r == 0 {
			d.Error = fmt.Sprintf("GetDeviceDriverFileName: %v", e)
		} else {
			d.Path = windows.UTF16ToString(buf[:r])
			d.ImagePath = ResolveImagePath(d.Path, root)
			if h, err := hashFile(ctx, d.ImagePath); err != nil {
				d.Error = err.Error()
			} else {
				d.SHA256 = h
			}
		}
		out = append(out, d)
	}
	putLines(ctx, s, "live/windows/system/drivers.jsonl", srcDrivers, out, errors.Join(problems...))
	return ctx.Err()
}

// Autorun keys, under HKLM and under each loaded user hive.
var (
	machineAutoruns = []string{
		`SOFTWARE\Microsoft\Windows\CurrentVersion\Run`,
		`SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce`,
		`SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnceEx`,
		`SOFTWARE\Microsoft\Windows\CurrentVersion\RunServices`,
		`SOFTWARE\Microsoft\Windows\CurrentVersion\RunServicesOnce`,
		`SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer\Run`,
		`SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Run`,
		`SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\RunOnce`,
		`SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon`,
		`SOFTWARE\Microsoft\Windows NT\CurrentVersion\Windows`,
		`SOFTWARE\Microsoft\Windows\CurrentVersion\Explorer\Shell Folders`,
		`SOFTWARE\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders`,
		`SYSTEM\CurrentControlSet\Control\Session Manager`,
		`SYSTEM\CurrentControlSet\Control\Session Manager\KnownDLLs`,
		`SYSTEM\CurrentControlSet\Control\Lsa`,
		`SYSTEM\CurrentControlSet\Control\SafeBoot`,
	}
	// machineAutorunTrees have one subkey per program: each subkey is read.
	machineAutorunTrees = []string{
		`SOFTWARE\Microsoft\Windows NT\CurrentVersion\Image File Execution Options`,
		`SOFTWARE\Microsoft\Windows NT\CurrentVersion\SilentProcessExit`,
		`SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\Notify`,
		`SOFTWARE\Microsoft\Active Setup\Installed Components`,
	}
	userAutoruns = []string{
		`Software\Microsoft\Windows\CurrentVersion\Run`,
		`Software\Microsoft\Windows\CurrentVersion\RunOnce`,
		`Software\Microsoft\Windows\CurrentVersion\Policies\Explorer\Run`,
		`Software\Microsoft\Windows NT\CurrentVersion\Windows`,
		`Software\Microsoft\Windows NT\CurrentVersion\Winlogon`,
		`Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders`,
		`Environment`,
	}
)

const maxTreeKeys = 4096

func collectAutoruns(ctx context.Context, s *collect.Session) error {
	var out []Autorun
	for _, p := range machineAutoruns {
		if k, ok := readKey(registry.LOCAL_MACHINE, p, true); ok {
			out = append(out, Autorun{Hive: "HKLM", RegKey: k})
		}
	}
	for _, p := range machineAutorunTrees {
		top, ok := readKey(registry.LOCAL_MACHINE, p, true)
		if !ok {
			continue
		}
		out = append(out, Autorun{Hive: "HKLM", RegKey: top})
		for i, sub := range top.Subkeys {
			if i >= maxTreeKeys || ctx.Err() != nil {
				break
			}
			if k, ok := readKey(registry.LOCAL_MACHINE, p+`\`+sub, false); ok && len(k.Values) > 0 {
				out = append(out, Autorun{Hive: "HKLM", RegKey: k})
			}
		}
	}
	var problems []error
	sids, err := loadedUserHives()
	if err != nil {
		problems = append(problems, err)
	}
	for _, sid := range sids {
		for _, p := range userAutoruns {
			if k, ok := readKey(registry.USERS, sid+`\`+p, false); ok {
				out = append(out, Autorun{Hive: `HKU\` + sid, RegKey: k})
			}
		}
	}
	putLines(ctx, s, "live/windows/system/autoruns.jsonl", srcAutoruns, out, errors.Join(problems...))
	return ctx.Err()
}

// loadedUserHives lists the user hives loaded under HKU (not their
// _Classes companions).
func loadedUserHives() ([]string, error) {
	k, err := registry.OpenKey(registry.USERS, "", registry.ENUMERATE_SUB_KEYS)
	if err != nil {
		return nil, fmt.Errorf("HKU: %w", err)
	}
	defer k.Close()
	names, err := k.ReadSubKeyNames(0)
	var out []string
	for _, n := range names {
		if !strings.HasSuffix(strings.ToLower(n), "_classes") {
			out = append(out, n)
		}
	}
	return out, err
}

func collectEnvironment(ctx context.Context, s *collect.Session) error {
	var out []Autorun
	if k, ok := readKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Control\Session Manager\Environment`, false); ok {
		out = append(out, Autorun{Hive: "HKLM", RegKey: k})
	}
	sids, err := loadedUserHives()
	for _, sid := range sids {
		if k, ok := readKey(registry.USERS, sid+`\Environment`, false); ok {
			out = append(out, Autorun{Hive: `HKU\` + sid, RegKey: k})
		}
	}
	if len(out) == 0 && err == nil {
		err = errors.New("no environment key in the registry")
	}
	putLines(ctx, s, "live/windows/system/environment.jsonl", srcEnvironment, out, err)
	return ctx.Err()
}
