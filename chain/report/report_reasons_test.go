package report

import (
	"bytes"
	stdhtml "html"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/internal/testtool"
	"github.com/scelle/scelle/seal"
)

// knownReasons are the reasons the collectors, the runner, the session
// and the sink write, as a record holds them (numbers, paths and errors
// filled in), with their class.
var knownReasons = []struct {
	reason string
	class  reasonClass
}{
	// collect: the runner and the session.
	{"interrupted before this collector ran", reasonInterrupted},
	{"interrupted; items after this point not collected", reasonInterrupted},
	{"interrupted while this item was read", reasonInterrupted},
	{"time limit of 10m0s reached; items after this point not collected", reasonTimeout},
	{"context deadline exceeded", reasonTimeout},
	{"read failed after 4096 bytes: context deadline exceeded", reasonTimeout},
	{"collector panicked: runtime error: index out of range [3] with length 3", reasonOther},
	{"not present", reasonAbsent},
	{"no NTFS volume to collect from", reasonAbsent}, // ntfs.Tree, ntfs.timeline
	// collect/winpmem.
	{"physical memory on Windows needs a signed kernel driver, which scelle does not ship: give --winpmem PATH, the examiner's own WinPmem", reasonUnavailable},
	{"read failed after 4096 bytes: read /proc/kcore: input/output error", reasonReadError},
	{"read failed after 4096 bytes: read /var/log/x: input/output error; 8192 bytes zero-padded", reasonReadError},
	{"read failed after 0 bytes: read /proc/1/environ: permission denied", reasonPermission},
	{"source ended 812 bytes early; zero-padded to its size at open", reasonChanged},
	{"truncated at 1048576 bytes", reasonTruncated},
	{"size cap: first 1073741824 of 4294967296 bytes", reasonLimit},
	{"changed while read (see stat_before and stat_after)", reasonChanged},
	{"replaced by a non-regular file before opening; not opened", reasonChanged},
	{"directory", reasonByDesign},
	{"FIFO: recorded, never opened", reasonByDesign},
	{"socket: recorded, never opened", reasonByDesign},
	{"device: recorded, never opened", reasonByDesign},
	{"special file: recorded, never opened", reasonByDesign},
	{"open /root/.ssh/id_ed25519: permission denied", reasonPermission},
	{"open /dev/kmsg: operation not permitted", reasonPermission},
	{"lstat /home/x: no such file or directory", reasonAbsent},
	{"/proc/self/x: larger than 65536 bytes", reasonLimit},
	// internal/acquire: the sink.
	{"interrupted before this item was read", reasonInterrupted},
	{"output budget: 1048576 bytes would exceed the 4096 left of --max-output", reasonBudget},
	// collect/files.
	{"file count cap of 100000 reached", reasonLimit},
	// collect/proc.
	{"process exited before it was read", reasonExited},
	{"process exited", reasonExited},
	{"process exited: open /proc/4242/fd: no such file or directory", reasonExited},
	{"process exited (zombie, not yet reaped): readlink /proc/4242/exe: no such file or directory", reasonExited},
	{"no such process", reasonExited},
	{"no user address space (kernel thread)", reasonAbsent},
	{"dead-box collection: volatile state not available", reasonUnavailable},
	{"process collection is not supported on windows", reasonUnavailable},
	{"memory cap of 536870912 bytes reached", reasonLimit},
	// collect/netstat.
	{"not supported on darwin: no /proc or netlink", reasonUnavailable},
	{"the kernel does not report it in the interface's present state (invalid argument)", reasonUnavailable},
	{"link /etc/resolv.conf loops back to /etc/resolv.conf: not followed again", reasonByDesign},
	{"target of link /etc/resolv.conf: more than 8 links in a row, not followed", reasonLimit},
	{"target of link /etc/resolv.conf lies outside /etc and /run: not followed", reasonByDesign},
	{"empty: no entries", reasonAbsent},
	{"folder: not descended", reasonByDesign},
	{"not collected: the kernel exposes iptables and nftables rules only through nfnetlink and getsockopt, which this version does not read", reasonUnavailable},
	// collect/system.
	{"not present: the firmware gives no SMBIOS tables", reasonAbsent},
	{"not present: no real-time clock driver", reasonAbsent},
	{"no bpf file system mounted: no pinned objects to list", reasonAbsent},
	{"empty", reasonAbsent},
	{"empty: binfmt_misc file system not mounted here", reasonAbsent},
	{"not listed: mount table not read (permission denied), and listing an automount point would mount binfmt_misc", reasonByDesign},
	{"not listed: untriggered automount point; listing it would mount binfmt_misc (a change to the host); no binfmt_misc is mounted there now", reasonByDesign},
	{"write-only control file", reasonByDesign},
	{"not a regular file", reasonByDesign},
	// collect/users.
	{"not parsed: replaced after its raw copy (inode 12, now 13)", reasonChanged},
	{"not parsed: stat for parsing: bad file descriptor", reasonByDesign},
	{"not parsed: symbolic link to \"/etc/passwd.real\", not followed", reasonByDesign},
	{"not parsed: raw copy skipped: not present", reasonAbsent},
	{"gzip-compressed: stored raw, not parsed", reasonByDesign},
	{"accounts not parsed: /etc/passwd not present", reasonAbsent},
	// collect/bodyfile.
	{"bodyfile walk is implemented for Linux only", reasonUnavailable},
	{"no folders to walk", reasonAbsent},
	{"excluded (below /proc): not walked", reasonByDesign},
	{"kernel virtual file system folder: not entered", reasonByDesign},
	{"excluded: not entered", reasonByDesign},
	{"vanished during the walk", reasonChanged},
	{"automount point: not entered (entering would mount it)", reasonByDesign},
	{"folder depth limit of 64 reached: not entered", reasonLimit},
	{"folder loop (a bind mount of an enclosing folder): not entered again", reasonByDesign},
	{"replaced by another folder between listing and opening: not entered", reasonChanged},
	{"mount point of a nfs file system: not entered", reasonByDesign},
	{"not made: neither /etc/passwd nor /etc/group could be read", reasonReadError},
	// collect/profile.
	{"item for windows only; the host collected runs linux", reasonUnavailable},
	// collect/proc/memory_linux.go: a region's reasons.
	{"device mapping: not read", reasonByDesign},
	// collect/memory and internal/acquire: physical memory.
	{"--no-ram", reasonByDesign},
	{"no room: the output can take 2.0 GiB, the physical memory needs 8.8 GiB (8.0 GiB of RAM plus margin)", reasonBudget},
	{"no physical memory source: /proc/kcore: absent; /dev/crash: absent; /dev/mem: absent", reasonUnavailable},
	{"no physical memory source: /proc/iomem shows zero addresses: reading the physical memory map needs root (CAP_SYS_ADMIN)", reasonUnavailable},
	{"read error at 0x2800, real bytes stop there (2048 of 4096 bytes of the range): input/output error", reasonReadError},
	{"interrupted before this range was read", reasonInterrupted},
	// Older records and the report's own test bag.
	{"size cap 256 MiB reached", reasonLimit},
	{"above --max-file-size", reasonLimit},
	{"netlink: permission denied", reasonPermission},
	// A host path cannot change an error's class.
	{"open /tmp/permission denied/interrupted: input/output error", reasonReadError},
	{"open /tmp/not present: operation not permitted", reasonPermission},
	// And a text no rule knows.
	{"something else entirely", reasonOther},
}

