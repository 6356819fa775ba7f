package seal

import (
	"bufio"
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// resident returns the bytes of the file at path that are in the page
// cache.
func resident(t testing.TB, path string) int64 {
	t.Helper()
	n := residentBytes(path)
	if n < 0 {
		t.Fatalf("mincore %s failed", path)
	}
	return n
}

// residentBytes returns the bytes of the file at path that are in the
// page cache (mincore on a mapping of it), 0 for an empty file, -1 on
// error.
func residentBytes(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return -1
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return -1
	}
	if fi.Size() == 0 {
		return 0
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return -1
	}
	defer unix.Munmap(m)
	page := os.Getpagesize()
	vec := make([]byte, (len(m)+page-1)/page)
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		return -1
	}
	var n int64
	for _, v := range vec {
		n += int64(v & 1)
	}
	return n * int64(page)
}

// pageCacheDrops reports whether the file system of dir drops clean
// pages on advice (tmpfs keeps them: they are the file).
func pageCacheDrops(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Type != unix.TMPFS_MAGIC && st.Type != unix.RAMFS_MAGIC
}

// TestCacheDropper: the archive's bytes leave the page cache as they are
// written; at most the last dropEvery bytes stay.
func TestCacheDropper(t *testing.T) {
	dir := t.TempDir()
	if !pageCacheDrops(dir) {
		t.Skip("the temporary folder is on tmpfs, whose pages are the files")
	}
	for _, drop := range []bool{false, true} {
		path := filepath.Join(dir, "archive"+strconv.FormatBool(drop))
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		var w interface{ Write([]byte) (int, error) } = f
		if drop {
			w = newCacheDropper(f)
		}
		buf := make([]byte, 1<<20)
		rand.NewChaCha8([32]byte{2}).Read(buf)
		const total = 4*dropEvery + 5<<20
		for i := 0; i < total/len(buf); i++ {
			if _, err := w.Write(buf); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		got := resident(t, path)
		if drop && got > dropEvery {
			t.Errorf("with the dropper, %d of %d bytes still in the page cache", got, total)
		}
		if !drop && got < total/2 {
			t.Logf("without the dropper, only %d of %d bytes in the page cache (memory pressure?)", got, total)
		}
		b, _ := os.ReadFile(path)
		if int64(len(b)) != total || !bytes.Equal(b[len(b)-len(buf):], buf) {
			t.Errorf("file of %d bytes, want %d", len(b), total)
		}
	}
}

// meminfoCached returns Cached of /proc/meminfo, in bytes.
func meminfoCached() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Cached:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return -1
}

// BenchmarkSealPageCache seals a 2 GiB stream of incompressible bytes (as
// much archive as payload) in items of 16 MiB, and reports how far Cached
// of /proc/meminfo grew above its level at start (cached-MiB, sampled
// every 20 ms), with the archive's pages dropped as written (drop=on) and
// without (drop=off). Cached counts the whole host: run it on an idle one.
//
//	go test ./seal -run '^$' -bench SealPageCache -benchtime 1x
func BenchmarkSealPageCache(b *testing.B) {
	if !pageCacheDrops(b.TempDir()) {
		b.Skip("the temporary folder is on tmpfs")
	}
	payload := make([]byte, 16<<20)
	rand.NewChaCha8([32]byte{3}).Read(payload)
	const total = 2 << 30
	for _, drop := range []bool{true, false} {
		b.Run(map[bool]string{true: "drop=on", false: "drop=off"}[drop], func(b *testing.B) {
			dropping.Store(drop)
			defer dropping.Store(true)
			b.SetBytes(total)
			for b.Loop() {
				b.StopTimer()
				dir := filepath.Join(b.TempDir(), "bag")
				unix.Sync()
				base := meminfoCached()
				var peak, peakArchive atomic.Int64
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						if c := meminfoCached() - base; c > peak.Load() {
							peak.Store(c)
						}
						if c := residentBytes(filepath.Join(dir+PartialSuffix, ArchiveFile)); c > peakArchive.Load() {
							peakArchive.Store(c)
						}
						select {
						case <-stop:
							return
						case <-time.After(20 * time.Millisecond):
						}
					}
				}()
				b.StartTimer()
				w, err := Create(dir, Options{Collection: "bench", Tool: "scelle bench"})
				if err != nil {
					b.Fatal(err)
				}
				for i := range total / len(payload) {
					if _, err := w.Put(context.Background(), Entry{Name: "live/memory/physical/" + strconv.Itoa(i), Size: int64(len(payload))},
						bytes.NewReader(payload)); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := w.Seal([]byte(`{"record":true}`+"\n"), BagInfo{}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				close(stop)
				wg.Wait()
				b.ReportMetric(float64(peak.Load())/(1<<20), "cached-MiB")
				b.ReportMetric(float64(peakArchive.Load())/(1<<20), "archive-cached-MiB")
				os.RemoveAll(filepath.Dir(dir))
				b.StartTimer()
			}
		})
	}
}
