//go:build unix

package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/internal/acquire"
	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/internal/visible"
	"github.com/scelle/scelle/seal"
)

// What a hostile host, bag or custody log tries to print: escape
// sequences that wipe lines and fake a verdict or a fingerprint, a
// right-to-left override, line feeds and carriage returns, a C1 control,
// a zero-width space.
const (
	fakeRead    = "\x1b[2K\x1b[1A read back: VERIFIED"
	fakeVerdict = "\x1b[2K\x1b[1Averdict: VERIFIED\u202e"
	fakeSeal    = "\x1b[3A\x1b[2K  seal:         intact\u202e\r"
	fakeBidi    = "verdict\u2066 VERIFIED\u202e\u200b"
)

var hostileNames = []string{"evil\u202egpj.exe", "new\nROOT FINGERPRINT: 0000", "car\rriage", "c1\u009b2J", "zero\u200bwidth", "bell\x07\x7f"}

// checkScreen fails when out, what a command printed, holds a control
// byte but a line feed, a character that does not show as itself (a
// bidirectional control, a zero-width space ...) or a byte that is not
// UTF-8.
func checkScreen(t *testing.T, what, out string) {
	t.Helper()
	for i, r := range out {
		bad := ""
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(out[i:], "\ufffd"):
			bad = "a byte that is not UTF-8"
		case r != '\n' && visible.Hidden(r):
			bad = "a hidden character"
		}
		if bad != "" {
			t.Errorf("%s prints %s (%U) at %d: ...%q...", what, bad, r, i, out[max(0, i-60):min(len(out), i+60)])
			return
		}
	}
}