func TestClassifyReason(t *testing.T) {
	for _, k := range knownReasons {
		if got := classifyReason(k.reason); got != k.class {
			t.Errorf("%q: class %q, want %q", k.reason, reasonLabels[got].EN, reasonLabels[k.class].EN)
		}
	}
}

// Every class has a label in both languages, with no backslash (the
// report's own text has none: see reportView.escapes).
func TestReasonLabels(t *testing.T) {
	for c := reasonOther; c <= reasonByDesign; c++ {
		l, ok := reasonLabels[c]
		if !ok || l.FR == "" || l.EN == "" || strings.Contains(l.String(), `\`) {
			t.Errorf("class %d: label %+v", c, l)
		}
	}
	if len(reasonLabels) != int(reasonByDesign)+1 {
		t.Errorf("%d labels for %d classes", len(reasonLabels), reasonByDesign+1)
	}
}

func TestReasonCell(t *testing.T) {
	for _, tc := range []struct{ reason, want string }{
		{"", dash},
		{dash, dash},
		{"not present", "absent ou vide / not present or empty\nnot present"},
		{"open /x\x1b[2K: permission denied", "accès refusé / access denied\nopen /x\\x1b[2K: permission denied"},
		{"new\nline", "autre motif / other reason\nnew\\nline"},
	} {
		if got := reasonCell(tc.reason); got != tc.want {
			t.Errorf("reasonCell(%q) = %q, want %q", tc.reason, got, tc.want)
		}
	}
}

// The most common failure details of the checks, as seal and
// chain/verdict write them, with their lead-in.
func TestCheckLead(t *testing.T) {
	for _, tc := range []struct {
		detail string
		want   bi
	}{
		{"missing", leadMissing},
		{"missing: not a sealed bag; only what the journal proves holds", leadMissing},
		{"not sealed: the journal proves 3 items", leadNotSealed},
		{"SHA-256 is 0123; evidence.tar.zst.sha256 says \"4567\"", leadHash},
		{"not the first entry", bi{}},
		{"entry names repeated", bi{}},
		{"missing, or not the last entry", leadMissing},
		{"does not list the payload as it decodes", leadManifest},
		{"3 payload problems", leadManifest},
		{"tag files do not match", leadTagManifest},
		{"the tag manifest's SHA-256 is 0123; root.txt says \"4567\"", leadHash},
		{"the Ed25519 signature over the tag manifest does not verify with root.pub.pem", leadSignature},
		{"differs from bag/record.json in the bag", leadDiffers},
		{"Payload-Oxum is \"12.3\", payload is 13.3", leadOxum},
		{"prev does not match the SHA-256 of the line before: a line was changed, removed or inserted", leadChainBroken},
		{"signature does not verify", leadSignature},
		{"signed with another key than the bag's", leadOtherKey},
		{"last line cut short", leadJournal},
		{"does not end with a seal line", leadJournal},
		{"seal line does not name this root and archive", leadJournal},
		{"its item lines do not make the manifest", leadManifest},
		{"item data/x does not match the manifest", leadManifest},
		{"data/x is in the manifest but no journal line records it", leadNotJournaled},
		{"zstd: corrupt input; the 12 entries before it decode whole", leadArchiveDamaged},
		{"line 3: signature does not verify; the 2 lines before it hold", leadSignature},
		{"line 3: prev does not match; the 2 lines before it hold", leadChainBroken},
		{"missing: a sealed bag keeps its signed custody log beside the archive", leadMissing},
		{"custody.jsonl line 5: no sealed event after line 4: the bag is sealed but its custody log does not say so (the sealed line was removed, or the collection stopped between sealing and logging)", leadJournal},
		{"custody.jsonl line 2 (timestamped) names the token timestamp-1.tsr, which is not there: the token was removed, or not copied with the bag", leadMissing},
		{"timestamp-1.tsr: its SHA-256 is 01, but custody.jsonl line 4 names 02: the file was replaced", leadHash},
		{"timestamp-1.tsr: not checked: the bag has no root fingerprint to check it against", leadNotChecked},
		{"the start evidence differs from the record's", leadDiffers},
		{"not checked: needs a valid start and end quote", leadNotChecked},
		{"the bag's root is aa, not the one given (bb): this is not the bag the procès-verbal names, or it was changed and sealed again", leadNotGiven},
		{"the bag is signed with key aa, not the one given (bb): it was sealed again with another key", leadNotGiven},
		{"no line of custody.jsonl hashes to the head given: the log was cut before that line", leadNotGiven},
		{"the custody log cannot be checked against the head given: open custody.jsonl: no such file or directory", leadNotChecked},
		{"data/fs/etc/passwd: does not match the manifest", leadManifest},
		{"not in the manifest", leadNotListed},
		{"listed in the manifest, not in the archive", leadNotInArchive},
		{"listed in the tag manifest, not in the archive", leadNotInArchive},
		{"does not match the tag manifest", leadTagManifest},
		{"not in the tag manifest", leadNotListed},
		{"not recorded by the journal, which is sealed", leadNotJournaled},
	} {
		lead, ok := checkLead(seal.Check{Name: seal.CheckPayload, Detail: tc.detail})
		if lead != tc.want || ok != (tc.want != bi{}) {
			t.Errorf("%q: lead %q, want %q", tc.detail, lead, tc.want)
		}
	}
	if _, ok := checkLead(seal.Check{Name: seal.CheckPayload, OK: true, Detail: "missing"}); ok {
		t.Error("a check that holds has a lead-in")
	}
	c := seal.Check{Name: seal.CheckPayload, Detail: "data/x\x1b: does not match the manifest"}
	if got, want := checkDetailCell(c), "ne correspond pas au manifeste / does not match the manifest\ndata/x\\x1b: does not match the manifest"; got != want {
		t.Errorf("checkDetailCell = %q, want %q", got, want)
	}
}

func TestVerdictWords(t *testing.T) {
	for _, s := range []verdict.Status{verdict.Verified, verdict.Failed, verdict.NotSealed, verdict.Encrypted} {
		l, ok := verdictLabels[s.String()]
		if !ok || l.EN != s.String() || l.FR == "" || l.FR == l.EN {
			t.Errorf("%s: label %+v", s, l)
		}
	}
	if got := verdictWords("FAILED"); got != "ÉCHEC / FAILED" {
		t.Errorf("verdictWords(FAILED) = %q", got)
	}
	if got := verdictWords("MAYBE\x1b"); got != "MAYBE\x1b" {
		t.Errorf("verdictWords of an unknown verdict = %q, want it as it is (the caller shows it)", got)
	}
	if got := verdictLabel("MAYBE\x1b"); got.FR != `MAYBE\x1b` {
		t.Errorf("verdictLabel of an unknown verdict = %q, want it shown", got)
	}
	if got, want := checkNames([]string{seal.CheckRoot, "nosuch"}), "Empreinte racine / Root fingerprint (root), nosuch"; got != want {
		t.Errorf("checkNames = %q, want %q", got, want)
	}
}

// A report with a failed item, a skipped one, a failed check and a
// verified custody event that failed shows each reason, detail and
// verdict after its French and English lead-in, the text kept as it is,
// in the HTML and in the PDF.
func TestReportReasonsBilingual(t *testing.T) {
	dir := reportBag(t)
	if _, err := chain.AppendCustody(dir, chain.CustodyEvent{Event: chain.EventVerified, At: reportT0.Add(72 * time.Hour),
		Actor: &chain.Person{Name: "Dr Paul Leroy"}, Verdict: verdict.Failed.String(), Failed: []string{seal.CheckPayload},
		Anchors: []chain.CustodyAnchor{{Kind: "root", Status: chain.AnchorHeld, Given: strings.Repeat("ab", 32)},
			{Kind: "signer", Status: chain.AnchorFailed, Given: strings.Repeat("cd", 32)}, {Kind: "tpm", Status: chain.AnchorNotChecked}}}, reportKey(9)); err != nil {
		t.Fatal(err)
	}
	r, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	r.Items.Add(&evidence.Item{Collector: "files", Class: "disk", Source: "/root/.ssh/id_ed25519", Kind: "file", Status: "failed",
		Reason: "open /root/.ssh/id_ed25519: permission denied"})
	r.Items.Add(&evidence.Item{Collector: "proc", Class: "process", Source: "/proc/4242/exe", Kind: "file", Status: "skipped",
		Reason: "process exited before it was read"})
	r.SetVerification([]seal.Check{
		{Name: seal.CheckPayload, Where: "data/fs/etc/passwd", Detail: "1 payload problems"},
		{Name: seal.CheckRoot, OK: true, Where: seal.RootFile, Detail: "missing"}, // holds: no lead-in
	}, verdict.Failed.String())

	var h bytes.Buffer
	if err := r.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	html := stdhtml.UnescapeString(h.String())
	for _, want := range []string{
		"accès refusé / access denied\nopen /root/.ssh/id_ed25519: permission denied",
		"processus terminé / process exited\nprocess exited before it was read",
		"ne correspond pas au manifeste / does not match the manifest\n1 payload problems",
		"Verdict : ÉCHEC / FAILED",
		"Contrôles en échec / Failed checks : Contenu contre le manifeste / Payload against manifest (payload)",
		"Ancrages vérifiés / Anchors checked : Empreinte racine (procès-verbal) / Root fingerprint (procès-verbal) : concordant / held ; " +
			"Clé de signature relevée au début / Signing key noted at the start : ÉCHEC / FAILED<",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(html, "manquant / missing\nmissing") {
		t.Error("a check that holds has a lead-in")
	}

	testtool.Need(t, "pdftotext", "poppler-utils")
	var p bytes.Buffer
	if err := r.WritePDF(&p); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, p.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	squeeze := func(s string) string { return strings.Join(strings.Fields(s), "") } // cells wrap
	text := squeeze(string(out))
	for _, want := range []string{
		"accès refusé / access denied", "open /root/.ssh/id_ed25519: permission denied",
		"processus terminé / process exited", "process exited before it was read",
		"ne correspond pas au manifeste / does not match the manifest", "1 payload problems",
		"ÉCHEC / FAILED",
	} {
		if !strings.Contains(text, squeeze(want)) {
			t.Errorf("pdftotext output lacks %q:\n%s", want, out)
		}
	}
}

// A failed anchor's detail follows its lead-in, shown: the detail may
// quote the custody log.
func TestReportAnchorDetail(t *testing.T) {
	r := verifiedReport(t, reportBag(t))
	r.SetAnchors([]verdict.Anchor{
		{Kind: verdict.AnchorRoot, Status: verdict.AnchorFailed, Given: strings.Repeat("ab", 32),
			Detail: "the bag's root is cd, not the one given (ab): this is not the bag the procès-verbal names"},
		{Kind: verdict.AnchorCustodyHead, Status: verdict.AnchorFailed, Given: strings.Repeat("ef", 32),
			Detail: "the custody log cannot be checked against the head given: line 2: bad\x1b[2K"},
		{Kind: verdict.AnchorSigner, Status: verdict.AnchorHeld, Detail: "the bag is signed with the key given"},
	})
	var h bytes.Buffer
	if err := r.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	html := stdhtml.UnescapeString(h.String())
	for _, want := range []string{
		"ne correspond pas à la valeur relevée / does not match the value noted\nthe bag's root is cd, not the one given (ab)",
		"non vérifiable / could not be checked\nthe custody log cannot be checked against the head given: line 2: bad\\x1b[2K",
		"<td>the bag is signed with the key given</td>",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(html, "\x1b") {
		t.Error("an anchor's detail reaches the HTML raw")
	}
}
