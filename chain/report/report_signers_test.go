package report

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/testtool"
	"github.com/scelle/scelle/internal/vectors"
)

// TestReportNamesTrustedKeys: the report of a frozen bag whose custody
// log holds lines an expert signed names the expert's key when the
// verification is given it (--trusted-key), and otherwise says those
// lines are attached to nobody, in the HTML and in the PDF's text.
func TestReportNamesTrustedKeys(t *testing.T) {
	testtool.Need(t, "pdftotext", "poppler-utils")
	dir, exp, err := vectors.Load()
	if err != nil {
		t.Fatal(err)
	}
	key, err := verdict.ReadTrustedKey(filepath.Join(dir, "keys", "expert.key.pub.pem"))
	if err != nil {
		t.Fatal(err)
	}
	bag := filepath.Join(dir, exp.Bags[0].Dir) // read only
	for _, tc := range []struct {
		name          string
		trusted       []verdict.TrustedKey
		want, wantNot []string
	}{
		{"no key given", nil,
			[]string{"No trusted key was given to the verification (--trusted-key).", "attached to nobody (anyone can make a key)", "unidentified key", "clé non identifiée"},
			[]string{"trusted key /", "expert.key.pub.pem"}},
		{"the expert's key given", []verdict.TrustedKey{key},
			[]string{"Trusted keys given to the verification (--trusted-key): expert.key.pub.pem", "Every event is signed by the bag's key or one of them.", "clé de confiance / trusted key"},
			[]string{"attached to nobody", "unidentified key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			w, err := Write(bag, out, time.Time{}, &verdict.Options{TrustedKeys: tc.trusted})
			if err != nil {
				t.Fatal(err)
			}
			html, err := os.ReadFile(w.HTML)
			if err != nil {
				t.Fatal(err)
			}
			pdf, err := exec.Command("pdftotext", "-enc", "UTF-8", w.PDF, "-").CombinedOutput()
			if err != nil {
				t.Fatalf("pdftotext: %v\n%s", err, pdf)
			}
			// The PDF breaks lines where the HTML does not: compare
			// with white space made single spaces.
			for name, text := range map[string]string{"report.html": htmlText(string(html)), "report.pdf": strings.Join(strings.Fields(string(pdf)), " ")} {
				for _, w := range tc.want {
					if !strings.Contains(text, w) {
						t.Errorf("%s lacks %q", name, w)
					}
				}
				for _, w := range tc.wantNot {
					if strings.Contains(text, w) {
						t.Errorf("%s holds %q", name, w)
					}
				}
			}
		})
	}
}

// htmlText is the HTML's text with its tags and character references
// left out, white space made single spaces.
func htmlText(h string) string {
	var b strings.Builder
	for in := false; h != ""; h = h[1:] {
		switch c := h[0]; {
		case c == '<':
			in = true
			b.WriteByte(' ')
		case c == '>':
			in = false
		case !in:
			b.WriteByte(c)
		}
	}
	r := strings.NewReplacer("&#39;", "'", "&quot;", `"`, "&lt;", "<", "&gt;", ">", "&amp;", "&")
	return strings.Join(strings.Fields(r.Replace(b.String())), " ")
}
