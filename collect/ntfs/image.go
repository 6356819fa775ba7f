package ntfs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/scelle/scelle/collect"
)

// ErrNoNTFS is returned for an image that holds no NTFS volume that can
// be opened.
var ErrNoNTFS = errors.New("no NTFS volume")

// Layout is what an image holds: its partitions and the NTFS volumes
// found on them. It is stored in the bag as ntfs/volumes.json.
type Layout struct {
	Image      string                  `json:"image"`
	Size       int64                   `json:"size"`
	Partitions []Partition             `json:"partitions"`
	Volumes    []collect.WindowsVolume `json:"volumes"`
	// Error is the error that ended reading the partition table, if any.
	Error string `json:"error,omitempty"`
}

// ImageLayout opens the disk image, partition image or block device at
// p read only, lists its partitions and opens each NTFS one. A volume
// that does not open is listed with the partition's Error. It fails when
// p cannot be read or holds no NTFS volume that opens.
func ImageLayout(ctx context.Context, p string) (*Layout, error) {
	r, size, err := openDevice(p)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", p, err)
	}
	defer r.Close()
	l := &Layout{Image: p, Size: size}
	parts, perr := Partitions(r, size)
	if perr != nil {
		if len(parts) == 0 {
			return nil, fmt.Errorf("image %s: %w: %w", p, ErrNoNTFS, perr)
		}
		l.Error = perr.Error()
	}
	var why []string
	for i := range parts {
		pt := &parts[i]
		if !pt.NTFS || pt.Error != "" {
			continue
		}
		v, err := Open(ctx, r, pt.Offset, pt.Size)
		if err != nil {
			pt.Error = err.Error()
			why = append(why, fmt.Sprintf("partition %d: %v", pt.Index, err))
			continue
		}
		name := fmt.Sprintf("partition%d", pt.Index)
		if pt.Scheme == "none" {
			name = "volume"
		}
		label, _ := v.Label(ctx)
		l.Volumes = append(l.Volumes, collect.WindowsVolume{Name: name, Device: p, Offset: pt.Offset, Size: pt.Size,
			Serial: v.Boot.Serial, Label: label})
	}
	l.Partitions = parts
	if len(l.Volumes) == 0 {
		if len(why) == 0 {
			why = append(why, fmt.Sprintf("%d partitions, none of them NTFS", len(parts)))
		}
		return nil, fmt.Errorf("image %s: %w (%s)", p, ErrNoNTFS, strings.Join(why, "; "))
	}
	return l, nil
}

// LayoutCollector stores an image's Layout as ntfs/volumes.json.
type LayoutCollector struct{ Layout *Layout }

// Name implements collect.Collector.
func (LayoutCollector) Name() string { return "ntfs.volumes" }

// Class implements collect.Collector.
func (LayoutCollector) Class() collect.Class { return collect.ClassSystem }

// Collect implements collect.Collector.
func (c LayoutCollector) Collect(ctx context.Context, s *collect.Session) error {
	b, err := json.MarshalIndent(c.Layout, "", "  ")
	if err != nil {
		s.Fail(c.Layout.Image, collect.KindGenerated, err)
		return nil
	}
	s.PutBytes(ctx, "ntfs/volumes.json", c.Layout.Image, append(b, '\n'))
	return ctx.Err()
}
