package users

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/collecttest"
)

// fakeRoot builds a host tree under a temporary folder.
func fakeRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(readFixture(t, "wtmp-384.bin"))
	zw.Close()
	files := map[string][]byte{
		"etc/passwd":                 []byte(testPasswd),
		"etc/shadow":                 []byte(testShadow),
		"etc/group":                  []byte(testGroup),
		"etc/gshadow":                []byte("root:*::\n"),
		"run/utmp":                   readFixture(t, "utmp-384.bin"),
		"var/log/wtmp":               readFixture(t, "wtmp-384.bin"),
		"var/log/wtmp.1":             readFixture(t, "btmp-384.bin"),
		"var/log/wtmp.2.gz":          gz.Bytes(),
		"var/log/wtmpx":              []byte("not a rotation"),
		"var/lib/wtmpdb/wtmp.db":     []byte("SQLite format 3\x00"),
		"var/lib/wtmpdb/wtmp.db-wal": []byte("wal"),
	}
	for p, b := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A sparse lastlog with uid 1000's record only.
	f, err := os.Create(filepath.Join(root, "var/log/lastlog"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1001 * 292); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(encodeLastlog(Layout32, at("2024-03-04T05:06:07Z"), "pts/4", "192.0.2.44"), 1000*292); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return root
}

// run runs every collector of the package on env.
func run(t *testing.T, env *collect.Env) (*collecttest.Sink, *collecttest.Outcomes) {
	t.Helper()
	sink, outs := &collecttest.Sink{}, &collecttest.Outcomes{}
	for _, c := range Collectors() {
		if c.Class() != collect.ClassSystem {
			t.Errorf("%s: class %v", c.Name(), c.Class())
		}
		if err := c.Collect(context.Background(), collect.NewSession(env, c, sink, outs.Add)); err != nil {
			t.Fatalf("%s: %v", c.Name(), err)
		}
	}
	return sink, outs
}

