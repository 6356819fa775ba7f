//go:build linux

// Command bench measures scelle's collect and verify against the standard
// pipeline (tar | zstd, then sha256sum) and against the floors of its two
// jobs (SHA-256 alone, zstd alone), on two generated corpora: "full"
// (many files of every size, logs and binaries) and "logs" (a few large
// logs, random blobs and a memory image); then, as root, with the outputs
// on a medium throttled to 100 MB/s (throttle.go), against the zstd -3
// and zstd -1 pipelines.
//
//	go run ./internal/bench [-quick] [-corpus DIR] [-scelle BIN] [-n 3] [-json FILE] [-only full,logs,throttled]
//
// The corpora (about 1 GiB each, or 64 MiB with -quick) are made once and
// cached under -corpus, never in the repository. Nothing drops the page
// cache: every command reads a warm cache. Every command runs once to
// warm up, then -n rounds run every command in turn; the table shows the
// run with the median wall time, and the highest peak RSS of the measured
// runs (from the rusage wait4 returns for the child). Outputs go to a
// temporary folder, removed at the end.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const rssTarget = 64 << 20

type options struct {
	corpus, scelle, json, work string
	quick, keep, noGo          bool
	n                          int
	only                       string // comma-separated runs: full, logs, throttled
}

// runs reports whether run is one of -only's (all when empty).
func (o options) runs(run string) bool {
	return o.only == "" || slices.Contains(strings.Split(o.only, ","), run)
}

