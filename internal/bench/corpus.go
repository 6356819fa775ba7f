//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"
)

// corpusVersion changes whenever the generator's output changes, so that a
// cached corpus made by an older generator is made again.
const corpusVersion = 2

// corpusSpec describes a corpus; the same spec always gives the same bytes.
type corpusSpec struct {
	Version int    `json:"version"`
	Name    string `json:"name"` // "full" or "quick"
	Seed    uint64 `json:"seed"`
	// Text and Binary are the byte budgets of each kind; the generator
	// stops adding files once a budget is met.
	Text, Binary int64
	// BigText and BigBinary are the few large files, made first.
	BigText, BigBinary []int64
	// MinSmall and MaxSmall bound the other files (log-uniform).
	MinSmall, MaxSmall int64
	// RandomOnly makes every binary file random (no ELF-like ones).
	RandomOnly bool `json:",omitempty"`
	// Mem are memory-image files: 4 KiB pages, most of them zero, the
	// others text or random, as a RAM capture holds.
	Mem []int64 `json:",omitempty"`
}

func fullSpec() corpusSpec {
	const MiB = 1 << 20
	return corpusSpec{Version: corpusVersion, Name: "full", Seed: 0x5ce11e,
		Text: 616 * MiB, Binary: 410 * MiB, // 1026 MiB, 60% / 40%
		BigText:   []int64{200 * MiB, 64 * MiB, 24 * MiB, 16 * MiB},
		BigBinary: []int64{128 * MiB, 48 * MiB, 16 * MiB},
		MinSmall:  1 << 10, MaxSmall: 1 * MiB}
}

// logsSpec is the second corpus (issue 16): a few large, repetitive log
// files, large random blobs and a memory image, with no small files.
func logsSpec() corpusSpec {
	const MiB = 1 << 20
	return corpusSpec{Version: corpusVersion, Name: "logs", Seed: 0x10650,
		Text: 672 * MiB, Binary: 224 * MiB,
		BigText:    []int64{256 * MiB, 128 * MiB, 96 * MiB, 64 * MiB, 64 * MiB, 32 * MiB, 32 * MiB},
		BigBinary:  []int64{128 * MiB, 64 * MiB, 32 * MiB},
		RandomOnly: true, Mem: []int64{128 * MiB}}
}

func quickLogsSpec() corpusSpec {
	const MiB = 1 << 20
	return corpusSpec{Version: corpusVersion, Name: "logs-quick", Seed: 0x10650,
		Text: 40 * MiB, Binary: 16 * MiB, BigText: []int64{24 * MiB, 16 * MiB}, BigBinary: []int64{16 * MiB},
		RandomOnly: true, Mem: []int64{8 * MiB}}
}

func quickSpec() corpusSpec {
	const MiB = 1 << 20
	return corpusSpec{Version: corpusVersion, Name: "quick", Seed: 0x5ce11e,
		Text: 39 * MiB, Binary: 26 * MiB, // 65 MiB
		BigText:   []int64{12 * MiB, 4 * MiB},
		BigBinary: []int64{8 * MiB, 3 * MiB},
		MinSmall:  1 << 10, MaxSmall: 256 << 10}
}

// fileKind is what a corpus file holds.
type fileKind int

const (
	kindSyslog fileKind = iota
	kindAuth
	kindNginx
	kindAppJSON
	kindRandom
	kindELF
	kindMem
)

func (k fileKind) text() bool { return k <= kindAppJSON }

func (k fileKind) String() string {
	return [...]string{"syslog", "auth", "nginx", "json", "random", "elf", "mem"}[k]
}

// corpusFile is one file of the plan.
type corpusFile struct {
	Path string // slash-separated, relative to the tree
	Size int64
	Kind fileKind
	Seed uint64
}

// corpusStamp is written beside the tree once it is complete.
type corpusStamp struct {
	Spec  corpusSpec `json:"spec"`
	Files int        `json:"files"`
	Bytes int64      `json:"bytes"`
	// ByKind counts bytes per kind.
	ByKind map[string]int64 `json:"by_kind"`
}

// corpus is a generated tree ready to be measured.
type corpus struct {
	Dir   string // the folder given to the tools as root
	Stamp corpusStamp
}

// corpusTime is every file's modification time, so that tar output is the
// same from one run to the next.
var corpusTime = time.Date(2025, 11, 22, 6, 25, 0, 0, time.UTC)

