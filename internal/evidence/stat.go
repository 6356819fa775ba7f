package evidence

import "time"

// Stat is a file's metadata, taken before and after reading it. The
// members up to Btime are POSIX's (statx on Linux, docs/format.md
// section 7.4); Windows is what Windows adds, nil elsewhere.
type Stat struct {
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
	// Windows holds the NTFS metadata of a file read on Windows; nil
	// (and absent from the record) elsewhere.
	Windows *WindowsStat `json:"windows,omitempty"`
}

// WindowsStat is what NTFS records of a file beyond POSIX's stat. A
// Windows collector also fills Stat's Atime, Mtime, Ctime and Btime from
// the $STANDARD_INFORMATION times.
type WindowsStat struct {
	// Attributes are the FILE_ATTRIBUTE_* flags (read-only, hidden,
	// system, archive, reparse point ...).
	Attributes uint32 `json:"attributes"`
	// Stream is the name of the alternate data stream read ("Zone.Identifier");
	// empty for the file's unnamed stream.
	Stream string `json:"stream,omitempty"`
	// MFTEntry and MFTSequence are the file's NTFS file reference: the
	// number of its MFT record and that record's sequence number.
	MFTEntry    uint64 `json:"mft_entry"`
	MFTSequence uint16 `json:"mft_sequence"`
	// StandardInformation are the times of the $STANDARD_INFORMATION
	// attribute, which the Windows API shows (and programs can set).
	StandardInformation MACB `json:"standard_information"`
	// FileName are the times of the $FILE_NAME attribute, which only the
	// kernel sets; nil when the collector could not read the MFT record.
	FileName *MACB `json:"file_name,omitempty"`
}

// MACB are the four times NTFS keeps in an attribute, each converted
// exactly from a FILETIME (FromFiletime).
type MACB struct {
	Modified time.Time `json:"modified"`
	Accessed time.Time `json:"accessed"`
	Changed  time.Time `json:"changed"` // the MFT record changed
	Born     time.Time `json:"born"`
}

// filetimeEpoch is 1601-01-01 UTC in Unix seconds.
const filetimeEpoch = -11644473600

// FromFiletime converts a Windows FILETIME (100-nanosecond intervals
// since 1601-01-01 UTC) to a UTC time, exactly.
func FromFiletime(ft uint64) time.Time {
	return time.Unix(filetimeEpoch+int64(ft/1e7), int64(ft%1e7)*100).UTC()
}

// Changed reports whether the file's content may have changed between
// the two stats.
func (a *Stat) Changed(b *Stat) bool {
	if a == nil || b == nil {
		return false
	}
	return a.Size != b.Size || !a.Mtime.Equal(b.Mtime) || !a.Ctime.Equal(b.Ctime) || a.Inode != b.Inode
}
