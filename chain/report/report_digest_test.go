package report

import (
	"bytes"
	"fmt"
	stdhtml "html"
	"math/rand"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/scelle/scelle/internal/evidence"
)

// randomItems makes n items with many equal collectors, names and
// reasons, in no order.
func randomItems(n int, seed int64) []evidence.Item {
	rng := rand.New(rand.NewSource(seed))
	items := make([]evidence.Item, n)
	for i := range items {
		it := evidence.Item{Collector: fmt.Sprintf("c%d", rng.Intn(8)), Class: classOrder[rng.Intn(len(classOrder))],
			Status: evidence.Statuses()[rng.Intn(4)], Size: int64(rng.Intn(1000))}
		switch rng.Intn(4) {
		case 0:
			it.Source = fmt.Sprintf("/s/%d", rng.Intn(30))
		case 1:
			it.Path = fmt.Sprintf("data/%d", rng.Intn(30))
		case 2:
			it.Kind = "table"
		}
		if rng.Intn(3) > 0 {
			it.Reason = fmt.Sprintf("r%d", rng.Intn(20))
		}
		items[i] = it
	}
	return items
}

// The digest lists the first failed and partial items of the report's
// order, as sorting them all would, and counts the rest.
func TestItemDigestListsFirst(t *testing.T) {
	for _, n := range []int{0, 10, 999, 5000} {
		items := randomItems(n, int64(n))
		var d ItemDigest
		var all []listedItem
		for i := range items {
			d.Add(&items[i])
			if it := &items[i]; it.Status == "failed" || it.Status == "partial" {
				all = append(all, listedItem{it.Status, it.Collector, itemName(it), it.Reason})
			}
		}
		sort.SliceStable(all, func(i, j int) bool { return all[i].before(&all[j]) })
		got, nAll := d.failedAndPartial()
		if nAll != len(all) || !slices.Equal(got, all[:min(len(all), maxListed)]) {
			t.Fatalf("%d items: %d listed of %d, want %d of %d", n, len(got), nAll, min(len(all), maxListed), len(all))
		}
		kept := int64(0)
		for _, it := range items {
			if it.Status == "collected" || it.Status == "partial" {
				kept += it.Size
			}
		}
		if d.Total != n || d.Bytes != kept {
			t.Fatalf("%d items: total %d, %d bytes kept, want %d", n, d.Total, d.Bytes, kept)
		}
	}
}

// Past maxListed reasons, classes or collectors, the digest counts the
// items of the others together, and the report says so.
func TestItemDigestCaps(t *testing.T) {
	rec := fullRecord()
	var r Report
	r.Record, rec.Items = rec, nil
	const n = maxListed + 100
	for i := range 2 * n {
		it := evidence.Item{Collector: fmt.Sprintf("col%04d", i%n), Class: fmt.Sprintf("class%04d", i%n), Kind: "file",
			Status: "skipped", Reason: fmt.Sprintf("reason %04d", i%n)}
		r.Items.Add(&it)
	}
	d := &r.Items
	if len(d.reasons) != maxListed || d.otherReasons != 200 || d.reasons["reason 0000"] != 2 || d.reasons["reason 0500"] != 0 {
		t.Fatalf("%d reasons kept, %d items with others", len(d.reasons), d.otherReasons)
	}
	for _, ts := range []tallies{d.classes, d.collectors} {
		if len(ts.by) != maxListed || ts.other == nil || ts.other.n[statusRank("skipped")] != 200 {
			t.Fatalf("%d kept, others %+v", len(ts.by), ts.other)
		}
	}
	var h bytes.Buffer
	if err := r.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	html := stdhtml.UnescapeString(h.String())
	for _, want := range []string{"Éléments écartés (1200), par motif", "… autres motifs / other reasons", "… autres classes / other classes",
		"… autres collecteurs / other collectors", "1200 : 0 collecté / collected, 0 partiel / partial, 1200 écarté / skipped, 0 échec / failed"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(html, "reason 0500") {
		t.Error("a reason past the cap is listed")
	}
	var p bytes.Buffer
	if err := r.WritePDF(&p); err != nil {
		t.Fatal(err)
	}
}

// The digest keeps at most 4 KiB of a string, cut at a character.
func TestItemDigestClips(t *testing.T) {
	long := strings.Repeat("é", maxDigestText) // 8 KiB
	it := evidence.Item{Collector: long, Class: long, Source: "x" + long, Status: "failed", Reason: long}
	var d ItemDigest
	d.Add(&it)
	it.Status = "skipped"
	d.Add(&it)
	got, _ := d.failedAndPartial()
	for _, s := range []string{got[0].collector, got[0].name, got[0].reason} {
		if len(s) > maxDigestText+len("…") || !utf8.ValidString(s) || !strings.HasSuffix(s, "…") {
			t.Fatalf("kept %d bytes: %q…", len(s), s[:16])
		}
	}
	if len(d.reasons) != 1 || len(d.collectors.by) != 1 {
		t.Fatal("reasons or collectors not kept")
	}
	for k := range d.reasons {
		if len(k) > maxDigestText+len("…") {
			t.Fatalf("reason of %d bytes kept", len(k))
		}
	}
	if s := clip("short"); s != "short" {
		t.Fatal(s)
	}
}
