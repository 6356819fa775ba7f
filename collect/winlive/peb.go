package winlive

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Offsets in the 64-bit PEB and RTL_USER_PROCESS_PARAMETERS.
const (
	pebProcessParameters = 0x20
	rupCurrentDirectory  = 0x38 // CURDIR.DosPath, a UNICODE_STRING
	rupImagePathName     = 0x60
	rupCommandLine       = 0x70
	rupSize              = 0x80 // the bytes read of the parameters
)

// ProcessParams are what a process's parameters block holds: its
// command line, working folder and image path as the process itself
// sees them (and may have rewritten).
type ProcessParams struct {
	CommandLine    string `json:"command_line"`
	CommandLineCut bool   `json:"command_line_truncated,omitempty"`
	Cwd            string `json:"cwd"`
	ImagePath      string `json:"image_path_peb"`
}

// ReadProcessParams reads the parameters of the process whose 64-bit PEB
// is at peb in m, reading at most maxString bytes of each string.
func ReadProcessParams(m Memory, peb uint64, maxString int) (ProcessParams, error) {
	var p ProcessParams
	if peb == 0 {
		return p, fmt.Errorf("no PEB address")
	}
	b, err := m.Read(peb+pebProcessParameters, 8)
	if err != nil {
		return p, fmt.Errorf("PEB: %w", err)
	}
	params := binary.LittleEndian.Uint64(b)
	if params == 0 {
		return p, fmt.Errorf("PEB: no process parameters")
	}
	rup, err := m.Read(params, rupSize)
	if err != nil {
		return p, fmt.Errorf("process parameters: %w", err)
	}
	var errs []error
	str := func(off int, what string, cut *bool) string {
		s, t, err := decodeUnicodeString(rup[off:]).read(m, maxString)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
		if cut != nil {
			*cut = t
		}
		return s
	}
	p.CommandLine = str(rupCommandLine, "command line", &p.CommandLineCut)
	p.Cwd = str(rupCurrentDirectory, "current directory", nil)
	p.ImagePath = str(rupImagePathName, "image path", nil)
	if len(errs) > 0 {
		return p, errors.Join(errs...)
	}
	return p, nil
}
