package winlive

import (
	"encoding/binary"
	"fmt"
	"time"
)

// spiSize is the size of SYSTEM_PROCESS_INFORMATION on 64-bit Windows;
// its thread records (SYSTEM_THREAD_INFORMATION) follow it.
const spiSize = 256

// maxProcesses bounds the entries decoded from one process list.
const maxProcesses = 1 << 20

// SysProcess is one SYSTEM_PROCESS_INFORMATION entry, as
// NtQuerySystemInformation(SystemProcessInformation) returns it.
type SysProcess struct {
	PID            uint64     `json:"pid"`
	ParentPID      uint64     `json:"ppid"`
	SessionID      uint32     `json:"session_id"`
	ImageName      string     `json:"image_name"`
	Threads        uint32     `json:"threads"`
	HandleCount    uint32     `json:"handle_count"`
	BasePriority   int32      `json:"base_priority"`
	CreateTime     *time.Time `json:"create_time,omitempty"`
	UserTime100ns  int64      `json:"user_time_100ns"`
	KernelTime100s int64      `json:"kernel_time_100ns"`
	VirtualSize    uint64     `json:"virtual_size"`
	WorkingSetSize uint64     `json:"working_set_size"`
	PrivateBytes   uint64     `json:"private_bytes"`
	Error          string     `json:"error,omitempty"`
}

// ParseProcessInformation decodes the chain of SYSTEM_PROCESS_INFORMATION
// entries in buf, a 64-bit layout whose ImageName pointers address the
// same buffer as it lay at address base. It never reads outside buf: an
// entry whose name points elsewhere keeps an error; a chain that leaves
// the buffer, loops or goes backwards ends with an error after the
// entries read so far.
func ParseProcessInformation(buf []byte, base uint64) ([]SysProcess, error) {
	mem := Segment{Base: base, Bytes: buf}
	var out []SysProcess
	le := binary.LittleEndian
	for off := 0; ; {
		if len(buf)-off < spiSize {
			return out, fmt.Errorf("process entry at offset %d: %d bytes left, want %d", off, len(buf)-off, spiSize)
		}
		if len(out) >= maxProcesses {
			return out, fmt.Errorf("more than %d processes", maxProcesses)
		}
		e := buf[off : off+spiSize]
		p := SysProcess{
			Threads:        le.Uint32(e[4:]),
			UserTime100ns:  int64(le.Uint64(e[40:])),
			KernelTime100s: int64(le.Uint64(e[48:])),
			BasePriority:   int32(le.Uint32(e[72:])),
			PID:            le.Uint64(e[80:]),
			ParentPID:      le.Uint64(e[88:]),
			HandleCount:    le.Uint32(e[96:]),
			SessionID:      le.Uint32(e[100:]),
			VirtualSize:    le.Uint64(e[120:]),
			WorkingSetSize: le.Uint64(e[144:]),
			PrivateBytes:   le.Uint64(e[200:]),
		}
		p.CreateTime = filetime(int64(le.Uint64(e[32:])))
		if name := decodeUnicodeString(e[56:]); name.Length > 0 {
			s, _, err := name.read(mem, 1<<16)
			if err != nil {
				p.Error = fmt.Sprintf("image name: %v", err)
			}
			p.ImageName = s
		}
		out = append(out, p)
		next := le.Uint32(e)
		if next == 0 {
			return out, nil
		}
		if next < spiSize || uint64(off)+uint64(next)+spiSize > uint64(len(buf)) {
			return out, fmt.Errorf("process entry at offset %d: next entry offset %d leaves the buffer of %d bytes", off, next, len(buf))
		}
		off += int(next)
	}
}

// filetimeEpoch is 1601-01-01 in Unix seconds.
const filetimeEpoch = -11644473600

// filetime converts a FILETIME (100 ns since 1601-01-01 UTC) to a time,
// nil for zero or a value outside years 1601 to 30827.
func filetime(ft int64) *time.Time {
	if ft <= 0 || ft > 0x7fff35f4f06c7fff {
		return nil
	}
	t := time.Unix(filetimeEpoch+ft/1e7, (ft%1e7)*100).UTC()
	return &t
}
