package collect

import (
	"time"
	"unicode/utf8"
)

// Outcome is the record of one planned item: what was looked for, where it
// went and how it ended. Outcomes are what the collection record lists.
type Outcome struct {
	Collector string `json:"collector"`
	Class     Class  `json:"class"`
	// Source is where the item came from: a host path, or a description
	// of a kernel interface ("netlink:RTM_GETLINK").
	Source string `json:"source,omitempty"`
	// SourceRaw holds the source path's bytes when they are not valid
	// UTF-8 (JSON would otherwise replace them).
	SourceRaw []byte `json:"source_raw,omitempty"`
	// Path is the item's path inside the bag; empty when nothing was stored.
	Path   string `json:"path,omitempty"`
	Kind   string `json:"kind"`
	Status Status `json:"status"`
	Reason string `json:"reason,omitempty"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	// LinkTarget is a symbolic link's target, recorded, never followed.
	LinkTarget string    `json:"link_target,omitempty"`
	NoATime    bool      `json:"noatime,omitempty"`
	Before     *FileStat `json:"stat_before,omitempty"`
	After      *FileStat `json:"stat_after,omitempty"`
	Started    time.Time `json:"started"`
	Ended      time.Time `json:"ended"`
}

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
)

// setSource sets Source, and SourceRaw when the path is not valid UTF-8.
func (o *Outcome) setSource(p string) {
	o.Source = p
	if !utf8.ValidString(p) {
		o.SourceRaw = []byte(p)
	}
}

// FileStat is a file's metadata, taken before and after reading it.
type FileStat struct {
	Mode  string    `json:"mode"` // Go's fs.FileMode string: "-rw-r--r--", "drwxr-xr-x", "Lrwxrwxrwx"
	Perm  uint32    `json:"perm"` // st_mode
	UID   uint32    `json:"uid"`
	GID   uint32    `json:"gid"`
	Size  int64     `json:"size"`
	Inode uint64    `json:"inode,omitempty"`
	Dev   uint64    `json:"dev,omitempty"`
	Nlink uint64    `json:"nlink,omitempty"`
	Atime time.Time `json:"atime"`
	Mtime time.Time `json:"mtime"`
	Ctime time.Time `json:"ctime"`
	// Btime is the birth time, where the file system and kernel report it.
	Btime *time.Time `json:"btime,omitempty"`
}

// Changed reports whether the file's content may have changed between
// the two stats.
func (a *FileStat) Changed(b *FileStat) bool {
	if a == nil || b == nil {
		return false
	}
	return a.Size != b.Size || !a.Mtime.Equal(b.Mtime) || !a.Ctime.Equal(b.Ctime) || a.Inode != b.Inode
}
