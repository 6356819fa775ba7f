package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/chain/report"
	"github.com/scelle/scelle/internal/acquire"
	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/seal"
)

// reportTestBag seals a small bag whose record matches its manifest, as
// scelle collect writes it.
func reportTestBag(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "C-7_box_20261122T100000Z")
	key, err := seal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	w, err := seal.Create(dir, seal.Options{Key: key, Collection: "c-7", Tool: "scelle test"})
	if err != nil {
		t.Fatal(err)
	}
	operator := &chain.Person{Name: "Ann Responder"}
	if _, err := chain.AppendCustody(w.PartialDir(), chain.AcquiredEvent("", "C-7", "box", "scelle test", operator), key); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	rec := &chain.Record{Format: chain.RecordFormat, Collection: "c-7", Case: "C-7", Examiner: "Ann Responder",
		People: &chain.People{Operator: &chain.Person{Name: "Ann Responder"},
			Witnesses: []chain.Person{{Name: "Me Claire Dupont", Role: "commissaire de justice", Reference: "PV 2026-118"}}},
		Tool: acquire.ToolIdentity(version, vcsRevision()), Root: "/", Live: true, Started: t0, Ended: t0.Add(time.Minute),
		Host: []byte(`{"hostname":"box"}`)}
	data := []byte("root:x:0:0:root:/root:/bin/bash\n")
	res, err := w.Put(context.Background(), seal.Entry{Name: "fs/etc/passwd", Size: int64(len(data))}, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	rec.Items = []evidence.Item{{Collector: "files.etc", Class: "disk", Source: "/etc/passwd", Path: res.Path, Kind: "file",
		Status: "collected", Size: res.Size, SHA256: fmt.Sprintf("%x", res.SHA256)},
		{Collector: "proc.memory", Class: "process", Kind: "memory", Status: "failed", Reason: "permission denied"}}
	pub, _ := seal.PublicKeyPEM(w.PublicKey())
	rec.Key = chain.Key{Fingerprint: seal.KeyFingerprint(w.PublicKey()), PublicKey: string(pub), Ephemeral: w.Ephemeral()}
	rec.Summarize()
	b, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := w.Seal(b, seal.BagInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.AppendCustody(dir, chain.SealedEvent(sealed, rec.Summary, operator), key); err != nil {
		t.Fatal(err)
	}
	return dir
}

func exitOf(err error) int { return codeOf(err) }

func TestReportCommand(t *testing.T) {
	dir := reportTestBag(t)
	var out bytes.Buffer
	if err := runReport(context.Background(), reportOptions{}, dir, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	root, err := os.ReadFile(filepath.Join(dir, seal.RootFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "verdict: VERIFIED") || !strings.Contains(out.String(), strings.TrimSpace(string(root))) {
		t.Errorf("output:\n%s", out.String())
	}
	html, err := os.ReadFile(filepath.Join(dir, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"VÉRIFIÉ", "Me Claire Dupont", "PV 2026-118", "permission denied", "Mise sous scellé"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	pdf, err := os.ReadFile(filepath.Join(dir, report.PDFFile))
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("report.pdf: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*"+seal.PartialSuffix)); len(m) > 0 {
		t.Errorf("left behind: %v", m)
	}
	// The reports beside the bag change nothing that verify checks, and a
	// second run gives the same bytes.
	if err := writeReports(dir); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(filepath.Join(dir, report.HTMLFile))
	if !bytes.Equal(html, again) {
		t.Error("a second report differs from the first")
	}

	// --out and --date.
	other := filepath.Join(t.TempDir(), "reports")
	out.Reset()
	if err := runReport(context.Background(), reportOptions{Out: other, Date: "2026-12-01T09:00:00Z"}, dir, &out); err != nil {
		t.Fatal(err)
	}
	h2, err := os.ReadFile(filepath.Join(other, report.HTMLFile))
	if err != nil || !bytes.Contains(h2, []byte("2026-12-01T09:00:00Z")) {
		t.Errorf("--out/--date: %v", err)
	}
	var ue *usageError
	if err := runReport(context.Background(), reportOptions{Date: "tomorrow"}, dir, &out); !errors.As(err, &ue) {
		t.Errorf("bad --date: %v, want a usage error", err)
	}
}

func TestReportCommandFailed(t *testing.T) {
	dir := reportTestBag(t)
	p := filepath.Join(dir, seal.RootFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[0] ^= 1
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = runReport(context.Background(), reportOptions{}, dir, &out)
	if got := exitOf(err); got != exitVerifyFailed {
		t.Fatalf("exit %d (%v), want %d\n%s", got, err, exitVerifyFailed, out.String())
	}
	html, err := os.ReadFile(filepath.Join(dir, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(html, []byte("ÉCHEC")) {
		t.Error("the report of a failed bag does not say so")
	}
	if err := writeReports(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("writeReports of a missing folder succeeded")
	}
}
