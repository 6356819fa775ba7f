package verdict

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strings"

	sha256 "github.com/minio/sha256-simd"

	"github.com/scelle/scelle/seal"
)

// The entries of a capture of physical memory (collect/memory, which
// chain does not import; docs/format.md names them).
const (
	ramSourceEntry = "data/live/memory/source.json"
	ramImagePrefix = "data/live/memory/physical/"
	maxRAMSource   = 64 << 20
)

// RAMChunks says what a bag that is not sealed, or fails, proves of its
// image of physical memory: the chunk entries proven, and the first chunk
// planned that is not. A chunk is a complete LiME file of one record; the
// chunks proven, concatenated in name order up to the first one that is
// not, are a LiME image of the ranges they name.
type RAMChunks struct {
	// Planned counts the chunks the capture planned (its source.json,
	// when that entry is proven); 0 when unknown.
	Planned int `json:"planned"`
	// Proven lists the chunk entries proven, in name (address) order.
	Proven []string `json:"proven"`
	// FirstUnproven is the first planned chunk that is not proven, and
	// FirstUnprovenRange its physical range ("0x...-0x..."); empty when
	// every chunk planned is proven. Without the plan, it is the first
	// chunk the journal claims that is not proven.
	FirstUnproven      string `json:"first_unproven,omitempty"`
	FirstUnprovenRange string `json:"first_unproven_range,omitempty"`
}

// ramChunks returns what rep's items prove of the image of physical
// memory; nil when the bag has no item of it.
func ramChunks(dir bagDir, rep *seal.Report, opts Options) *RAMChunks {
	var src *seal.Item
	proven := map[string]bool{}
	var unproven []string
	for i, it := range rep.Items {
		switch {
		case it.Path == ramSourceEntry && it.Proven:
			src = &rep.Items[i]
		case strings.HasPrefix(it.Path, ramImagePrefix) && it.Proven:
			proven[it.Path] = true
		case strings.HasPrefix(it.Path, ramImagePrefix):
			unproven = append(unproven, it.Path)
		}
	}
	if src == nil && len(proven) == 0 && len(unproven) == 0 {
		return nil
	}
	c := &RAMChunks{Proven: make([]string, 0, len(proven))}
	for p := range proven {
		c.Proven = append(c.Proven, p)
	}
	sort.Strings(c.Proven)
	sort.Strings(unproven)
	if src != nil {
		if plan, err := readRAMPlan(dir, src, opts); err == nil {
			c.Planned = len(plan.Chunks)
			for _, ch := range plan.Chunks {
				if !proven[ch.Entry] {
					c.FirstUnproven, c.FirstUnprovenRange = ch.Entry, ch.Start+"-"+ch.End
					return c
				}
			}
			return c
		}
	}
	if len(unproven) > 0 {
		c.FirstUnproven = unproven[0]
	}
	return c
}

// ramPlan is the part of source.json that names the chunks planned.
type ramPlan struct {
	Chunks []struct {
		Start string `json:"start"`
		End   string `json:"end"`
		Entry string `json:"entry"`
	} `json:"chunks"`
}

// readRAMPlan reads source.json from the archive; its content must hash
// to what the journal proved.
func readRAMPlan(dir bagDir, src *seal.Item, opts Options) (*ramPlan, error) {
	r, err := dir.open(seal.ReadOptions{Identities: opts.Identities})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	for r.Next() {
		e := r.Entry()
		if e.Path != ramSourceEntry {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(e, maxRAMSource))
		if err != nil {
			return nil, err
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != src.SHA256 {
			return nil, errors.New("source.json does not match its journal line")
		}
		var p ramPlan
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, err
		}
		return &p, nil
	}
	return nil, errors.New("source.json not found in the archive")
}
