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
	answer("organisation", "CERT-X")
	answer("role", "")
	answer("Witness", "Me Claire Dupont;commissaire de justice;PV 2026-118")
	answer("Witness", "")
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
	for _, want := range []string{`"examiner": "Ann Expert"`, `"reference_time"`, `"skew_seconds": `,
		`"organisation": "CERT-X"`, `"name": "Me Claire Dupont"`, `"reference": "PV 2026-118"`} {
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

func TestSkewWords(t *testing.T) {
	host := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		operator time.Time
		words    string
		suspect  bool
	}{
		{host, "host clock agrees with the reference (within 1 s)", false},
		{host.Add(59*time.Minute + 59*time.Second), "host clock 59 min 59 s behind the reference", true},
		{host.Add(-2 * time.Hour), "host clock 2 h ahead of the reference", true},
		{host.Add(-12 * time.Second), "host clock 12 s ahead of the reference", false},
		{host.Add(45 * time.Minute), "host clock 45 min behind the reference", false},
	} {
		r := newReference(tc.operator, host)
		if got := skewWords(r); got != tc.words {
			t.Errorf("skew %v: %q, want %q", r.SkewSeconds, got, tc.words)
		}
		if got := localTimeSuspect(tc.operator, host) != ""; got != tc.suspect {
			t.Errorf("skew %v: suspect %v, want %v", r.SkewSeconds, got, tc.suspect)
		}
	}
}

// TestAskReferenceLocalTime: a reference an hour off is asked again, and
// kept when given twice.
func TestAskReferenceLocalTime(t *testing.T) {
	local := time.Now().UTC().Add(time.Hour).Format("15:04:05")
	var out strings.Builder
	opts := collectOptions{Case: "c", Examiner: "e"}
	if err := askMissing(strings.NewReader(local+"\n"+local+"\n"), &out, &opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "local time instead of UTC?") {
		t.Errorf("no question about local time:\n%s", out.String())
	}
	if opts.reference == nil || opts.reference.SkewSeconds > -3000 {
		t.Errorf("the reference given twice was not kept: %+v", opts.reference)
	}
}

// TestParseReferenceTimeMidnight: HH:MM:SS is the time of day nearest
// the host clock, across midnight either way.
func TestParseReferenceTimeMidnight(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tt := range []struct{ host, in, want string }{
		{"2026-12-05T23:27:52Z", "00:27:52", "2026-12-06T00:27:52Z"},
		{"2026-12-06T00:10:00Z", "23:50:00", "2026-12-05T23:50:00Z"},
		{"2026-12-05T12:00:00Z", "12:00:30", "2026-12-05T12:00:30Z"},
		{"2026-12-31T23:59:00Z", "00:01:00", "2027-01-01T00:01:00Z"},
	} {
		got, err := parseReferenceTime(tt.in, at(tt.host))
		if err != nil || !got.Equal(at(tt.want)) {
			t.Errorf("%s on a host at %s: %v %v, want %s", tt.in, tt.host, got, err, tt.want)
		}
	}
}