// plan lists the files of spec, in a fixed order.
func plan(spec corpusSpec) []corpusFile {
	rng := rand.New(rand.NewPCG(spec.Seed, 1))
	var files []corpusFile
	seq := 0
	add := func(kind fileKind, size int64) {
		seq++
		files = append(files, corpusFile{Path: placeFile(rng, kind, seq), Size: size, Kind: kind,
			Seed: spec.Seed ^ uint64(seq)*0x9e3779b97f4a7c15})
	}
	textKinds := []fileKind{kindSyslog, kindAuth, kindNginx, kindAppJSON}
	var text, bin int64
	for i, n := range spec.BigText {
		add(textKinds[(i+2)%len(textKinds)], n)
		text += n
	}
	for i, n := range spec.BigBinary {
		k := []fileKind{kindRandom, kindELF}[i%2]
		if spec.RandomOnly {
			k = kindRandom
		}
		add(k, n)
		bin += n
	}
	for _, n := range spec.Mem {
		add(kindMem, n)
	}
	logMin, logMax := math.Log(float64(spec.MinSmall)), math.Log(float64(spec.MaxSmall))
	small := func() int64 {
		return int64(math.Exp(logMin + rng.Float64()*(logMax-logMin)))
	}
	// Interleave the two kinds so that folders mix sizes as on a host.
	for text < spec.Text || bin < spec.Binary {
		if text < spec.Text {
			n := min(small(), spec.Text-text)
			add(textKinds[rng.IntN(len(textKinds))], max(n, 1))
			text += max(n, 1)
		}
		if bin < spec.Binary {
			n := min(small(), spec.Binary-bin)
			k := kindRandom
			if rng.IntN(2) == 0 {
				k = kindELF
			}
			add(k, max(n, 1))
			bin += max(n, 1)
		}
	}
	return files
}

// placeFile names a file of kind in a nested folder like those of a host.
func placeFile(rng *rand.Rand, kind fileKind, seq int) string {
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	sub := func(prefix string, n int) string { return fmt.Sprintf("%s%02d", prefix, rng.IntN(n)) }
	var dir, name string
	switch kind {
	case kindSyslog:
		dir = pick("var/log", "var/log/old", "var/log/"+sub("node", 12)+"/rotated", "var/log/installer")
		name = fmt.Sprintf("syslog.%d", seq)
	case kindAuth:
		dir = pick("var/log", "var/log/archive/"+sub("2025-", 12), "home/"+pick("alice", "bob", "deploy")+"/.cache/logs")
		name = fmt.Sprintf("auth.log.%d", seq)
	case kindNginx:
		dir = pick("var/log/nginx", "var/log/nginx/"+sub("site", 20), "srv/www/"+sub("vhost", 16)+"/logs/"+sub("y", 3))
		name = fmt.Sprintf("access.log.%d", seq)
	case kindAppJSON:
		dir = "opt/" + sub("app", 24) + "/" + pick("log", "logs/json", "var/log/"+sub("worker", 8))
		name = fmt.Sprintf("events-%d.jsonl", seq)
	case kindRandom:
		dir = pick("var/lib/"+sub("store", 10)+"/blobs/"+sub("", 64), "srv/backup/"+sub("vol", 6), "home/"+pick("alice", "bob")+"/Downloads",
			"var/cache/"+sub("pkg", 8)+"/"+sub("", 32))
		name = fmt.Sprintf("blob-%d.%s", seq, pick("bin", "gz", "enc", "jpg", "zip"))
	case kindMem:
		dir, name = "var/crash", fmt.Sprintf("mem-%d.raw", seq)
		return dir + "/" + name
	case kindELF:
		dir = pick("usr/bin", "usr/lib/x86_64-linux-gnu", "usr/lib/"+sub("pkg", 40), "opt/"+sub("app", 24)+"/bin",
			"usr/libexec/"+sub("svc", 16))
		name = fmt.Sprintf("prog-%d%s", seq, pick("", ".so", ".so.1", ""))
	}
	return dir + "/" + name
}

