package ntfs

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// walkAll reads every stream of every file of v, as a collection would,
// and returns the errors it met. It never reads more than limit bytes of
// one stream.
func walkAll(ctx context.Context, v *Volume, limit int64) []error {
	var errs []error
	seen := map[uint64]bool{}
	var walk func(ref uint64, depth int)
	walk = func(ref uint64, depth int) {
		if seen[ref] || depth > 64 || len(seen) > 10000 {
			return
		}
		seen[ref] = true
		list, err := v.ReadDir(ctx, ref)
		if err != nil {
			errs = append(errs, err)
			return
		}
		for _, e := range list {
			if e.Dir {
				walk(e.Ref, depth+1)
				continue
			}
			in, err := v.Stat(ctx, e.Ref)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, s := range in.Streams {
				f, err := v.OpenStream(ctx, e.Ref, s.Name)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				if _, err := io.Copy(io.Discard, io.LimitReader(f.Reader(ctx), limit)); err != nil {
					errs = append(errs, err)
				}
				if _, err := io.Copy(io.Discard, io.LimitReader(f.AllocatedReader(ctx), limit)); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	walk(RootEntry, 0)
	return errs
}

var (
	baseOnce sync.Once
	baseImg  []byte
	baseErr  error
)

// baseImage is a small NTFS image with the test files, made once.
func baseImage(t testing.TB) []byte {
	need(t, "mkntfs", "ntfs-3g", "umount")
	baseOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ntfs-base")
		if err != nil {
			baseErr = err
			return
		}
		defer os.RemoveAll(dir)
		img := filepath.Join(dir, "base.img")
		files, sparse := testFiles()
		makeVolume(t, img, 8, "BASE", files, sparse)
		baseImg, baseErr = os.ReadFile(img)
	})
	if baseErr != nil {
		t.Fatal(baseErr)
	}
	return bytes.Clone(baseImg)
}

// record returns the byte offset of the MFT record of volume path p in
// img (a fresh image's $MFT is contiguous) and of its attribute of type
// typ (0 when it has none).
func record(t testing.TB, img []byte, p string, typ uint32) (rec, attr int) {
	t.Helper()
	v, err := Open(context.Background(), bytes.NewReader(img), 0, int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	ref := uint64(RootEntry)
	if p != "" {
		e, err := v.Lookup(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		ref = e.Ref
	}
	rec = int(v.Boot.MFTCluster*v.Boot.ClusterSize + int64(ref)*v.Boot.RecordSize)
	le := binary.LittleEndian
	for a := rec + int(le.Uint16(img[rec+0x14:])); a < rec+int(v.Boot.RecordSize)-8; {
		ty, n := le.Uint32(img[a:]), int(le.Uint32(img[a+4:]))
		if ty == 0xFFFFFFFF || n == 0 {
			break
		}
		if ty == typ {
			return rec, a
		}
		a += n
	}
	return rec, 0
}

// hostile are the corruptions every reader of an image must survive:
// each changes a fresh image and says what to expect of the system hive.
var hostile = []struct {
	name  string
	patch func(t testing.TB, img []byte)
	open  bool // Open is expected to fail
	quiet bool // the volume reads without an error (what was damaged is not there)
}{
	{"boot sector sector size 0", func(t testing.TB, img []byte) { img[11], img[12] = 0, 0 }, true, false},
	{"boot sector cluster size 3", func(t testing.TB, img []byte) { img[13] = 3 }, true, false},
	{"boot sector $MFT past the end", func(t testing.TB, img []byte) {
		binary.LittleEndian.PutUint64(img[48:], 1<<40)
	}, true, false},
	{"boot sector huge volume", func(t testing.TB, img []byte) {
		binary.LittleEndian.PutUint64(img[40:], 1<<62)
	}, true, false},
	{"boot sector zeroed", func(t testing.TB, img []byte) { clear(img[:512]) }, true, false},
	{"$MFT record zeroed", func(t testing.TB, img []byte) {
		rec, _ := record(t, img, "$MFT", 0)
		clear(img[rec : rec+1024])
	}, true, false},
	{"data run past the end", func(t testing.TB, img []byte) {
		_, a := record(t, img, "Windows/System32/config/SYSTEM", 0x80)
		rl := a + int(binary.LittleEndian.Uint16(img[a+0x20:]))
		// One run: 4-byte length 0x100 clusters, 4-byte LCN 0x7fffff00.
		copy(img[rl:], []byte{0x44, 0, 1, 0, 0, 0, 0xff, 0xff, 0x7f, 0})
	}, false, false},
	{"huge data size", func(t testing.TB, img []byte) {
		_, a := record(t, img, "Windows/System32/config/SYSTEM", 0x80)
		binary.LittleEndian.PutUint64(img[a+0x30:], 1<<62) // actual size
		binary.LittleEndian.PutUint64(img[a+0x38:], 1<<62) // initialized size
	}, false, false},
	{"huge folder index", func(t testing.TB, img []byte) {
		_, a := record(t, img, "", 0xA0)
		if a == 0 {
			t.Skip("root folder without an index allocation")
		}
		binary.LittleEndian.PutUint64(img[a+0x30:], 1<<62)
	}, false, false},
	{"looping attribute lists", func(t testing.TB, img []byte) {
		// The data attributes of two files become attribute lists whose
		// entries name each other's records, over and over.
		ra, a := record(t, img, "small.txt", 0x80)
		rb, b := record(t, img, "Users/Alice/NTUSER.DAT", 0x80)
		if a == 0 || b == 0 {
			t.Fatal("no data attribute")
		}
		refA := uint64(binary.LittleEndian.Uint32(img[ra+0x2C:]))
		refB := uint64(binary.LittleEndian.Uint32(img[rb+0x2C:]))
		binary.LittleEndian.PutUint32(img[a:], 0x20)
		binary.LittleEndian.PutUint32(img[b:], 0x20)
		// Make b resident with list entries in its content.
		img[b+8] = 0
		list := func(at int, ref uint64) {
			co := at + 0x18
			binary.LittleEndian.PutUint16(img[at+0x14:], 0x18)
			n := 0
			for e := co; e+32 <= at+int(binary.LittleEndian.Uint32(img[at+4:])); e += 32 {
				clear(img[e : e+32])
				binary.LittleEndian.PutUint32(img[e:], 0x80)
				binary.LittleEndian.PutUint16(img[e+4:], 32)
				binary.LittleEndian.PutUint64(img[e+0x10:], ref)
				n += 32
			}
			binary.LittleEndian.PutUint32(img[at+0x10:], uint32(n))
		}
		list(a, refB)
		list(b, refA)
	}, false, true}, // go-ntfs follows a list one level: the two files lose their data
}

// TestHostile opens each corrupted image and reads all of it: a clear
// error where the image is broken, never a panic or a hang.
func TestHostile(t *testing.T) {
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			img := baseImage(t)
			h.patch(t, img)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			v, err := Open(ctx, bytes.NewReader(img), 0, int64(len(img)))
			if h.open {
				if err == nil {
					t.Fatal("opened a volume with a corrupt boot sector or $MFT")
				}
				t.Logf("open: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			errs := walkAll(ctx, v, 64<<20)
			for _, err := range errs {
				if errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("walk ran out of time: %v", err)
				}
				t.Logf("error: %v", err)
			}
			if len(errs) == 0 && !h.quiet {
				t.Error("a corrupt image read without an error")
			}
		})
	}
}

// FuzzVolume patches bytes into a real image and reads the whole volume.
func FuzzVolume(f *testing.F) {
	img := baseImage(f)
	for _, h := range hostile {
		c := bytes.Clone(img)
		h.patch(f, c)
		// The seed is the first differing span.
		i := 0
		for i < len(c) && c[i] == img[i] {
			i++
		}
		j := len(c)
		for j > i && c[j-1] == img[j-1] {
			j--
		}
		if i < j {
			f.Add(uint32(i), c[i:j])
		}
	}
	f.Fuzz(func(t *testing.T, at uint32, patch []byte) {
		c := bytes.Clone(img)
		copy(c[int(at)%len(c):], patch)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		v, err := Open(ctx, bytes.NewReader(c), 0, int64(len(c)))
		if err != nil {
			return
		}
		for _, err := range walkAll(ctx, v, 16<<20) {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("walk ran out of time: %v", err)
			}
		}
	})
}

// FuzzParseBoot: any 512 bytes give a boot sector or an error.
func FuzzParseBoot(f *testing.F) {
	good := make([]byte, 512)
	copy(good[3:], oemID)
	binary.LittleEndian.PutUint16(good[11:], 512)
	good[13] = 8
	binary.LittleEndian.PutUint64(good[40:], 16384)
	binary.LittleEndian.PutUint64(good[48:], 4)
	good[64] = 0xF6
	good[510], good[511] = 0x55, 0xAA
	f.Add(good)
	for _, m := range []func(b []byte){
		func(b []byte) { b[13] = 0xF4 },
		func(b []byte) { b[64] = 0x81 },
		func(b []byte) { binary.LittleEndian.PutUint64(b[48:], 1<<63) },
		func(b []byte) { binary.LittleEndian.PutUint64(b[40:], 0) },
	} {
		b := bytes.Clone(good)
		m(b)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		bt, err := ParseBoot(b)
		if err == nil && (bt.ClusterSize <= 0 || bt.RecordSize < 256 || bt.MFTCluster*bt.ClusterSize >= bt.VolumeSize()) {
			t.Fatalf("accepted %+v", bt)
		}
	})
}
