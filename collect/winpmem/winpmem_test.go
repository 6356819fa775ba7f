package winpmem

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/collecttest"
)

// The test binary is also the fake WinPmem: with FAKE_WINPMEM set to a
// size, it writes that many seeded bytes to its standard output, a line
// to its standard error, and exits with FAKE_WINPMEM_EXIT.
func TestMain(m *testing.M) {
	if n := os.Getenv("FAKE_WINPMEM"); n != "" {
		size, _ := strconv.Atoi(n)
		os.Stdout.Write(rawImage(size))
		os.Stderr.WriteString("fake winpmem: " + strings.Join(os.Args[1:], " ") + "\n")
		code, _ := strconv.Atoi(os.Getenv("FAKE_WINPMEM_EXIT"))
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// rawImage is the fake's known stream.
func rawImage(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{'w', 'i', 'n', 'p', 'm', 'e', 'm'})
	r.Read(b)
	return b
}

func fakeProgram(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "winpmem_mini_x64"+map[bool]string{true: ".exe"}[runtime.GOOS == "windows"])
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func collectWith(t *testing.T, c *Collector) (*collecttest.Sink, *collecttest.Outcomes) {
	t.Helper()
	env := collect.Env{Root: "/", Live: true}
	sink, outs := &collecttest.Sink{}, &collecttest.Outcomes{}
	if err := c.Collect(context.Background(), collect.NewSession(&env, c, sink, outs.Add)); err != nil {
		t.Fatal(err)
	}
	return sink, outs
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// TestCollect: WinPmem's stream is stored in EntryChunk chunks that join
// into the image it wrote, each chunk listed with its hash; the program's
// hash (before and once started), its exit status and its standard error
// are recorded.
func TestCollect(t *testing.T) {
	const size = EntryChunk + 12345
	prog := fakeProgram(t)
	t.Setenv("FAKE_WINPMEM", strconv.Itoa(size))
	for _, exit := range []int{0, 3} {
		t.Setenv("FAKE_WINPMEM_EXIT", strconv.Itoa(exit))
		sink, outs := collectWith(t, &Collector{Path: prog})
		want := rawImage(size)
		var got []byte
		var lines []RangeLine
		if len(sink.Files[RangesEntry]) == 0 {
			t.Fatalf("exit %d: no ranges stored; outcomes: %+v", exit, outs.All)
		}
		for _, l := range bytes.Split(bytes.TrimSpace(sink.Files[RangesEntry]), []byte("\n")) {
			var rl RangeLine
			if err := json.Unmarshal(l, &rl); err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			lines = append(lines, rl)
		}
		if len(lines) != 2 {
			t.Fatalf("%d range lines, want 2:\n%s", len(lines), sink.Files[RangesEntry])
		}
		for i, l := range lines {
			off := uint64(i * EntryChunk)
			chunk := sink.Files[ChunkName(off)]
			if l.Entry != "data/"+ChunkName(off) || l.Status != "collected" || l.SHA256 != sum(chunk) ||
				l.Start != "0x"+strconv.FormatUint(off, 16) || l.Bytes != uint64(len(chunk)) || l.Source != "winpmem" {
				t.Errorf("line %d: %+v (chunk of %d bytes)", i, l, len(chunk))
			}
			got = append(got, chunk...)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("the chunks joined (%d bytes) are not the stream written (%d bytes)", len(got), len(want))
		}
		var src Source
		if err := json.Unmarshal(sink.Files[SourceEntry], &src); err != nil {
			t.Fatal(err)
		}
		progBytes, _ := os.ReadFile(prog)
		if src.SHA256 != sum(progBytes) || src.SHA256After != src.SHA256 || src.Size != int64(len(progBytes)) ||
			src.ExitStatus == nil || *src.ExitStatus != exit || src.Bytes != size || src.ImageSHA256 != sum(want) ||
			strings.Join(src.Args, " ") != "-" {
			t.Errorf("exit %d: source %+v", exit, src)
		}
		if got := string(sink.Files[StderrEntry]); got != "fake winpmem: -\n" {
			t.Errorf("stderr stored: %q", got)
		}
		failed := 0
		for _, o := range outs.All {
			if o.Status == collect.Failed {
				failed++
				if exit == 0 || !strings.Contains(o.Reason, "exit status 3") {
					t.Errorf("exit %d: failed: %s", exit, o.Reason)
				}
			}
		}
		if exit != 0 && failed != 1 {
			t.Errorf("exit %d: %d failures recorded, want the exit status", exit, failed)
		}
	}
}

// TestRefused: no program records the RAM as skipped, with why; a
// relative path or a folder is refused, and nothing of RAM is stored.
func TestRefused(t *testing.T) {
	_, outs := collectWith(t, &Collector{})
	if len(outs.All) != 1 || outs.All[0].Status != collect.Skipped || outs.All[0].Reason != SkippedReason {
		t.Errorf("no program: %+v", outs.All)
	}
	for path, why := range map[string]string{"winpmem.exe": "not an absolute path", t.TempDir(): "not a regular file"} {
		sink, outs := collectWith(t, &Collector{Path: path})
		var reasons []string
		for _, o := range outs.All {
			if o.Status == collect.Failed {
				reasons = append(reasons, o.Reason)
			}
		}
		if len(reasons) != 1 || !strings.Contains(reasons[0], why) {
			t.Errorf("%s: failures %q, want %q", path, reasons, why)
		}
		if _, ok := sink.Files[RangesEntry]; ok {
			t.Errorf("%s: ranges stored", path)
		}
	}
}

// TestTimeLimit: on Windows the collector is allowed the Runner's timeout
// plus the host's RAM at 8 MiB/s (physicalMemory, which wine answers
// too); elsewhere, and with no program, the Runner's timeout.
func TestTimeLimit(t *testing.T) {
	var _ collect.Lengthy = (*Collector)(nil)
	c := &Collector{Path: "/stick/winpmem.exe"}
	got := c.TimeLimit(time.Minute)
	total, err := physicalMemory()
	switch {
	case runtime.GOOS != "windows":
		if err == nil || got != time.Minute {
			t.Errorf("not Windows: limit %v, memory %d, %v; want 1m0s and an error", got, total, err)
		}
	case err != nil || total < 64<<20:
		t.Fatalf("GlobalMemoryStatusEx: %d bytes, %v", total, err)
	case got != time.Minute+time.Duration(total/(8<<20)+1)*time.Second:
		t.Errorf("limit %v for %d bytes of RAM", got, total)
	}
	if got := (&Collector{}).TimeLimit(time.Minute); got != time.Minute {
		t.Errorf("no program: limit %v", got)
	}
}
