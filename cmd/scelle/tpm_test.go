package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startSwtpm starts a software TPM on two free loopback ports and returns
// its --tpm address.
func startSwtpm(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("swtpm"); err != nil {
		t.Skip("swtpm not installed (Debian swtpm; .ci/run installs it)")
	}
	var ports [2]int
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		l2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+1))
		if err == nil {
			l2.Close()
			ports = [2]int{p, p + 1}
			break
		}
	}
	state := t.TempDir()
	cmd := exec.Command("swtpm", "socket", "--tpm2", "--tpmstate", "dir="+state,
		"--server", fmt.Sprintf("type=tcp,port=%d,bindaddr=127.0.0.1", ports[0]),
		"--ctrl", fmt.Sprintf("type=tcp,port=%d,bindaddr=127.0.0.1", ports[1]),
		"--flags", "not-need-init,startup-clear")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ports[0])); err == nil {
			c.Close()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Sprintf("swtpm:127.0.0.1:%d", ports[0])
}

// TestCollectTPM: a collection quoted by a TPM at start and at sealing
// verifies, and a changed reset count in tpm.json is caught.
func TestCollectTPM(t *testing.T) {
	addr := startSwtpm(t)
	out := t.TempDir()
	cmd := scelleCmd(t, "collect", "--root", fixtureRoot(t), "--path", "/etc", "--out", out, "--tpm", addr, "--no-prompt")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("collect: %v\n%s", err, b)
	}
	entries, _ := os.ReadDir(out)
	bag := filepath.Join(out, entries[0].Name())
	rep, verdict, code, err := verification(bag)
	if err != nil || code != exitOK {
		t.Fatalf("verify: %s %v %+v", verdict, err, rep.Failed())
	}
	seen := map[string]bool{}
	for _, c := range rep.Checks {
		seen[c.Name] = c.OK
	}
	for _, n := range []string{"tpm-start", "tpm-end", "tpm-continuity"} {
		if !seen[n] {
			t.Errorf("check %s missing or failed", n)
		}
	}
	// A reboot between the quotes would raise resetCount.
	p := filepath.Join(bag, "tpm.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndex(string(b), `"reset_count": `)
	if i < 0 {
		t.Fatalf("no reset_count in tpm.json:\n%s", b)
	}
	j := i + len(`"reset_count": `)
	mod := string(b[:j]) + "9" + string(b[j:])
	if err := os.WriteFile(p, []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, _, code, _ = verification(bag)
	if code != exitVerifyFailed {
		t.Fatalf("changed reset count: verify code %d", code)
	}
	failed := false
	for _, c := range rep.Failed() {
		if strings.HasPrefix(c.Name, "tpm") {
			failed = true
		}
	}
	if !failed {
		t.Fatalf("no tpm check failed: %+v", rep.Failed())
	}
}
