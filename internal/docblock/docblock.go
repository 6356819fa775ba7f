// Package docblock reads fenced code blocks out of the project's
// documents, so that tests run the procedures exactly as the documents
// print them and the two cannot drift apart.
package docblock

import (
	"fmt"
	"os"
	"strings"
)

// Read returns the body of the fenced block of the Markdown file path
// whose opening fence is "```" followed by info (e.g. "sh manual-verify"),
// ending with a line feed.
func Read(path, info string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	_, rest, ok := strings.Cut(string(b), "```"+info+"\n")
	if !ok {
		return "", fmt.Errorf("%s has no %q block", path, info)
	}
	block, _, ok := strings.Cut(rest, "\n```\n")
	if !ok {
		return "", fmt.Errorf("%s: %q block not closed", path, info)
	}
	return block + "\n", nil
}
