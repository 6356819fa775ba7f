package ntfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrNotNTFS is returned for a boot sector that is not an NTFS one.
var ErrNotNTFS = errors.New("not an NTFS boot sector")

// oemID is the OEM id of an NTFS boot sector (bytes 3 to 10).
const oemID = "NTFS    "

// Boot is what scelle reads of an NTFS boot sector.
type Boot struct {
	SectorSize  int64  // bytes per sector
	ClusterSize int64  // bytes per cluster
	Sectors     int64  // sectors in the volume
	MFTCluster  int64  // first cluster of $MFT
	RecordSize  int64  // bytes per MFT record
	Serial      uint64 // the volume serial number
}

// VolumeSize is the volume's size in bytes, as the boot sector gives it
// (the backup boot sector at its end is not counted).
func (b *Boot) VolumeSize() int64 { return b.Sectors * b.SectorSize }

// IsNTFS reports whether sector (at least 11 bytes) has NTFS's OEM id.
func IsNTFS(sector []byte) bool {
	return len(sector) >= 11 && string(sector[3:11]) == oemID
}

// ParseBoot checks and decodes an NTFS boot sector (512 bytes at least).
// It refuses every value go-ntfs would trust blindly: sector and cluster
// sizes that are not powers of two within NTFS's limits, a record size
// outside 256 B to 64 KiB, an $MFT past the volume's end.
func ParseBoot(s []byte) (*Boot, error) {
	if len(s) < 512 {
		return nil, fmt.Errorf("boot sector: %d bytes, want 512", len(s))
	}
	if !IsNTFS(s) {
		return nil, fmt.Errorf("%w (OEM id %q)", ErrNotNTFS, bytes.TrimRight(s[3:11], "\x00"))
	}
	if s[510] != 0x55 || s[511] != 0xAA {
		return nil, errors.New("boot sector: no 55 AA signature")
	}
	le := binary.LittleEndian
	b := &Boot{SectorSize: int64(le.Uint16(s[11:13]))}
	if !pow2(b.SectorSize) || b.SectorSize < 256 || b.SectorSize > 4096 {
		return nil, fmt.Errorf("boot sector: bad sector size %d", b.SectorSize)
	}
	spc := int64(s[13])
	if !pow2(spc) || spc > 128 {
		// Clusters over 64 KiB (a byte above 0x80) are not read by go-ntfs.
		return nil, fmt.Errorf("boot sector: unsupported sectors per cluster byte %#x", s[13])
	}
	b.ClusterSize = spc * b.SectorSize
	if b.ClusterSize > 64<<10 {
		return nil, fmt.Errorf("boot sector: cluster size %d larger than 64 KiB", b.ClusterSize)
	}
	total := le.Uint64(s[40:48])
	if total == 0 || total > 1<<48/uint64(b.SectorSize) {
		return nil, fmt.Errorf("boot sector: bad sector count %d", total)
	}
	b.Sectors = int64(total)
	mft := le.Uint64(s[48:56])
	if mft == 0 || mft >= uint64(b.VolumeSize()/b.ClusterSize) {
		return nil, fmt.Errorf("boot sector: $MFT cluster %d outside the volume", mft)
	}
	b.MFTCluster = int64(mft)
	rs := int8(s[64])
	switch {
	case rs > 0:
		b.RecordSize = int64(rs) * b.ClusterSize
	case rs < 0 && rs >= -31:
		b.RecordSize = 1 << uint(-rs)
	}
	if !pow2(b.RecordSize) || b.RecordSize < 256 || b.RecordSize > 64<<10 {
		return nil, fmt.Errorf("boot sector: bad MFT record size byte %#x", s[64])
	}
	b.Serial = le.Uint64(s[72:80])
	return b, nil
}

func pow2(n int64) bool { return n > 0 && n&(n-1) == 0 }
