package main

import (
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/internal/acquire"
)

// TestAskRAM: the interactive start shows the plan of the RAM and asks
// once; "n" leaves it out, anything else keeps it; nothing is asked when
// there is nothing to capture.
func TestAskRAM(t *testing.T) {
	defer func(f func(acquire.Options) (acquire.RAMPlan, error)) { planRAM = f }(planRAM)
	plan := acquire.RAMPlan{Planned: true, Source: "/proc/kcore", Bytes: 1 << 30, Need: 1<<30 + 544<<20, Room: 8 << 30, Estimate: 11 * time.Second}
	planRAM = func(acquire.Options) (acquire.RAMPlan, error) { return plan, nil }
	for _, tc := range []struct {
		answer string
		noRAM  bool
	}{{"n\n", true}, {"non\n", true}, {"\n", false}, {"y\n", false}, {"", false}} {
		var out strings.Builder
		opts := collectOptions{Root: "/", Out: t.TempDir()}
		if err := askRAM(strings.NewReader(tc.answer), &out, &opts); err != nil {
			t.Fatal(err)
		}
		want := "physical memory: 1.0 GiB from /proc/kcore, about 11s at 100 MiB/s (the output needs 1.5 GiB with margin, 8.0 GiB available)\nCapture the physical memory"
		if opts.NoRAM != tc.noRAM || !strings.HasPrefix(out.String(), want) || strings.Count(out.String(), "?") != 1 {
			t.Errorf("answer %q: no-ram %v, printed %q", tc.answer, opts.NoRAM, out.String())
		}
	}
	for _, p := range []acquire.RAMPlan{{}, {Planned: true, Refused: "no physical memory source: /proc/kcore: absent"}, {Planned: true, Skip: "no room: ..."}} {
		plan = p
		var out strings.Builder
		opts := collectOptions{Root: "/", Out: t.TempDir()}
		if err := askRAM(strings.NewReader("n\n"), &out, &opts); err != nil || opts.NoRAM || out.Len() != 0 {
			t.Errorf("%+v: asked %q, no-ram %v, %v", p, out.String(), opts.NoRAM, err)
		}
	}
	if got := ramLine(acquire.RAMPlan{Planned: true, Skip: "--no-ram"}); got != "physical memory will not be captured: --no-ram" {
		t.Errorf("%q", got)
	}
}
