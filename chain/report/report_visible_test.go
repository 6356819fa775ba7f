package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	stdhtml "html"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/internal/testtool"
	"github.com/scelle/scelle/internal/visible"
	"github.com/scelle/scelle/seal"
)

// hostileText is the n-th string a poisoned report holds: terminal
// escapes that wipe lines and fake a verdict, a right-to-left override,
// a line feed, a carriage return, a zero-width space, a byte that is
// not UTF-8, and a backslash.
func hostileText(n int) string {
	return fmt.Sprintf("P%d\x1b[2K\x1b[1A VERIFIED\u202eDEF\nGHI\rJKL\u200bM\xffN\\O", n)
}

// hostileFragments are pieces of every hostile text that must never
// reach a rendering raw: each holds a character the report must escape.
var hostileFragments = []string{"\x1b", "\u202e", "DEF\nGHI", "GHI\rJKL", "\u200b", "\xff", `N\O`}

// poison sets every exported string it can reach from v (struct fields,
// pointers, slices of two elements, maps of one key) to a hostile text.
// Times and byte slices are left alone.
func poison(v reflect.Value, n *int) {
	switch v.Kind() {
	case reflect.String:
		*n++
		v.SetString(hostileText(*n))
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				poison(v.Field(i), n)
			}
		}
	case reflect.Pointer:
		if v.Type().Elem().Kind() == reflect.Struct || v.Type().Elem().Kind() == reflect.String {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			poison(v.Elem(), n)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 || v.Type().Elem().Kind() == reflect.Slice {
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			poison(v.Index(i), n)
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return
		}
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		poison(k, n)
		e := reflect.New(v.Type().Elem()).Elem()
		poison(e, n)
		m.SetMapIndex(k, e)
		v.Set(m)
	}
}

func poisoned[T any](n *int) T {
	var v T
	poison(reflect.ValueOf(&v).Elem(), n)
	return v
}

// hostileReport is a report whose every string from the host, the record,
// the custody log, the folder and the verification is hostile.
func hostileReport(t *testing.T) *Report {
	t.Helper()
	n := 0
	rec := poisoned[chain.Record](&n)
	host, _ := json.Marshal(poisoned[reportHost](&n))
	clock, _ := json.Marshal(poisoned[reportClock](&n))
	rec.Host, rec.ClockStart, rec.ClockEnd = host, clock, json.RawMessage("[\"\x1b\u202e")
	rec.Items = nil
	r := &Report{Folder: hostileText(1000), Record: &rec, Root: hostileText(1001), ArchiveSHA256: hostileText(1002),
		KeyFingerprint: hostileText(1003), PublicKeyPEM: "-----BEGIN PUBLIC KEY-----\n" + hostileText(1004) + "\n-----END PUBLIC KEY-----\n"}
	for i, st := range append(evidence.Statuses(), evidence.Skipped, evidence.Failed) {
		it := poisoned[evidence.Item](&n)
		it.Status = st
		if i == 4 {
			it.SourceRaw = nil
		}
		if i == 5 {
			it.Source, it.SourceRaw = "", nil
		}
		r.Items.Add(&it)
	}
	// A custody log whose first entries hold and whose next line broke:
	// the entries' every field is hostile, whatever the event.
	c := &chain.CustodyCheck{Err: &chain.CustodyError{Line: 9, Kind: hostileText(1005), Err: fmt.Errorf("%s", hostileText(1006))}}
	for _, ev := range []string{chain.EventAcquired, chain.EventNote, hostileText(1007)} {
		e := poisoned[chain.CustodyEntry](&n)
		e.Event = ev
		c.Entries = append(c.Entries, e)
	}
	r.Custody = c
	r.Extras = []ExtraFile{{Name: TimestampPrefix + hostileText(1008), Size: 3}}
	r.SetVerification(poisoned[[]seal.Check](&n), hostileText(1009))
	r.Checks = append(r.Checks, seal.Check{Name: seal.CheckRoot, Detail: hostileText(1010), Where: hostileText(1011)})
	return r
}

// checkNoHidden fails on a character from hostileFragments, or any other
// hidden character but a line feed or a tab (and the form feeds between
// pdftotext's pages), in text.
func checkNoHidden(t *testing.T, what, text string) {
	t.Helper()
	for _, f := range hostileFragments {
		if strings.Contains(text, f) {
			i := strings.Index(text, f)
			t.Errorf("%s holds %q raw: ...%q...", what, f, text[max(0, i-40):min(len(text), i+40)])
		}
	}
	for i, r := range text {
		if visible.Hidden(r) && r != '\n' && r != '\t' && r != '\f' {
			t.Errorf("%s holds %U at %d: ...%q...", what, r, i, text[max(0, i-40):min(len(text), i+40)])
			return
		}
	}
}

// The report shows every hostile string visibly escaped, the same way in
// HTML and PDF as on the terminal, and says how.
func TestReportShowsHostileStrings(t *testing.T) {
	r := hostileReport(t)
	var h bytes.Buffer
	if err := r.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	checkNoHidden(t, "report.html", h.String())
	html := stdhtml.UnescapeString(h.String())
	checkNoHidden(t, "report.html, unescaped", html)
	escaped := visible.String(hostileText(1))[2:] // past "P1"
	// Most of the strings poisoned are shown, each escaped.
	if got := strings.Count(html, escaped); got < 100 {
		t.Errorf("report.html shows %d hostile strings escaped, want at least 100", got)
	}
	for _, want := range []string{
		"P1000" + escaped, // the folder
		"P1004" + escaped, // the public key
		"P1006" + escaped, // the custody log's break
		"P1011" + escaped, // a check's where
		`written \xHH`,    // the note on escapes
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}

	var p bytes.Buffer
	if err := r.WritePDF(&p); err != nil {
		t.Fatal(err)
	}
	testtool.Need(t, "pdftotext", "poppler-utils")
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, p.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	checkNoHidden(t, "report.pdf", string(out))
	text := strings.Join(strings.Fields(string(out)), "") // cells wrap long names
	if want := strings.Join(strings.Fields("P1000"+escaped), ""); !strings.Contains(text, want) {
		t.Errorf("report.pdf lacks %q:\n%s", want, out)
	}
}
