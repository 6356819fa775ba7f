package ntfstest

import (
	"time"
)

// Layout is how the NTFS volume is laid out in the image file.
type Layout string

const (
	// Bare is the volume alone: a partition image, NTFS from byte 0.
	Bare Layout = "bare"
	// MBR is a disk image with an MBR partition table whose first
	// partition (type 0x07) holds the volume at PartitionOffset.
	MBR Layout = "mbr"
	// GPT is a disk image with a GPT whose first partition (Microsoft
	// basic data) holds the volume at PartitionOffset.
	GPT Layout = "gpt"
)

// Layouts lists every layout, for table tests.
var Layouts = []Layout{Bare, MBR, GPT}

// Options choose the image. The zero value is the default Windows-like
// volume in a bare partition image.
type Options struct {
	Layout Layout // "" means Bare
	// ExtraFiles adds that many small files (64 bytes each) under
	// Users/alice/AppData/Local/Temp/fill/, for benchmarks; they are
	// not in Files.
	ExtraFiles int
	// VolumeSize is the size of the NTFS volume in bytes; 0 means 64 MiB
	// (enough for the planted files and ExtraFiles up to about 50,000).
	VolumeSize int64
}

// Image is a built image. Its files are shared with other tests: open
// them read-only.
type Image struct {
	Path   string // the image file
	Layout Layout
	// PartitionOffset and PartitionSize are the volume's place in Path,
	// in bytes (0 and the file's size for Bare).
	PartitionOffset int64
	PartitionSize   int64
	Label           string // the volume label
	// Serial is the volume serial number from the boot sector.
	Serial uint64
	Files  []File // the manifest: every planted file and stream
}

// File is one planted file, or one named stream of a file.
type File struct {
	// Path is the file's path inside the volume, relative to its root,
	// with '/' between names and the case the file was created with
	// ("Windows/System32/config/SYSTEM").
	Path string `json:"path"`
	// Stream is the name of the alternate data stream ("Zone.Identifier"),
	// "" for the file's unnamed data.
	Stream string `json:"stream,omitempty"`
	Family string `json:"family"` // the artifact family ("registry", "evtx", ...)
	SHA256 string `json:"sha256"` // lower-case hex of the stream's bytes
	Size   int64  `json:"size"`
	// Created, Modified and Accessed are the $STANDARD_INFORMATION times
	// the builder set, UTC (zero for streams, folders' entries and the
	// deleted file). The MFT change time cannot be set through ntfs-3g:
	// it is the time of the build.
	Created    time.Time `json:"created,omitzero"`
	Modified   time.Time `json:"modified,omitzero"`
	Accessed   time.Time `json:"accessed,omitzero"`
	Deleted    bool      `json:"deleted,omitempty"`    // deleted before unmounting: its MFT record is free
	Sparse     bool      `json:"sparse,omitempty"`     // has the sparse attribute, with holes
	Fragmented bool      `json:"fragmented,omitempty"` // its data has more than one run
}

// WindowsPath is the file's path in its Windows form, "\" between names,
// and ":" and the stream name for a stream.
func (f File) WindowsPath() string {
	b := []byte(`\` + f.Path)
	for i, c := range b {
		if c == '/' {
			b[i] = '\\'
		}
	}
	if f.Stream != "" {
		return string(b) + ":" + f.Stream
	}
	return string(b)
}

// Find returns the manifest entry for path (and stream), or false.
func (img *Image) Find(path, stream string) (File, bool) {
	for _, f := range img.Files {
		if f.Path == path && f.Stream == stream {
			return f, true
		}
	}
	return File{}, false
}
