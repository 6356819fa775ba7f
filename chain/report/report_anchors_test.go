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

	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/testtool"
)

// TestReportAnchors: the report states which anchors were checked, says
// in words when the verdict shows self-consistency only, and leaves a
// line for the procès-verbal's reference.
func TestReportAnchors(t *testing.T) {
	dir := reportBag(t)
	for _, tt := range []struct {
		name      string
		opts      verdict.Options
		want      []string
		selfOnly  bool
		statusFor map[verdict.AnchorKind]verdict.AnchorStatus
	}{
		{name: "none given", selfOnly: true,
			want:      []string{"non vérifié / not checked", "Not compared: the root fingerprint was not compared with the procès-verbal's (scelle verify --root)."},
			statusFor: map[verdict.AnchorKind]verdict.AnchorStatus{verdict.AnchorRoot: verdict.AnchorNotChecked, verdict.AnchorSigner: verdict.AnchorNotChecked}},
		{name: "root and signer held", opts: verdict.Options{Root: "ROOT", Signer: reportKeyFP(7)},
			want:      []string{"concordant / held", "the bag's root is the one given", "the bag is signed with the key given", "Empreinte racine du procès-verbal / Root fingerprint of the procès-verbal\n(anchor-root)"},
			statusFor: map[verdict.AnchorKind]verdict.AnchorStatus{verdict.AnchorRoot: verdict.AnchorHeld, verdict.AnchorSigner: verdict.AnchorHeld}},
		{name: "signer refused", opts: verdict.Options{Signer: reportKeyFP(8)}, selfOnly: true,
			want:      []string{"ÉCHEC / FAILED", "it was sealed again with another key"},
			statusFor: map[verdict.AnchorKind]verdict.AnchorStatus{verdict.AnchorRoot: verdict.AnchorNotChecked, verdict.AnchorSigner: verdict.AnchorFailed}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.Root == "ROOT" {
				b, err := os.ReadFile(filepath.Join(dir, "root.txt"))
				if err != nil {
					t.Fatal(err)
				}
				tt.opts.Root = string(b)
			}
			out := t.TempDir()
			res, err := Write(dir, out, time.Time{}, &tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for k, st := range tt.statusFor {
				for _, a := range res.Verdict.Anchors {
					if a.Kind == k && a.Status != st {
						t.Errorf("anchor %s: %s, want %s", k, a.Status, st)
					}
				}
			}
			b, err := os.ReadFile(res.HTML)
			if err != nil {
				t.Fatal(err)
			}
			html := stdhtml.UnescapeString(string(b))
			want := append([]string{"Anchors: what the bag was compared with outside itself", "Référence du procès-verbal",
				"Horodatage RFC 3161 / RFC 3161 time stamp", "Attestation TPM / TPM quote"}, tt.want...)
			for _, w := range want {
				if !strings.Contains(html, w) {
					t.Errorf("HTML lacks %q", w)
				}
			}
			if got := strings.Contains(html, "This result shows self-consistency only"); got != tt.selfOnly {
				t.Errorf("self-consistency paragraph: %v, want %v", got, tt.selfOnly)
			}
		})
	}
}

func TestReportAnchorsPDF(t *testing.T) {
	testtool.Need(t, "pdftotext", "poppler-utils")
	r := verifiedReport(t, reportBag(t))
	r.SetAnchors([]verdict.Anchor{{Kind: verdict.AnchorRoot, Given: r.Root, Status: verdict.AnchorHeld, Detail: "the bag's root is the one given"}})
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
	for _, w := range []string{"Ancrages", "Anchors: what the bag was compared with outside itself", "concordant / held",
		"Référence du procès-verbal", "Procès-verbal reference"} {
		if !strings.Contains(string(out), w) {
			t.Errorf("pdftotext output lacks %q", w)
		}
	}
	if strings.Contains(string(out), "self-consistency only") {
		t.Error("a report whose root held says self-consistency only")
	}
}
