//go:build linux

package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/collect/winpmem"
	"github.com/scelle/scelle/internal/winetest"
	"github.com/scelle/scelle/seal"
)

// plantedSource is the Windows program the end-to-end test plants: with
// "listen", it holds a listening loopback socket and prints its port;
// with "-" (as WinPmem is run), it is a fake WinPmem that writes the
// known raw stream of fakeRAM to its standard output.
const plantedSource = `package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-" {
		b := make([]byte, %d)
		rand.NewChaCha8([32]byte{'r', 'a', 'm'}).Read(b)
		os.Stdout.Write(b)
		fmt.Fprintln(os.Stderr, "fake winpmem: done")
		return
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	time.Sleep(10 * time.Minute)
}
`

// fakeRAMSize is the size of the fake WinPmem's stream: two chunks and
// a bit.
const fakeRAMSize = 2*winpmem.EntryChunk + 4093

func fakeRAM() []byte {
	b := make([]byte, fakeRAMSize)
	rand.NewChaCha8([32]byte{'r', 'a', 'm'}).Read(b)
	return b
}

func sumHex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// TestWindowsCollect runs scelle.exe collect under wine, as a responder
// would on a live Windows host, against a planted program (built by the
// test) listening on a loopback port, with a fake WinPmem; the Linux
// scelle verifies the bag, and the test reads it.
//
// What wine cannot show: socket owners (wine reports every socket's pid
// as 0, so the socket is found by its port, not its process), Authenticode
// (nothing is signed), real RAM (the WinPmem is a fake), sessions and
// logons as Windows keeps them. The parsing of real API structures is
// tested with recorded fixtures in collect/winlive.
func TestWindowsCollect(t *testing.T) {
	if testing.Short() {
		t.Skip("builds scelle.exe and runs it under wine")
	}
	prefix := winetest.Prefix(t)
	work := t.TempDir()
	// scelle.exe runs from "the stick" (a folder outside drive C:); the
	// planted program lives on drive C:, the system drive, as a suspect.
	stick := filepath.Join(work, "stick")
	os.MkdirAll(stick, 0o755)
	scelleExe := filepath.Join(stick, "scelle.exe")
	winetest.Build(t, ".", scelleExe, ".")
	src := filepath.Join(work, "planted.go")
	if err := os.WriteFile(src, []byte(fmt.Sprintf(plantedSource, fakeRAMSize)), 0o644); err != nil {
		t.Fatal(err)
	}
	suspectDir, err := os.MkdirTemp(winetest.DriveC(prefix), "scelle-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(suspectDir) })
	planted := filepath.Join(suspectDir, "planted.exe")
	winetest.Build(t, src, planted, work)
	pmemExe := filepath.Join(stick, "winpmem_mini_x64.exe")
	winetest.Build(t, src, pmemExe, work)
	plantedBytes, _ := os.ReadFile(planted)
	winpmemBytes, _ := os.ReadFile(pmemExe)

	// The suspect, listening.
	suspect := winetest.Command(prefix, planted, "listen")
	stdout, _ := suspect.StdoutPipe()
	if err := suspect.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { suspect.Process.Kill(); suspect.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	port, perr := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || perr != nil {
		t.Fatalf("planted program: %q, %v %v", line, err, perr)
	}

	// What this build collects of a live Windows host: the Windows
	// volatile collectors come with the windows-triage profile.
	profiles, _ := exec.Command(scelleBinary(t), "profiles").CombinedOutput()
	triage := strings.Contains(string(profiles), "windows-triage")
	suspectPath := "/" + filepath.Base(suspectDir) + "/planted.exe" // under C:\
	// The output folder, given as a Windows path, lies beyond MAX_PATH
	// (260): scelle's paths need the \\?\ form there, which Go's os adds.
	out := filepath.Join(work, "out", strings.Repeat("d", 120), strings.Repeat("e", 120))
	if n := len(winetest.WindowsPath(out)); n <= 260 {
		t.Fatalf("the output path is %d characters, not beyond MAX_PATH", n)
	}
	args := []string{"collect", "--no-prompt", "--case", "E2E", "--examiner", "wine",
		"--out", winetest.WindowsPath(out), "--winpmem", winetest.WindowsPath(pmemExe),
		"--path", `C:` + strings.ReplaceAll(suspectPath, "/", `\`)} // as a Windows responder types it
	if triage {
		args = append(args, "--profile", "windows-triage")
	}
	cmd := winetest.Command(prefix, scelleExe, args...)
	var sumOut, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &sumOut, &errOut
	began := time.Now()
	err = cmd.Run()
	t.Logf("scelle.exe collect under wine: %v, %s\nstdout:\n%s\nstderr:\n%s", err, time.Since(began).Round(time.Millisecond), sumOut.String(), errOut.String())
	if code := cmd.ProcessState.ExitCode(); code != 0 && code != exitIncomplete {
		t.Fatalf("scelle.exe collect: exit %d", code)
	}
	if strings.Contains(errOut.String(), "\x1b") {
		t.Errorf("escape codes on a standard error that is not a console")
	}

	// The Linux scelle verifies the bag.
	dir := bagDir(t, out)
	if dir == "" {
		t.Fatal("no bag")
	}
	rep, code := verifyJSON(t, dir)
	if code != 0 || rep.Verdict != "VERIFIED" {
		t.Fatalf("verify on Linux: exit %d, %s", code, rep.Verdict)
	}
	// The same end summary and fingerprint as on Linux.
	root, err := os.ReadFile(filepath.Join(dir, seal.RootFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sealed:", "items:", "read back:   VERIFIED", "ROOT FINGERPRINT (SHA-256 of tagmanifest-sha256.txt):",
		strings.Join(groupHex(strings.TrimSpace(string(root))), "\n    ")} {
		if !strings.Contains(strings.ReplaceAll(sumOut.String(), "\r\n", "\n"), want) {
			t.Errorf("the summary lacks %q", want)
		}
	}
	files := bagFiles(t, dir, nil)

	// The planted program's file, with its SHA-256.
	if got := sumHex(files["data/fs"+suspectPath]); got != sumHex(plantedBytes) {
		t.Errorf("%s in the bag: SHA-256 %s, want %s", suspectPath, got, sumHex(plantedBytes))
	}
	// The RAM through the fake WinPmem: chunks that join into its stream,
	// its hash recorded before it ran, its exit status.
	var pmem struct {
		SHA256     string `json:"sha256"`
		Image      string `json:"image_sha256"`
		ExitStatus *int   `json:"exit_status"`
		Bytes      int64  `json:"bytes"`
	}
	if err := json.Unmarshal(files["data/live/memory/winpmem.json"], &pmem); err != nil {
		t.Fatalf("winpmem.json: %v", err)
	}
	var ram []byte
	for off := uint64(0); off < fakeRAMSize; off += winpmem.EntryChunk {
		ram = append(ram, files["data/"+winpmem.ChunkName(off)]...)
	}
	if pmem.SHA256 != sumHex(winpmemBytes) || pmem.ExitStatus == nil || *pmem.ExitStatus != 0 ||
		pmem.Bytes != fakeRAMSize || pmem.Image != sumHex(fakeRAM()) || !bytes.Equal(ram, fakeRAM()) {
		t.Errorf("winpmem.json %+v; %d bytes of RAM stored", pmem, len(ram))
	}

	// The record names the host as Windows does, and its clock, with no
	// Linux file looked for.
	t.Run("record", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(dir, seal.RecordFile))
		if err != nil {
			t.Fatal(err)
		}
		var rec struct {
			Host struct {
				Hostname string   `json:"hostname"`
				Errors   []string `json:"errors"`
			} `json:"host"`
			ClockStart struct {
				WallClock     time.Time `json:"wall_clock"`
				UptimeSeconds float64   `json:"uptime_seconds"`
				BootTime      time.Time `json:"boot_time"`
				Errors        []string  `json:"errors"`
			} `json:"clock_start"`
		}
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatal(err)
		}
		// Wine answers GetComputerNameEx with the Linux host's name.
		if want, _ := os.Hostname(); !strings.EqualFold(rec.Host.Hostname, want) || len(rec.Host.Errors) > 0 {
			t.Errorf("record host %q (errors %q), want %q", rec.Host.Hostname, rec.Host.Errors, want)
		}
		c := rec.ClockStart
		if c.WallClock.IsZero() || c.UptimeSeconds <= 0 || c.BootTime.IsZero() || !c.BootTime.Before(c.WallClock) || len(c.Errors) > 0 {
			t.Errorf("record clock_start %+v", c)
		}
		if strings.Contains(string(b), "/proc/") || strings.Contains(string(b), `"/etc/`) || strings.Contains(string(b), ` /etc/`) {
			t.Errorf("the record of a Windows host names a Linux file:\n%s", b)
		}
	})
	t.Run("processes", func(t *testing.T) {
		if !triage {
			t.Skip("needs win.processes and win.images (collect/winlive, windows-triage profile): not in this build")
		}
		var found bool
		for _, p := range jsonLines(t, files["data/live/windows/processes.jsonl"]) {
			if strings.EqualFold(filepath.Base(strings.ReplaceAll(fmt.Sprint(p["image_path"]), `\`, "/")), "planted.exe") {
				found = true
			}
		}
		if !found {
			t.Errorf("planted.exe not in processes.jsonl")
		}
		found = false
		for _, im := range jsonLines(t, files["data/live/windows/images.jsonl"]) {
			if strings.HasSuffix(strings.ToLower(fmt.Sprint(im["path"])), `\planted.exe`) {
				found = true
				if im["sha256"] != sumHex(plantedBytes) {
					t.Errorf("planted.exe image: %v, want SHA-256 %s", im, sumHex(plantedBytes))
				}
			}
		}
		if !found {
			t.Errorf("planted.exe not in images.jsonl")
		}
	})
	t.Run("sockets", func(t *testing.T) {
		if !triage {
			t.Skip("needs win.sockets (collect/winlive, windows-triage profile): not in this build")
		}
		// Wine gives every socket the owner pid 0: found by its port.
		for _, s := range jsonLines(t, files["data/live/windows/net/sockets.jsonl"]) {
			if s["local_port"] == float64(port) && s["state"] == "LISTEN" {
				return
			}
		}
		t.Errorf("no listening socket on port %d in sockets.jsonl", port)
	})
	t.Run("services", func(t *testing.T) {
		if !triage {
			t.Skip("needs win.services (collect/winlive, windows-triage profile): not in this build")
		}
		if len(jsonLines(t, files["data/live/windows/system/services.jsonl"])) == 0 {
			t.Errorf("no services in services.jsonl (wine runs several)")
		}
	})
}

func jsonLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// BenchmarkWindowsCollect measures scelle.exe collect under wine: the
// live Windows triage (windows-triage: volatile state and the disk set),
// its volatile part alone (the disk definitions replaced by an empty
// file), a RAM capture of 32 MiB through a fake WinPmem, and scelle.exe
// version, what wine and a Go program take by themselves. Peak RSS is
// the wine process's (ru_maxrss): scelle.exe plus wine's own DLLs, an
// upper bound of what scelle.exe takes on Windows.
//
//	go test ./cmd/scelle -run '^$' -bench WindowsCollect -benchtime 1x
func BenchmarkWindowsCollect(b *testing.B) {
	prefix := winetest.Prefix(b)
	work := b.TempDir()
	scelleExe := filepath.Join(work, "scelle.exe")
	winetest.Build(b, ".", scelleExe, ".")
	src := filepath.Join(work, "planted.go")
	os.WriteFile(src, []byte(fmt.Sprintf(plantedSource, fakeRAMSize)), 0o644)
	pmemExe := filepath.Join(work, "winpmem.exe")
	winetest.Build(b, src, pmemExe, work)
	noDisk := filepath.Join(work, "defs")
	os.MkdirAll(noDisk, 0o755)
	os.WriteFile(filepath.Join(noDisk, "26-windows-disk.yaml"), []byte("items: []\n"), 0o644)
	profiles, _ := exec.Command(scelleBinary(b), "profiles").CombinedOutput()
	triage := strings.Contains(string(profiles), "windows-triage")
	for _, bc := range []struct {
		name  string
		args  []string
		needs bool
	}{
		{"triage", []string{"--profile", "windows-triage"}, true},
		{"volatile", []string{"--profile", "windows-triage", "--definitions", winetest.WindowsPath(noDisk)}, true},
		{"winpmem-16MiB", []string{"--winpmem", winetest.WindowsPath(pmemExe), "--path", "/windows/win.ini"}, false},
		// What wine and a Go program take before any collection.
		{"baseline-version", nil, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if bc.needs && !triage {
				b.Skip("needs the windows-triage profile (collect/winlive, collect/ntfs): not in this build")
			}
			var peak int64
			for i := 0; i < b.N; i++ {
				out := filepath.Join(b.TempDir(), "out")
				args := append([]string{"collect", "--no-prompt", "--no-report", "--case", "BENCH", "--out", winetest.WindowsPath(out)}, bc.args...)
				if bc.args == nil {
					args = []string{"version"}
				}
				cmd := winetest.Command(prefix, scelleExe, args...)
				var errOut bytes.Buffer
				cmd.Stderr = &errOut
				err := cmd.Run()
				if code := cmd.ProcessState.ExitCode(); err != nil && code != exitIncomplete {
					b.Fatalf("scelle.exe collect: %v\n%s", err, errOut.String())
				}
				rss, _, _ := usage(cmd.ProcessState)
				peak = max(peak, rss)
			}
			b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
		})
	}
}
