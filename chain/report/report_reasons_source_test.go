package report

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The reasons a record holds are written by collect, its collectors and
// internal/acquire, which report does not import (the layers forbid it).
// Rather than copy their texts, this test reads their source: every
// reason written there as text (a literal, a constant, a format) must be
// classified, so that a new reason gets a French label the day it is
// written. The texts made of errors at run time are in knownReasons.

// reasonSources are the folders, from this package's, whose Go files
// write the record's reasons.
var reasonSources = []string{"../../collect", "../../internal/acquire"}

// onlySkips are the folders where a Reason field or constant is not an
// item's: collect/memory's are why a memory source was refused and why
// a range of an image was not read. Only their Skip calls are scanned.
var onlySkips = []string{"../../collect/memory"}

// A sourceReason is a reason found in the source, with numbers and
// strings in its format filled in.
type sourceReason struct {
	text string
	at   string // file:line
}

func TestSourceReasonsClassified(t *testing.T) {
	reasons := scanReasons(t)
	if len(reasons) < 50 {
		t.Fatalf("found %d reasons in %v: does the scan still see the collectors?", len(reasons), reasonSources)
	}
	var texts []string
	for _, r := range reasons {
		texts = append(texts, r.text)
		if classifyReason(r.text) == reasonOther {
			t.Errorf("%s: the reason %q has no class: add a rule to reasonRules (report_reasons.go) and a line to knownReasons", r.at, r.text)
		}
	}
	// The scan sees each way a reason is written.
	for _, want := range []string{
		"interrupted before this collector ran",                          // a constant of collect
		"time limit of x reached; items after this point not collected",  // a local variable, by format
		"file count cap of 7 reached",                                    // Skip, by format
		"process exited before it was read",                              // a constant of a collector
		"output budget: 7 bytes would exceed the 7 left of --max-output", // SkipError
		"changed while read (see stat_before and stat_after)",            // an assignment to Reason
		"kernel virtual file system folder: not entered",                 // an exclusion's why
		"not parsed: x", // a concatenation
	} {
		if !slices.Contains(texts, want) {
			t.Errorf("the scan does not find %q", want)
		}
	}
}

// scanReasons parses the Go files (tests left out) of reasonSources and
// returns the reasons they write as text.
func scanReasons(t *testing.T) []sourceReason {
	t.Helper()
	fset := token.NewFileSet()
	files := map[string][]*ast.File{} // by folder
	for _, root := range reasonSources {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() && d.Name() == "testdata" {
				// No Go source, and links to / there (collect/proc's fixture)
				// are folders to wine.
				return filepath.SkipDir
			}
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, p, nil, 0)
			if err != nil {
				return err
			}
			files[filepath.Dir(p)] = append(files[filepath.Dir(p)], f)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The string constants and variables of each package, and collect's
	// exported ones, which the collectors name collect.X.
	consts := map[string]map[string]string{}
	for dir, fs := range files {
		consts[dir] = packageStrings(fs)
	}
	collectConsts := consts[filepath.Clean("../../collect")]

	var out []sourceReason
	for dir, fs := range files {
		e := &evaluator{local: consts[dir], collect: collectConsts}
		skipsOnly := slices.Contains(onlySkips, filepath.ToSlash(dir))
		add := func(x ast.Expr) {
			if s, ok := e.eval(x); ok && s != "" {
				out = append(out, sourceReason{s, fset.Position(x.Pos()).String()})
			}
		}
		for _, f := range fs {
			// A package's constants and variables named for a reason.
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || (g.Tok != token.CONST && g.Tok != token.VAR) || skipsOnly {
					continue
				}
				for _, spec := range g.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) && reasonName(n.Name) {
							add(vs.Values[i])
						}
					}
				}
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					// s.Skip(source, kind, reason)
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Skip" && len(n.Args) == 3 {
						add(n.Args[2])
					}
				case *ast.KeyValueExpr:
					// Outcome{Reason: ...}, SkipError{Reason: ...}
					if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Reason" && !skipsOnly {
						add(n.Value)
					}
				case *ast.AssignStmt:
					if (n.Tok != token.ASSIGN && n.Tok != token.DEFINE) || len(n.Lhs) != len(n.Rhs) || collectedStatus(n) || skipsOnly {
						return true
					}
					for i, l := range n.Lhs {
						if reasonTarget(l) {
							add(n.Rhs[i])
						}
					}
				}
				return true
			})
		}
	}
	return out
}

