package qemutest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// journalLine is the part of a journal line the cut check needs.
type journalLine struct {
	Type   string `json:"type"`
	Path   string `json:"path"`
	Offset *int64 `json:"offset"`
	End    *int64 `json:"end"`
}

// checkCut turns the guest's bag into the bag of a run killed during the
// RAM: the journal without its seal line, the archive cut at random
// offsets among the image's chunks. scelle verify must name as proven
// exactly the chunks whose bytes are whole before the cut, and the next
// one as the first not proven.
func checkCut(t *testing.T, e env, bag string) {
	jb, err := os.ReadFile(filepath.Join(bag, "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var kept bytes.Buffer
	var chunks []journalLine
	sc := bufio.NewScanner(bytes.NewReader(jb))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l journalLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("journal: %v", err)
		}
		if l.Type == "seal" {
			break // a killed run never wrote it
		}
		kept.Write(sc.Bytes())
		kept.WriteByte('\n')
		if l.Type == "item" && strings.HasPrefix(l.Path, imagePrefix) && l.Offset != nil && l.End != nil {
			chunks = append(chunks, l)
		}
	}
	if len(chunks) < 2 {
		t.Fatalf("the journal names %d chunks of the image", len(chunks))
	}
	archive, err := os.Open(filepath.Join(bag, "evidence.tar.zst"))
	if err != nil {
		t.Fatal(err)
	}
	defer archive.Close()

	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 11))
	first, last := *chunks[0].Offset, *chunks[len(chunks)-1].End
	for i := range 3 {
		cut := first + rng.Int64N(last-first)
		if i == 0 {
			cut = *chunks[len(chunks)/2].End // on the end of a chunk: that chunk whole
		}
		dir := filepath.Join(t.TempDir(), filepath.Base(bag)+".partial")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dir, "evidence.tar.zst"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, io.NewSectionReader(archive, 0, cut)); err != nil {
			t.Fatal(err)
		}
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "journal.jsonl"), kept.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		b, err := exec.Command(e.scelle, "verify", "--json", dir).Output()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 5 {
			t.Fatalf("cut at %d (seed %d): scelle verify: %v, want exit 5 (not sealed)\n%s", cut, seed, err, b)
		}
		var v struct {
			Verdict string `json:"verdict"`
			RAM     *struct {
				Planned       int      `json:"planned"`
				Proven        []string `json:"proven"`
				FirstUnproven string   `json:"first_unproven"`
			} `json:"ram"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("scelle verify --json: %v\n%s", err, b)
		}
		var want []string
		next := ""
		for _, c := range chunks {
			if *c.End <= cut {
				want = append(want, c.Path)
			} else if next == "" {
				next = c.Path
			}
		}
		switch {
		case v.RAM == nil:
			t.Errorf("cut at %d (seed %d): verify says nothing of the RAM: %s", cut, seed, b)
		case !slices.Equal(v.RAM.Proven, want) || v.RAM.FirstUnproven != next || v.RAM.Planned != len(chunks):
			t.Errorf("cut at %d (seed %d): verify proves %d chunks (%v), first not proven %s, %d planned; want %d (%v), then %s, %d planned",
				cut, seed, len(v.RAM.Proven), v.RAM.Proven, v.RAM.FirstUnproven, v.RAM.Planned, len(want), want, next, len(chunks))
		default:
			t.Logf("cut at byte %d of %d: %d of %d chunks proven, then %s", cut, last, len(want), len(chunks), next)
		}
	}
}
