package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/collect/mft"
	"github.com/scelle/scelle/internal/ntfstest"
	"github.com/scelle/scelle/internal/testtool"
	"github.com/scelle/scelle/seal"
)

// TestCollectImageTimeline runs scelle collect --image on the MBR and
// GPT test images, extracts the bag and checks it with other projects'
// tools: every planted file is in it byte for byte; regfinfo opens every
// collected hive; the $MFT timeline agrees
// with libfsntfs (fsntfsinfo) on the names and sizes of every file and
// stream of the volume, lists the deleted file as deleted, was parsed
// from the very $MFT the bag holds; and mactime reads the bodyfile that
// scelle export writes.
func TestCollectImageTimeline(t *testing.T) {
	for _, layout := range []ntfstest.Layout{ntfstest.MBR, ntfstest.GPT} {
		t.Run(string(layout), func(t *testing.T) {
			img := ntfstest.Build(t, ntfstest.Options{Layout: layout})
			for _, tool := range [][2]string{{"regfinfo", "libregf-utils"}, {"fsntfsinfo", "libfsntfs-utils"}, {"mactime", "sleuthkit"}} {
				testtool.Need(t, tool[0], tool[1])
			}
			out := t.TempDir()
			// The profile, and the folder that holds the sparse, the
			// fragmented and the non-ASCII files.
			r := run(t, 3*time.Minute, "collect", "--image", img.Path, "--out", out, "--case", "W-2", "--examiner", "tester",
				"--profile", "windows-triage", "--path", "/Users/*/Documents/**")
			if r.code != exitOK {
				t.Fatalf("collect --image: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			bags, _ := filepath.Glob(filepath.Join(out, "*"))
			if len(bags) != 1 {
				t.Fatalf("bags: %v", bags)
			}
			dest, stdout, code := extract(t, bags[0])
			if code != exitOK {
				t.Fatalf("extract: exit %d\n%s", code, stdout)
			}
			data := filepath.Join(dest, "evidence", "data")
			vol := filepath.Join(data, "ntfs", "partition1")

			// Every planted file of the triage set is in the bag, byte for
			// byte (extract checked each against the journal and the
			// manifest as it wrote it). Not taken by the profile: a
			// download's data (its Zone.Identifier stream is), the Recycle
			// Bin's $R files (its $I files are), the deleted file.
			taken := 0
			for _, f := range img.Files {
				if f.Deleted || (f.Family == "download" && f.Stream == "") || strings.Contains(f.Path, "/$R") {
					continue
				}
				name := f.Path
				if f.Stream != "" {
					name += ":" + f.Stream
				}
				b, err := os.ReadFile(filepath.Join(data, filepath.FromSlash(seal.EncodeName("ntfs/partition1/"+name))))
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				h := sha256.Sum256(b)
				if f.Sparse {
					// Stored as its allocated extents only (the item lists them).
					if len(b) >= int(f.Size) || !bytes.HasSuffix(b, []byte("hole\r\n")) {
						t.Errorf("%s: sparse file stored as %d bytes", name, len(b))
					}
				} else if hex.EncodeToString(h[:]) != f.SHA256 {
					t.Errorf("%s: %d bytes %x, planted %d bytes %s", name, len(b), h, f.Size, f.SHA256)
				}
				taken++
			}
			if taken < 45 {
				t.Errorf("%d planted files found in the bag", taken)
			}

			// Every collected hive opens in libregf.
			hives := 0
			for _, f := range img.Files {
				if f.Family != "registry" || strings.Contains(f.Path, ".LOG") {
					continue
				}
				p := filepath.Join(vol, filepath.FromSlash(f.Path))
				b, err := exec.Command("regfinfo", p).CombinedOutput()
				if err != nil || !bytes.Contains(b, []byte("Windows NT Registry File information")) {
					t.Errorf("regfinfo %s: %v\n%s", f.Path, err, b)
				}
				hives++
			}
			if hives < 9 {
				t.Errorf("%d hives checked", hives)
			}

			// The timeline was parsed from the $MFT in the bag.
			var sum mft.TimelineSummary
			readJSON(t, filepath.Join(data, "parsed", "ntfs", "partition1", "mft-timeline.json"), &sum)
			stored, err := os.ReadFile(filepath.Join(vol, "$MFT"))
			if err != nil {
				t.Fatal(err)
			}
			if h := sha256.Sum256(stored); hex.EncodeToString(h[:]) != sum.MFTSHA256 || sum.Stats.Errors != 0 {
				t.Errorf("summary %+v; stored $MFT %x", sum, h)
			}

			// The timeline agrees with fsntfsinfo on every file and stream.
			entries := map[string]mft.TimelineEntry{}
			readLines(t, filepath.Join(data, "parsed", "ntfs", "partition1", "mft-timeline.000.jsonl"), func(line []byte) {
				var e mft.TimelineEntry
				if err := json.Unmarshal(line, &e); err != nil {
					t.Fatal(err)
				}
				if prev, ok := entries[e.Path]; !ok || !prev.InUse {
					entries[e.Path] = e
				}
			})
			compared := 0
			for _, f := range ntfstest.Fsntfsinfo(t, img) {
				e, ok := entries[f.Path]
				if got := e.StreamSize(f.Stream); !ok || !e.InUse || got != f.Size {
					t.Errorf("fsntfsinfo: %s:%s %d bytes; timeline: %+v", f.Path, f.Stream, f.Size, e)
				}
				compared++
			}
			if compared < len(img.Files) {
				t.Errorf("%d files compared with fsntfsinfo", compared)
			}
			for _, f := range img.Files {
				if f.Deleted {
					e, ok := entries[`\`+strings.ReplaceAll(f.Path, "/", `\`)]
					if !ok || e.InUse || !e.Deleted || e.Size != f.Size {
						t.Errorf("deleted %s: %+v", f.Path, e)
					}
				}
			}

			// scelle export --format bodyfile includes the timeline, and
			// mactime reads it.
			exported := filepath.Join(t.TempDir(), "bag.body")
			if r := run(t, time.Minute, "export", "--format", "bodyfile", "--out", exported, bags[0]); r.code != exitOK {
				t.Fatalf("export: exit %d\n%s", r.code, r.stderr)
			}
			tl, err := exec.Command("mactime", "-b", exported, "-d", "-y", "-z", "UTC").CombinedOutput()
			if err != nil {
				t.Fatalf("mactime: %v\n%s", err, tl)
			}
			for _, want := range []string{
				`"partition1:/Users/alice/Desktop/deleted-secret.txt (deleted)"`,
				`"partition1:/Windows/System32/config/SYSTEM"`,
				`"partition1:/Users/alice/Downloads/invoice.pdf.exe:Zone.Identifier"`,
				`2024-03-01T09:00:00Z,786432,m...,r/rrwxrwxrwx,0,0,`,
			} {
				if !bytes.Contains(tl, []byte(want)) {
					t.Errorf("mactime timeline lacks %s", want)
				}
			}
		})
	}
}

func readJSON(t *testing.T, p string, v any) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
}

func readLines(t *testing.T, p string, fn func([]byte)) {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fn(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}
