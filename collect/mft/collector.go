package mft

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/ntfs"
)

// ChunkSize caps one stored chunk of the timeline's outputs.
const ChunkSize = collect.ChunkSize

// TimelineCollector is the native ntfs.timeline: for each NTFS volume of
// the collection (Env.Windows.Volumes) it reads $MFT raw from the volume
// and stores its timeline:
//
//	parsed/bodyfile/mft-VOLUME.000.body ...        the bodyfile (chain/export's bodyfile takes it)
//	parsed/ntfs/VOLUME/mft-timeline.000.jsonl ...  the JSON Lines (TimelineEntry)
//	parsed/ntfs/VOLUME/mft-timeline.json           a summary (TimelineSummary)
//
// VOLUME is the volume's name without its colon ("C", "partition2").
// Outputs are cut into chunks of at most ChunkSize bytes at line
// boundaries, numbered from 000; chunk 000 is always stored. The
// bodyfile's names start with the volume's name and a colon
// ("C:/Windows/System32/config/SYSTEM"). The summary gives the walk's
// counts and the SHA-256 of the $MFT stream the timeline was parsed from:
// on an image it equals the collected $MFT's; on a live host $MFT may
// have changed between the two reads.
type TimelineCollector struct{}

// Name implements collect.Collector.
func (TimelineCollector) Name() string { return "ntfs.timeline" }

// Class implements collect.Collector.
func (TimelineCollector) Class() collect.Class { return collect.ClassDisk }

// TimelineSummary is the content of mft-timeline.json.
type TimelineSummary struct {
	Volume    string `json:"volume"`
	MFTSize   int64  `json:"mft_size"`
	MFTSHA256 string `json:"mft_sha256"`
	Stats     Stats  `json:"stats"`
	Error     string `json:"error,omitempty"`
}

// Collect implements collect.Collector.
func (c TimelineCollector) Collect(ctx context.Context, s *collect.Session) error {
	vols := s.Env.Windows.Volumes
	if len(vols) == 0 {
		s.Skip(`$MFT`, collect.KindGenerated, "no NTFS volume to collect from")
		return nil
	}
	for i := range vols {
		c.volume(ctx, s, &vols[i])
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

func (TimelineCollector) volume(ctx context.Context, s *collect.Session, vol *collect.WindowsVolume) {
	source := ntfs.Source(vol, []string{"$MFT"})
	v, closer, err := ntfs.OpenVolume(ctx, vol)
	if err != nil {
		s.Fail(source, collect.KindGenerated, err)
		return
	}
	defer closer.Close()
	f, err := v.OpenStream(ctx, 0, "")
	if err != nil {
		s.Fail(source, collect.KindGenerated, fmt.Errorf("open $MFT: %w", err))
		return
	}
	name := strings.TrimSuffix(vol.Name, ":")
	body := collect.NewChunks(ctx, s, "parsed/bodyfile/mft-"+name, "body", source, ChunkSize)
	jsonl := collect.NewChunks(ctx, s, "parsed/ntfs/"+name+"/mft-timeline", "jsonl", source, ChunkSize)
	h := sha256.New()
	st, err := Timeline(ctx, readerAt{ctx, f}, f.Size, Options{Tee: h}, name+":", body, jsonl)
	body.Close(ctx)
	jsonl.Close(ctx)
	sum := TimelineSummary{Volume: vol.Name, MFTSize: f.Size, Stats: st}
	if err == nil {
		sum.MFTSHA256 = hex.EncodeToString(h.Sum(nil))
	} else {
		sum.Error = err.Error()
		s.Fail(source, collect.KindGenerated, fmt.Errorf("timeline: %w", err))
	}
	b, _ := json.MarshalIndent(sum, "", "  ") // a struct of strings and numbers always marshals
	s.PutBytes(ctx, "parsed/ntfs/"+name+"/mft-timeline.json", source, append(b, '\n'))
}

// readerAt binds a stream of the volume to the collection's context.
type readerAt struct {
	ctx context.Context
	f   *ntfs.File
}

func (r readerAt) ReadAt(b []byte, off int64) (int, error) { return r.f.ReadAt(r.ctx, b, off) }

// Compile-time check that the reader fits Timeline.
var _ io.ReaderAt = readerAt{}