// ensureCorpus returns the corpus of spec under base, made if missing or
// made by another generator version.
func ensureCorpus(base string, spec corpusSpec, logf func(string, ...any)) (*corpus, error) {
	root := filepath.Join(base, spec.Name)
	stampPath := filepath.Join(root, "stamp.json")
	c := &corpus{Dir: filepath.Join(root, "tree")}
	if b, err := os.ReadFile(stampPath); err == nil {
		if json.Unmarshal(b, &c.Stamp) == nil && c.Stamp.Spec.Version == spec.Version &&
			fmt.Sprint(c.Stamp.Spec) == fmt.Sprint(spec) {
			if _, err := os.Stat(c.Dir); err == nil {
				logf("corpus: using %s (%d files, %.0f MiB)", c.Dir, c.Stamp.Files, mib(c.Stamp.Bytes))
				return c, nil
			}
		}
	}
	if err := os.RemoveAll(root); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, err
	}
	files := plan(spec)
	c.Stamp = corpusStamp{Spec: spec, Files: len(files), ByKind: map[string]int64{}}
	for _, f := range files {
		c.Stamp.Bytes += f.Size
		c.Stamp.ByKind[f.Kind.String()] += f.Size
	}
	logf("corpus: making %s (%d files, %.0f MiB), once", c.Dir, len(files), mib(c.Stamp.Bytes))
	start := time.Now()
	// Largest first, so that the workers end together.
	order := make([]int, len(files))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return files[order[a]].Size > files[order[b]].Size })
	jobs := make(chan corpusFile)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range jobs {
				if err := writeCorpusFile(c.Dir, f); err != nil {
					select {
					case errc <- err:
					default:
					}
				}
			}
		}()
	}
	for _, i := range order {
		jobs <- files[i]
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errc:
		return nil, err
	default:
	}
	// Folders get the same time as files, last, since writing files in
	// them changed it.
	var dirs []string
	filepath.WalkDir(c.Dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Chtimes(dirs[i], corpusTime, corpusTime)
	}
	b, _ := json.MarshalIndent(c.Stamp, "", "  ")
	if err := os.WriteFile(stampPath, append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	logf("corpus: made in %.1f s", time.Since(start).Seconds())
	return c, nil
}

func writeCorpusFile(tree string, f corpusFile) error {
	p := filepath.Join(tree, filepath.FromSlash(f.Path))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	werr := generate(bw, f)
	if werr == nil {
		werr = bw.Flush()
	}
	if err := out.Close(); werr == nil {
		werr = err
	}
	if werr != nil {
		return fmt.Errorf("write %s: %w", p, werr)
	}
	return os.Chtimes(p, corpusTime, corpusTime)
}

// generate writes exactly f.Size bytes of f's kind to w.
func generate(w io.Writer, f corpusFile) error {
	lw := &limitWriter{w: w, n: f.Size}
	var err error
	switch f.Kind {
	case kindRandom:
		err = genRandom(lw, f.Seed)
	case kindELF:
		err = genELF(lw, f.Seed)
	case kindMem:
		err = genMem(lw, f.Seed)
	default:
		err = genText(lw, f.Kind, f.Seed)
	}
	if errors.Is(err, errFull) {
		err = nil
	}
	if err == nil && lw.n != 0 {
		err = fmt.Errorf("generator stopped %d bytes short", lw.n)
	}
	return err
}

var errFull = errors.New("file complete")

// limitWriter writes up to n bytes, then returns errFull.
type limitWriter struct {
	w io.Writer
	n int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) >= l.n {
		k, err := l.w.Write(p[:l.n])
		l.n -= int64(k)
		if err == nil {
			err = errFull
		}
		return k, err
	}
	k, err := l.w.Write(p)
	l.n -= int64(k)
	return k, err
}

func genRandom(w io.Writer, seed uint64) error {
	var key [32]byte
	for i := range 4 {
		putUint64(key[i*8:], seed+uint64(i)*0x632be59bd9b4e019)
	}
	src := rand.NewChaCha8(key)
	buf := make([]byte, 256<<10)
	for {
		src.Read(buf)
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
}

// genMem writes a memory image: runs of 4 KiB pages, 60 % of them zero,
// the others text (page cache, heaps of strings) or random (keys,
// compressed data), in runs as a RAM capture has them.
func genMem(w io.Writer, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 5))
	g := &textGen{rng: rng, t: corpusTime.Unix(), host: "web-01"}
	var key [32]byte
	putUint64(key[:], seed)
	src := rand.NewChaCha8(key)
	zero := make([]byte, 4096)
	var text []byte
	page := make([]byte, 4096)
	for {
		run := 1 + int(rng.ExpFloat64()*16)
		r := rng.IntN(100)
		for range run {
			var p []byte
			switch {
			case r < 60:
				p = zero
			case r < 85:
				for len(text) < 4096 {
					g.t++
					text = g.syslog(text)
				}
				p = page[:copy(page, text)]
				text = text[:copy(text, text[4096:])]
			default:
				src.Read(page)
				p = page
			}
			if _, err := w.Write(p); err != nil {
				return err
			}
		}
	}
}

