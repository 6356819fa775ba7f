package seal

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// benchText returns n bytes of syslog-like lines with varying fields; zstd
// gets roughly 5-8x from it, as from real logs.
func benchText(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	hosts := []string{"web-01", "web-02", "db-01", "bastion"}
	progs := []string{"sshd", "CRON", "systemd", "kernel", "sudo", "nginx"}
	msgs := []string{"Failed password for invalid user admin from ", "Accepted publickey for deploy from ",
		"session opened for user root by ", "Started Daily apt download activities from ", "connection reset by "}
	b := make([]byte, 0, n+256)
	t := time.Date(2025, 11, 22, 0, 0, 0, 0, time.UTC)
	for len(b) < n {
		t = t.Add(time.Duration(rng.IntN(3)) * time.Second)
		b = t.AppendFormat(b, time.Stamp)
		b = append(b, ' ')
		b = append(b, hosts[rng.IntN(len(hosts))]...)
		b = append(b, ' ')
		b = append(b, progs[rng.IntN(len(progs))]...)
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(1000+rng.IntN(60000)), 10)
		b = append(b, "]: "...)
		b = append(b, msgs[rng.IntN(len(msgs))]...)
		b = fmt.Appendf(b, "10.%d.%d.%d port %d ssh2\n", rng.IntN(4), rng.IntN(256), rng.IntN(256), 1024+rng.IntN(64000))
	}
	return b[:n]
}

// benchRandom returns n incompressible bytes.
func benchRandom(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{1}).Read(b)
	return b
}

// BenchmarkPut measures Writer.Put, hashing and compressing into a real
// archive file (with its periodic fsync), one item per iteration.
func BenchmarkPut(b *testing.B) {
	for _, kind := range []struct {
		name string
		gen  func(int) []byte
	}{{"text", benchText}, {"random", benchRandom}} {
		for _, size := range []int{64 << 10, 1 << 20, 16 << 20} {
			b.Run(fmt.Sprintf("%s/%dKiB", kind.name, size>>10), func(b *testing.B) {
				payload := kind.gen(size)
				w, err := Create(filepath.Join(b.TempDir(), "bag"), Options{Collection: "bench", Tool: "scelle bench"})
				if err != nil {
					b.Fatal(err)
				}
				defer w.Abort("benchmark done")
				ctx := context.Background()
				b.SetBytes(int64(size))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					i++
					e := Entry{Name: "fs/var/log/item" + strconv.Itoa(i), Size: int64(size), ModTime: time.Unix(1e9, 0)}
					if _, err := w.Put(ctx, e, bytes.NewReader(payload)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkVerify measures Verify of a sealed bag of 64 MiB: half text,
// half random, in items of 1 MiB to 16 MiB.
func BenchmarkVerify(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "case_host_20261122T000000Z")
	w, err := Create(dir, Options{Collection: "bench", Tool: "scelle bench"})
	if err != nil {
		b.Fatal(err)
	}
	text, random := benchText(16<<20), benchRandom(16<<20)
	var total int64
	for i, n := range []int{1 << 20, 4 << 20, 16 << 20, 3 << 20, 8 << 20} {
		for _, p := range [][]byte{text[:n], random[:n]} {
			if _, err := w.Put(context.Background(), Entry{Name: fmt.Sprintf("fs/item%d-%d", i, total), Size: int64(n)},
				bytes.NewReader(p)); err != nil {
				b.Fatal(err)
			}
			total += int64(n)
		}
	}
	if _, err := w.Seal([]byte(`{"record":true}`+"\n"), BagInfo{}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		rep, err := Verify(dir)
		if err != nil {
			b.Fatal(err)
		}
		if !rep.OK() {
			b.Fatalf("verify failed: %+v", rep.Failed())
		}
	}
}

// BenchmarkPutLevel measures Put of 16 MiB items at each fixed level and
// adaptive (on a fast output: adaptive should match fastest), and of a
// memory image (60 % zero pages), the kinds of data issue 16 is about.
// The CPU time per byte is the figure to compare on a busy machine:
// go test -bench PutLevel -cpuprofile cpu.prof -benchtime 20x ./seal.
func BenchmarkPutLevel(b *testing.B) {
	const size = 16 << 20
	mem := benchText(size)
	for i := 0; i < size; i += 4096 {
		if (i/4096)%5 < 3 {
			clear(mem[i : i+4096])
		}
	}
	for _, kind := range []struct {
		name    string
		payload []byte
	}{{"text", benchText(size)}, {"random", benchRandom(size)}, {"mem", mem}} {
		for _, lv := range []struct {
			name     string
			level    zstd.EncoderLevel
			adaptive bool
		}{{"fastest", zstd.SpeedFastest, false}, {"default", zstd.SpeedDefault, false}, {"adaptive", 0, true}} {
			b.Run(kind.name+"/"+lv.name, func(b *testing.B) {
				w, err := Create(filepath.Join(b.TempDir(), "bag"), Options{Collection: "bench", Tool: "scelle bench",
					Level: lv.level, Adaptive: lv.adaptive})
				if err != nil {
					b.Fatal(err)
				}
				defer w.Abort("benchmark done")
				ctx := context.Background()
				b.SetBytes(size)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					i++
					e := Entry{Name: "fs/var/log/item" + strconv.Itoa(i), Size: size, ModTime: time.Unix(1e9, 0)}
					if _, err := w.Put(ctx, e, bytes.NewReader(kind.payload)); err != nil {
						b.Fatal(err)
					}
				}
				w.fr.idle()
				b.ReportMetric(float64(w.Written())/float64(size*i), "out/in")
			})
		}
	}
}
