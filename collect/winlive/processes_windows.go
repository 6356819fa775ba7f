package winlive

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/scelle/scelle/collect"
)

var procAdjustTokenPrivileges = windows.NewLazySystemDLL("advapi32.dll").NewProc("AdjustTokenPrivileges")

var (
	runProcesses collectFunc = collectProcesses
	runImages    collectFunc = collectImages
)

// querySystemProcesses returns the SystemProcessInformation buffer and
// the address it lay at (its ImageName pointers address it).
func querySystemProcesses() ([]byte, uint64, error) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		return nil, 0, errors.New("SystemProcessInformation is decoded in its 64-bit layout only")
	}
	var base uint64
	b, err := growCall(1<<20, 256<<20, func(b []byte) (int, error) {
		var ret uint32
		err := windows.NtQuerySystemInformation(windows.SystemProcessInformation, unsafe.Pointer(&b[0]), uint32(len(b)), &ret)
		if errors.Is(err, windows.STATUS_INFO_LENGTH_MISMATCH) || errors.Is(err, windows.STATUS_BUFFER_TOO_SMALL) {
			return int(ret), errTooSmall
		}
		base = uint64(uintptr(unsafe.Pointer(&b[0])))
		return int(ret), err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("NtQuerySystemInformation(SystemProcessInformation): %w", err)
	}
	return b, base, nil
}

// toolhelpProcesses lists processes with a Toolhelp32 snapshot.
func toolhelpProcesses() ([]windows.ProcessEntry32, error) {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return nil, fmt.Errorf("CreateToolhelp32Snapshot: %w", err)
	}
	defer windows.CloseHandle(snap)
	var out []windows.ProcessEntry32
	e := windows.ProcessEntry32{Size: uint32(unsafe.Sizeof(windows.ProcessEntry32{}))}
	err = windows.Process32First(snap, &e)
	for err == nil && len(out) < maxProcesses {
		out = append(out, e)
		err = windows.Process32Next(snap, &e)
	}
	if errors.Is(err, windows.ERROR_NO_MORE_FILES) {
		err = nil
	}
	if err != nil {
		err = fmt.Errorf("Process32Next: %w", err)
	}
	return out, err
}

// processViews takes the two lists.
type processViews struct {
	spiRaw  []byte
	spiBase uint64
	sys     []SysProcess
	sysErr  error
	th      []windows.ProcessEntry32
	thErr   error
}

func takeViews() processViews {
	var v processViews
	var err error
	v.spiRaw, v.spiBase, err = querySystemProcesses()
	if err == nil {
		v.sys, err = ParseProcessInformation(v.spiRaw, v.spiBase)
	}
	v.sysErr = err
	v.th, v.thErr = toolhelpProcesses()
	return v
}

func (v *processViews) maps() (nt, th map[uint32]string) {
	nt, th = map[uint32]string{}, map[uint32]string{}
	for _, p := range v.sys {
		nt[uint32(p.PID)] = p.ImageName
	}
	for _, e := range v.th {
		th[e.ProcessID] = windows.UTF16ToString(e.ExeFile[:])
	}
	return nt, th
}

// enableDebugPrivilege enables SeDebugPrivilege in scelle's own token
// (an administrator holds it, disabled), so that the processes of other
// accounts and of the system can be opened for reading. It changes
// nothing outside scelle's process.
func enableDebugPrivilege() error {
	var tok windows.Token
	if err := windows.OpenProcessToken(windows.CurrentProcess(), windows.TOKEN_ADJUST_PRIVILEGES|windows.TOKEN_QUERY, &tok); err != nil {
		return fmt.Errorf("OpenProcessToken: %w", err)
	}
	defer tok.Close()
	var luid windows.LUID
	name, _ := windows.UTF16PtrFromString("SeDebugPrivilege")
	if err := windows.LookupPrivilegeValue(nil, name, &luid); err != nil {
		return fmt.Errorf("LookupPrivilegeValue: %w", err)
	}
	tp := windows.Tokenprivileges{PrivilegeCount: 1}
	tp.Privileges[0] = windows.LUIDAndAttributes{Luid: luid, Attributes: windows.SE_PRIVILEGE_ENABLED}
	// AdjustTokenPrivileges succeeds without the privilege, and says so
	// in the last error, taken right after the call.
	r, _, e := procAdjustTokenPrivileges.Call(uintptr(tok), 0, uintptr(unsafe.Pointer(&tp)), 0, 0, 0)
	switch {
	case r == 0:
		return fmt.Errorf("AdjustTokenPrivileges: %w", e)
	case errors.Is(e, windows.ERROR_NOT_ALL_ASSIGNED):
		return errors.New("SeDebugPrivilege not held: not run as an administrator")
	}
	return nil
}

