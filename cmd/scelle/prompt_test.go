package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// scelleCmd returns a command that runs this test binary as scelle
// (testscript.Main dispatches on the program name).
func scelleCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	return exec.Command(selfAs(t, "scelle"), args...) // live_test.go
}

func fixtureRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/hostname"), []byte("box\n"), 0o644)
	return root
}

// TestInteractiveStart answers the questions through a pseudo-terminal.
func TestInteractiveStart(t *testing.T) {
	out := t.TempDir()
	cmd := scelleCmd(t, "collect", "--root", fixtureRoot(t), "--path", "/etc", "--out", out)
	tty, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	r := bufio.NewReader(tty)
	answer := func(prompt, reply string) {
		t.Helper()
		var seen strings.Builder
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(seen.String(), prompt) {
			if time.Now().After(deadline) {
				t.Fatalf("no prompt %q; saw %q", prompt, seen.String())
			}
			b, err := r.ReadByte()
			if err != nil {
				t.Fatalf("waiting for %q: %v (saw %q)", prompt, err, seen.String())
			}
			seen.WriteByte(b)
		}
		tty.WriteString(reply + "\n")
	}
	answer("Case identifier", "AFF-7")
	answer("Examiner", "Ann Expert")
	answer("Reference time", time.Now().UTC().Add(-3*time.Second).Format("15:04:05"))
	done := make(chan error, 1)
	go func() {
		// Drain the terminal so the child never blocks on output.
		for {
			if _, err := r.ReadByte(); err != nil {
				break
			}
		}
	}()
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("collect: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("collect did not finish")
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), "AFF-7_box_") {
		t.Fatalf("output %v", entries)
	}
	rec, err := os.ReadFile(filepath.Join(out, entries[0].Name(), "record.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"examiner": "Ann Expert"`, `"reference_time"`, `"skew_seconds": `} {
		if !strings.Contains(string(rec), want) {
			t.Errorf("record lacks %s", want)
		}
	}
}

// TestNoTerminalNeverWaits: without a terminal, collect reads nothing from
// standard input, even an open pipe that never ends.
func TestNoTerminalNeverWaits(t *testing.T) {
	cmd := scelleCmd(t, "collect", "--root", fixtureRoot(t), "--path", "/etc", "--out", t.TempDir())
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	cmd.Stdin = pr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("collect: %v", err)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("collect waited on standard input")
	}
}
