package ntfs

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func testFiles() (map[string][]byte, map[string]int64) {
	files := map[string][]byte{
		"Windows/System32/config/SYSTEM":                 pattern(300<<10, 1),
		"Windows/System32/config/SYSTEM.LOG1":            pattern(8<<10, 2),
		"Users/Alice/NTUSER.DAT":                         pattern(70<<10, 3),
		"Users/Alice/Downloads/tool.exe":                 pattern(5000, 4),
		"Users/Alice/Downloads/tool.exe:Zone.Identifier": []byte("[ZoneTransfer]\r\nZoneId=3\r\n"),
		"small.txt":  []byte("resident\n"),
		"sparse.bin": append(make([]byte, 3<<20), pattern(64<<10, 5)...),
	}
	return files, map[string]int64{"sparse.bin": 3 << 20}
}

func openTestVolume(t *testing.T) (*Volume, map[string][]byte) {
	need(t, "mkntfs", "ntfs-3g", "umount")
	img := filepath.Join(t.TempDir(), "vol.img")
	files, sparse := testFiles()
	makeVolume(t, img, 16, "TESTVOL", files, sparse)
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, _ := f.Stat()
	v, err := Open(context.Background(), f, 0, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	return v, files
}

func TestVolume(t *testing.T) {
	v, files := openTestVolume(t)
	ctx := context.Background()
	if l, err := v.Label(ctx); err != nil || l != "TESTVOL" {
		t.Errorf("label %q, %v", l, err)
	}
	for p, want := range files {
		name, stream := p, ""
		if i := len(p) - len(":Zone.Identifier"); i > 0 && p[i:] == ":Zone.Identifier" {
			name, stream = p[:i], "Zone.Identifier"
		}
		e, err := v.Lookup(ctx, `\`+filepath.ToSlash(name)) // leading separator, either kind
		if err != nil {
			t.Errorf("lookup %s: %v", p, err)
			continue
		}
		f, err := v.OpenStream(ctx, e.Ref, stream)
		if err != nil {
			t.Errorf("open %s: %v", p, err)
			continue
		}
		got, err := io.ReadAll(f.Reader(ctx))
		if err != nil || !equalBytes(got, want) {
			t.Errorf("%s: %d bytes (%v), want %d", p, len(got), err, len(want))
		}
		if p == "sparse.bin" {
			if !f.Sparse || f.AllocatedSize() >= f.Size {
				t.Errorf("sparse.bin: sparse %v, %d of %d bytes allocated %v", f.Sparse, f.AllocatedSize(), f.Size, f.Allocated)
			}
			alloc, err := io.ReadAll(f.AllocatedReader(ctx))
			if err != nil || int64(len(alloc)) != f.AllocatedSize() {
				t.Errorf("allocated part: %d bytes, %v", len(alloc), err)
			}
		}
	}
	// Windows matches names without regard to case.
	if _, err := v.Lookup(ctx, "windows/SYSTEM32/Config/system"); err != nil {
		t.Errorf("case-insensitive lookup: %v", err)
	}
	if _, err := v.Lookup(ctx, "Windows/nothing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	// Metafiles are in the root folder.
	for _, m := range []string{"$MFT", "$LogFile", "$Boot", "$Secure", "$Extend"} {
		if _, err := v.Lookup(ctx, m); err != nil {
			t.Errorf("%s: %v", m, err)
		}
	}
	e, _ := v.Lookup(ctx, "$Secure")
	if f, err := v.OpenStream(ctx, e.Ref, "$SDS"); err != nil || f.Size == 0 {
		t.Errorf("$Secure:$SDS: %v", err)
	}
	in, err := v.Stat(ctx, RootEntry)
	if err != nil || !in.Dir || !in.InUse || in.FN == nil || in.SI.Born.IsZero() {
		t.Errorf("stat root: %+v, %v", in, err)
	}
}