// reasonName reports whether a constant, variable or field named name
// holds a reason.
func reasonName(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "reason") || n == "why" || n == "deadbox" || n == "unsupported"
}

// reasonTarget reports whether an assignment to x sets a reason: o.Reason,
// a variable reason or why, an entry of an exclusion map.
func reasonTarget(x ast.Expr) bool {
	switch x := x.(type) {
	case *ast.Ident:
		return reasonName(x.Name)
	case *ast.SelectorExpr:
		return x.Sel.Name == "Reason"
	case *ast.IndexExpr:
		if sel, ok := x.X.(*ast.SelectorExpr); ok {
			return sel.Sel.Name == "exclude"
		}
	}
	return false
}

// collectedStatus reports whether an assignment sets a status to
// Collected: its reason is a note (a link's), not why something is
// missing.
func collectedStatus(a *ast.AssignStmt) bool {
	for i, l := range a.Lhs {
		sel, ok := l.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "Status" {
			continue
		}
		switch r := a.Rhs[i].(type) {
		case *ast.Ident:
			return r.Name == "Collected"
		case *ast.SelectorExpr:
			return r.Sel.Name == "Collected"
		}
	}
	return false
}

// packageStrings returns the string constants and variables declared at
// the top of a package's files whose value is text.
func packageStrings(files []*ast.File) map[string]string {
	m := map[string]string{}
	e := &evaluator{local: m}
	// Twice: a constant may be made of one declared later.
	for range 2 {
		for _, f := range files {
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || (g.Tok != token.CONST && g.Tok != token.VAR) {
					continue
				}
				for _, spec := range g.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							if s, ok := e.eval(vs.Values[i]); ok {
								m[n.Name] = s
							}
						}
					}
				}
			}
		}
	}
	return m
}

// An evaluator gives the text an expression makes, numbers and strings
// known only at run time filled in ("7", "x").
type evaluator struct {
	local, collect map[string]string
}

// verb is a fmt verb.
var verb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

// eval returns the text x makes; ok is false when none of it is text
// (an error's text, a parameter): those are in knownReasons.
func (e *evaluator) eval(x ast.Expr) (string, bool) {
	switch x := x.(type) {
	case *ast.BasicLit:
		if x.Kind == token.STRING {
			s, err := strconv.Unquote(x.Value)
			return s, err == nil
		}
	case *ast.ParenExpr:
		return e.eval(x.X)
	case *ast.Ident:
		s, ok := e.local[x.Name]
		return s, ok
	case *ast.SelectorExpr:
		if p, ok := x.X.(*ast.Ident); ok {
			switch {
			case p.Name == "collect":
				s, ok := e.collect[x.Sel.Name]
				return s, ok
			case p.Name == "runtime" && x.Sel.Name == "GOOS":
				return "linux", true
			}
		}
	case *ast.BinaryExpr:
		if x.Op != token.ADD {
			return "", false
		}
		l, lok := e.eval(x.X)
		r, rok := e.eval(x.Y)
		if !lok && !rok {
			return "", false
		}
		if !lok {
			l = "x"
		}
		if !rok {
			r = "x"
		}
		return l + r, true
	case *ast.CallExpr:
		sel, ok := x.Fun.(*ast.SelectorExpr)
		if !ok || len(x.Args) == 0 {
			return "", false
		}
		if p, ok := sel.X.(*ast.Ident); !ok || p.Name != "fmt" || sel.Sel.Name != "Sprintf" {
			return "", false
		}
		format, ok := e.eval(x.Args[0])
		if !ok {
			return "", false
		}
		return verb.ReplaceAllStringFunc(format, func(v string) string {
			switch v[len(v)-1] {
			case 'd':
				return "7"
			case '%':
				return "%"
			}
			return "x"
		}), true
	}
	return "", false
}
