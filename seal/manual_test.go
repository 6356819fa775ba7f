package seal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/internal/docblock"
)

// TestManualProcedure runs the verification procedure of docs/format.md,
// as written there, with the standard tools an expert has: sha256sum, tar,
// zstd, openssl, bash.
func TestManualProcedure(t *testing.T) {
	for _, tool := range []string{"sha256sum", "tar", "zstd", "openssl", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (.ci/run installs it)", tool)
		}
	}
	dir, _ := makeBag(t)
	script, err := docblock.Read("../docs/format.md", "sh manual-verify")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", "-c", script, "bash", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("manual procedure failed: %v\n%s", err, out)
	}
	for _, want := range []string{"evidence.tar.zst: OK", "Signature Verified Successfully", "journal: ", "VERIFIED"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// hashdeep's sha256deep, run over the extracted payload, agrees with the
	// manifest line for line.
	if _, err := exec.LookPath("sha256deep"); err == nil {
		out, err := exec.Command("bash", "-c", `cd "$1/evidence" && diff <(sha256deep -r -l data | LC_ALL=C sort) <(LC_ALL=C sort manifest-sha256.txt)`, "bash", dir).CombinedOutput()
		if err != nil {
			t.Fatalf("sha256deep and the manifest differ: %v\n%s", err, out)
		}
	} else {
		t.Log("sha256deep not installed (Debian hashdeep; .ci/run installs it)")
	}
	// The same procedure fails on a journal with one changed byte, and on
	// each way of changing the lines the root's signature does not cover.
	jp := filepath.Join(dir, JournalFile)
	j, _ := os.ReadFile(jp)
	lines := strings.SplitAfter(string(j), "\n")
	lines = lines[:len(lines)-1]
	last := len(lines) - 1
	for _, c := range []struct {
		name, want string
		change     func(j []byte) []byte
	}{
		// The form check or the comparison with the copy in the bag (cmp
		// then names the line) catches it, depending on the byte.
		{"a byte in the middle", "FAILED: journal", func(j []byte) []byte { j[len(j)/2] ^= 0x01; return j }},
		{"a line before the seal line", "differ: byte", func([]byte) []byte {
			return []byte(strings.Join(lines[:2], "") + strings.Replace(lines[2], `"size":`, `"size":1`, 1) + strings.Join(lines[3:], ""))
		}},
		{"the seal line removed", fmt.Sprintf("FAILED: journal line %d: the last line is not a seal line", last), func([]byte) []byte {
			return []byte(strings.Join(lines[:last], ""))
		}},
		{"the seal line's prev", fmt.Sprintf("FAILED: journal line %d: chain broken", last+1), func([]byte) []byte {
			return []byte(strings.Join(lines[:last], "") + otherHex(lines[last], `"prev":"`))
		}},
		{"the seal line's root", fmt.Sprintf("FAILED: journal line %d: the signature does not verify", last+1), func([]byte) []byte {
			return []byte(strings.Join(lines[:last], "") + otherHex(lines[last], `"root":"`))
		}},
		{"the last line cut short", "FAILED: journal: the last line is cut short", func(j []byte) []byte { return j[:len(j)-1] }},
	} {
		if err := os.WriteFile(jp, c.change(bytes.Clone(j)), 0o644); err != nil {
			t.Fatal(err)
		}
		os.RemoveAll(filepath.Join(dir, "evidence"))
		if out, err := exec.Command("bash", "-c", script, "bash", dir).CombinedOutput(); err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("%s: manual procedure did not say %q: %v\n%s", c.name, c.want, err, out)
		}
	}
	os.WriteFile(jp, j, 0o644)
	// Tampering with an extracted payload file is caught by sha256sum -c.
	p := filepath.Join(dir, "evidence", "data", "fs", "etc", "passwd")
	if err := os.WriteFile(p, []byte("root::0:0::/:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command("bash", "-c", `cd "$1/evidence" && sha256sum -c --quiet manifest-sha256.txt`, "bash", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "data/fs/etc/passwd: FAILED") {
		t.Fatalf("sha256sum -c did not catch the change: %v\n%s", err, out)
	}
}

// TestTruncatedWithStandardTools cuts an unsealed archive in the middle of
// a frame and checks that stock zstd and tar still give back every item
// whose frame was whole, with the journal's hash.
func TestTruncatedWithStandardTools(t *testing.T) {
	for _, tool := range []string{"sha256sum", "tar", "zstd", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (.ci/run installs it)", tool)
		}
	}
	dir := filepath.Join(t.TempDir(), "cut")
	w, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ends []int64
	var names, sums []string
	for _, it := range testItems {
		res, err := w.Put(t.Context(), Entry{Name: it.name, Size: int64(len(it.data))}, strings.NewReader(string(it.data)))
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, res.Path)
		sums = append(sums, fmt.Sprintf("%x", res.SHA256))
	}
	w.Abort("test")
	jc, err := checkJournalFile(localFolder(dir+PartialSuffix), JournalFile, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range jc.Entries {
		if e.Type == JournalItem {
			ends = append(ends, *e.End)
		}
	}
	arch := filepath.Join(dir+PartialSuffix, ArchiveFile)
	// Cut in the middle of the fourth item's frames.
	cut := (ends[2] + ends[3]) / 2
	if err := os.Truncate(arch, cut); err != nil {
		t.Fatal(err)
	}
	x := t.TempDir()
	out, err := exec.Command("bash", "-c", `zstd -dc "$1" 2>/dev/null | tar -x -C "$2" 2>&1; true`, "bash", arch, x).CombinedOutput()
	t.Logf("zstd | tar: %s", out)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		b, err := os.ReadFile(filepath.Join(x, BagDir, names[i]))
		if err != nil {
			t.Fatalf("item %d (%s) not extracted from the cut archive: %v", i, names[i], err)
		}
		if fmt.Sprintf("%x", sha256.Sum256(b)) != sums[i] {
			t.Fatalf("item %s: hash differs from the journal", names[i])
		}
	}
}

