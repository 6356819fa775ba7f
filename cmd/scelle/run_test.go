package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scelle/scelle/seal"
)

// Helpers of the tests that run scelle as a command (hostile_test.go,
// encrypt_test.go, visible_test.go ...), portable: they build on Windows.

// fixtureTree writes a tree of small files and a few large ones (random
// bytes, so they do not compress) under root/sub and returns the SHA-256
// of each file by its host path ("/sub/...").
func fixtureTree(t *testing.T, root, sub string, seed uint64, small, smallMax, large, largeSize int) map[string]string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	sums := map[string]string{}
	write := func(rel string, n int) {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		full := filepath.Join(root, sub, rel)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256(b)
		sums["/"+sub+"/"+rel] = hex.EncodeToString(s[:])
	}
	for i := range small {
		write(fmt.Sprintf("d%02d/f%03d", i%17, i), rng.IntN(smallMax))
	}
	for i := range large {
		write(fmt.Sprintf("large/big%d", i), largeSize)
	}
	return sums
}

func hostileRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/hostname"), []byte(hostname), 0o644)
	return root
}

const hostname = "box\n"

// withHostname adds the fixture's /etc/hostname to sums.
func withHostname(sums map[string]string) map[string]string {
	s := sha256.Sum256([]byte(hostname))
	sums["/etc/hostname"] = hex.EncodeToString(s[:])
	return sums
}

// result is what one scelle run left.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
	rusage         *syscall.Rusage
}

// start runs scelle in the background; wait collects it, killing it (and
// failing the test) after limit.
func start(t *testing.T, cmd *exec.Cmd) (wait func(limit time.Duration) result, stderr *lockedBuffer) {
	t.Helper()
	var out bytes.Buffer
	stderr = &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = &out, stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return func(limit time.Duration) result {
		t.Helper()
		var err error
		select {
		case err = <-done:
		case <-time.After(limit):
			cmd.Process.Kill()
			<-done
			t.Fatalf("scelle %v still running after %v; stderr:\n%s", cmd.Args[1:], limit, stderr.String())
		}
		r := result{stdout: out.String(), stderr: stderr.String(), took: time.Since(began)}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			r.code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				r.code = -int(ws.Signal())
			}
		} else if err != nil {
			t.Fatal(err)
		}
		r.rusage, _ = cmd.ProcessState.SysUsage().(*syscall.Rusage)
		return r
	}, stderr
}

func run(t *testing.T, limit time.Duration, args ...string) result {
	t.Helper()
	wait, _ := start(t, scelleCmd(t, args...))
	return wait(limit)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// verifyReport is scelle verify --json.
type verifyReport struct {
	Verdict string `json:"verdict"`
	Sealed  bool   `json:"sealed"`
	Checks  []struct {
		Name   string `json:"name"`
		OK     bool   `json:"ok"`
		Detail string `json:"detail"`
	} `json:"checks"`
	Items []struct {
		Path   string `json:"path"`
		SHA256 string `json:"sha256"`
		Proven bool   `json:"proven"`
		Why    string `json:"why"`
	} `json:"items"`
	Proven, Unproven, Unclaimed int
}

func verifyJSON(t *testing.T, dir string) (verifyReport, int) {
	t.Helper()
	r := run(t, 60*time.Second, "verify", "--json", dir)
	var rep verifyReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("verify %s: exit %d, %v\n%s%s", dir, r.code, err, r.stdout, r.stderr)
	}
	return rep, r.code
}

// checkProven requires every item that verify proves to hold exactly the
// bytes of its source in the fixture, and nothing to be claimed but not
// proven. It returns the number proven.
func checkProven(t *testing.T, rep verifyReport, sums map[string]string) int {
	t.Helper()
	n := 0
	for _, it := range rep.Items {
		if !strings.HasPrefix(it.Path, seal.PayloadDir+"/") {
			continue
		}
		name, err := seal.DecodeName(strings.TrimPrefix(it.Path, seal.PayloadDir+"/"))
		if err != nil {
			t.Errorf("%s: %v", it.Path, err)
			continue
		}
		if !it.Proven {
			t.Errorf("%s claimed but not proven: %s", it.Path, it.Why)
			continue
		}
		want, ok := sums[strings.TrimPrefix(name, "fs")]
		if !ok || want != it.SHA256 {
			t.Errorf("%s proven with SHA-256 %s; the source's is %q", it.Path, it.SHA256, want)
		}
		n++
	}
	if rep.Unproven != 0 {
		t.Errorf("%d items claimed but not proven", rep.Unproven)
	}
	return n
}

// bagDir returns the one folder scelle made in out, or "".
func bagDir(t *testing.T, out string) string {
	t.Helper()
	entries, _ := os.ReadDir(out)
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	switch len(dirs) {
	case 0:
		return ""
	case 1:
		return filepath.Join(out, dirs[0])
	}
	t.Fatalf("%d folders in %s: %v", len(dirs), out, dirs)
	return ""
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

// sealedFiles are the files that claim a sealed bag.
var sealedFiles = []string{seal.ArchiveSumFile, seal.RecordFile, seal.RootFile, seal.SigFile, seal.PubFile}

func noPanic(t *testing.T, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
		t.Errorf("stderr shows a panic:\n%s", stderr)
	}
}

func copyFile(from, to string, mode os.FileMode) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, mode)
}

// reachable reports whether every folder above p is searchable by others.
func reachable(p string) bool {
	for d := filepath.Dir(p); d != "/"; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
	}
	return true
}

// recordFile is the part of record.json the tests read.
type recordFile struct {
	Interrupted string `json:"interrupted"`
	Items       []struct {
		Collector, Source, Path, Kind, Status, Reason string
		Size                                          int64
		SHA256                                        string
	} `json:"items"`
}

func readRecord(t *testing.T, dir string) recordFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, seal.RecordFile))
	if err != nil {
		t.Fatal(err)
	}
	var rec recordFile
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}
