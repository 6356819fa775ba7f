package mft

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/collecttest"
	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/internal/ntfstest"
)

// TestTimelineCollector runs ntfs.timeline on the MBR test image: the
// $MFT it parses, read raw through collect/ntfs, is byte for byte the
// one ntfsinfo's runs give; the stored outputs are the timeline of it.
func TestTimelineCollector(t *testing.T) {
	_, raw := imageMFT(t)
	img := ntfstest.Build(t, ntfstest.Options{Layout: ntfstest.MBR})
	vol := collect.WindowsVolume{Name: "partition1", Device: img.Path, Offset: img.PartitionOffset, Size: img.PartitionSize}
	env := collect.WindowsImageEnv(img.Path, []collect.WindowsVolume{vol})
	var sink collecttest.Sink
	var outs collecttest.Outcomes
	s := collect.NewSession(&env, TimelineCollector{}, &sink, outs.Add)
	if err := (TimelineCollector{}).Collect(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	for _, o := range outs.All {
		if o.Status != evidence.Collected {
			t.Errorf("%s %s: %s %s", o.Source, o.Path, o.Status, o.Reason)
		}
	}
	var sum TimelineSummary
	if err := json.Unmarshal(sink.Files["parsed/ntfs/partition1/mft-timeline.json"], &sum); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(raw)
	if sum.MFTSHA256 != hex.EncodeToString(want[:]) || sum.MFTSize != int64(len(raw)) || sum.Error != "" {
		t.Errorf("summary %+v; $MFT from ntfsinfo's runs: %d bytes %x", sum, len(raw), want)
	}
	var body, jsonl bytes.Buffer
	if _, err := Timeline(context.Background(), bytes.NewReader(raw), int64(len(raw)), Options{}, "partition1:", &body, &jsonl); err != nil {
		t.Fatal(err)
	}
	if got := sink.Files["parsed/bodyfile/mft-partition1.000.body"]; !bytes.Equal(got, body.Bytes()) || len(got) == 0 {
		t.Errorf("stored bodyfile (%d bytes) is not the timeline (%d bytes)", len(got), body.Len())
	}
	if got := sink.Files["parsed/ntfs/partition1/mft-timeline.000.jsonl"]; !bytes.Equal(got, jsonl.Bytes()) || len(got) == 0 {
		t.Errorf("stored JSON Lines (%d bytes) are not the timeline (%d bytes)", len(got), jsonl.Len())
	}
	if !bytes.Contains(body.Bytes(), []byte("0|partition1:/Users/alice/Desktop/deleted-secret.txt (deleted)|")) {
		t.Error("no deleted file in the bodyfile")
	}
}

// TestTimelineCollectorNoVolume: without a volume the item is skipped,
// with why; a volume that is not NTFS fails, with why.
func TestTimelineCollectorNoVolume(t *testing.T) {
	for _, tc := range []struct {
		vols []collect.WindowsVolume
		want evidence.Status
	}{
		{nil, evidence.Skipped},
		{[]collect.WindowsVolume{{Name: "C:", Device: "/dev/null"}}, evidence.Failed},
	} {
		env := collect.WindowsImageEnv("x", tc.vols)
		var sink collecttest.Sink
		var outs collecttest.Outcomes
		s := collect.NewSession(&env, TimelineCollector{}, &sink, outs.Add)
		if err := (TimelineCollector{}).Collect(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		if len(outs.All) != 1 || outs.All[0].Status != tc.want || outs.All[0].Reason == "" {
			t.Errorf("outcomes %+v, want one %s with a reason", outs.All, tc.want)
		}
	}
}
