package acquire

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"testing"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/memory"
	"github.com/scelle/scelle/collect/memory/memorytest"
	"github.com/scelle/scelle/seal"
)

// benchRAM is the size of the fake RAM of BenchmarkCaptureRAM.
const benchRAM = 1 << 30

// sparseRAM fills one page in eight with random bytes and leaves the
// others zero, as an idle host's RAM mostly is.
func sparseRAM(pa uint64, p []byte) {
	var seed [32]byte
	for i := 0; i+4096 <= len(p); i += 4096 {
		page := (pa + uint64(i)) / 4096
		if page%8 != 3 {
			continue
		}
		binary.LittleEndian.PutUint64(seed[:], page)
		rand.NewChaCha8(seed).Read(p[i : i+4096])
	}
}

// benchChild is set in the environment of the process that runs one
// capture or one read for BenchmarkCaptureRAM: "capture DIR" or "read DIR".
const benchChild = "SCELLE_BENCH_CAPTURE_RAM"

func init() {
	var mode, dir string
	if _, err := fmt.Sscan(os.Getenv(benchChild), &mode, &dir); err != nil {
		return
	}
	debug.SetMemoryLimit(40 << 20) // as cmd/scelle's main
	p := memory.Paths{Proc: filepath.Join(dir, "proc"), Sys: filepath.Join(dir, "sys"), Dev: filepath.Join(dir, "dev")}
	var err error
	if mode == "read" {
		err = readKcore(p)
	} else {
		err = captureOnce(p, filepath.Join(dir, "bag"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// readKcore reads the fake RAM alone, 1 MiB at a time, as dd would.
func readKcore(p memory.Paths) error {
	f, err := os.Open(filepath.Join(p.Proc, "kcore"))
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.CopyBuffer(io.Discard, io.NewSectionReader(f, 0x10000, benchRAM), make([]byte, 1<<20))
	return err
}

// captureOnce runs memory.ram into a new bag at dir and seals it.
func captureOnce(p memory.Paths, dir string) error {
	defer os.RemoveAll(dir)
	w, err := seal.Create(dir, seal.Options{Collection: "bench", Tool: "scelle bench"})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var bad error
	r := collect.Runner{Env: collect.LinuxEnv("/"), Sink: &bagSink{w: w, cancel: cancel}, OnOutcome: func(o collect.Outcome) {
		if o.Status != collect.Collected && bad == nil {
			bad = fmt.Errorf("%s: %s", o.Source, o.Reason)
		}
	}}
	if err := r.Run(ctx, []collect.Collector{&memory.RAM{Paths: p}}); err != nil {
		return err
	}
	if _, err := w.Seal([]byte(`{"record":true}`+"\n"), seal.BagInfo{}); err != nil {
		return err
	}
	os.RemoveAll(dir + seal.PartialSuffix)
	return bad
}

// BenchmarkCaptureRAM measures the capture of 1 GiB of fake RAM (one page
// in eight random, the rest zero) from a regular file standing in for
// /proc/kcore: "capture" runs memory.ram into a real bag (LiME chunks,
// hashed, compressed, journaled, the page cache dropped); "read" reads
// the same bytes of the file alone, 1 MiB at a time, as dd would. Each
// iteration runs in a process of its own, with cmd/scelle's heap limit,
// whose peak RSS is reported (peak-RSS-MiB, the most of the iterations)
// with its CPU time (cpu-s/op).
//
//	go test ./internal/acquire -run '^$' -bench CaptureRAM -benchtime 3x
func BenchmarkCaptureRAM(b *testing.B) {
	dir := b.TempDir()
	if _, err := memorytest.Tree(dir, benchRAM, sparseRAM); err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"read", "capture"} {
		b.Run(mode, func(b *testing.B) {
			b.SetBytes(benchRAM)
			var peak int64
			var cpu float64
			n := 0
			for b.Loop() {
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), benchChild+"="+mode+" "+dir)
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%s: %v\n%s", mode, err, out)
				}
				ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
				peak = max(peak, ru.Maxrss)
				cpu += cmd.ProcessState.UserTime().Seconds() + cmd.ProcessState.SystemTime().Seconds()
				n++
			}
			b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
			b.ReportMetric(cpu/float64(n), "cpu-s/op")
		})
	}
}
