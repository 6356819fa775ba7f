package layers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/scelle/scelle"

// m is the import path of a package of the module.
func m(rel string) string { return module + "/" + rel }

// A rule forbids the packages under any of under (every package when
// under is nil), but those under except, to import a package under
// forbidden that is not under allowed. "Under" includes the path itself.
type rule struct {
	text      string // the rule, as a failure states it
	under     []string
	except    []string
	forbidden []string
	allowed   []string
}

var rules = []rule{
	{
		text:  "internal/ imports nothing of scelle outside internal/",
		under: []string{m("internal")},
		// The collection engine wires collect, seal and chain together:
		// it sits above them, just under cmd.
		except:    []string{m("internal/acquire")},
		forbidden: []string{module},
		allowed:   []string{m("internal")},
	},
	{
		text:      "only cmd/ imports internal/acquire (it sits above collect, seal and chain)",
		except:    []string{m("cmd"), m("internal/acquire")},
		forbidden: []string{m("internal/acquire")},
	},
	{
		text:      "seal imports neither collect nor chain",
		under:     []string{m("seal")},
		forbidden: []string{m("collect"), m("chain")},
	},
	{
		text:      "collect imports neither seal nor chain",
		under:     []string{m("collect")},
		forbidden: []string{m("seal"), m("chain")},
	},
	{
		text:      "chain does not import collect",
		under:     []string{m("chain")},
		forbidden: []string{m("collect")},
	},
	{
		text:      "only cmd/ imports cobra",
		except:    []string{m("cmd")},
		forbidden: []string{"github.com/spf13/cobra"},
	},
	{
		text:      "nothing outside cmd/ imports cmd/",
		except:    []string{m("cmd")},
		forbidden: []string{m("cmd")},
	},
}

// pkg is what go list says of one package.
type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// The operating systems whose files are read: a per-OS file may import
// what the others do not.
var goos = []string{"linux", "windows", "darwin"}

func TestLayers(t *testing.T) {
	seen := map[string]bool{}
	for _, os := range goos {
		pkgs, err := list(os)
		if err != nil {
			t.Fatal(err)
		}
		if len(pkgs) < 10 {
			t.Fatalf("GOOS=%s: go list found %d packages: is it run in the module?", os, len(pkgs))
		}
		for _, v := range check(pkgs) {
			if !seen[v] {
				seen[v] = true
				t.Errorf("GOOS=%s: %s", os, v)
			}
		}
	}
}

// The rules themselves, on a made-up module: each bad import is found,
// named with its importer and its rule, and the good ones pass.
func TestRules(t *testing.T) {
	pkgs := []pkg{
		{ImportPath: m("internal/fileio"), Imports: []string{"io", "github.com/minio/sha256-simd"}},
		{ImportPath: m("internal/units"), TestImports: []string{m("internal/fileio")}},
		{ImportPath: m("internal/fixture"), XTestImports: []string{m("seal")}},
		{ImportPath: m("internal/acquire"), Imports: []string{m("collect"), m("seal"), m("chain/custody")},
			XTestImports: []string{m("internal/acquire")}},
		{ImportPath: m("seal"), Imports: []string{m("internal/fileio")}},
		{ImportPath: m("seal/tpm"), Imports: []string{m("seal"), m("chain")}},
		{ImportPath: m("collect/files"), TestImports: []string{m("collect/collecttest"), m("sealer")}},
		{ImportPath: m("collect/proc"), TestImports: []string{m("seal")}},
		{ImportPath: m("chain"), Imports: []string{m("seal"), m("internal/acquire")}},
		{ImportPath: m("chain/report"), Imports: []string{m("chain"), m("collect/profile")}},
		{ImportPath: m("collect"), Imports: []string{"github.com/spf13/cobra/doc", "github.com/spf13/cobras"}},
		{ImportPath: m("cmd/scelle"), Imports: []string{"github.com/spf13/cobra", m("internal/acquire"), m("cmd/scelle/ui")}},
		{ImportPath: m("seal"), XTestImports: []string{m("cmd/scelle")}},
	}
	got := check(pkgs)
	want := []string{
		m("chain") + " imports " + m("internal/acquire") + ": only cmd/ imports internal/acquire (it sits above collect, seal and chain)",
		m("chain/report") + " imports " + m("collect/profile") + ": chain does not import collect",
		m("collect") + " imports github.com/spf13/cobra/doc: only cmd/ imports cobra",
		m("collect/proc") + " imports " + m("seal") + " (in a test): collect imports neither seal nor chain",
		m("internal/fixture") + " imports " + m("seal") + " (in a test): internal/ imports nothing of scelle outside internal/",
		m("seal") + " imports " + m("cmd/scelle") + " (in a test): nothing outside cmd/ imports cmd/",
		m("seal/tpm") + " imports " + m("chain") + ": seal imports neither collect nor chain",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("check found:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// check returns one line per import that breaks a rule, sorted.
func check(pkgs []pkg) []string {
	var out []string
	for _, p := range pkgs {
		for _, list := range []struct {
			imports []string
			where   string
		}{{p.Imports, ""}, {p.TestImports, " (in a test)"}, {p.XTestImports, " (in a test)"}} {
			for _, imp := range list.imports {
				for _, r := range rules {
					if r.breaks(p.ImportPath, imp) {
						out = append(out, fmt.Sprintf("%s imports %s%s: %s", p.ImportPath, imp, list.where, r.text))
					}
				}
			}
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func (r rule) breaks(from, to string) bool {
	switch {
	case from == to: // an external test package imports its package
		return false
	case r.under != nil && !within(from, r.under...), within(from, r.except...):
		return false
	}
	return within(to, r.forbidden...) && !within(to, r.allowed...)
}

// within reports whether path is one of dirs or below one.
func within(path string, dirs ...string) bool {
	for _, d := range dirs {
		if path == d || strings.HasPrefix(path, d+"/") {
			return true
		}
	}
	return false
}

// list runs go list on every package of the module for GOOS goos.
func list(goos string) ([]pkg, error) {
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Imports,TestImports,XTestImports", module+"/...")
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("GOOS=%s go list: %v\n%s", goos, err, stderr.Bytes())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return pkgs, nil
		} else if err != nil {
			return nil, fmt.Errorf("GOOS=%s go list: %w", goos, err)
		}
		pkgs = append(pkgs, p)
	}
}
