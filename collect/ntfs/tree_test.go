package ntfs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/collecttest"
	"github.com/scelle/scelle/internal/evidence"
)

func TestTree(t *testing.T) {
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, baseImage(t), 0o644); err != nil {
		t.Fatal(err)
	}
	files, _ := testFiles()
	env := collect.WindowsImageEnv(img, []collect.WindowsVolume{{Name: "volume", Device: img}})
	tree := &Tree{ID: "ntfs.test", Vol: collect.ClassDisk, Patterns: []string{
		"/Windows/System32/config/SYSTEM*",
		"/users/*/ntuser.dat",                   // case does not matter
		"/Users/*/Downloads/**:Zone.Identifier", // the stream only
		"/sparse.bin",
		"/small.txt",
		"/$Extend/$UsnJrnl:$J", // mkntfs makes no journal
		"/$MFT",
		"/Windows/Prefetch/*.pf", // no such folder
	}, MaxFileSize: -1}
	sink := &collecttest.Sink{}
	var outs collecttest.Outcomes
	if err := tree.Collect(context.Background(), collect.NewSession(&env, tree, sink, outs.Add)); err != nil {
		t.Fatal(err)
	}
	for p, want := range files {
		name := "ntfs/volume/" + p
		if strings.HasSuffix(p, "tool.exe") {
			if _, ok := sink.Files[name]; ok {
				t.Errorf("%s taken: the pattern asks for its stream only", p)
			}
			continue
		}
		got, ok := sink.Files[name]
		if p == "sparse.bin" {
			// Only the allocated part is stored, and said.
			o := outs.BySource(`volume\sparse.bin`)
			if len(o) != 1 || o[0].Status != collect.Partial || !strings.Contains(o[0].Reason, "sparse") || len(o[0].Extents) == 0 {
				t.Fatalf("sparse.bin: %+v", o)
			}
			var back []byte
			for _, x := range o[0].Extents {
				back = append(back, want[x.Offset:x.Offset+x.Length]...)
			}
			if !equalBytes(got, back) || int64(len(got)) >= int64(len(want)) {
				t.Errorf("sparse.bin: %d bytes stored, extents %v", len(got), o[0].Extents)
			}
			continue
		}
		if !ok || !equalBytes(got, want) {
			t.Errorf("%s: stored %v, %d bytes, want %d", name, ok, len(got), len(want))
		}
	}
	src := `volume\Users\Alice\Downloads\tool.exe:Zone.Identifier`
	o := outs.BySource(src)
	if len(o) != 1 || o[0].Status != collect.Collected || o[0].ReadVia != evidence.ReadViaRawNTFS || o[0].Before.Windows == nil ||
		o[0].Before.Windows.Stream != "Zone.Identifier" || o[0].Before.Windows.MFTEntry == 0 || o[0].Before.Windows.FileName == nil {
		t.Errorf("%s: %+v", src, o)
	}
	if _, ok := sink.Files["ntfs/volume/Users/Alice/Downloads/tool.exe:Zone.Identifier"]; !ok {
		t.Error("the Zone.Identifier stream is not stored under the file's name and stream")
	}
	if o := outs.BySource(`volume\$MFT`); len(o) != 1 || o[0].Status != collect.Collected || o[0].Size < 16*1024 {
		t.Errorf("$MFT: %+v", o)
	}
	for _, src := range []string{`volume\$Extend\$UsnJrnl:$J`, `volume\Windows\Prefetch\*.pf`} {
		if o := outs.BySource(src); len(o) != 1 || o[0].Status != collect.Skipped || o[0].Reason != collect.ReasonNotPresent {
			t.Errorf("%s: %+v", src, o)
		}
	}
	// A size cap keeps the first bytes, and says so.
	capped := &Tree{ID: "ntfs.cap", Vol: collect.ClassDisk, Patterns: []string{"/Windows/System32/config/SYSTEM"}, MaxFileSize: 1000}
	sink2 := &collecttest.Sink{}
	var outs2 collecttest.Outcomes
	capped.Collect(context.Background(), collect.NewSession(&env, capped, sink2, outs2.Add))
	if o := outs2.All; len(o) != 1 || o[0].Status != collect.Partial || o[0].Size != 1000 || !strings.Contains(o[0].Reason, "size cap") {
		t.Errorf("capped: %+v", o)
	}
}

func TestTreeNoImage(t *testing.T) {
	env := collect.WindowsImageEnv("/nonexistent", []collect.WindowsVolume{{Name: "volume", Device: "/nonexistent"}})
	tree := &Tree{ID: "ntfs.test", Vol: collect.ClassDisk, Patterns: []string{"/$MFT"}}
	var outs collecttest.Outcomes
	tree.Collect(context.Background(), collect.NewSession(&env, tree, &collecttest.Sink{}, outs.Add))
	if len(outs.All) != 1 || outs.All[0].Status != collect.Failed || !strings.Contains(outs.All[0].Reason, "open /nonexistent") {
		t.Errorf("%+v", outs.All)
	}
}
