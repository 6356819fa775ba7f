//go:build linux

// Command bench measures scelle's collect and verify against the standard
// pipeline (tar | zstd, then sha256sum) and against the floors of its two
// jobs (SHA-256 alone, zstd alone), on the same generated corpus.
//
//	go run ./internal/bench [-quick] [-corpus DIR] [-scelle BIN] [-n 3] [-json FILE]
//
// The corpus (at least 1 GiB, or 64 MiB with -quick) is made once and
// cached under -corpus, never in the repository. Nothing drops the page
// cache: every command reads a warm cache. Each command runs once to warm
// up, then -n times; the table shows the run with the least wall time, and
// the highest peak RSS of the measured runs (from the rusage wait4 returns
// for the child). Outputs go to a temporary folder, removed at the end.
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
	Started time.Time   `json:"started"`
	Machine machine     `json:"machine"`
	Corpus  corpusStamp `json:"corpus"`
	Method  string      `json:"method"`
	Benches []*bench    `json:"benches"`
	Ratios  []ratio     `json:"ratios"`
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

const method = "page cache warm (nothing dropped); each command run once to warm, then best wall time of N; " +
	"CPU = user+sys of that run; peak RSS = highest wait4 MaxRSS of the N runs (largest single process for a pipeline); " +
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
	spec := fullSpec()
	if o.quick {
		spec = quickSpec()
	}
	c, err := ensureCorpus(o.corpus, spec, logf)
	if err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	rep.Corpus = c.Stamp
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
	logf("method: %s", method)
	for _, b := range benches {
		if err := b.measure(o.n, logf); err != nil {
			return err
		}
		if b == verify {
			if err := checkVerify(scelle, bag, c.Stamp.Files); err != nil {
				return err
			}
		}
	}
	rep.Benches = benches
	rep.Ratios = ratios(benches)
	printTable(os.Stdout, rep)
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
	if z2 := byName(bs, "floor tar|zstd -3 -T0 >null"); z2.Best.Wall < zst.Best.Wall {
		zst = z2
	}
	cw := collect.Best.Wall
	v := pipe.Best.Wall / cw
	add("pipeline / scelle collect (wall)", v, ">= 2", is(v >= 2))
	floor := max(sha.Best.Wall, zst.Best.Wall)
	v = cw / floor
	add("scelle collect / max(sha256sum, tar|zstd) (wall)", v, "<= 1.3", is(v <= 1.3))
	if gs, gz := byName(bs, "go sha"), byName(bs, "go zstd"); gs != nil && gz != nil {
		v = cw / max(gs.Best.Wall, gz.Best.Wall)
		add("scelle collect / max(go sha, go zstd) (wall)", v, "<= 1.3", is(v <= 1.3))
		if g := byName(bs, "go sha+zstd"); g != nil {
			add("scelle collect / go sha+zstd one pass (wall)", cw/g.Best.Wall, "", nil)
		}
	}
	add("scelle verify / scelle collect (wall)", verify.Best.Wall/cw, "", nil)
	add("pipeline / scelle collect (CPU)", pipe.Best.CPU()/collect.Best.CPU(), "", nil)
	add("scelle collect / max(sha256sum, tar|zstd) (CPU)", collect.Best.CPU()/max(sha.Best.CPU(), zst.Best.CPU()), "", nil)
	v = float64(collect.PeakRSS) / rssTarget
	add("scelle collect peak RSS / 64 MiB", v, "<= 1", is(v <= 1))
	v = float64(verify.PeakRSS) / rssTarget
	add("scelle verify peak RSS / 64 MiB", v, "<= 1", is(v <= 1))
	if pipe.OutBytes > 0 && collect.OutBytes > 0 {
		add("scelle archive / tar.zst size", float64(collect.OutBytes)/float64(pipe.OutBytes), "", nil)
	}
	return rs
}

func printTable(w io.Writer, rep *report) {
	c := rep.Corpus
	fmt.Fprintf(w, "\nscelle bench  %s  %s, %d CPUs, %s, %s\n", rep.Started.Format(time.RFC3339), rep.Machine.CPU,
		rep.Machine.CPUs, rep.Machine.Kernel, rep.Machine.Go)
	fmt.Fprintf(w, "corpus %s: %d files, %.1f MiB (", c.Spec.Name, c.Files, mib(c.Bytes))
	for i, k := range []string{"syslog", "auth", "nginx", "json", "random", "elf"} {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, "%s %.0f", k, mib(c.ByKind[k]))
	}
	fmt.Fprintf(w, " MiB)\n%s\n\n", rep.Method)
	fmt.Fprintf(w, "%-31s %8s %8s %9s %8s %9s %7s %7s\n", "name", "wall s", "CPU s", "RSS MiB", "MB/s", "out MiB", "ratio", "stall")
	for _, b := range rep.Benches {
		out, ratio := "", ""
		if b.OutBytes > 0 {
			out = fmt.Sprintf("%.1f", mib(b.OutBytes))
			ratio = fmt.Sprintf("%.2fx", float64(c.Bytes)/float64(b.OutBytes))
		}
		fmt.Fprintf(w, "%-31s %8.2f %8.2f %9.1f %8.0f %9s %7s %6.0f%%\n", b.Name, b.Best.Wall, b.Best.CPU(), mib(b.PeakRSS),
			float64(c.Bytes)/1e6/b.Best.Wall, out, ratio, 100*b.Best.Stall)
	}
	fmt.Fprintln(w)
	for _, r := range rep.Ratios {
		verdict := ""
		if r.Met != nil {
			verdict = "target " + r.Target
			if *r.Met {
				verdict += "  met"
			} else {
				verdict += "  MISSED"
			}
		}
		fmt.Fprintf(w, "%-50s %7.2f   %s\n", r.Name, r.Value, verdict)
	}
	var stalls []float64
	for _, b := range rep.Benches {
		stalls = append(stalls, b.Best.Stall)
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