func putUint64(b []byte, v uint64) {
	for i := range min(len(b), 8) {
		b[i] = byte(v >> (8 * i))
	}
}

// genText writes log lines of kind; the fields vary the way they do on a
// busy host so that zstd -3 gets roughly 5-10x.
func genText(w io.Writer, kind fileKind, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 2))
	g := &textGen{rng: rng, t: corpusTime.Add(-time.Duration(rng.IntN(60*24*3600)) * time.Second).Unix()}
	g.host = hosts[rng.IntN(len(hosts))]
	buf := make([]byte, 0, 64<<10)
	for {
		buf = buf[:0]
		for len(buf) < 60<<10 {
			g.t += int64(rng.IntN(3))
			g.ms = rng.IntN(1000)
			switch kind {
			case kindSyslog:
				buf = g.syslog(buf)
			case kindAuth:
				buf = g.auth(buf)
			case kindNginx:
				buf = g.nginx(buf)
			default:
				buf = g.appJSON(buf)
			}
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
}

type textGen struct {
	rng  *rand.Rand
	t    int64
	ms   int
	host string
}

var (
	hosts    = []string{"web-01", "web-02", "web-03", "db-01", "db-02", "cache-01", "bastion", "build-07", "mail", "vpn-gw"}
	users    = []string{"root", "alice", "bob", "deploy", "backup", "postgres", "www-data", "carol", "admin", "ubuntu", "test", "oracle", "git", "jenkins"}
	daemons  = []string{"systemd", "kernel", "cron", "dhclient", "rsyslogd", "dockerd", "containerd", "snapd", "NetworkManager", "chronyd"}
	units    = []string{"nginx.service", "postgresql.service", "docker.service", "ssh.service", "cron.service", "logrotate.service", "apt-daily.service", "fstrim.timer"}
	methods  = []string{"GET", "GET", "GET", "GET", "POST", "POST", "PUT", "DELETE", "HEAD"}
	paths    = []string{"/", "/index.html", "/api/v1/users/", "/api/v1/orders/", "/api/v2/search?q=", "/static/js/app.", "/static/css/site.", "/login", "/logout", "/wp-login.php", "/.env", "/images/product/", "/health", "/metrics", "/cart/add/"}
	statuses = []int{200, 200, 200, 200, 200, 200, 200, 304, 304, 301, 302, 404, 404, 403, 500, 502}
	refs     = []string{"-", "-", "https://www.example.com/", "https://www.google.com/", "https://shop.example.com/cart", "https://www.bing.com/search?q=example"}
	agents   = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
		"curl/8.5.0", "python-requests/2.32.3", "Go-http-client/1.1",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	}
	levels   = []string{"info", "info", "info", "info", "debug", "debug", "warn", "error"}
	services = []string{"billing", "auth", "search", "inventory", "gateway", "mailer", "scheduler"}
	messages = []string{"request completed", "cache miss", "cache hit", "user logged in", "payment authorised", "retrying upstream", "slow query", "connection reset by peer", "token refreshed", "job finished"}
	kmsgs    = []string{"EXT4-fs (vda1): re-mounted. Opts: errors=remount-ro", "TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.", "audit: type=1400 audit(", "Out of memory: Killed process ", "nf_conntrack: table full, dropping packet", "usb 1-1: new high-speed USB device number "}
	months   = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	hexdig   = "0123456789abcdef"
	// containers are the ids of the few dozen containers of a host.
	containers = func() []string {
		r := rand.New(rand.NewPCG(7, 7))
		ids := make([]string, 40)
		for i := range ids {
			ids[i] = strconv.FormatUint(r.Uint64()&0xffffffffffff, 16)
		}
		return ids
	}()
	b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

func (g *textGen) pick(s []string) string { return s[g.rng.IntN(len(s))] }

// ip returns an address: mostly one of a few hundred regular clients,
// sometimes anyone.
func (g *textGen) ip(b []byte) []byte {
	var a, c, d, e int
	if g.rng.IntN(4) != 0 {
		k := int(g.rng.ExpFloat64()*40) % 400
		a, c, d, e = 10+k%7*30, k*37%256, k*101%256, k*13%250+1
	} else {
		a, c, d, e = 1+g.rng.IntN(223), g.rng.IntN(256), g.rng.IntN(256), 1+g.rng.IntN(254)
	}
	b = strconv.AppendInt(b, int64(a), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(c), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(d), 10)
	b = append(b, '.')
	return strconv.AppendInt(b, int64(e), 10)
}

func (g *textGen) hex(b []byte, n int) []byte {
	for range n {
		b = append(b, hexdig[g.rng.IntN(16)])
	}
	return b
}

func two(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

// stamp3164 appends "Nov 22 06:25:01".
func (g *textGen) stamp3164(b []byte) []byte {
	t := time.Unix(g.t, 0).UTC()
	b = append(b, months[t.Month()-1]...)
	b = append(b, ' ')
	if t.Day() < 10 {
		b = append(b, ' ', byte('0'+t.Day()))
	} else {
		b = two(b, t.Day())
	}
	b = append(b, ' ')
	b = two(b, t.Hour())
	b = append(b, ':')
	b = two(b, t.Minute())
	b = append(b, ':')
	return two(b, t.Second())
}

func (g *textGen) head(b []byte, prog string, pid int) []byte {
	b = g.stamp3164(b)
	b = append(b, ' ')
	b = append(b, g.host...)
	b = append(b, ' ')
	b = append(b, prog...)
	if pid > 0 {
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(pid), 10)
		b = append(b, ']')
	}
	return append(b, ": "...)
}

func (g *textGen) syslog(b []byte) []byte {
	d := g.pick(daemons)
	switch d {
	case "kernel":
		b = g.head(b, "kernel", 0)
		b = append(b, '[')
		b = strconv.AppendFloat(b, float64(g.t%9000000)+float64(g.ms)/1000, 'f', 6, 64)
		b = append(b, "] "...)
		b = append(b, g.pick(kmsgs)...)
		b = strconv.AppendInt(b, int64(g.rng.IntN(100000)), 10)
	case "systemd":
		b = g.head(b, "systemd", 1)
		b = append(b, g.pick([]string{"Started ", "Stopping ", "Finished ", "Reloading "})...)
		b = append(b, g.pick(units)...)
		b = append(b, " - "...)
		b = append(b, g.pick([]string{"A high performance web server", "PostgreSQL RDBMS", "Docker Application Container Engine", "Daily apt download activities", "Rotate log files"})...)
		b = append(b, '.')
	case "cron":
		b = g.head(b, "CRON", 1000+g.rng.IntN(60000))
		b = append(b, '(')
		b = append(b, g.pick(users[:6])...)
		b = append(b, ") CMD ("...)
		b = append(b, g.pick([]string{"command -v debian-sa1 > /dev/null && debian-sa1 1 1", "/usr/local/bin/backup.sh --incremental", "cd / && run-parts --report /etc/cron.hourly", "/usr/lib/php/sessionclean"})...)
		b = append(b, ')')
	case "dhclient":
		b = g.head(b, "dhclient", 400+g.rng.IntN(200))
		b = append(b, "DHCPACK of "...)
		b = g.ip(b)
		b = append(b, " from "...)
		b = g.ip(b)
		b = append(b, " (xid=0x"...)
		b = g.hex(b, 8)
		b = append(b, ')')
	default:
		b = g.head(b, d, 300+g.rng.IntN(30000))
		b = append(b, "time=\""...)
		b = append(b, time.Unix(g.t, int64(g.ms)*1e6).UTC().Format(time.RFC3339Nano)...)
		b = append(b, "\" level="...)
		b = append(b, g.pick(levels)...)
		b = append(b, " msg=\""...)
		b = append(b, g.pick(messages)...)
		b = append(b, "\" container="...)
		b = append(b, containers[g.rng.IntN(len(containers))]...)
		b = append(b, " duration="...)
		b = strconv.AppendInt(b, int64(g.rng.IntN(5000)), 10)
		b = append(b, "ms"...)
	}
	return append(b, '\n')
}

func (g *textGen) auth(b []byte) []byte {
	pid := 1000 + g.rng.IntN(60000)
	switch g.rng.IntN(6) {
	case 0, 1:
		b = g.head(b, "sshd", pid)
		b = append(b, "Failed password for "...)
		if g.rng.IntN(2) == 0 {
			b = append(b, "invalid user "...)
		}
		b = append(b, g.pick(users)...)
		b = append(b, " from "...)
		b = g.ip(b)
		b = append(b, " port "...)
		b = strconv.AppendInt(b, int64(1024+g.rng.IntN(64000)), 10)
		b = append(b, " ssh2"...)
	case 2:
		b = g.head(b, "sshd", pid)
		b = append(b, "Accepted publickey for "...)
		b = append(b, g.pick(users[:6])...)
		b = append(b, " from "...)
		b = g.ip(b)
		b = append(b, " port "...)
		b = strconv.AppendInt(b, int64(1024+g.rng.IntN(64000)), 10)
		b = append(b, " ssh2: ED25519 SHA256:"...)
		// A few dozen known keys.
		k := g.rng.IntN(24)
		for i := range 43 {
			b = append(b, b64[(k*7919+i*131+i*i*k)%64])
		}
	case 3:
		b = g.head(b, "sshd", pid)
		b = append(b, "pam_unix(sshd:session): session "...)
		b = append(b, g.pick([]string{"opened", "closed"})...)
		b = append(b, " for user "...)
		b = append(b, g.pick(users[:6])...)
		b = append(b, "(uid="...)
		b = strconv.AppendInt(b, int64(g.rng.IntN(3)*1000), 10)
		b = append(b, ") by (uid=0)"...)
	case 4:
		b = g.head(b, "sudo", 0)
		u := g.pick(users[1:5])
		b = append(b, "   "...)
		b = append(b, u...)
		b = append(b, " : TTY=pts/"...)
		b = strconv.AppendInt(b, int64(g.rng.IntN(8)), 10)
		b = append(b, " ; PWD=/home/"...)
		b = append(b, u...)
		b = append(b, " ; USER=root ; COMMAND=/usr/bin/"...)
		b = append(b, g.pick([]string{"systemctl restart nginx", "apt-get upgrade -y", "journalctl -u ssh --since today", "tail -f /var/log/syslog", "docker ps -a"})...)
	default:
		b = g.head(b, "systemd-logind", 700+g.rng.IntN(100))
		b = append(b, "New session "...)
		b = strconv.AppendInt(b, int64(g.rng.IntN(90000)), 10)
		b = append(b, " of user "...)
		b = append(b, g.pick(users[:6])...)
		b = append(b, '.')
	}
	return append(b, '\n')
}

func (g *textGen) nginx(b []byte) []byte {
	t := time.Unix(g.t, 0).UTC()
	b = g.ip(b)
	b = append(b, " - "...)
	if g.rng.IntN(10) == 0 {
		b = append(b, g.pick(users)...)
	} else {
		b = append(b, '-')
	}
	b = append(b, " ["...)
	b = two(b, t.Day())
	b = append(b, '/')
	b = append(b, months[t.Month()-1]...)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(t.Year()), 10)
	b = append(b, ':')
	b = two(b, t.Hour())
	b = append(b, ':')
	b = two(b, t.Minute())
	b = append(b, ':')
	b = two(b, t.Second())
	b = append(b, " +0000] \""...)
	b = append(b, g.pick(methods)...)
	b = append(b, ' ')
	p := g.pick(paths)
	b = append(b, p...)
	switch p[len(p)-1] {
	case '/', '=':
		b = strconv.AppendInt(b, int64(g.rng.ExpFloat64()*2000), 10)
	case '.':
		b = g.hex(b, 8)
		b = append(b, ".js"...)
	}
	b = append(b, " HTTP/"...)
	b = append(b, g.pick([]string{"1.1", "1.1", "2.0"})...)
	b = append(b, "\" "...)
	b = strconv.AppendInt(b, int64(statuses[g.rng.IntN(len(statuses))]), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(g.rng.ExpFloat64()*8000), 10)
	b = append(b, " \""...)
	b = append(b, g.pick(refs)...)
	b = append(b, "\" \""...)
	b = append(b, g.pick(agents)...)
	b = append(b, "\" rt="...)
	b = strconv.AppendFloat(b, g.rng.ExpFloat64()*0.08, 'f', 3, 64)
	return append(b, '\n')
}

