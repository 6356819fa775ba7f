package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/acquire"
	"github.com/scelle/scelle/internal/units"
	"github.com/scelle/scelle/internal/visible"
)

// ramLine says in one line what the collection will do of the host's
// physical memory.
func ramLine(p acquire.RAMPlan) string {
	switch {
	case p.Skip != "":
		return "physical memory will not be captured: " + visible.String(p.Skip)
	case p.Source == "":
		return "physical memory cannot be read (recorded as skipped): " + visible.String(p.Refused)
	}
	room := "free space unknown"
	if p.Room >= 0 {
		room = units.Bytes(p.Room) + " available"
	}
	return fmt.Sprintf("physical memory: %s from %s, about %s at 100 MiB/s (the output needs %s with margin, %s)",
		units.Bytes(p.Bytes), p.Source, p.Estimate, units.Bytes(p.Need), room)
}

// ram prints the plan of the physical memory before the collection starts.
func (p *progress) ram(plan acquire.RAMPlan) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		p.event(map[string]any{"event": "ram", "source": plan.Source, "refused": plan.Refused, "bytes": plan.Bytes,
			"need": plan.Need, "room": plan.Room, "estimate_seconds": plan.Estimate.Seconds(), "skip": plan.Skip})
		return
	}
	fmt.Fprintf(p.w, "scelle: %s\n", ramLine(plan))
}

// planRAM plans the physical memory (a variable for tests).
var planRAM = acquire.PlanRAM

// askRAM shows the plan of the physical memory and asks once whether to
// capture it, when there is something to capture.
func askRAM(in io.Reader, out io.Writer, opts *collectOptions) error {
	if opts.NoRAM {
		return nil
	}
	a, err := acquireOptions(*opts)
	if err != nil {
		return err
	}
	plan, err := planRAM(a)
	if err != nil || !plan.Planned || plan.Skip != "" || plan.Source == "" {
		return nil // said again, or refused, when the collection starts
	}
	fmt.Fprintf(out, "%s\nCapture the physical memory / capturer la mémoire physique ? [Y/n] ", ramLine(plan))
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return fmt.Errorf("reading the answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "n", "no", "non":
		opts.NoRAM = true
	}
	return nil
}

// printRAM says what a bag that is not sealed, or fails, proves of its
// image of physical memory: the chunks proven and the first one that is
// not.
func printRAM(w io.Writer, r *verdict.RAMChunks) {
	if r == nil {
		return
	}
	planned := "of an unknown number"
	if r.Planned > 0 {
		planned = fmt.Sprintf("of %d", r.Planned)
	}
	fmt.Fprintf(w, "memory:  %d RAM chunks proven %s", len(r.Proven), planned)
	if n := len(r.Proven); n > 0 {
		fmt.Fprintf(w, ": %s to %s", visible.String(r.Proven[0]), visible.String(r.Proven[n-1]))
	}
	fmt.Fprintln(w)
	if r.FirstUnproven != "" {
		fmt.Fprintf(w, "memory:  first chunk not proven: %s", visible.String(r.FirstUnproven))
		if r.FirstUnprovenRange != "" {
			fmt.Fprintf(w, " (%s)", visible.String(r.FirstUnprovenRange))
		}
		fmt.Fprintln(w)
	}
}
