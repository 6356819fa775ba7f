package mft

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scelle/scelle/internal/ntfstest"
	"github.com/scelle/scelle/internal/testtool"
)

var (
	rawOnce sync.Once
	rawImg  *ntfstest.Image
	rawMFTB []byte
	rawErr  error
)

// imageMFT builds the default bare test image and returns it with its
// $MFT as stored on disk (fixups not applied), read cluster by cluster
// from the runs ntfsinfo lists: an independent reader, not this package.
func imageMFT(t testing.TB) (*ntfstest.Image, []byte) {
	t.Helper()
	img := ntfstest.Build(t, ntfstest.Options{})
	testtool.Need(t, "ntfsinfo", "ntfs-3g")
	rawOnce.Do(func() { rawImg = img; rawMFTB, rawErr = readRawMFT(img) })
	if rawErr != nil {
		t.Fatal(rawErr)
	}
	return rawImg, rawMFTB
}

func readRawMFT(img *ntfstest.Image) ([]byte, error) {
	out, err := exec.Command("ntfsinfo", "-v", "-i", "0", img.Path).Output()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(img.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	boot := make([]byte, 512)
	if _, err := f.ReadAt(boot, img.PartitionOffset); err != nil {
		return nil, err
	}
	cluster := int64(binary.LittleEndian.Uint16(boot[0x0b:])) * int64(boot[0x0d])
	// The runs of $DATA: the first "Runlist:" after "Dumping attribute $DATA".
	var mft []byte
	size := int64(-1)
	sc := bufio.NewScanner(bytes.NewReader(out))
	state := 0
	for sc.Scan() {
		line := sc.Text()
		switch {
		case state == 0 && strings.HasPrefix(line, "Dumping attribute $DATA"):
			state = 1
		case state == 1 && strings.HasPrefix(strings.TrimSpace(line), "Data size:"):
			size, _ = strconv.ParseInt(strings.Fields(line)[2], 10, 64)
		case state == 1 && strings.Contains(line, "Runlist:"):
			state = 2
		case state == 2:
			fs := strings.Fields(line)
			lcn, n := int64(-1), int64(-1)
			if len(fs) == 3 {
				lcn, _ = strconv.ParseInt(fs[1], 0, 64)
				n, _ = strconv.ParseInt(fs[2], 0, 64)
			}
			if lcn < 0 || n < 0 {
				if size < 0 || size > int64(len(mft)) {
					return nil, fmt.Errorf("ntfsinfo: $MFT of %d bytes in runs of %d", size, len(mft))
				}
				return mft[:size], nil
			}
			b := make([]byte, n*cluster)
			if _, err := f.ReadAt(b, img.PartitionOffset+lcn*cluster); err != nil {
				return nil, err
			}
			mft = append(mft, b...)
		}
	}
	return nil, fmt.Errorf("ntfsinfo: no runs of $MFT's $DATA:\n%s", out)
}

// timeline runs Timeline over mft and returns the JSON Lines, decoded,
// and the bodyfile.
func timeline(t testing.TB, mft []byte) ([]TimelineEntry, []byte, Stats) {
	t.Helper()
	var body, jsonl bytes.Buffer
	st, err := Timeline(context.Background(), bytes.NewReader(mft), int64(len(mft)), Options{}, "", &body, &jsonl)
	if err != nil {
		t.Fatal(err)
	}
	var es []TimelineEntry
	dec := json.NewDecoder(&jsonl)
	for dec.More() {
		var e TimelineEntry
		if err := dec.Decode(&e); err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	return es, body.Bytes(), st
}

func byPath(es []TimelineEntry) map[string]TimelineEntry {
	m := map[string]TimelineEntry{}
	for _, e := range es {
		if prev, ok := m[e.Path]; ok && prev.InUse && !e.InUse {
			continue // an in-use entry wins over a deleted one of the same path
		}
		m[e.Path] = e
	}
	return m
}

// TestTimelineImage checks the timeline of the test image against the
// builder's manifest: every planted file at its path, in use, with its
// size, streams and $STANDARD_INFORMATION times; the deleted file listed
// as deleted at its full path; the sparse and the fragmented files.
func TestTimelineImage(t *testing.T) {
	img, mft := imageMFT(t)
	es, _, st := timeline(t, mft)
	if st.Errors != 0 {
		for _, e := range es {
			if e.Error != "" {
				t.Errorf("entry %d: %s", e.Entry, e.Error)
			}
		}
	}
	if st.Records != int64(len(mft)/1024) || st.Entries != int64(len(es)) {
		t.Errorf("stats %+v for %d records and %d lines", st, len(mft)/1024, len(es))
	}
	paths := byPath(es)
	for _, p := range []string{`\`, `\$MFT`, `\$LogFile`, `\$Extend`, `\$Boot`} {
		if _, ok := paths[p]; !ok {
			t.Errorf("no entry %s", p)
		}
	}
	for _, f := range img.Files {
		e, ok := paths[`\`+strings.ReplaceAll(f.Path, "/", `\`)]
		if !ok {
			t.Errorf("%s: not in the timeline", f.WindowsPath())
			continue
		}
		if e.Orphan {
			t.Errorf("%s: orphan", f.WindowsPath())
		}
		if f.Stream != "" {
			found := false
			for _, s := range e.Streams {
				found = found || (s.Name == f.Stream && s.Size == f.Size)
			}
			if !found {
				t.Errorf("%s: streams %+v", f.WindowsPath(), e.Streams)
			}
			continue
		}
		if e.InUse == f.Deleted || e.Deleted != f.Deleted {
			t.Errorf("%s: in_use %v deleted %v, manifest deleted %v", f.WindowsPath(), e.InUse, e.Deleted, f.Deleted)
		}
		if e.Size != f.Size {
			t.Errorf("%s: size %d, want %d", f.WindowsPath(), e.Size, f.Size)
		}
		if e.Sparse != f.Sparse || (f.Fragmented && e.Runs < 2) {
			t.Errorf("%s: sparse %v runs %d, manifest %+v", f.WindowsPath(), e.Sparse, e.Runs, f)
		}
		if !f.Created.IsZero() {
			want := MACB{Modified: f.Modified.Format(TimeLayout), Accessed: f.Accessed.Format(TimeLayout),
				Created: f.Created.Format(TimeLayout)}
			if e.SI == nil || e.SI.Modified != want.Modified || e.SI.Accessed != want.Accessed || e.SI.Created != want.Created {
				t.Errorf("%s: si %+v, want %+v", f.WindowsPath(), e.SI, want)
			}
			if e.FN == nil || e.FN.Created == "" {
				t.Errorf("%s: no $FILE_NAME times", f.WindowsPath())
			}
		}
	}
}

// TestTimelineFsntfsinfo compares the timeline with libfsntfs's bodyfile
// (fsntfsinfo -H -B), another implementation: every regular file and
// stream it lists is in the timeline with the same size, and so are its
// times.
func TestTimelineFsntfsinfo(t *testing.T) {
	img, mft := imageMFT(t)
	theirs := ntfstest.Fsntfsinfo(t, img)
	es, _, _ := timeline(t, mft)
	paths := byPath(es)
	n := 0
	for _, f := range theirs {
		e, ok := paths[f.Path]
		if !ok {
			t.Errorf("fsntfsinfo lists %s, the timeline does not", f.Path)
			continue
		}
		n++
		if got := e.StreamSize(f.Stream); got != f.Size {
			t.Errorf("%s:%s: size %d, fsntfsinfo %d", f.Path, f.Stream, got, f.Size)
		}
		if f.Stream == "" && e.SI != nil && e.SI.Modified != "" { // fsntfsinfo prints an unset time as garbage
			if m, _ := time.Parse(TimeLayout, e.SI.Modified); m.Unix() != f.Modified {
				t.Errorf("%s: modified %s, fsntfsinfo %d", f.Path, e.SI.Modified, f.Modified)
			}
		}
	}
	if n < len(img.Files)-1 {
		t.Errorf("compared %d files, the image has %d", n, len(img.Files))
	}
}

// TestTimelineMactime feeds the bodyfile to mactime -b and finds the
// planted files, the deleted one marked so, in its timeline.
func TestTimelineMactime(t *testing.T) {
	_, mft := imageMFT(t)
	mactime := testtool.Need(t, "mactime", "sleuthkit")
	es, body, _ := timeline(t, mft)
	p := filepath.Join(t.TempDir(), "mft.body")
	if err := os.WriteFile(p, body, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(mactime, "-b", p, "-d", "-y", "-z", "UTC").CombinedOutput()
	if err != nil {
		t.Fatalf("mactime: %v\n%s", err, out)
	}
	for _, want := range []string{
		"/Windows/System32/config/SYSTEM",
		"/Users/alice/Desktop/deleted-secret.txt (deleted)",
		"/Users/alice/Downloads/invoice.pdf.exe:Zone.Identifier",
		"/Users/alice/Documents/résumé – copie.txt ($FILE_NAME)",
		"2024-03-01T08:00:00Z,",
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("mactime output lacks %q", want)
		}
	}
	// Two lines ($STANDARD_INFORMATION, $FILE_NAME) for each named entry.
	named := 0
	for _, e := range es {
		if e.Path != "" {
			named++
		}
	}
	if lines := bytes.Count(body, []byte("\n")); lines < 2*named {
		t.Errorf("%d bodyfile lines for %d named entries", lines, named)
	}
}
