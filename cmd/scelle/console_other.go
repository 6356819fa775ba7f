//go:build !windows

package main

import "os"

// consoleVT reports whether f, a terminal, interprets the escape codes
// progress redraws its line with: terminals of Unix systems do.
func consoleVT(f *os.File) (ok bool, restore func()) { return true, func() {} }

// notElevated is "": the rights a Linux collection lacks are recorded
// item by item.
func notElevated() string { return "" }
