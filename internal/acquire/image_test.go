package acquire

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/profile"
	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/internal/ntfstest"
	"github.com/scelle/scelle/seal"
)

// TestRunImage collects each layout of the Windows-like test image with
// the default profile: every planted file and stream of the triage set
// is in the bag, byte for byte, read raw, with its Windows path; the
// sparse file is stored as its allocated extents.
func TestRunImage(t *testing.T) {
	for _, layout := range ntfstest.Layouts {
		t.Run(string(layout), func(t *testing.T) {
			img := ntfstest.Build(t, ntfstest.Options{Layout: layout})
			var mu = make(chan struct{}, 1)
			var items []collect.Outcome
			res, err := Run(context.Background(), Options{Case: "W-1", Examiner: "tester", Out: t.TempDir(), Image: img.Path,
				Paths: []string{"/Users/*/Documents/**"}, Version: "test"}, Progress{Item: func(o collect.Outcome) {
				mu <- struct{}{}
				items = append(items, o)
				<-mu
			}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Record.Profile != profile.WindowsProfile || res.Record.Live {
				t.Errorf("profile %q, live %v", res.Record.Profile, res.Record.Live)
			}
			if rb := res.ReadBack; rb == nil || rb.Verdict.Status != verdict.Verified {
				t.Fatalf("read back: %+v", rb)
			}
			vol := "volume"
			if layout != ntfstest.Bare {
				vol = "partition1"
			}
			bySource := map[string]collect.Outcome{}
			for _, o := range items {
				bySource[o.Source] = o
			}
			taken := 0
			for _, f := range img.Files {
				if f.Deleted {
					continue
				}
				src := vol + f.WindowsPath()
				o, ok := bySource[src]
				if !ok {
					if inTriage(f) {
						t.Errorf("%s (%s) not collected", src, f.Family)
					}
					continue
				}
				taken++
				if o.ReadVia != evidence.ReadViaRawNTFS || o.Before == nil || o.Before.Windows == nil {
					t.Errorf("%s: read via %q, stat %+v", src, o.ReadVia, o.Before)
				}
				if f.Sparse {
					if o.Status != collect.Partial || len(o.Extents) == 0 || o.Size >= f.Size {
						t.Errorf("%s: sparse stored as %s, %d of %d bytes, extents %v", src, o.Status, o.Size, f.Size, o.Extents)
					}
					continue
				}
				if o.Status != collect.Collected || o.SHA256 != f.SHA256 || o.Size != f.Size {
					t.Errorf("%s: %s %q, %d bytes %s, want %d bytes %s", src, o.Status, o.Reason, o.Size, o.SHA256, f.Size, f.SHA256)
				}
				name := "ntfs/" + vol + "/" + f.Path
				if f.Stream != "" {
					name += ":" + f.Stream
				}
				want := "data/" + seal.EncodeName(name)
				if o.Path != want {
					t.Errorf("%s stored as %s, want %s", src, o.Path, want)
				}
			}
			if taken < 40 {
				t.Errorf("%d planted files collected", taken)
			}
			for _, m := range []string{`\$MFT`, `\$LogFile`, `\$Boot`, `\$Secure:$SDS`} {
				if o := bySource[vol+m]; o.Status != collect.Collected || o.Size == 0 {
					t.Errorf("%s: %+v", m, o)
				}
			}
			o := bySource[img.Path]
			if o.Collector != "ntfs.volumes" || o.Status != collect.Collected {
				t.Fatalf("layout item: %+v", o)
			}
			b, err := os.ReadFile(filepath.Join(res.Sealed.Dir, "record.json"))
			if err != nil || !strings.Contains(string(b), `"read_via": "raw-ntfs"`) && !strings.Contains(string(b), `"read_via":"raw-ntfs"`) {
				t.Errorf("record.json lacks read_via: %v", err)
			}
		})
	}
}

// inTriage reports whether the collection takes f: the windows-triage
// profile, and --path /Users/*/Documents/**. A download is taken for its
// Zone.Identifier stream only, the Recycle Bin for its $I files.
func inTriage(f ntfstest.File) bool {
	switch {
	case f.Family == "download" && f.Stream == "":
		return false
	case f.Family == "recyclebin" && strings.Contains(f.Path, "/$R"):
		return false
	}
	return true
}
