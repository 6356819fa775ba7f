package report

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"flag"
	stdhtml "html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/internal/testtool"
	"github.com/scelle/scelle/internal/visible"
	"github.com/scelle/scelle/seal"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/report.golden.html")

var reportT0 = time.Date(2026, 11, 22, 14, 30, 0, 0, time.UTC)

func reportKey(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

// reportBag seals a bag the way scelle collect does, with a record whose
// every field is filled, a custody history signed by three holders and
// the files later added beside the bag. Everything is fixed (keys,
// times), so the bag, its root and the report are the same on each run.
func reportBag(t testing.TB) string {
	t.Helper()
	key := reportKey(7)
	dir := filepath.Join(t.TempDir(), "CASE-2026-042_web01_20261122T143000Z")
	now := reportT0
	clock := func() time.Time { now = now.Add(time.Second); return now }
	w, err := seal.Create(dir, seal.Options{Key: key, Collection: "5f0c3d2e-8f5a-4d8e-9b1c-2a7e6f4b9c01", Tool: "scelle 1.0.0", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	operator := &chain.Person{Name: "Jeanne Martin", Organisation: "CERT Exemple", Role: "intervenante / incident responder"}
	if _, err := chain.AppendCustody(w.PartialDir(), chain.CustodyEvent{Event: chain.EventAcquired, At: reportT0, Case: "CASE-2026-042",
		Host: "web01", Tool: "scelle 1.0.0", Actor: operator}, key); err != nil {
		t.Fatal(err)
	}
	payload := []struct{ name, data string }{
		{"live/proc/1/cmdline", "/sbin/init\x00"},
		{"live/system/identity.jsonl", `{"hostname":"web01"}` + "\n"},
		{"fs/var/log/auth.log", "Nov 22 14:01:02 web01 sshd[4242]: Accepted publickey for root\n"},
	}
	rec := &chain.Record{Format: chain.RecordFormat, Collection: "5f0c3d2e-8f5a-4d8e-9b1c-2a7e6f4b9c01", Case: "CASE-2026-042",
		Examiner: "Jeanne Martin",
		People: &chain.People{Operator: operator, Mandator: "Société Exemple SA (direction juridique)",
			Witnesses: []chain.Person{{Name: "Me Claire Dupont", Role: "commissaire de justice", Reference: "PV 2026-118"}}},
		Tool: chain.Tool{Name: "scelle", Version: "1.0.0", Revision: "0123456789abcdef0123456789abcdef01234567",
			SHA256: strings.Repeat("5e", 32), Path: "/media/usb/scelle", GoOS: "linux", GoArch: "amd64"},
		Argv:    []string{"scelle", "collect", "--case", "CASE-2026-042", "--examiner", "Jeanne Martin", "--out", "/media/usb"},
		Profile: "default", Root: "/", Live: true,
		Started: reportT0, Ended: reportT0.Add(4*time.Minute + 12*time.Second + 345*time.Millisecond),
		Reference: &chain.Reference{Operator: reportT0.Add(-2500 * time.Millisecond), Host: reportT0, SkewSeconds: 2.5},
		Host: json.RawMessage(`{"live":true,"hostname":"web01","hostname_source":"/proc/sys/kernel/hostname","domainname":"(none)",
"machine_id":"3f9a1c2b4d5e6f708192a3b4c5d6e7f8","boot_id":"6c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
"os_release":{"ID":"debian","NAME":"Debian GNU/Linux","PRETTY_NAME":"Debian GNU/Linux 12 (bookworm)","VERSION_ID":"12"},
"kernel":{"sysname":"Linux","nodename":"web01","release":"6.1.0-26-amd64","version":"#1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1","machine":"x86_64","domainname":"(none)"},
"dmi":{"sys_vendor":"Dell Inc.","product_name":"PowerEdge R650","product_serial":"7XK4Q93","product_uuid":"4c4c4544-0058-4b10-8034-b7c04f513933","bios_vendor":"Dell Inc.","bios_version":"1.13.2"},
"interfaces":[{"name":"lo","mac":"00:00:00:00:00:00","operstate":"unknown","addresses":[{"address":"127.0.0.1","prefix_len":8}]},
{"name":"eno1","mac":"b0:7b:25:aa:bb:cc","operstate":"down","addresses":[{"address":"192.0.2.10","prefix_len":24}]}]}`),
		ClockStart: json.RawMessage(`{"live":true,"wall_clock":"2026-11-22T14:30:00.000131Z","monotonic_seconds":864000.5,"uptime_seconds":864012.25,
"boot_time":"2026-11-12T14:29:48Z","timezone":"Europe/Paris","timezone_source":"/etc/localtime link",
"ntp":{"synchronised":true,"state":"TIME_OK","status":["STA_PLL","STA_NANO"],"status_raw":8193,"offset_ns":-183000,"freq_ppm":-12.5,"maxerror_us":16500,"esterror_us":420,"constant":7,"precision_us":1,"tolerance":32768000,"tick_us":10000,"tai":37}}`),
		ClockEnd: json.RawMessage(`{"live":true,"wall_clock":"2026-11-22T14:34:12.345Z","uptime_seconds":864264.6,
"boot_time":"2026-11-12T14:29:48Z","timezone":"Europe/Paris",
"ntp":{"synchronised":false,"state":"TIME_ERROR","status":["STA_UNSYNC"],"status_raw":64,"offset_ns":0,"maxerror_us":16000000,"esterror_us":16000000}}`),
	}
	for i, p := range payload {
		res, err := w.Put(context.Background(), seal.Entry{Name: p.name, Size: int64(len(p.data)), ModTime: reportT0}, strings.NewReader(p.data))
		if err != nil {
			t.Fatal(err)
		}
		class := []string{"process", "system", "disk"}[i]
		rec.Items = append(rec.Items, evidence.Item{Collector: strings.Split(p.name, "/")[1] + ".test", Class: class, Source: "/" + strings.SplitN(p.name, "/", 2)[1],
			Path: res.Path, Kind: "file", Status: "collected", Size: res.Size, SHA256: hexSum(res.SHA256), Started: reportT0, Ended: reportT0})
	}
	rec.Items = append(rec.Items,
		evidence.Item{Collector: "proc.memory", Class: "process", Source: "/proc/4242/mem", Kind: "memory", Status: "partial", Reason: "size cap 256 MiB reached"},
		evidence.Item{Collector: "net.sockets", Class: "network", Source: "netlink", Kind: "table", Status: "failed", Reason: "netlink: permission denied"},
		evidence.Item{Collector: "system.dmesg", Class: "system", Source: "/dev/kmsg", Kind: "file", Status: "failed", Reason: "open /dev/kmsg: operation not permitted"},
		evidence.Item{Collector: "files.logs", Class: "disk", Source: "/var/log/journal/big.journal", Kind: "file", Status: "skipped", Reason: "above --max-file-size"},
		evidence.Item{Collector: "files.logs", Class: "disk", Source: "/var/log/journal/big2.journal", Kind: "file", Status: "skipped", Reason: "above --max-file-size"},
		evidence.Item{Collector: "files.tmp", Class: "temp", Source: "/tmp/.X11-unix", Kind: "file", Status: "skipped", Reason: "not present"},
	)
	pub, _ := seal.PublicKeyPEM(w.PublicKey())
	rec.Key = chain.Key{Fingerprint: seal.KeyFingerprint(w.PublicKey()), PublicKey: string(pub), Ephemeral: false}
	rec.Summarize()
	b, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var info seal.BagInfo
	info.Add("External-Identifier", rec.Case)
	s, err := w.Seal(b, info)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.AppendCustody(dir, chain.CustodyEvent{Event: chain.EventSealed, At: reportT0.Add(5 * time.Minute), Root: s.Root,
		ArchiveSHA256: s.ArchiveSHA256, Items: &s.Items, Octets: &s.Octets, Summary: rec.Summary, Actor: operator}, key); err != nil {
		t.Fatal(err)
	}
	intact := true
	for i, e := range []struct {
		ev  chain.CustodyEvent
		key ed25519.PrivateKey
	}{
		{chain.CustodyEvent{Event: chain.EventTransferred, Actor: operator, From: "Jeanne Martin", To: "Laboratoire Expertise Numérique",
			Medium: "clé USB / USB stick SN 0042", SealNumber: "S-2026-0042", Reason: "expertise judiciaire"}, reportKey(8)},
		{chain.CustodyEvent{Event: chain.EventReceived, Actor: &chain.Person{Name: "Dr Paul Leroy", Role: "expert judiciaire", Organisation: "Laboratoire Expertise Numérique"},
			By: "Dr Paul Leroy", SealIntact: &intact, Condition: "scellé intact, sans marque", SealNumber: "S-2026-0042"}, reportKey(9)},
	} {
		e.ev.At = reportT0.Add(time.Duration(i+1) * 24 * time.Hour)
		if _, err := chain.AppendCustody(dir, e.ev, e.key); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range map[string]string{TPMFile: `{"quote":"AAAA"}` + "\n", "timestamp-1.tsr": "\x30\x03\x02\x01\x00"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func hexSum(b [32]byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 64)
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// verifiedReport builds the report of a verified bag.
func verifiedReport(t testing.TB, dir string) *Report {
	t.Helper()
	vr, err := seal.Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !vr.OK() {
		t.Fatalf("test bag does not verify: %+v", vr.Failed())
	}
	r, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	r.SetVerification(vr.Checks, "VERIFIED")
	return r
}

func TestReportHTMLGolden(t *testing.T) {
	dir := reportBag(t)
	r := verifiedReport(t, dir)
	if r.Custody == nil || !r.Custody.OK() || len(r.Custody.Entries) != 4 {
		t.Fatalf("custody: %+v", r.Custody)
	}
	if len(r.Extras) != 2 || r.Extras[0].Name != "timestamp-1.tsr" || r.Extras[1].Name != TPMFile {
		t.Fatalf("extras: %+v", r.Extras)
	}
	var got bytes.Buffer
	if err := r.WriteHTML(&got); err != nil {
		t.Fatal(err)
	}
	html := stdhtml.UnescapeString(got.String())
	for _, want := range []string{
		"Empreinte racine", "Root fingerprint", groupHex(r.Root), "CASE-2026-042", "Jeanne Martin", "web01",
		"Me Claire Dupont", "commissaire de justice", "PV 2026-118", "Société Exemple SA", "PowerEdge R650",
		"3f9a1c2b4d5e6f708192a3b4c5d6e7f8", "Debian GNU/Linux 12 (bookworm)", "+2.500 s", "TIME_ERROR",
		groupHex(strings.Repeat("5e", 32)), "netlink: permission denied", "above --max-file-size", "<svg",
		"sha256sum -c evidence.tar.zst.sha256", "tar --zstd -xf evidence.tar.zst", "sha256sum -c --quiet manifest-sha256.txt",
		"sha256sum -c --quiet tagmanifest-sha256.txt", "openssl pkeyutl -verify -pubin -inkey ../root.pub.pem -rawin -in tagmanifest-sha256.txt -sigfile ../root.sig",
		"Mise sous scellé", "Dr Paul Leroy", "VÉRIFIÉ", groupHex(reportKeyFP(9)),
	} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	// Self-contained: nothing loaded from elsewhere.
	if m := regexp.MustCompile(`(?i)(src|href)\s*=|url\(|@import|<script|<link`).FindString(html); m != "" {
		t.Errorf("HTML refers to an external resource: %q", m)
	}
	golden := filepath.Join("testdata", "report.golden.html")
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestReportHTMLGolden -update)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("HTML differs from %s (if the change is meant, run go test -run TestReportHTMLGolden -update)\n%s", golden, firstDiff(got.Bytes(), want))
	}
}

func reportKeyFP(b byte) string {
	return seal.KeyFingerprint(reportKey(b).Public().(ed25519.PublicKey))
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\ngot:  " + x + "\nwant: " + y
		}
	}
	return ""
}

func TestReportDeterministic(t *testing.T) {
	r := verifiedReport(t, reportBag(t))
	var h1, h2, p1, p2 bytes.Buffer
	if err := r.WriteHTML(&h1); err != nil {
		t.Fatal(err)
	}
	if err := r.WritePDF(&p1); err != nil {
		t.Fatal(err)
	}
	r2 := verifiedReport(t, reportBag(t))
	if err := r2.WriteHTML(&h2); err != nil {
		t.Fatal(err)
	}
	if err := r2.WritePDF(&p2); err != nil {
		t.Fatal(err)
	}
	if r.Root != r2.Root {
		t.Fatalf("the test bag's root is not stable: %s, %s", r.Root, r2.Root)
	}
	if !bytes.Equal(h1.Bytes(), h2.Bytes()) {
		t.Error("HTML differs between two identical bags")
	}
	if !bytes.Equal(p1.Bytes(), p2.Bytes()) {
		t.Error("PDF differs between two identical bags")
	}
	if !bytes.HasPrefix(p1.Bytes(), []byte("%PDF-")) {
		t.Error("not a PDF")
	}
}

// writeTestPDF renders the test bag's report to a file and returns its
// path and the report.
func writeTestPDF(t *testing.T) (string, *Report) {
	t.Helper()
	r := verifiedReport(t, reportBag(t))
	var b bytes.Buffer
	if err := r.WritePDF(&b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, r
}

func TestReportPDFText(t *testing.T) {
	testtool.Need(t, "pdftotext", "poppler-utils")
	path, r := writeTestPDF(t)
	out, err := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	text := string(out)
	want := []string{"CASE-2026-042", "Jeanne Martin", "web01", "Empreinte", "fingerprint", "Empreinte racine", "Root fingerprint",
		"Me Claire Dupont", "commissaire de justice", "PV 2026-118", "Vérification", "Chaîne de possession", "Chain of custody",
		groupHex(r.Root), "openssl pkeyutl -verify", "sha256sum -c evidence.tar.zst.sha256"}
	want = append(want, rootLines(r.Root)...)
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("pdftotext output lacks %q", w)
		}
	}
	pages := strings.Count(text, "\f")
	for n := 1; n <= pages; n++ {
		if w := "page " + strconv.Itoa(n) + " / " + strconv.Itoa(pages); !strings.Contains(text, w) {
			t.Errorf("no %q in the PDF", w)
		}
	}
	if c := strings.Count(text, groupHex(r.Root)); c < pages {
		t.Errorf("root fingerprint printed %d times on %d pages, want it in every footer", c, pages)
	}
}

func TestReportPDFQR(t *testing.T) {
	testtool.Need(t, "pdftoppm", "poppler-utils")
	testtool.Need(t, "zbarimg", "zbar-tools")
	path, r := writeTestPDF(t)
	prefix := filepath.Join(filepath.Dir(path), "page")
	if out, err := exec.Command("pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", path, prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	pngs, _ := filepath.Glob(prefix + "*.png")
	if len(pngs) != 1 {
		t.Fatalf("pdftoppm made %v", pngs)
	}
	out, err := exec.Command("zbarimg", "-q", "--raw", pngs[0]).Output()
	if err != nil {
		t.Fatalf("zbarimg found no code on page 1: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != r.Root {
		t.Fatalf("QR code holds %q, want the root %s", got, r.Root)
	}
}

func TestReportUnverifiedAndBroken(t *testing.T) {
	dir := reportBag(t)
	// A custody log whose second line was changed: the report says where.
	b, err := os.ReadFile(filepath.Join(dir, chain.CustodyFile))
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("S-2026-0042"), []byte("S-2026-0043"), 1)
	if err := os.WriteFile(filepath.Join(dir, chain.CustodyFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	var h bytes.Buffer
	if err := r.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NON VÉRIFIÉ", "NOT VERIFIED", "JOURNAL DE POSSESSION ROMPU à la ligne 3", "CUSTODY LOG BROKEN at line 3"} {
		if !strings.Contains(h.String(), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	var p bytes.Buffer
	if err := r.WritePDF(&p); err != nil {
		t.Fatal(err)
	}

	r.SetVerification([]seal.Check{{Name: seal.CheckRoot, Where: seal.RootFile, Detail: "differs"}}, "FAILED")
	h.Reset()
	if err := r.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.String(), "ÉCHEC / FAIL") || !strings.Contains(h.String(), `class="verdict fail"`) {
		t.Error("a failed verification is not shown as such")
	}
}

func TestReportNeedsRecord(t *testing.T) {
	if _, err := Build(t.TempDir()); err == nil || !strings.Contains(err.Error(), seal.RecordFile) {
		t.Fatalf("Build of an empty folder: %v", err)
	}
}

func TestToCP1252(t *testing.T) {
	tr := (&Report{}).pdfTranslator()
	if got, want := tr("é«Ω→»\x00\n€/home/иван\xff\ufffd\U0001F600"), "\xe9\xab\\u03a9\\u2192\xbb\\x00\n\x80/home/\\u0438\\u0432\\u0430\\u043d\\xff\\ufffd\\U0001f600"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// Host text comes shown: a name that holds the six characters
	// \u0438 never reads as one that holds и.
	if a, b := tr(visible.String("и")), tr(visible.String(`\u0438`)); a == b {
		t.Fatalf("и and the text \\u0438 both read %q", a)
	}
}

// TestReportWriteSample writes the test bag's report to $SCELLE_REPORT_SAMPLE
// (a folder), to look at it.
func TestReportWriteSample(t *testing.T) {
	out := os.Getenv("SCELLE_REPORT_SAMPLE")
	if out == "" {
		t.Skip("set SCELLE_REPORT_SAMPLE to a folder to write report.html and report.pdf there")
	}
	r := verifiedReport(t, reportBag(t))
	var h, p bytes.Buffer
	if err := r.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	if err := r.WritePDF(&p); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, HTMLFile), h.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, PDFFile), p.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A name with characters the PDF's core fonts lack is written with
// \uXXXX escapes, never '?', and the end of the report says so; a byte
// that is not UTF-8 is written \xff, as the terminal shows it.
func TestReportPDFEscapesNames(t *testing.T) {
	testtool.Need(t, "pdftotext", "poppler-utils")
	r := verifiedReport(t, reportBag(t))
	r.Items.Add(&evidence.Item{Collector: "files", Class: "config", Source: "/home/иван/с\xff.txt", Kind: "file", Status: "failed",
		Reason: "permission denied"})
	var b bytes.Buffer
	if err := r.WritePDF(&b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	text := strings.Join(strings.Fields(string(out)), "") // cells wrap long names
	for _, w := range []string{`/home/\u0438\u0432\u0430`, `\xff.txt`, `arewritten\uXXXX`} {
		if !strings.Contains(text, w) {
			t.Errorf("pdftotext output lacks %q:\n%s", w, out)
		}
	}
}

// WriteFS reads a bag through an fs.FS as Write reads its folder: the
// same verdict; a bag read from a store is said to be, with its versions.
func TestReportWriteFS(t *testing.T) {
	dir := reportBag(t)
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	local, err := Write(dir, t.TempDir(), at, nil)
	if err != nil {
		t.Fatal(err)
	}
	fsys := os.DirFS(dir)
	name := "s3://bucket/case/" + filepath.Base(dir) + "/"
	stored := &Stored{Endpoint: "http://127.0.0.1:9", Location: name, Line: 3,
		Objects: []chain.StoredObject{{Key: "case/" + filepath.Base(dir) + "/evidence.tar.zst", VersionID: "v-0123", Size: 42}}}
	out := t.TempDir()
	remote, err := WriteFS(fsys, name, out, at, nil, func(o verdict.Options) (*verdict.Verdict, *Stored, error) {
		v, err := verdict.CheckFS(fsys, name, o)
		return v, stored, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if remote.Verdict.Status != local.Verdict.Status || remote.Root != local.Root {
		t.Errorf("through an fs.FS: %s, root %s; the folder: %s, root %s", remote.Verdict.Status, remote.Root, local.Verdict.Status, local.Root)
	}
	lh, err := os.ReadFile(local.HTML)
	if err != nil {
		t.Fatal(err)
	}
	rh, err := os.ReadFile(remote.HTML)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Bag read from an S3 store", "http://127.0.0.1:9", "v-0123", "pinned by custody line 3", filepath.Base(dir)} {
		if !strings.Contains(string(rh), want) {
			t.Errorf("the report of a stored bag does not say %q", want)
		}
	}
	if strings.Contains(string(lh), "S3 store") {
		t.Error("the report of a local folder speaks of a store")
	}
	if _, err := os.Stat(filepath.Join(out, PDFFile)); err != nil {
		t.Error(err)
	}
}
