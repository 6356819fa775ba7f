package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
)

// manCommand is the hidden command that writes the man pages: make man
// runs it into docs/man, and TestManPages checks that the committed
// pages are what it writes.
const manCommand = "__man"

func newManCmd() *cobra.Command {
	return &cobra.Command{
		Use:    manCommand + " DIR",
		Short:  "Write the man pages, scelle(1) and one page a command, into DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeManPages(cmd.Root(), args[0])
		},
	}
}

// writeManPages writes a page for root and for every command under it
// that help lists (not help itself, nor hidden ones), named as cobra's
// GenManTree names them (scelle-custody-add.1), into the folder dir,
// which must exist. The pages hold no date and no version: a page
// changes only when its command does.
func writeManPages(root *cobra.Command, dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: not a folder", dir)
	}
	var write func(c *cobra.Command) error
	write = func(c *cobra.Command) error {
		c.InitDefaultVersionFlag() // cobra adds it when c runs
		page, err := manPage(c)
		if err != nil {
			return err
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		if err := os.WriteFile(filepath.Join(dir, name), page, 0o644); err != nil {
			return err
		}
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() && !sub.IsAdditionalHelpTopicCommand() {
				if err := write(sub); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return write(root)
}

// manDate stands for the date of every page's .TH line, which manPage
// then leaves empty.
var manDate = time.Date(1970, time.January, 1, 0, 0, 0, 0, time.UTC)

// manPage renders c's page with cobra's generator. cobra reads the help
// texts as Markdown: manPage hands it c's texts escaped for the time of
// the call, so that the page says what --help prints.
func manPage(c *cobra.Command) ([]byte, error) {
	restore := escapeHelp(c)
	defer restore()
	c.DisableAutoGenTag = true
	header := &doc.GenManHeader{Section: "1", Date: &manDate, Source: "scelle", Manual: "scelle manual"}
	var b bytes.Buffer
	if err := doc.GenMan(c, header, &b); err != nil {
		return nil, fmt.Errorf("man page of %s: %w", c.CommandPath(), err)
	}
	// The .TH line: title, section, date, source, manual.
	date := fmt.Sprintf(` "1" %q "scelle"`, manDate.Format("Jan 2006"))
	before, after, ok := strings.Cut(b.String(), "\n.TH ")
	line, rest, _ := strings.Cut(after, "\n")
	if !ok || !strings.Contains(line, date) {
		return nil, fmt.Errorf("man page of %s: no .TH line with the date", c.CommandPath())
	}
	line = strings.Replace(line, date, ` "1" "" "scelle"`, 1)
	return []byte(before + "\n.TH " + line + "\n" + rest), nil
}

// escapeHelp replaces c's texts (usage line, short and long description,
// flag usages) with Markdown that reads as the text itself, and returns
// the function that puts the texts back.
func escapeHelp(c *cobra.Command) (restore func()) {
	use, short, long := c.Use, c.Short, c.Long
	name, args, _ := strings.Cut(c.Use, " ")
	c.Use = name
	if args != "" {
		// cobra adds [flags] to a usage line that lacks it.
		c.Use += " " + strings.ReplaceAll(markdownText(args), `\[flags\]`, "[flags]")
	}
	c.Short = markdownText(c.Short)
	c.Long = markdownLong(c.Long)
	usages := map[*pflag.Flag]string{}
	for _, fs := range []*pflag.FlagSet{c.Flags(), c.InheritedFlags()} {
		fs.VisitAll(func(f *pflag.Flag) {
			if _, seen := usages[f]; !seen {
				usages[f] = f.Usage
				f.Usage = markdownText(f.Usage)
			}
		})
	}
	return func() {
		c.Use, c.Short, c.Long = use, short, long
		for f, u := range usages {
			f.Usage = u
		}
	}
}

// markdownSpecial holds the characters that Markdown (blackfriday, which
// cobra's generator uses) lets a backslash make literal.
const markdownSpecial = "\\`*_{}[]()#+-.!:|&<>~"

// markdownText escapes every Markdown character of s.
func markdownText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(markdownSpecial, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// markdownLong turns a long description into Markdown: paragraphs are
// filled as on a terminal, except one with an indented line (a table of
// exit codes, events or formats), which keeps its lines and their
// indentation.
func markdownLong(s string) string {
	paras := strings.Split(strings.TrimSpace(s), "\n\n")
	for i, p := range paras {
		indented := strings.HasPrefix(p, " ") || strings.HasPrefix(p, "\t") ||
			strings.Contains(p, "\n ") || strings.Contains(p, "\n\t")
		if indented && !strings.Contains(p, "```") {
			paras[i] = "```\n" + p + "\n```"
		} else {
			paras[i] = markdownText(p)
		}
	}
	return strings.Join(paras, "\n\n")
}
