package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// consoleVT reports whether f, a terminal, interprets the escape codes
// progress redraws its line with, and returns what puts the console back
// as it was. A Windows console does once its virtual terminal processing
// is on (Windows 10 1511 and later: turned on here, and off again by
// restore); an older console would print them raw, so it gets plain lines.
func consoleVT(f *os.File) (ok bool, restore func()) {
	h := windows.Handle(f.Fd())
	var mode uint32
	if windows.GetConsoleMode(h, &mode) != nil {
		return false, func() {}
	}
	if mode&windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING != 0 {
		return true, func() {}
	}
	if windows.SetConsoleMode(h, mode|windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING) != nil {
		return false, func() {}
	}
	return true, func() { windows.SetConsoleMode(h, mode) }
}

// notElevated says what a live collection loses when scelle runs without
// an elevated token (UAC: not "Run as administrator"), or "" when it is
// elevated.
func notElevated() string {
	if windows.GetCurrentProcessToken().IsElevated() {
		return ""
	}
	return "not elevated (run scelle from a console opened with \"Run as administrator\"): " +
		"other users' processes (their command lines, modules and images), the raw NTFS volume " +
		"(locked files: registry hives, $MFT, event logs), some services' and drivers' details, " +
		"the TPM and WinPmem's RAM cannot be read; the bag records each as failed, with why"
}
