package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/internal/acquire"
	"github.com/scelle/scelle/internal/units"
	"github.com/scelle/scelle/internal/visible"
)

// progress reports a collection as it goes: one rewritten status line on a
// terminal, plain lines otherwise, JSON Lines events with --json. Every
// string from the host, the definitions or the bag is printed through
// visible: a file name never moves the cursor or rewrites a line.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	json    bool
	tty     bool   // a terminal that takes escape codes: one rewritten line
	restore func() // puts the console back as it was (consoleVT)
	began   time.Time
	current string
	i, n    int
	items   int
	bytes   int64
	counts  map[collect.Status]int
	last    time.Time
}

func newProgress(w io.Writer, asJSON bool) *progress {
	p := &progress{w: w, json: asJSON, began: time.Now(), counts: map[collect.Status]int{}}
	p.restore = func() {}
	if f, ok := w.(*os.File); ok && !asJSON && term.IsTerminal(int(f.Fd())) {
		// An old Windows console would print the redraw's escape codes
		// raw: it gets the plain lines.
		p.tty, p.restore = consoleVT(f)
	}
	return p
}

func (p *progress) event(v map[string]any) {
	v["time"] = time.Now().UTC().Format(time.RFC3339Nano)
	b, _ := json.Marshal(v)
	fmt.Fprintf(p.w, "%s\n", visible.JSON(b))
}

func (p *progress) start(dir, keyFP string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		p.event(map[string]any{"event": "start", "dir": dir, "key_fingerprint": keyFP})
		return
	}
	fmt.Fprintf(p.w, "scelle: collecting into %s\nscelle: signing key fingerprint %s\n", shownPath(dir), keyFP)
}

func (p *progress) collector(c collect.Collector, i, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.current, p.i, p.n = c.Name(), i+1, n
	switch {
	case p.json:
		p.event(map[string]any{"event": "collector", "name": c.Name(), "class": c.Class().String(), "index": i + 1, "total": n})
	case p.tty:
		p.redraw()
	default:
		fmt.Fprintf(p.w, "[%d/%d] %s (%s)\n", i+1, n, visible.String(c.Name()), c.Class())
	}
}

func (p *progress) outcome(o collect.Outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.items++
	p.bytes += o.Size
	p.counts[o.Status]++
	switch {
	case p.json:
		p.event(map[string]any{"event": "item", "collector": o.Collector, "source": o.Source, "path": o.Path,
			"status": o.Status, "reason": o.Reason, "size": o.Size})
	case p.tty:
		if time.Since(p.last) > 100*time.Millisecond {
			p.redraw()
		}
	case o.Status == collect.Failed:
		fmt.Fprintf(p.w, "  failed: %s: %s\n", visible.String(itemName(o)), visible.String(o.Reason))
	}
}

func (p *progress) redraw() {
	p.last = time.Now()
	line := fmt.Sprintf("[%d/%d] %-24s %6d items %9s %6.1fs", p.i, p.n, visible.String(p.current), p.items,
		units.Bytes(p.bytes), time.Since(p.began).Seconds())
	fmt.Fprintf(p.w, "\r\x1b[K%s", line)
}

// itemName names an item on screen: its source, or its collector for an
// outcome of the collector as a whole.
func itemName(o collect.Outcome) string {
	if o.Source == "" {
		return "collector " + o.Collector
	}
	return o.Source
}

// groupHex splits a hex fingerprint into groups of four, four groups a
// line, easy to copy by hand into a procès-verbal.
func groupHex(h string) []string {
	var lines []string
	for len(h) > 0 {
		n := min(16, len(h))
		var g []string
		for i := 0; i < n; i += 4 {
			g = append(g, h[i:min(i+4, n)])
		}
		lines = append(lines, strings.Join(g, " "))
		h = h[n:]
	}
	return lines
}

// summary prints the end of a collection on stdout.
func (p *progress) summary(w io.Writer, res *acquire.Result) {
	rec, s, rb := res.Record, res.Sealed, res.ReadBack
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	if p.json {
		ev := map[string]any{"event": "sealed", "dir": s.Dir, "root": s.Root, "summary": rec.Summary,
			"interrupted": rec.Interrupted, "missing": res.Missing, "empty": res.Empty()}
		if rb != nil {
			ev["read_back"], ev["report_html"], ev["report_pdf"] = rb.Verdict.Status.String(), rb.HTML, rb.PDF
		}
		p.event(ev)
		return
	}
	fmt.Fprintf(w, "sealed:      %s\n", shownPath(s.Dir))
	fmt.Fprintf(w, "items:       %d collected, %d partial, %d skipped, %d failed (%s stored in %d files)\n",
		rec.Summary["collected"], rec.Summary["partial"], rec.Summary["skipped"], rec.Summary["failed"],
		units.Bytes(s.Octets), s.Items)
	fmt.Fprintf(w, "time:        %s to %s (%.1fs)\n", rec.Started.Format(time.RFC3339), rec.Ended.Format(time.RFC3339),
		rec.Ended.Sub(rec.Started).Seconds())
	if r := rec.Reference; r != nil {
		fmt.Fprintf(w, "clock:       host %s reference %s: host %+.1fs (%s)\n", r.Host.Format(time.RFC3339), r.Operator.Format(time.RFC3339), r.SkewSeconds, skewWords(r))
		if why := localTimeSuspect(r.Operator, r.Host); why != "" {
			fmt.Fprintf(w, "clock:       %s\n", why)
		}
	}
	if rec.Interrupted != "" {
		fmt.Fprintf(w, "INTERRUPTED: %s\n", visible.String(rec.Interrupted))
	}
	if len(res.NotRun) > 0 {
		fmt.Fprintf(w, "not run:     %s (interrupted before their turn)\n", visible.String(strings.Join(res.NotRun, ", ")))
	}
	for _, it := range res.Failures {
		fmt.Fprintf(w, "failed:      %s: %s\n", visible.String(itemName(it)), visible.String(it.Reason))
	}
	for _, m := range res.Missing {
		fmt.Fprintf(w, "missing:     %s: not present on the host (check the --path given)\n", visible.String(m))
	}
	if res.Empty() {
		fmt.Fprintf(w, "NOTHING COLLECTED: the bag is sealed but holds no evidence\n")
	}
	if res.Failed > len(res.Failures) {
		fmt.Fprintf(w, "failed:      ... and %d more (see record.json)\n", res.Failed-len(res.Failures))
	}
	if rb != nil {
		fmt.Fprintf(w, "read back:   %s\nreport:      %s\n             %s\n", rb.Verdict.Status, shownPath(rb.PDF), shownPath(rb.HTML))
	}
	fmt.Fprintf(w, "key:         %s (%s)\n", rec.Key.Fingerprint, map[bool]string{true: "made for this collection", false: "operator key"}[rec.Key.Ephemeral])
	fmt.Fprintf(w, "\nROOT FINGERPRINT (SHA-256 of tagmanifest-sha256.txt):\n")
	for _, l := range groupHex(s.Root) {
		fmt.Fprintf(w, "    %s\n", l)
	}
}

// shownPath prints a path of the output through visible, separators
// left as they are: on Windows, E:\evidence\... rather than visible's
// escaped E:\\evidence (a Windows name holds no backslash of its own).
func shownPath(p string) string {
	if filepath.Separator != '\\' {
		return visible.String(p)
	}
	parts := strings.Split(p, `\`)
	for i, s := range parts {
		parts[i] = visible.String(s)
	}
	return strings.Join(parts, `\`)
}