func (g *textGen) appJSON(b []byte) []byte {
	b = append(b, `{"ts":"`...)
	b = append(b, time.Unix(g.t, int64(g.ms)*1e6).UTC().Format("2006-01-02T15:04:05.000Z")...)
	b = append(b, `","level":"`...)
	b = append(b, g.pick(levels)...)
	b = append(b, `","svc":"`...)
	b = append(b, g.pick(services)...)
	b = append(b, `","host":"`...)
	b = append(b, g.host...)
	b = append(b, `","req_id":"`...)
	b = g.hex(b, 16)
	b = append(b, `","user_id":`...)
	b = strconv.AppendInt(b, int64(g.rng.ExpFloat64()*5000), 10)
	b = append(b, `,"msg":"`...)
	b = append(b, g.pick(messages)...)
	b = append(b, `","latency_ms":`...)
	b = strconv.AppendInt(b, int64(g.rng.ExpFloat64()*40), 10)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(statuses[g.rng.IntN(len(statuses))]), 10)
	b = append(b, `,"client":"`...)
	b = g.ip(b)
	return append(b, "\"}\n"...)
}

// genELF writes an ELF-like file: a header, code made of a few hundred
// instruction patterns with varying operands, string tables, pointer
// tables and zero padding. zstd -3 gets roughly 2-3x from it, as from real
// binaries.
func genELF(w io.Writer, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 3))
	hdr := []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0, 1, 0, 0, 0}
	hdr = append(hdr, make([]byte, 64-len(hdr))...)
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	// Instruction patterns shared by every ELF file of the corpus (as libc
	// idioms are), and a few of this file's own.
	pr := rand.New(rand.NewPCG(0xe1f, 4))
	pats := make([][]byte, 0, 320)
	for range 256 {
		p := make([]byte, 1+pr.IntN(7))
		for i := range p {
			p[i] = byte(pr.IntN(256))
		}
		pats = append(pats, p)
	}
	for range 64 {
		p := make([]byte, 1+rng.IntN(7))
		for i := range p {
			p[i] = byte(rng.IntN(256))
		}
		pats = append(pats, p)
	}
	words := []string{"malloc", "free", "memcpy", "strlen", "pthread_mutex_lock", "pthread_mutex_unlock", "open", "read", "write", "close",
		"error: %s: %s\n", "usage: %s [options] file...\n", "GLIBC_2.34", "GLIBC_2.2.5", "_ITM_registerTMCloneTable", "__cxa_finalize",
		"config", "timeout", "connection refused", "invalid argument", ".text", ".rodata", ".data", ".bss", ".dynsym", ".dynstr", "libc.so.6"}
	buf := make([]byte, 0, 96<<10)
	base := uint64(0x555555554000) + uint64(rng.IntN(1<<20))<<12
	for {
		buf = buf[:0]
		for len(buf) < 64<<10 {
			switch r := rng.IntN(100); {
			case r < 70: // code
				for range 256 {
					p := pats[int(rng.ExpFloat64()*40)%len(pats)]
					buf = append(buf, p...)
					if rng.IntN(4) == 0 { // an operand
						v := uint32(rng.ExpFloat64() * 4096)
						if rng.IntN(8) == 0 {
							v = rng.Uint32()
						}
						buf = append(buf, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
					}
				}
			case r < 82: // strings
				for range 64 {
					buf = append(buf, words[rng.IntN(len(words))]...)
					if rng.IntN(3) == 0 {
						buf = strconv.AppendInt(buf, int64(rng.IntN(1000)), 10)
					}
					buf = append(buf, 0)
				}
			case r < 94: // pointers and relocations
				for range 256 {
					v := base + uint64(rng.IntN(1<<16))*8
					buf = append(buf, byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), 0, 0)
				}
			case r < 97: // padding
				buf = append(buf, make([]byte, 512+rng.IntN(3584))...)
			default: // compressed or encrypted data
				n := len(buf)
				buf = append(buf, make([]byte, 1024+rng.IntN(4096))...)
				for i := n; i < len(buf); i += 8 {
					putUint64(buf[i:min(i+8, len(buf))], rng.Uint64())
				}
			}
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