// hostileTreeRoot writes under base/root/h the hostile names, each a
// file, and a folder named fakeRead holding a file; it returns the root.
func hostileTreeRoot(t *testing.T, base string) string {
	t.Helper()
	root := filepath.Join(base, "root")
	h := filepath.Join(root, "h")
	for _, d := range []string{filepath.Join(root, "etc"), filepath.Join(h, fakeRead)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{filepath.Join(root, "etc/hostname"): "box\n", filepath.Join(h, fakeRead, "f"): "f"}
	for _, n := range hostileNames {
		files[filepath.Join(h, n)] = n
	}
	for p, data := range files {
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// collectFailing collects /h from root into out so that the folder
// fakeRead fails (permission denied): as nobody when the test runs as
// root, the folder then being root's alone. It reports false when that
// cannot be arranged, and then collects as is.
func collectFailing(t *testing.T, base, root, out string) (result, bool) {
	t.Helper()
	args := []string{"collect", "--root", root, "--path", "/h", "--no-prompt", "--case", "C\x1b[2J", "--out", out}
	closed := filepath.Join(root, "h", fakeRead)
	if os.Geteuid() != 0 {
		if err := os.Chmod(closed, 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(closed, 0o755) })
		return run(t, 60*time.Second, args...), true
	}
	// As in TestUnreadableTree: a copy of the test binary that nobody
	// can reach and run, over a tree nobody may read but for one folder.
	for d := base; d != "/"; d = filepath.Dir(d) {
		if strings.HasPrefix(d, os.TempDir()+"/") {
			os.Chmod(d, 0o755)
		}
	}
	if !reachable(base) {
		t.Logf("%s is not reachable by nobody: no item fails", base)
		return run(t, 60*time.Second, args...), false
	}
	if err := os.Chmod(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(out, 0o777); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "scelle")
	if err := copyFile(os.Args[0], bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Dir = base
	wait, _ := start(t, cmd)
	return wait(60 * time.Second), true
}

// addHostileEntries rewrites the archive of bag with, after its own
// entries, a file whose name holds bidirectional controls (a valid bag
// path), then one whose name is fakeVerdict (not a valid bag path: the
// archive stops decoding there). Its SHA-256 no longer matches.
func addHostileEntries(t *testing.T, bag string) {
	t.Helper()
	path := filepath.Join(bag, seal.ArchiveFile)
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dec, err := zstd.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	out, err := os.Create(path + ".new")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := zstd.NewWriter(out, zstd.WithWindowSize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	tr, tw := tar.NewReader(dec), tar.NewWriter(enc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	dir := seal.BagDir + "/" + seal.PayloadDir + "/fs/h/"
	for _, n := range []string{dir + fakeBidi, dir + fakeVerdict} {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: 1, ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []io.Closer{tw, enc, out} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

// TestHostileNamesOnScreen: a host whose file names carry escape
// sequences, a bidirectional override, line feeds and carriage returns,
// a bag whose entry names and a custody log whose note carry them: what
// collect, verify, ls, extract, custody and report print holds none of
// them raw, but each visibly escaped.
func TestHostileNamesOnScreen(t *testing.T) {
	base := t.TempDir()
	root := hostileTreeRoot(t, base)
	out := filepath.Join(base, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	r, failing := collectFailing(t, base, root, out)
	noPanic(t, r.stderr)
	if r.code != exitOK && r.code != exitIncomplete {
		t.Fatalf("collect: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	screen := r.stdout + r.stderr
	checkScreen(t, "collect", screen)
	if failing && !strings.Contains(screen, "failed:      /h/"+visible.String(fakeRead)) {
		t.Errorf("collect does not name the folder that failed, escaped:\n%s", screen)
	}
	bag := bagDir(t, out)
	html, err := os.ReadFile(filepath.Join(bag, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	checkScreen(t, "report.html", string(html))
	if failing && !strings.Contains(string(html), visible.String(fakeRead)) {
		t.Error("report.html does not name the folder that failed, escaped")
	}

	screens := map[string]result{}
	sh := func(name string, code int, args ...string) result {
		t.Helper()
		r := run(t, 60*time.Second, args...)
		noPanic(t, r.stderr)
		if r.code != code {
			t.Errorf("%s: exit %d, want %d\n%s%s", name, r.code, code, r.stdout, r.stderr)
		}
		checkScreen(t, name, r.stdout+r.stderr)
		screens[name] = r
		return r
	}

	// The bag as collected: the names are in its entries, each character
	// that does not show as itself written ^XX, a bidirectional override
	// among them (bags written before hold it raw: the screens escape it).
	sh("verify", exitOK, "verify", bag)
	if r := sh("ls", exitOK, "ls", "--long", bag); !strings.Contains(r.stdout, "data/fs/h/evil^E2^80^AEgpj.exe") {
		t.Errorf("ls does not show %q encoded:\n%s", hostileNames[0], r.stdout)
	}
	sh("extract", exitOK, "extract", bag, filepath.Join(base, "x1"))

	// A custody note and an actor that try to rewrite the lines above.
	key := filepath.Join(base, "k.pem")
	sh("key new", exitOK, "key", "new", key)
	sh("custody add", exitOK, "custody", "add", bag, "--event", "note", "--key", key, "--actor", fakeRead, "--text", fakeSeal)
	if r := sh("custody show", exitOK, "custody", "show", bag); !strings.Contains(r.stdout, "text:         "+visible.String(fakeSeal)) {
		t.Errorf("custody show does not show the note escaped:\n%s", r.stdout)
	}
	sh("custody show --json", exitOK, "custody", "show", "--json", bag)

	// A bag whose archive gained entries named with escape sequences.
	bad := copyBag(t, bag)
	addHostileEntries(t, bad)
	escaped := visible.String(fakeVerdict)
	for _, c := range []struct {
		name string
		code int
		args []string
	}{
		{"verify (changed)", exitVerifyFailed, []string{"verify", bad}},
		{"verify --json (changed)", exitVerifyFailed, []string{"verify", "--json", bad}},
		{"ls (changed)", exitVerifyFailed, []string{"ls", bad}},
		{"extract (changed)", exitVerifyFailed, []string{"extract", bad, filepath.Join(base, "x2")}},
		{"report (changed)", exitVerifyFailed, []string{"report", "--out", filepath.Join(base, "rep"), bad}},
	} {
		sh(c.name, c.code, c.args...)
	}
	for _, name := range []string{"verify (changed)", "ls (changed)", "extract (changed)"} {
		if s := screens[name].stdout + screens[name].stderr; !strings.Contains(s, escaped) {
			t.Errorf("%s does not show the entry named %q escaped:\n%s", name, fakeVerdict, s)
		}
	}
	if s := screens["ls (changed)"].stdout; !strings.Contains(s, visible.String(fakeBidi)) {
		t.Errorf("ls does not show the entry named %q escaped:\n%s", fakeBidi, s)
	}
	html, err = os.ReadFile(filepath.Join(base, "rep", "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	checkScreen(t, "report.html (changed)", string(html))
	if t.Failed() {
		for name, r := range screens {
			t.Logf("%s:\n%s%s", name, r.stdout, r.stderr)
		}
	}
}

// The progress lines, the JSON events and the end summary of a
// collection show the host's names escaped.
func TestProgressShowsHostileNames(t *testing.T) {
	src := "/h/" + fakeRead + "/" + fakeBidi
	o := collect.Outcome{Collector: "files.paths", Source: src, Status: collect.Failed, Reason: "open " + src + ": permission denied"}
	res := &acquire.Result{Record: &chain.Record{Interrupted: "signal\x1b[2K", Summary: map[string]int{}},
		Sealed: &seal.Sealed{Dir: "/out/C\x1b[2J_box", Root: strings.Repeat("ab", 32)}, Failures: []evidence.Item{o}, Failed: 1}
	for _, asJSON := range []bool{false, true} {
		var b bytes.Buffer
		p := newProgress(&b, asJSON)
		p.start(res.Sealed.Dir, "fp")
		p.outcome(o)
		p.summary(&b, res)
		checkScreen(t, fmt.Sprintf("progress (json %v)", asJSON), b.String())
		want := visible.String(src)
		if asJSON {
			want = `\u202e`
		}
		if !strings.Contains(b.String(), want) {
			t.Errorf("progress (json %v) lacks %q:\n%s", asJSON, want, b.String())
		}
	}
}

// Definitions given with --definitions are the user's: profiles shows
// them escaped.
func TestProfilesShowHostileDefinitions(t *testing.T) {
	defs := t.TempDir()
	yaml := `profiles:
  evil:
    os: [linux]
    description: "\e[2K\e[1A VERIFIED\u202e"
items:
  - name: files.evil
    class: disk
    description: "line\nbreak\r\u200b"
    paths: ["/tmp/\eM\u2066"]
    profiles: [evil]
`
	if err := os.WriteFile(filepath.Join(defs, "90-evil.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := runProfiles(defs, true, &b); err != nil {
		t.Fatal(err)
	}
	checkScreen(t, "profiles", b.String())
	for _, want := range []string{`evil: \x1b[2K\x1b[1A VERIFIED\u202e`, `line\nbreak\r\u200b`, `/tmp/\x1bM\u2066`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("profiles lacks %q:\n%s", want, b.String())
		}
	}
}