func collectProcesses(ctx context.Context, s *collect.Session) error {
	debugErr := enableDebugPrivilege()
	v1 := takeViews()
	v2 := takeViews()
	putRaw(ctx, s, "live/windows/raw/system-process-information.bin", srcProcesses, v1.spiRaw, v1.sysErr)
	if v1.sysErr != nil && v1.thErr != nil {
		s.Fail(srcToolhelp, collect.KindGenerated, v1.thErr)
		return fmt.Errorf("no process list: %w; %w", v1.sysErr, v1.thErr)
	}
	nt1, th1 := v1.maps()
	nt2, th2 := v2.maps()
	views := Views{Method: viewsMethod, NtQuery: len(nt1), Toolhelp: len(th1), DebugPrivilege: "enabled"}
	if debugErr != nil {
		views.DebugPrivilege = debugErr.Error()
	}
	var viewErr error
	switch {
	case v1.sysErr != nil || v2.sysErr != nil:
		viewErr = fmt.Errorf("comparison incomplete: %w", errors.Join(v1.sysErr, v2.sysErr))
	case v1.thErr != nil || v2.thErr != nil:
		viewErr = fmt.Errorf("comparison incomplete: %w", errors.Join(v1.thErr, v2.thErr))
	default:
		views.Hidden, views.OnlyOnce = compareViews(nt1, th1, nt2, th2)
	}
	hidden := map[uint32]bool{}
	for _, h := range views.Hidden {
		hidden[h.PID] = true
	}

	byPID := map[uint32]*Process{}
	var order []uint32
	get := func(pid uint32) *Process {
		if p, ok := byPID[pid]; ok {
			return p
		}
		p := &Process{PID: pid, Hidden: hidden[pid]}
		byPID[pid] = p
		order = append(order, pid)
		return p
	}
	for _, sp := range v1.sys {
		p := get(uint32(sp.PID))
		p.PPID, p.Name, p.Threads = uint32(sp.ParentPID), sp.ImageName, sp.Threads
		sid, hc := sp.SessionID, sp.HandleCount
		p.SessionID, p.Handles, p.StartTime = &sid, &hc, sp.CreateTime
		p.SeenBy = append(p.SeenBy, "ntquery")
		if sp.Error != "" {
			p.Errors = append(p.Errors, sp.Error)
		}
	}
	for _, e := range v1.th {
		p := get(e.ProcessID)
		if p.Name == "" {
			p.Name, p.PPID, p.Threads = windows.UTF16ToString(e.ExeFile[:]), e.ParentProcessID, e.Threads
		}
		p.SeenBy = append(p.SeenBy, "toolhelp")
	}
	slices.Sort(order)
	procs := make([]Process, 0, len(order))
	var modules []Module
	for _, pid := range order {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := byPID[pid]
		mods := inspectProcess(p)
		p.ModuleCount = len(mods)
		modules = append(modules, mods...)
		procs = append(procs, *p)
	}
	putLines(ctx, s, "live/windows/processes.jsonl", srcProcesses+" + "+srcToolhelp, procs, errors.Join(v1.sysErr, v1.thErr))
	putLines(ctx, s, "live/windows/modules.jsonl", "CreateToolhelp32Snapshot(TH32CS_SNAPMODULE)", modules, nil)
	putJSON(ctx, s, "live/windows/process-views.json", srcProcesses+" + "+srcToolhelp, views, viewErr)
	return ctx.Err()
}