// TestManualScriptIsTheDocument: docs/manual-verify.sh and
// docs/manual-recover.sh are the blocks of docs/format.md, after their #!
// line, so that the scripts an expert runs are the procedures the
// document prints.
func TestManualScriptIsTheDocument(t *testing.T) {
	for _, name := range []string{"manual-verify", "manual-recover"} {
		block, err := docblock.Read("../docs/format.md", "sh "+name)
		if err != nil {
			t.Fatal(err)
		}
		script, err := os.ReadFile("../docs/" + name + ".sh")
		if err != nil {
			t.Fatal(err)
		}
		first, rest, _ := strings.Cut(string(script), "\n")
		if first != "#!/usr/bin/env bash" {
			t.Errorf("docs/%s.sh starts with %q", name, first)
		}
		if rest != block {
			t.Errorf("docs/%s.sh and the %s block of docs/format.md differ: copy the block into the script", name, name)
		}
	}
}

// makeManyBag seals a bag of n small items, with names that hold spaces
// and an event line every 100 items, as a large collection would.
func makeManyBag(t testing.TB, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "case_host_20261122T000000Z")
	w, err := Create(dir, Options{Collection: "many", Tool: "scelle test"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		name := fmt.Sprintf("fs/srv/many/d%02d/file %05d.txt", i%100, i)
		data := []byte(name + "\n")
		if _, err := w.Put(t.Context(), Entry{Name: name, Size: int64(len(data)), ModTime: time.Unix(1e9, 0)}, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			if err := w.Event(map[string]string{"source": name + ".lock", "status": "skipped", "reason": "not present"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := w.Seal([]byte(`{"record":true}`+"\n"), BagInfo{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// otherHex returns line with the hex digit after the first occurrence of
// member changed to another: same length, same form.
func otherHex(line, member string) string {
	i := strings.Index(line, member) + len(member)
	d := byte('0')
	if line[i] == '0' {
		d = '1'
	}
	return line[:i] + string(d) + line[i+1:]
}

// TestManualProcedureProcesses: the manual procedure runs a fixed number of
// programs, whatever the number of items (one sha256sum -c for the
// manifest, one signature for the journal's seal line), so that an expert
// can run it on a bag of 50,000 items. It counts the programs executed, not
// the time taken.
func TestManualProcedureProcesses(t *testing.T) {
	for _, tool := range []string{"sha256sum", "tar", "zstd", "openssl", "bash", "strace"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (.ci/run installs it)", tool)
		}
	}
	script, err := docblock.Read("../docs/format.md", "sh manual-verify")
	if err != nil {
		t.Fatal(err)
	}
	const items, limit = 2000, 200
	dir := makeManyBag(t, items)
	trace := filepath.Join(t.TempDir(), "execve")
	out, err := exec.Command("strace", "-f", "-qq", "-z", "--seccomp-bpf", "-e", "trace=execve", "-o", trace, "bash", "-c", script, "bash", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("manual procedure under strace: %v\n%s", err, out)
	}
	if want := fmt.Sprintf("journal: %d lines", items+items/100+2); !strings.Contains(string(out), want) || !strings.Contains(string(out), "VERIFIED") {
		t.Fatalf("output lacks %q or VERIFIED:\n%s", want, out)
	}
	log, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	n := strings.Count(string(log), "execve(")
	t.Logf("%d programs executed for %d items", n, items)
	if n >= limit {
		t.Errorf("the manual procedure executed %d programs for %d items (limit %d): a loop runs a program per line", n, items, limit)
	}
}

// TestManualJournalStep runs the commands of step 10 of docs/format.md
// §9.1 on a sealed bag and checks that they print what the document says
// they print: the same lines as its example output, with this bag's values
// in place of the example's, and the values that must agree do.
func TestManualJournalStep(t *testing.T) {
	for _, tool := range []string{"sha256sum", "tar", "zstd", "openssl", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (.ci/run installs it)", tool)
		}
	}
	dir, s := makeBag(t)
	tar := exec.Command("tar", "--zstd", "-xf", ArchiveFile)
	tar.Dir = dir
	if out, err := tar.CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	scratch := t.TempDir()
	run := func(block string) string {
		t.Helper()
		script, err := docblock.Read("../docs/format.md", block)
		if err != nil {
			t.Fatal(err)
		}
		c := exec.Command("bash", "-c", strings.ReplaceAll(script, "/tmp/", scratch+"/"))
		c.Dir = filepath.Join(dir, BagDir)
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", block, err, out)
		}
		return string(out)
	}
	doc := func(block string) string {
		t.Helper()
		b, err := docblock.Read("../docs/format.md", block)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	n := strings.Count(string(mustRead(t, filepath.Join(dir, JournalFile))), "\n")

	for _, c := range []struct{ cmds, output string }{{"sh journal-seal", "text journal-seal-output"}, {"sh journal-key", "text journal-key-output"}} {
		got, want := run(c.cmds), doc(c.output)
		if g, w := normalJournalStep(got), normalJournalStep(want); g != w {
			t.Errorf("%s prints, with values replaced:\n%s\nthe document says:\n%s", c.cmds, g, w)
		}
		for _, text := range []string{got, want} {
			lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
			switch c.cmds {
			case "sh journal-seal":
				if len(lines) != 10 || lines[1] != `{"seq":`+lines[0] || lines[2] != `"prev":"`+strings.TrimSuffix(lines[8], "  -")+`"` {
					t.Errorf("%s: the count is not seq, or prev is not the hash printed:\n%s", c.cmds, text)
				}
			case "sh journal-key":
				if len(lines) != 4 || lines[3] != `"public_key":"`+lines[0]+`"` {
					t.Errorf("%s: the key is not the open line's:\n%s", c.cmds, text)
				}
			}
		}
		if c.cmds == "sh journal-seal" && (!strings.Contains(got, `"root":"`+s.Root+`"`) || !strings.HasPrefix(got, fmt.Sprintf("%d\n", n))) {
			t.Errorf("%s: not this bag's root %s or line count %d:\n%s", c.cmds, s.Root, n, got)
		}
	}

	// The optional loop: every line holds; a changed prev is named.
	if got, want := run("sh journal-each-line"), fmt.Sprintf("%d lines read\n", n); got != want {
		t.Errorf("journal-each-line prints %q, want %q", got, want)
	}
	jp := filepath.Join(dir, JournalFile)
	j := mustRead(t, jp)
	lines := strings.SplitAfter(string(j), "\n")
	lines[2] = otherHex(lines[2], `"prev":"`)
	if err := os.WriteFile(jp, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := run("sh journal-each-line"), "line 3: seq or prev is wrong\n3 lines read\n"; got != want {
		t.Errorf("journal-each-line on a changed prev prints %q, want %q", got, want)
	}
}

// normalJournalStep replaces the values of a bag in the output of step 10
// with their kind, so that the document's example and a test bag's output
// compare.
func normalJournalStep(s string) string {
	for _, r := range []struct {
		re   *regexp.Regexp
		with string
	}{
		{regexp.MustCompile(`[0-9a-f]{64}`), "<sha256>"},
		{regexp.MustCompile(`"time":"[^"]*"`), `"time":"<time>"`},
		{regexp.MustCompile(`"sig":"[A-Za-z0-9+/]{86}=="`), `"sig":"<signature>"`},
		{regexp.MustCompile(`MCowBQYDK2VwAyEA[A-Za-z0-9+/]{43}=`), "<key>"},
		{regexp.MustCompile(`(?m)^[0-9]+$`), "<n>"},
		{regexp.MustCompile(`(?m)^\{"seq":[1-9][0-9]*$`), `{"seq":<n>`},
	} {
		s = r.re.ReplaceAllString(s, r.with)
	}
	return s
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestManualRecover runs docs/manual-recover.sh (format.md §9.5) on a bag
// never sealed: whole, every claimed item is proven; cut in the middle of
// its archive, the script fails and proves only what came before the cut.
func TestManualRecover(t *testing.T) {
	for _, tool := range []string{"sha256sum", "tar", "zstd", "openssl", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (.ci/run installs it)", tool)
		}
	}
	script, err := filepath.Abs("../docs/manual-recover.sh")
	if err != nil {
		t.Fatal(err)
	}
	unsealed := func() string {
		dir := filepath.Join(t.TempDir(), "cut")
		w, err := Create(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range testItems {
			if _, err := w.Put(context.Background(), Entry{Name: it.name, Size: int64(len(it.data))}, bytes.NewReader(it.data)); err != nil {
				t.Fatal(err)
			}
		}
		w.Abort("test")
		return dir + PartialSuffix
	}
	dir := unsealed()
	out, err := exec.Command("bash", script, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("manual recovery of a whole unsealed bag failed: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), ": OK"); n != len(testItems) {
		t.Errorf("%d items proven, want %d:\n%s", n, len(testItems), out)
	}
	dir = unsealed()
	arch := filepath.Join(dir, ArchiveFile)
	b, err := os.ReadFile(arch)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(arch, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command("bash", script, dir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "FAILED") {
		t.Fatalf("manual recovery of a cut archive succeeded: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), ": OK"); n == 0 || n >= len(testItems) {
		t.Errorf("cut archive: %d items proven, want some but not all:\n%s", n, out)
	}
}
