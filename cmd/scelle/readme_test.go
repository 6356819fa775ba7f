package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/chain/report"
	"github.com/scelle/scelle/internal/docblock"
	"github.com/scelle/scelle/seal"
	"github.com/scelle/scelle/seal/timestamp"
	"github.com/scelle/scelle/seal/tpm"
)

// usageEntry is one command line of README's usage block: a line that
// starts with "scelle" and the indented lines after it.
type usageEntry struct {
	text  string
	cmds  []*cobra.Command // the commands it shows (a|b names more than one)
	flags []string         // the long names of the flags it shows
}

var usageFlag = regexp.MustCompile(`--([a-z][a-z0-9-]*)`)

// readmeUsage parses README.md's usage block (its "```text usage"
// block) against the command tree of root.
func readmeUsage(t *testing.T, root *cobra.Command) []usageEntry {
	t.Helper()
	usage, err := docblock.Read("../../README.md", "text usage")
	if err != nil {
		t.Fatal(err)
	}
	var entries []usageEntry
	for _, line := range strings.Split(strings.TrimSuffix(usage, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "scelle ") || line == "scelle":
			entries = append(entries, usageEntry{text: line})
		case strings.HasPrefix(line, " ") && len(entries) > 0:
			entries[len(entries)-1].text += "\n" + line
		default:
			t.Fatalf("README.md usage: %q is neither a command line nor indented under one", line)
		}
	}
	for i := range entries {
		e := &entries[i]
		e.cmds = []*cobra.Command{root}
		for _, word := range strings.Fields(e.text)[1:] {
			next := subcommands(e.cmds, word)
			if next == nil {
				break
			}
			e.cmds = next
		}
		for _, m := range usageFlag.FindAllStringSubmatch(e.text, -1) {
			e.flags = append(e.flags, m[1])
		}
	}
	return entries
}

// subcommands returns the commands under cmds named by word (a name, or
// names joined by |), or nil when word names none of them.
func subcommands(cmds []*cobra.Command, word string) []*cobra.Command {
	var found []*cobra.Command
	for _, c := range cmds {
		for _, name := range strings.Split(word, "|") {
			sub := findSub(c, name)
			if sub == nil {
				return nil
			}
			found = append(found, sub)
		}
	}
	return found
}

func findSub(c *cobra.Command, name string) *cobra.Command {
	for _, sub := range c.Commands() {
		if sub.Name() == name {
			return sub
		}
	}
	return nil
}

// README's usage block shows every command that runs, and each with
// every one of its flags; it shows no flag that the command lacks.
func TestReadmeUsage(t *testing.T) {
	root := newRootCmd()
	tree := commandTree(root)
	entries := readmeUsage(t, root)
	shown := map[*cobra.Command][]string{}
	for _, e := range entries {
		for _, c := range e.cmds {
			if c != root && !c.Runnable() {
				t.Errorf("README.md usage: a line stops at %q, which does not run (a misspelt command?):\n%s", c.CommandPath(), e.text)
			}
			shown[c] = append(shown[c], e.flags...)
			for _, f := range e.flags {
				if f != "help" && c.Flags().Lookup(f) == nil {
					t.Errorf("README.md usage shows --%s for %q, which has no such flag:\n%s", f, c.CommandPath(), e.text)
				}
			}
		}
	}
	for _, c := range tree {
		flags, ok := shown[c]
		if !ok && (c.Runnable() || len(commandFlags(c)) > 0) {
			t.Errorf("README.md usage has no line for %q", c.CommandPath())
			continue
		}
		for _, f := range commandFlags(c) {
			if !slices.Contains(flags, f) {
				t.Errorf("README.md usage: %q lacks --%s", c.CommandPath(), f)
			}
			if sh := c.Flags().Lookup(f).Shorthand; sh != "" && !shorthandShown(entries, c, sh, f) {
				t.Errorf("README.md usage: %q shows --%s without -%s (as -%s|--%s)", c.CommandPath(), f, sh, sh, f)
			}
		}
	}
}

// shorthandShown reports whether a line of c shows -sh|--name.
func shorthandShown(entries []usageEntry, c *cobra.Command, sh, name string) bool {
	for _, e := range entries {
		if slices.Contains(e.cmds, c) && strings.Contains(e.text, "-"+sh+"|--"+name) {
			return true
		}
	}
	return false
}

// README names every file of a bag folder, the sealed ones and those
// beside them.
func TestReadmeBagFiles(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{
		seal.ArchiveFile, seal.ArchiveSumFile, seal.EncryptedArchiveFile, seal.EncryptedArchiveSumFile,
		seal.RecordFile, seal.RootFile, seal.SigFile, seal.PubFile, seal.JournalFile,
		chain.CustodyFile, tpm.File, report.PDFFile, report.HTMLFile,
		strings.Replace(timestamp.File(1), "1", "<n>", 1), strings.Replace(timestamp.CAFile(1), "1", "<n>", 1),
	} {
		if !strings.Contains(string(b), "`"+name+"`") {
			t.Errorf("README.md does not name `%s`", name)
		}
	}
}
