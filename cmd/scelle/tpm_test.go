package main

import (
	"bytes"
	"errors"
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
// its --tpm address. It skips the test only when swtpm is not installed:
// a swtpm that does not come up fails the test, with what it said.
func startSwtpm(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("swtpm"); err != nil {
		t.Skip("swtpm not installed (Debian swtpm; .ci/run installs it)")
	}
	state := t.TempDir()
	var why string
	// A port probed free may be taken before swtpm binds it: swtpm then
	// exits, and is started again on other ports.
	for range 5 {
		port := freePortPair(t)
		cmd := exec.Command("swtpm", "socket", "--tpm2", "--tpmstate", "dir="+state,
			"--server", fmt.Sprintf("type=tcp,port=%d,bindaddr=127.0.0.1", port),
			"--ctrl", fmt.Sprintf("type=tcp,port=%d,bindaddr=127.0.0.1", port+1),
			"--flags", "not-need-init,startup-clear")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		var waitErr error
		go func() { waitErr = cmd.Wait(); close(done) }()
		err := waitListening(port, done)
		if err == nil {
			t.Cleanup(func() { cmd.Process.Kill(); <-done })
			return fmt.Sprintf("swtpm:127.0.0.1:%d", port)
		}
		cmd.Process.Kill()
		<-done
		why = fmt.Sprintf("%v (%v); swtpm said:\n%s", err, waitErr, out.String())
		if !errors.Is(err, errSwtpmExited) {
			break
		}
	}
	t.Fatalf("swtpm did not come up: %s", why)
	return ""
}

var errSwtpmExited = errors.New("swtpm exited")

// freePortPair returns a port p such that p and p+1 were free.
func freePortPair(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+1))
		l.Close()
		if err == nil {
			l2.Close()
			return p
		}
	}
	t.Fatal("no two free consecutive loopback ports")
	return 0
}

// waitListening waits until swtpm accepts connections on port and
// port+1, or exits (done is closed), or 10 seconds have passed.
func waitListening(port int, done <-chan struct{}) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-done:
			return errSwtpmExited
		default:
		}
		up := true
		for _, p := range []int{port, port + 1} {
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p), time.Second)
			if err != nil {
				up = false
				break
			}
			c.Close()
		}
		if up {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("swtpm not listening on ports %d and %d after 10s", port, port+1)
		}
		time.Sleep(20 * time.Millisecond) // polls the ports, which are what is waited for
	}
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
