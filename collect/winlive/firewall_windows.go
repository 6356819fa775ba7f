package winlive

import (
	"context"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"github.com/scelle/scelle/collect"
)

// firewallKeys are the keys whose values give each firewall profile's
// state: the local settings, then the group policy that overrides them.
var firewallKeys = []string{
	`SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy\DomainProfile`,
	`SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy\StandardProfile`,
	`SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy\PublicProfile`,
	`SOFTWARE\Policies\Microsoft\WindowsFirewall\DomainProfile`,
	`SOFTWARE\Policies\Microsoft\WindowsFirewall\PrivateProfile`,
	`SOFTWARE\Policies\Microsoft\WindowsFirewall\PublicProfile`,
	`SYSTEM\CurrentControlSet\Services\MpsSvc`,
}

func collectFirewall(ctx context.Context, s *collect.Session) error {
	var keys []RegKey
	for _, p := range firewallKeys {
		if k, ok := readKey(registry.LOCAL_MACHINE, p, false); ok {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		s.Skip(srcFirewall, collect.KindGenerated, collect.ReasonNotPresent+": no firewall policy key in the registry (no Windows Firewall)")
		return ctx.Err()
	}
	putLines(ctx, s, "live/windows/net/firewall.jsonl", srcFirewall, keys, nil)
	return ctx.Err()
}

// SMBSession is one record of live/windows/net/smb-sessions.jsonl.
type SMBSession struct {
	Client      string `json:"client"`
	User        string `json:"user"`
	TimeSeconds uint32 `json:"time_seconds"`
	IdleSeconds uint32 `json:"idle_seconds"`
}

// SMBShare is one record of live/windows/net/smb-shares.jsonl.
type SMBShare struct {
	Name        string `json:"name"`
	Type        uint32 `json:"type"`
	Remark      string `json:"remark,omitempty"`
	Path        string `json:"path,omitempty"`
	CurrentUses uint32 `json:"current_uses,omitempty"`
	MaxUses     uint32 `json:"max_uses,omitempty"`
	Level       int    `json:"info_level"`
}

type sessionInfo10 struct {
	cname, username *uint16
	time, idle      uint32
}

type shareInfo2 struct {
	netname     *uint16
	typ         uint32
	remark      *uint16
	permissions uint32
	maxUses     uint32
	currentUses uint32
	path        *uint16
	passwd      *uint16
}

type shareInfo1 struct {
	netname *uint16
	typ     uint32
	remark  *uint16
}

const maxPreferredLength = 0xFFFFFFFF

// netEnum calls a NetXxxEnum function of the form (server, ..., level,
// &buf, prefmaxlen, &read, &total, &resume) until it has everything,
// handing each buffer's entries to each.
func netEnum(p *windows.LazyProc, pre []uintptr, level uintptr, each func(buf unsafe.Pointer, n uint32)) error {
	if err := find(p); err != nil {
		return err
	}
	var resume uint32
	for round := 0; round < 1024; round++ {
		var buf unsafe.Pointer
		var read, total uint32
		args := append(append([]uintptr{}, pre...), level, uintptr(unsafe.Pointer(&buf)), maxPreferredLength,
			uintptr(unsafe.Pointer(&read)), uintptr(unsafe.Pointer(&total)), uintptr(unsafe.Pointer(&resume)))
		r, _, _ := p.Call(args...)
		if (r == 0 || r == uintptr(windows.ERROR_MORE_DATA)) && buf != nil {
			each(buf, read)
		}
		if buf != nil {
			windows.NetApiBufferFree((*byte)(buf))
		}
		switch {
		case r == 0:
			return nil
		case r != uintptr(windows.ERROR_MORE_DATA):
			return fmt.Errorf("%s: %w", p.Name, windows.Errno(r))
		}
	}
	return fmt.Errorf("%s: too many rounds", p.Name)
}

func collectSMB(ctx context.Context, s *collect.Session) error {
	var sessions []SMBSession
	err := netEnum(procNetSessionEnum, []uintptr{0, 0, 0}, 10, func(buf unsafe.Pointer, n uint32) {
		for _, e := range unsafe.Slice((*sessionInfo10)(buf), n) {
			sessions = append(sessions, SMBSession{Client: utf16Ptr(e.cname), User: utf16Ptr(e.username),
				TimeSeconds: e.time, IdleSeconds: e.idle})
		}
	})
	if sessions == nil && err == nil {
		sessions = []SMBSession{}
	}
	putLines(ctx, s, "live/windows/net/smb-sessions.jsonl", srcSMBSessions, sessions, err)

	var shares []SMBShare
	err = netEnum(procNetShareEnum, []uintptr{0}, 2, func(buf unsafe.Pointer, n uint32) {
		for _, e := range unsafe.Slice((*shareInfo2)(buf), n) {
			shares = append(shares, SMBShare{Name: utf16Ptr(e.netname), Type: e.typ, Remark: utf16Ptr(e.remark),
				Path: utf16Ptr(e.path), CurrentUses: e.currentUses, MaxUses: e.maxUses, Level: 2})
		}
	})
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		// Level 2 (paths) needs an administrator; level 1 does not.
		shares = nil
		err = netEnum(procNetShareEnum, []uintptr{0}, 1, func(buf unsafe.Pointer, n uint32) {
			for _, e := range unsafe.Slice((*shareInfo1)(buf), n) {
				shares = append(shares, SMBShare{Name: utf16Ptr(e.netname), Type: e.typ, Remark: utf16Ptr(e.remark), Level: 1})
			}
		})
		if err == nil {
			err = errors.New("share paths not read: NetShareEnum level 2 needs an administrator")
		}
	}
	if shares == nil && err == nil {
		shares = []SMBShare{}
	}
	putLines(ctx, s, "live/windows/net/smb-shares.jsonl", srcSMBShares, shares, err)
	return ctx.Err()
}