// outcome returns the one outcome of kind for source.
func outcome(t *testing.T, outs *collecttest.Outcomes, source, kind string) collect.Outcome {
	t.Helper()
	var found []collect.Outcome
	for _, o := range outs.BySource(source) {
		if o.Kind == kind {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s (%s): %d outcomes, want 1: %+v", source, kind, len(found), found)
	}
	return found[0]
}

func TestCollectLive(t *testing.T) {
	root := fakeRoot(t)
	sink, outs := run(t, &collect.Env{Root: root, Live: true})

	for _, o := range outs.All {
		if o.Status == collect.Failed {
			t.Errorf("failed: %+v", o)
		}
	}
	// Raw copies, byte for byte.
	for _, p := range []string{"/run/utmp", "/var/log/wtmp", "/var/log/wtmp.1", "/var/log/wtmp.2.gz", "/var/log/lastlog",
		"/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/var/lib/wtmpdb/wtmp.db", "/var/lib/wtmpdb/wtmp.db-wal"} {
		want, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		if o := outcome(t, outs, p, collect.KindFile); o.Status != collect.Collected {
			t.Errorf("%s: %s %s", p, o.Status, o.Reason)
		}
		if !bytes.Equal(sink.Files["fs"+p], want) {
			t.Errorf("%s: raw copy differs", p)
		}
	}
	if _, ok := sink.Files["fs/var/log/wtmpx"]; ok {
		t.Error("wtmpx taken for a rotation of wtmp")
	}
	// Parsed forms.
	golden(t, "wtmp-384.jsonl", sink.Files["parsed/users/wtmp.jsonl"])
	if o := outcome(t, outs, "/var/log/wtmp", collect.KindGenerated); o.Status != collect.Collected ||
		o.Path != "data/parsed/users/wtmp.jsonl" {
		t.Errorf("parsed wtmp: %+v", o)
	}
	if got := sink.Files["parsed/users/wtmp.1.jsonl"]; bytes.Count(got, []byte("\n")) != 2 || !bytes.Contains(got, []byte(`"user":"admin"`)) {
		t.Errorf("parsed wtmp.1 =\n%s", got)
	}
	if o := outcome(t, outs, "/var/log/wtmp.2.gz", collect.KindGenerated); o.Status != collect.Skipped ||
		o.Reason != "gzip-compressed: stored raw, not parsed" {
		t.Errorf("compressed rotation: %+v", o)
	}
	if got := sink.Files["live/users/utmp.jsonl"]; bytes.Count(got, []byte("\n")) != 4 || !bytes.Contains(got, []byte(`"type":"RUN_LVL"`)) {
		t.Errorf("parsed utmp =\n%s", got)
	}
	want := `{"uid":1000,"names":["alice"],"offset":292000,"record_size":292,"time":"2024-03-04T05:06:07Z","line":"pts/4","host":"192.0.2.44"}` + "\n"
	if got := string(sink.Files["parsed/users/lastlog.jsonl"]); got != want {
		t.Errorf("parsed lastlog =\n%s\nwant\n%s", got, want)
	}
	acc := string(sink.Files["parsed/users/accounts.jsonl"])
	if strings.Count(acc, "\n") != 13 || !strings.Contains(acc, `"name":"toor","uid":0`) || strings.Contains(acc, hashToor) {
		t.Errorf("accounts =\n%s", acc)
	}
	// Missing sources are accounted for.
	for _, p := range []string{"/var/log/btmp", "/var/lib/lastlog/lastlog2.db"} {
		if o := outcome(t, outs, p, collect.KindFile); o.Status != collect.Skipped || o.Reason != "not present" {
			t.Errorf("%s: %+v", p, o)
		}
	}
	if n := len(outs.BySource("/var/log/btmp")); n != 1 {
		t.Errorf("missing btmp: %d outcomes, want only the raw one", n)
	}
}

func TestCollectDeadBox(t *testing.T) {
	root := fakeRoot(t)
	sink, outs := run(t, &collect.Env{Root: root, Live: false})
	o := outcome(t, outs, "/run/utmp", collect.KindFile)
	if o.Status != collect.Skipped || o.Reason != deadBox {
		t.Errorf("utmp in dead-box: %+v", o)
	}
	if _, ok := sink.Files["fs/run/utmp"]; ok {
		t.Error("utmp stored in dead-box collection")
	}
	if _, ok := sink.Files["parsed/users/wtmp.jsonl"]; !ok {
		t.Error("wtmp not parsed from the image")
	}
	if _, ok := sink.Files["parsed/users/lastlog.jsonl"]; !ok {
		t.Error("lastlog not parsed from the image")
	}
}

func TestCollectSymlinkedLog(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("a Linux symbolic link to /dev/null: checked on Linux, Windows resolves it otherwise")
	}
	root := fakeRoot(t)
	p := filepath.Join(root, "var/log/wtmp")
	os.Remove(p)
	if err := os.Symlink("/dev/null", p); err != nil {
		t.Fatal(err)
	}
	_, outs := run(t, &collect.Env{Root: root, Live: true})
	o := outcome(t, outs, "/var/log/wtmp", collect.KindGenerated)
	if o.Status != collect.Skipped || !strings.Contains(o.Reason, `symbolic link to "/dev/null"`) {
		t.Errorf("parsed wtmp of a link: %+v", o)
	}
}

func TestLastlogRawCap(t *testing.T) {
	root := fakeRoot(t)
	sink, outs := run(t, &collect.Env{Root: root, Live: true, MaxFileSize: 1000})
	o := outcome(t, outs, "/var/log/lastlog", collect.KindFile)
	if o.Status != collect.Partial || len(sink.Files["fs/var/log/lastlog"]) != 1000 {
		t.Errorf("capped lastlog: %+v", o)
	}
	// Records past the raw cap are still parsed.
	if !bytes.Contains(sink.Files["parsed/users/lastlog.jsonl"], []byte(`"uid":1000`)) {
		t.Error("uid 1000 not parsed past the raw cap")
	}
}

func TestHomes(t *testing.T) {
	accs, err := Homes(&collect.Env{Root: fakeRoot(t)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range accs {
		names = append(names, a.Name)
	}
	// "+" (NIS) and "short" (no home field) are left out.
	want := "root daemon alice toor nopass bob legacy ghost alice caf\xe9"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("Homes names = %q, want %q", got, want)
	}
	if a := accs[2]; a.UID != 1000 || a.Home != "/home/alice" || a.Line != 3 {
		t.Errorf("alice = %+v", a)
	}
	if _, err := Homes(&collect.Env{Root: t.TempDir()}); err == nil {
		t.Error("no error without /etc/passwd")
	}
}
