package ntfs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/collecttest"
	"github.com/scelle/scelle/internal/evidence"
)

var errSharing = errors.New("The process cannot access the file because it is being used by another process.")

// TestTreeLive plays a live Windows host on the test image: Windows holds
// the system hive locked (read raw), does not find NTUSER.DAT (hidden:
// read raw, with what Windows said), and opens the rest (read through
// it). Each item records which way it was read.
func TestTreeLive(t *testing.T) {
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, baseImage(t), 0o644); err != nil {
		t.Fatal(err)
	}
	files, _ := testFiles()
	var opened []string
	osOpen = func(p string) (io.ReadCloser, int64, error) {
		opened = append(opened, p)
		rel := strings.ReplaceAll(strings.TrimPrefix(p, `C:\`), `\`, "/")
		switch {
		case strings.HasSuffix(rel, "SYSTEM"):
			return nil, 0, errSharing
		case strings.HasSuffix(rel, "NTUSER.DAT"):
			return nil, 0, os.ErrNotExist
		}
		b, ok := files[rel]
		if !ok {
			return nil, 0, os.ErrNotExist
		}
		return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
	}
	osLocked = func(err error) bool { return errors.Is(err, errSharing) }
	t.Cleanup(func() { osOpen, osLocked = openOS, locked })

	env := collect.Env{OS: "windows", Live: true, Windows: collect.WindowsPaths{Volumes: []collect.WindowsVolume{
		{Name: "C:", Device: img, Drive: `C:\`}}}}
	tree := &Tree{ID: "ntfs.live", Vol: collect.ClassDisk, MaxFileSize: -1, Patterns: []string{
		"/Windows/System32/config/SYSTEM", "/Windows/System32/config/SYSTEM.LOG1", "/Users/*/NTUSER.DAT",
		"/Users/*/Downloads/*:Zone.Identifier", "/$MFT"}}
	sink := &collecttest.Sink{}
	var outs collecttest.Outcomes
	if err := tree.Collect(context.Background(), collect.NewSession(&env, tree, sink, outs.Add)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ src, via, reason, file string }{
		{`C:\Windows\System32\config\SYSTEM`, evidence.ReadViaRawNTFS, "", "Windows/System32/config/SYSTEM"},
		{`C:\Windows\System32\config\SYSTEM.LOG1`, evidence.ReadViaOS, "", "Windows/System32/config/SYSTEM.LOG1"},
		{`C:\Users\Alice\NTUSER.DAT`, evidence.ReadViaRawNTFS, "Windows refused to open it", "Users/Alice/NTUSER.DAT"},
		{`C:\Users\Alice\Downloads\tool.exe:Zone.Identifier`, evidence.ReadViaOS, "", "Users/Alice/Downloads/tool.exe:Zone.Identifier"},
		{`C:\$MFT`, evidence.ReadViaRawNTFS, "", ""},
	} {
		o := outs.BySource(c.src)
		if len(o) != 1 || o[0].Status != collect.Collected || o[0].ReadVia != c.via || !strings.Contains(o[0].Reason, c.reason) {
			t.Errorf("%s: %+v", c.src, o)
			continue
		}
		if c.file != "" && !equalBytes(sink.Files["ntfs/C/"+c.file], files[c.file]) {
			t.Errorf("%s: stored bytes differ", c.src)
		}
	}
	for _, p := range opened {
		if strings.Contains(p, "$MFT") {
			t.Errorf("a metafile was opened through Windows: %s", p)
		}
	}
}
