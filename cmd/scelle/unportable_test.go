package main

import (
	"strings"
	"testing"

	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/seal"
)

// verify notes the names Windows or macOS cannot create as they are, one
// line a system, the name shown visibly, the verdict unchanged.
func TestPrintUnportable(t *testing.T) {
	v := &verdict.Verdict{Report: &seal.Report{Sealed: true}, Status: verdict.Verified, Unportable: []verdict.Unportable{
		{OS: "windows", Names: 3, Reasons: "reserved name, case collision", First: "data/fs/CON"},
		{OS: "darwin", Names: 1, Reasons: "character", First: "data/fs/x:\x1b[2Ky"},
	}}
	var b strings.Builder
	printVerdict(&b, v)
	for _, want := range []string{
		"note:    names: 3 cannot be created as they are on Windows (reserved name, case collision; first: data/fs/CON): scelle extract maps them there and lists the mapping\n",
		"note:    names: 1 cannot be created as they are on macOS (character; first: data/fs/x:\\x1b[2Ky): scelle extract maps them there and lists the mapping\nverdict: VERIFIED\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
}
