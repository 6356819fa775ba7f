// Package winlive collects the volatile state of a live Windows host
// through the Windows API (ARTIFACTS.md "What a Windows triage must
// capture", section 1): processes and their images, network state,
// identity, clock, sessions, accounts, services, drivers, autoruns,
// environment and the TPM, in order of volatility.
//
// Nothing here runs a program of the host (no tasklist, netstat,
// ipconfig, wmic, schtasks or PowerShell) and nothing uses cgo: the
// system calls go through golang.org/x/sys/windows, or through
// syscall.NewLazyDLL for the functions it lacks; an undocumented or
// missing function is looked up first, and an item it cannot give is
// recorded as failed or skipped with the reason, never a crash.
//
// The code is split in two. The decoders of the raw structures the API
// returns (SYSTEM_PROCESS_INFORMATION chains, the PEB's process
// parameters, the MIB tables of sockets, routes and neighbours, the
// SMBIOS tables, the DNS client cache's list) are portable functions of
// bytes (ParseProcessInformation, ReadProcessParams, ParseTCPTable,
// ParseUDPTable, ParseForwardTable, ParseNetTable, ParseSMBIOS,
// WalkDNSCache): they never read outside the bytes or Memory they are
// given, never panic, and are tested on every OS with the fixtures of
// testdata and fuzzed. The system calls that fill those buffers are in
// the _windows.go files; on other systems every collector records its
// items as skipped.
//
// Each collector stores JSON Lines records under "live/windows/" (their
// schemas are the exported record types of this package, documented in
// docs/schema/winlive.md), and beside them the raw tables the records
// were decoded from (".bin", exactly as the API returned them) where
// the API returns a flat table. A dead-box collection (Env.Live false)
// records every item as skipped.
//
// Collectors returns the collectors; each is used by one goroutine at a
// time, through the collect.Session the Runner gives it.
package winlive
