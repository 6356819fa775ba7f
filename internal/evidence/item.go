package evidence

import (
	"time"
	"unicode/utf8"
)

// Item is the record of one planned item: what was looked for, where it
// went and how it ended. The record lists one Item per planned item, in
// the order they ended. The members and their order are the record's
// (docs/format.md section 7.3).
type Item struct {
	// Collector is the id of the collector (files.paths, proc.table).
	Collector string `json:"collector"`
	// Class is the volatility class's name (process, network, system,
	// temp, disk). A record read from a bag may hold any string.
	Class string `json:"class"`
	// Source is where the item came from: a host path, or a description
	// of a kernel interface ("netlink:RTM_GETLINK").
	Source string `json:"source,omitempty"`
	// SourceRaw holds the source path's bytes when they are not valid
	// UTF-8 (JSON would otherwise replace them). SetSource sets both.
	SourceRaw []byte `json:"source_raw,omitempty"`
	// Path is the item's path inside the bag (data/...); empty when
	// nothing was stored.
	Path   string `json:"path,omitempty"`
	Kind   string `json:"kind"`
	Status Status `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Size is the number of bytes stored, zero padding included.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	// LinkTarget is a symbolic link's target, recorded, never followed.
	LinkTarget string `json:"link_target,omitempty"`
	NoATime    bool   `json:"noatime,omitempty"`
	// ReadVia says how a Windows file was read: ReadViaOS (the operating
	// system's file API) or ReadViaRawNTFS (parsing the NTFS volume);
	// empty for other items.
	ReadVia string `json:"read_via,omitempty"`
	// Extents, when present, are the ranges of the source stream that
	// were stored, one after the other: the allocated extents of a sparse
	// NTFS stream, whose other bytes read as zeros.
	Extents []Extent `json:"extents,omitempty"`
	// Before and After are the file's stat before and after it was read.
	Before  *Stat     `json:"stat_before,omitempty"`
	After   *Stat     `json:"stat_after,omitempty"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
}

// Extent is a range of bytes of a source stream.
type Extent struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
}

// How a Windows file was read (Item.ReadVia).
const (
	ReadViaOS      = "os"
	ReadViaRawNTFS = "raw-ntfs"
)

// Item kinds.
const (
	KindFile      = "file"
	KindDir       = "dir"
	KindSymlink   = "symlink"
	KindFIFO      = "fifo"
	KindSocket    = "socket"
	KindDevice    = "device"
	KindGenerated = "generated" // produced by scelle from kernel data (JSON Lines, listings)
	KindKernel    = "kernel"    // a kernel interface file read as is (/proc, /sys)
	KindCollector = "collector" // the outcome of a whole collector that failed or was not run
)

// SetSource sets Source to p, and SourceRaw to its bytes when p is not
// valid UTF-8.
func (it *Item) SetSource(p string) {
	it.Source = p
	it.SourceRaw = nil
	if !utf8.ValidString(p) {
		it.SourceRaw = []byte(p)
	}
}
