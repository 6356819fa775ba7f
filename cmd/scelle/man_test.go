package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// manDir holds the committed man pages, which make man writes.
const manDir = "../../docs/man"

// The committed man pages are what scelle __man writes now: a changed
// command, flag or help text fails here until make man is run.
func TestManPages(t *testing.T) {
	dir := t.TempDir()
	root := newRootCmd()
	root.SetArgs([]string{manCommand, dir})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	got, want := pageNames(t, dir), pageNames(t, manDir)
	if !slices.Equal(got, want) {
		t.Fatalf("scelle %s writes the pages\n  %s\ndocs/man holds\n  %s\nrun make man", manCommand, strings.Join(got, " "), strings.Join(want, " "))
	}
	for _, name := range got {
		g, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		w, err := os.ReadFile(filepath.Join(manDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(g, w) {
			t.Errorf("docs/man/%s is out of date: run make man", name)
		}
	}
	// Every command has its page, with every flag, and no page has a date.
	for _, c := range commandTree(root) {
		name := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		page, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: no page: %v", c.CommandPath(), err)
			continue
		}
		for _, f := range commandFlags(c) {
			if !bytes.Contains(page, []byte(`\fB--`+f+`\fP`)) {
				t.Errorf("%s: no --%s", name, f)
			}
		}
		if !bytes.Contains(page, []byte(`" "1" "" "scelle" "scelle manual"`)) {
			t.Errorf("%s: the .TH line is not dateless:\n%s", name, page[:min(len(page), 200)])
		}
	}
}

// The pages show the help texts as written: what Markdown would read as
// markup (angle brackets, underscores, stars) is kept.
func TestManPageKeepsText(t *testing.T) {
	root := newRootCmd()
	collect, _, err := root.Find([]string{"collect"})
	if err != nil {
		t.Fatal(err)
	}
	page, err := manPage(collect)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<out>/<case>_<hostname>_<UTC yyyymmddThhmmssZ>/", // HTML and emphasis to Markdown
		`"**" matches any folders`,                        // strong emphasis
		"scelle collect [flags]\\fP",                      // [flags] once
		".EX\nExit codes:\n  0  success",                  // an indented table keeps its lines
	} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the collect page lacks %q:\n%s", want, page)
		}
	}
	if collect.Use != "collect [flags]" || !strings.Contains(collect.Long, "<out>") {
		t.Errorf("manPage left the command changed: %q", collect.Use)
	}
}

// pageNames lists the *.1 files of dir.
func pageNames(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.1"))
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	slices.Sort(names)
	return names
}

// commandTree lists root and every command under it that help lists
// (not help itself, nor hidden ones), parents first. Execute adds the
// help and completion commands: commandTree adds them to a tree that has
// not run, and --version to root.
func commandTree(root *cobra.Command) []*cobra.Command {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var all []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.InitDefaultVersionFlag() // cobra adds it when c runs
		all = append(all, c)
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() && !sub.IsAdditionalHelpTopicCommand() {
				walk(sub)
			}
		}
	}
	walk(root)
	return all
}

// commandFlags lists the long names of c's flags that help shows, but
// --help (commandTree adds --version to root).
func commandFlags(c *cobra.Command) []string {
	var names []string
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && f.Deprecated == "" && f.Name != "help" {
			names = append(names, f.Name)
		}
	})
	return names
}