// inspectProcess fills what opening the process gives: image path, user,
// integrity, start time, handle count, WOW64, and the PEB's parameters;
// and returns its modules. What cannot be read is noted in p.Errors.
func inspectProcess(p *Process) []Module {
	if p.PID == 0 {
		return nil // the idle process: nothing to open
	}
	note := func(format string, args ...any) { p.Errors = append(p.Errors, fmt.Sprintf(format, args...)) }
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_INFORMATION|windows.PROCESS_VM_READ, false, p.PID)
	full := err == nil
	if err != nil {
		h, err = windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, p.PID)
	}
	if err != nil {
		note("OpenProcess: %v", err)
	} else {
		defer windows.CloseHandle(h)
		buf := make([]uint16, windows.MAX_LONG_PATH)
		n := uint32(len(buf))
		if err := windows.QueryFullProcessImageName(h, 0, &buf[0], &n); err != nil {
			note("QueryFullProcessImageName: %v", err)
		} else {
			p.ImagePath = windows.UTF16ToString(buf[:n])
		}
		var c, e, k, u windows.Filetime
		if err := windows.GetProcessTimes(h, &c, &e, &k, &u); err == nil {
			p.StartTime = filetime(c.Nanoseconds()/100 + 116444736000000000)
		}
		if p.Handles == nil && find(procGetProcessHandleCount) == nil {
			var hc uint32
			if r, _, _ := procGetProcessHandleCount.Call(uintptr(h), uintptr(unsafe.Pointer(&hc))); r != 0 {
				p.Handles = &hc
			}
		}
		var wow bool
		if err := windows.IsWow64Process(h, &wow); err == nil {
			p.Wow64 = &wow
		}
		tokenInfo(h, p)
		if full {
			var pbi windows.PROCESS_BASIC_INFORMATION
			var ret uint32
			if err := windows.NtQueryInformationProcess(h, windows.ProcessBasicInformation, unsafe.Pointer(&pbi), uint32(unsafe.Sizeof(pbi)), &ret); err != nil {
				note("NtQueryInformationProcess: %v", err)
			} else if pp, err := ReadProcessParams(processMemory{h}, uint64(uintptr(unsafe.Pointer(pbi.PebBaseAddress))), maxString); err != nil {
				p.ProcessParams = pp
				note("PEB: %v", err)
			} else {
				p.ProcessParams = pp
			}
		} else {
			note("command line and folder not read: the process cannot be opened for memory reading")
		}
	}
	if p.ImagePath != "" {
		if _, err := windows.GetFileAttributes(windows.StringToUTF16Ptr(p.ImagePath)); errors.Is(err, windows.ERROR_FILE_NOT_FOUND) || errors.Is(err, windows.ERROR_PATH_NOT_FOUND) {
			p.ImageGone = true
		}
	}
	mods, err := processModules(p.PID)
	if err != nil {
		note("modules: %v", err)
	}
	return mods
}

// tokenInfo fills the user, SID and integrity level from the process's
// token.
func tokenInfo(h windows.Handle, p *Process) {
	var tok windows.Token
	if err := windows.OpenProcessToken(h, windows.TOKEN_QUERY, &tok); err != nil {
		p.Errors = append(p.Errors, fmt.Sprintf("OpenProcessToken: %v", err))
		return
	}
	defer tok.Close()
	if tu, err := tok.GetTokenUser(); err != nil {
		p.Errors = append(p.Errors, fmt.Sprintf("token user: %v", err))
	} else {
		p.SID = tu.User.Sid.String()
		if acct, dom, _, err := tu.User.Sid.LookupAccount(""); err == nil {
			p.User = dom + `\` + acct
		}
	}
	var n uint32
	windows.GetTokenInformation(tok, windows.TokenIntegrityLevel, nil, 0, &n)
	if n == 0 || n > 1<<16 {
		return
	}
	b := make([]byte, n)
	if err := windows.GetTokenInformation(tok, windows.TokenIntegrityLevel, &b[0], n, &n); err != nil {
		p.Errors = append(p.Errors, fmt.Sprintf("token integrity: %v", err))
		return
	}
	sid := (*windows.Tokenmandatorylabel)(unsafe.Pointer(&b[0])).Label.Sid
	if c := sid.SubAuthorityCount(); c > 0 {
		p.Integrity = integrityName(sid.SubAuthority(uint32(c - 1)))
	}
}

// processModules lists a process's modules with a Toolhelp32 snapshot.
func processModules(pid uint32) ([]Module, error) {
	var snap windows.Handle
	var err error
	for try := 0; try < 3; try++ {
		snap, err = windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPMODULE|windows.TH32CS_SNAPMODULE32, pid)
		if !errors.Is(err, windows.ERROR_BAD_LENGTH) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("CreateToolhelp32Snapshot: %w", err)
	}
	defer windows.CloseHandle(snap)
	var out []Module
	e := windows.ModuleEntry32{Size: uint32(unsafe.Sizeof(windows.ModuleEntry32{}))}
	err = windows.Module32First(snap, &e)
	for err == nil && len(out) < 1<<16 {
		out = append(out, Module{PID: pid, Name: windows.UTF16ToString(e.Module[:]), Path: windows.UTF16ToString(e.ExePath[:]),
			Base: fmt.Sprintf("%#x", e.ModBaseAddr), Size: e.ModBaseSize})
		err = windows.Module32Next(snap, &e)
	}
	if errors.Is(err, windows.ERROR_NO_MORE_FILES) {
		err = nil
	}
	return out, err
}