func main() {
	var o options
	var floor, floorRoot string
	flag.StringVar(&o.corpus, "corpus", "/tmp/scelle-bench-corpus", "folder to make and cache the corpus in")
	flag.StringVar(&o.scelle, "scelle", "./bin/scelle", "scelle binary to measure")
	flag.StringVar(&o.json, "json", "", "also write the figures to this JSON file")
	flag.StringVar(&o.work, "work", "", "folder for outputs (default: a new temporary folder, removed at the end)")
	flag.BoolVar(&o.quick, "quick", false, "use a 64 MiB corpus (smoke test)")
	flag.BoolVar(&o.keep, "keep", false, "keep the outputs")
	flag.BoolVar(&o.noGo, "no-go-floors", false, "skip the Go-internal floors")
	flag.IntVar(&o.n, "n", 3, "measured runs per command, after one warm-up run")
	flag.StringVar(&o.only, "only", "", "run only these, comma-separated: full, logs, throttled (default all)")
	flag.StringVar(&floor, "floor", "", "internal: run one Go floor on -floor-root and exit")
	flag.StringVar(&floorRoot, "floor-root", "", "internal: the tree of -floor")
	flag.Parse()
	if floor != "" {
		if err := runFloor(floor, floorRoot); err != nil {
			fmt.Fprintln(os.Stderr, "bench floor:", err)
			os.Exit(1)
		}
		return
	}
	if err := runBench(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// report is what -json writes.
type report struct {
	Started time.Time    `json:"started"`
	Machine machine      `json:"machine"`
	Method  string       `json:"method"`
	Runs    []*corpusRun `json:"runs"`
}

// corpusRun is the table of one corpus, or of the throttled output.
type corpusRun struct {
	Title   string      `json:"title"`
	Corpus  corpusStamp `json:"corpus"`
	Benches []*bench    `json:"benches"`
	Ratios  []ratio     `json:"ratios"`
	// MediumRate is the throttled medium's measured write rate, bytes a
	// second (throttled run only).
	MediumRate float64 `json:"medium_rate,omitempty"`
}

type machine struct {
	CPU        string `json:"cpu"`
	CPUs       int    `json:"cpus"`
	Kernel     string `json:"kernel"`
	Go         string `json:"go"`
	ZstdCLI    string `json:"zstd_cli"`
	ScelleSize int64  `json:"scelle_binary_bytes"`
}

type ratio struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Target string  `json:"target,omitempty"`
	Met    *bool   `json:"met,omitempty"`
}

const method = "page cache warm (nothing dropped); every command run once to warm, then N rounds of every command in turn; " +
	"wall = median of the N; CPU = user+sys of that run; peak RSS = highest wait4 MaxRSS of the N runs (largest single process for a pipeline); " +
	"MB/s = corpus bytes (1e6) / wall; stall = share of wall time some task waited for a CPU (PSI), high means a busy machine"

func runBench(o options) error {
	logf := func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }
	rep := &report{Started: time.Now().UTC(), Method: method}
	scelle, err := filepath.Abs(o.scelle)
	if err != nil {
		return err
	}
	st, err := os.Stat(scelle)
	if err != nil {
		return fmt.Errorf("scelle binary: %w\nhint: cd to the repository and build it: CGO_ENABLED=0 go build -trimpath -o bin/scelle ./cmd/scelle", err)
	}
	rep.Machine = describeMachine()
	rep.Machine.ScelleSize = st.Size()
	for _, tool := range []string{"bash", "tar", "zstd", "sha256sum", "find", "xargs"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: the pipeline and floors need it", tool)
		}
	}
	specs := []corpusSpec{fullSpec(), logsSpec()}
	if o.quick {
		specs = []corpusSpec{quickSpec(), quickLogsSpec()}
	}
	work := o.work
	if work == "" {
		if work, err = os.MkdirTemp("", "scelle-bench-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(work)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	logf("method: %s", method)
	var last *corpus
	for i, spec := range specs {
		c, err := ensureCorpus(o.corpus, spec, logf)
		if err != nil {
			return fmt.Errorf("corpus: %w", err)
		}
		last = c
		if !o.runs([]string{"full", "logs"}[i]) {
			continue
		}
		out := filepath.Join(work, spec.Name)
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		r, err := corpusBenches(o, scelle, self, c, out, logf)
		if err != nil {
			return err
		}
		rep.Runs = append(rep.Runs, r)
		printRun(os.Stdout, rep, r)
	}
	if !o.runs("throttled") {
		logf("throttled output: not measured (-only)")
	} else if m, err := newMedium(work); err != nil {
		logf("throttled output: not measured: %v", err)
	} else {
		logf("throttled medium: %s, %.0f MB/s measured (256 MiB written and synced)", m.Dir, m.Rate/1e6)
		r, err := throttledBenches(o, scelle, last, m, work, logf)
		m.close()
		if err != nil {
			return err
		}
		rep.Runs = append(rep.Runs, r)
		printRun(os.Stdout, rep, r)
	}
	if o.json != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.json, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// corpusBenches measures scelle, the pipeline and the floors on c, with
// their outputs in work.
func corpusBenches(o options, scelle, self string, c *corpus, work string, logf func(string, ...any)) (*corpusRun, error) {
	tree := c.Dir
	bagOut := filepath.Join(work, "bags")
	var bag string
	collect := &bench{Name: "scelle collect", Kind: "scelle",
		Argv:   []string{scelle, "collect", "--root", tree, "--path", "/**", "--out", bagOut, "--case", "bench", "--no-prompt", "--no-report"},
		before: func() error { return os.RemoveAll(bagOut) },
		Note:   "fsyncs the archive and journal every 250 ms, as it must; the pipeline never fsyncs"}
	collect.after = func([]byte) error {
		var err error
		bag, err = onlyDir(bagOut)
		if err != nil {
			return err
		}
		collect.OutBytes, err = largestFile(bag)
		return err
	}
	verify := &bench{Name: "scelle verify", Kind: "scelle", Argv: []string{scelle, "verify", "BAG"}}
	verify.before = func() error { verify.Argv[2] = bag; return nil }

	q := shellQuote
	tarZst := filepath.Join(work, "tree.tar.zst")
	pipeline := &bench{Name: "pipeline tar|zstd; sha256sum", Kind: "pipeline",
		Argv: []string{"bash", "-c", "set -o pipefail; tar -cf - -C " + q(tree) + " . | zstd -3 -T0 -q -f -o " + q(tarZst) +
			" && find " + q(tree) + " -type f -print0 | xargs -0 sha256sum > " + q(filepath.Join(work, "sums"))},
		before: func() error { return removeAll(tarZst, filepath.Join(work, "sums")) },
		Note:   "RSS is the largest single process"}
	pipeline.after = func([]byte) error {
		fi, err := os.Stat(tarZst)
		if err == nil {
			pipeline.OutBytes = fi.Size()
		}
		return err
	}
	benches := []*bench{collect, verify, pipeline,
		{Name: "floor sha256sum", Kind: "floor",
			Argv: []string{"bash", "-c", "set -o pipefail; find " + q(tree) + " -type f -print0 | xargs -0 sha256sum > /dev/null"}},
		{Name: "floor tar|zstd -3 -T0 -o null", Kind: "floor",
			Argv: []string{"bash", "-c", "set -o pipefail; tar -cf - -C " + q(tree) + " . | zstd -3 -T0 -q -f -o /dev/null"}},
		{Name: "floor tar|zstd -3 -T0 >null", Kind: "floor",
			Argv: []string{"bash", "-c", "set -o pipefail; cd " + q(tree) + " && tar -cf - . | zstd -3 -T0 > /dev/null"}},
		{Name: "floor tar|zstd -3 -T1 >null", Kind: "floor",
			Argv: []string{"bash", "-c", "set -o pipefail; cd " + q(tree) + " && tar -cf - . | zstd -3 -T1 > /dev/null"},
			Note: "single-threaded zstd, for reference"},
		{Name: "floor tar >null", Kind: "floor",
			Argv: []string{"bash", "-c", "set -o pipefail; tar -cf - -C " + q(tree) + " . | cat > /dev/null"},
			Note: "reading the tree; piped because GNU tar skips reading files when it writes to /dev/null"},
	}
	if !o.noGo {
		for _, f := range floorKinds {
			b := &bench{Name: "go " + f.name, Kind: "go-floor", Argv: []string{self, "-floor", f.name, "-floor-root", tree}, Note: f.doc}
			b.after = func(out []byte) error {
				if m := regexp.MustCompile(`files=(\d+) out=(\d+)`).FindSubmatch(out); m != nil {
					if n, _ := strconv.ParseInt(string(m[2]), 10, 64); n > 0 {
						b.OutBytes = n
					}
					if n, _ := strconv.Atoi(string(m[1])); n != c.Stamp.Files {
						return fmt.Errorf("saw %d files, the corpus has %d", n, c.Stamp.Files)
					}
				}
				return nil
			}
			benches = append(benches, b)
		}
	}
	logf("measuring on %s: %d files, %.0f MiB; outputs in %s", tree, c.Stamp.Files, mib(c.Stamp.Bytes), work)
	// The bag of every round is verified, untimed, once verify has run.
	checked := false
	verify.after = func([]byte) error {
		if checked {
			return nil
		}
		checked = true
		return checkVerify(scelle, bag, c.Stamp.Files)
	}
	if err := measureRounds(benches, o.n, logf); err != nil {
		return nil, err
	}
	return &corpusRun{Title: "corpus " + c.Stamp.Spec.Name, Corpus: c.Stamp, Benches: benches, Ratios: ratios(benches)}, nil
}

// throttledBenches measures scelle and the zstd -1 and -3 pipelines
// writing to the throttled medium m, on corpus c. Every command ends once
// its output is synced: scelle fsyncs it, the pipelines run sync on it.
func throttledBenches(o options, scelle string, c *corpus, m *medium, work string, logf func(string, ...any)) (*corpusRun, error) {
	tree, q := c.Dir, shellQuote
	var benches []*bench
	for _, level := range []string{"", "1", "3"} {
		bagOut := filepath.Join(m.Dir, "bags")
		argv := []string{scelle, "collect", "--root", tree, "--path", "/**", "--out", bagOut, "--case", "bench", "--no-prompt", "--no-report"}
		name := "scelle collect (adaptive)"
		if level != "" {
			argv = append(argv, "--level", level)
			name = "scelle collect --level " + level
		}
		b := &bench{Name: name, Kind: "scelle", Argv: argv, before: func() error { return os.RemoveAll(bagOut) }}
		b.after = func([]byte) error {
			bag, err := onlyDir(bagOut)
			if err == nil {
				b.OutBytes, err = largestFile(bag)
			}
			if err == nil {
				err = os.RemoveAll(bagOut)
			}
			return err
		}
		benches = append(benches, b)
	}
	for _, level := range []string{"3", "1"} {
		out := filepath.Join(m.Dir, "tree.tar.zst")
		sums := filepath.Join(work, "sums")
		b := &bench{Name: "pipeline zstd -" + level + "; sha256sum", Kind: "pipeline",
			Argv: []string{"bash", "-c", "set -o pipefail; tar -cf - -C " + q(tree) + " . | zstd -" + level + " -T0 -q -f -o " + q(out) +
				" && sync " + q(out) + " && find " + q(tree) + " -type f -print0 | xargs -0 sha256sum > " + q(sums)},
			before: func() error { return removeAll(out, sums) }}
		b.after = func([]byte) error {
			fi, err := os.Stat(out)
			if err == nil {
				b.OutBytes = fi.Size()
				err = os.Remove(out)
			}
			return err
		}
		benches = append(benches, b)
	}
	logf("measuring on %s with outputs on the throttled medium %s", tree, m.Dir)
	if err := measureRounds(benches, o.n, logf); err != nil {
		return nil, err
	}
	var rs []ratio
	is := func(b bool) *bool { return &b }
	sc, z3, z1 := benches[0], byName(benches, "pipeline zstd -3; sha256sum"), byName(benches, "pipeline zstd -1; sha256sum")
	v := sc.Median.Wall / min(z3.Median.Wall, z1.Median.Wall)
	rs = append(rs, ratio{Name: "scelle adaptive / best of zstd -1, -3 pipelines (wall)", Value: v, Target: "<= 1", Met: is(v <= 1)})
	v = float64(sc.OutBytes) / float64(z3.OutBytes)
	rs = append(rs, ratio{Name: "scelle adaptive archive / zstd -3 output (size)", Value: v, Target: "<= 1.05", Met: is(v <= 1.05)})
	for _, b := range benches[1:3] {
		rs = append(rs, ratio{Name: b.Name + " / adaptive (wall)", Value: b.Median.Wall / sc.Median.Wall})
	}
	return &corpusRun{Title: fmt.Sprintf("corpus %s, output to a medium throttled to %d MB/s (%.0f MB/s measured)",
		c.Stamp.Spec.Name, throttleRate/1_000_000, m.Rate/1e6), Corpus: c.Stamp, Benches: benches, Ratios: rs, MediumRate: m.Rate}, nil
}

// checkVerify checks, once and untimed, that the bag verifies with one
// proven item per corpus file.
func checkVerify(scelle, bag string, files int) error {
	out, err := exec.Command(scelle, "verify", "--json", bag).Output()
	if err != nil {
		return fmt.Errorf("scelle verify --json %s: %w", bag, err)
	}
	var r struct {
		Verdict string `json:"verdict"`
		Items   []struct {
			Path   string `json:"path"`
			Proven bool   `json:"proven"`
		} `json:"items"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return fmt.Errorf("scelle verify --json: %w", err)
	}
	payload := 0
	for _, it := range r.Items {
		if strings.HasPrefix(it.Path, "data/") && it.Proven {
			payload++
		}
	}
	if r.Verdict != "VERIFIED" || payload < files {
		return fmt.Errorf("bag %s: verdict %s, %d proven payload items for %d corpus files", bag, r.Verdict, payload, files)
	}
	return nil
}

func byName(bs []*bench, name string) *bench {
	for _, b := range bs {
		if b.Name == name {
			return b
		}
	}
	return nil
}

func ratios(bs []*bench) []ratio {
	var rs []ratio
	add := func(name string, v float64, target string, met *bool) {
		rs = append(rs, ratio{Name: name, Value: v, Target: target, Met: met})
	}
	is := func(b bool) *bool { return &b }
	collect, verify := byName(bs, "scelle collect"), byName(bs, "scelle verify")
	pipe := byName(bs, "pipeline tar|zstd; sha256sum")
	sha := byName(bs, "floor sha256sum")
	zst := byName(bs, "floor tar|zstd -3 -T0 -o null")
	if z2 := byName(bs, "floor tar|zstd -3 -T0 >null"); z2.Median.Wall < zst.Median.Wall {
		zst = z2
	}
	cw := collect.Median.Wall
	v := pipe.Median.Wall / cw
	add("pipeline / scelle collect (wall)", v, ">= 2", is(v >= 2))
	floor := max(sha.Median.Wall, zst.Median.Wall)
	v = cw / floor
	add("scelle collect / max(sha256sum, tar|zstd) (wall)", v, "<= 1.3", is(v <= 1.3))
	if gs, gz := byName(bs, "go sha"), byName(bs, "go zstd"); gs != nil && gz != nil {
		v = cw / max(gs.Median.Wall, gz.Median.Wall)
		add("scelle collect / max(go sha, go zstd) (wall)", v, "<= 1.3", is(v <= 1.3))
		if g := byName(bs, "go sha+zstd"); g != nil {
			add("scelle collect / go sha+zstd one pass (wall)", cw/g.Median.Wall, "", nil)
		}
	}
	v = verify.Median.Wall / cw
	add("scelle verify / scelle collect (wall)", v, "<= 1", is(v <= 1))
	add("pipeline / scelle collect (CPU)", pipe.Median.CPU()/collect.Median.CPU(), "", nil)
	add("scelle collect / max(sha256sum, tar|zstd) (CPU)", collect.Median.CPU()/max(sha.Median.CPU(), zst.Median.CPU()), "", nil)
	v = float64(collect.PeakRSS) / rssTarget
	add("scelle collect peak RSS / 64 MiB", v, "<= 1", is(v <= 1))
	v = float64(verify.PeakRSS) / rssTarget
	add("scelle verify peak RSS / 64 MiB", v, "<= 1", is(v <= 1))
	if pipe.OutBytes > 0 && collect.OutBytes > 0 {
		add("scelle archive / tar.zst size", float64(collect.OutBytes)/float64(pipe.OutBytes), "", nil)
	}
	return rs
}

func printRun(w io.Writer, rep *report, r *corpusRun) {
	c := r.Corpus
	fmt.Fprintf(w, "\nscelle bench  %s  %s, %d CPUs, %s, %s\n", rep.Started.Format(time.RFC3339), rep.Machine.CPU,
		rep.Machine.CPUs, rep.Machine.Kernel, rep.Machine.Go)
	fmt.Fprintf(w, "%s: %d files, %.1f MiB (", r.Title, c.Files, mib(c.Bytes))
	first := true
	for _, k := range []string{"syslog", "auth", "nginx", "json", "random", "elf", "mem"} {
		if c.ByKind[k] == 0 {
			continue
		}
		if !first {
			fmt.Fprint(w, ", ")
		}
		first = false
		fmt.Fprintf(w, "%s %.0f", k, mib(c.ByKind[k]))
	}
	fmt.Fprintf(w, " MiB)\n%s\n\n", rep.Method)
	fmt.Fprintf(w, "%-31s %8s %8s %9s %8s %9s %7s %7s\n", "name", "wall s", "CPU s", "RSS MiB", "MB/s", "out MiB", "ratio", "stall")
	for _, b := range r.Benches {
		out, ratio := "", ""
		if b.OutBytes > 0 {
			out = fmt.Sprintf("%.1f", mib(b.OutBytes))
			ratio = fmt.Sprintf("%.2fx", float64(c.Bytes)/float64(b.OutBytes))
		}
		fmt.Fprintf(w, "%-31s %8.2f %8.2f %9.1f %8.0f %9s %7s %6.0f%%\n", b.Name, b.Median.Wall, b.Median.CPU(), mib(b.PeakRSS),
			float64(c.Bytes)/1e6/b.Median.Wall, out, ratio, 100*b.Median.Stall)
	}
	fmt.Fprintln(w)
	for _, ra := range r.Ratios {
		verdict := ""
		if ra.Met != nil {
			verdict = "target " + ra.Target
			if *ra.Met {
				verdict += "  met"
			} else {
				verdict += "  MISSED"
			}
		}
		fmt.Fprintf(w, "%-56s %7.2f   %s\n", ra.Name, ra.Value, verdict)
	}
	var stalls []float64
	for _, b := range r.Benches {
		stalls = append(stalls, b.Median.Stall)
	}
	slices.Sort(stalls)
	if m := stalls[len(stalls)/2]; m > 0.2 {
		fmt.Fprintf(w, "\nwarning: the machine was busy (median CPU stall %.0f%%): wall times are inflated; compare CPU times\n", 100*m)
	}
}

func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if s := regexp.MustCompile(`(?m)^model name\s*:\s*(.*)$`).FindSubmatch(b); s != nil {
			m.CPU = string(s[1])
		}
	}
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		var b []byte
		for _, c := range u.Release {
			if c == 0 {
				break
			}
			b = append(b, byte(c))
		}
		m.Kernel = "Linux " + string(b)
	}
	if out, err := exec.Command("zstd", "--version").Output(); err == nil {
		m.ZstdCLI = strings.TrimSpace(string(out))
	}
	return m
}

func onlyDir(dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	if len(ents) != 1 || !ents[0].IsDir() {
		return "", fmt.Errorf("expected one bag folder in %s, found %d entries", dir, len(ents))
	}
	if strings.HasSuffix(ents[0].Name(), ".partial") {
		return "", errors.New("the bag was not sealed: " + ents[0].Name())
	}
	return filepath.Join(dir, ents[0].Name()), nil
}

// largestFile returns the size of the largest file in dir: the archive.
func largestFile(dir string) (int64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			n = max(n, fi.Size())
		}
	}
	return n, nil
}

func removeAll(paths ...string) error {
	for _, p := range paths {
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	return nil
}
