package profile

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/scelle/scelle/collect"
)

var update = flag.Bool("update", false, "rewrite the table of native collectors in docs/definitions.md from the registry")

const (
	definitionsDoc = "../../docs/definitions.md"
	tableStart     = "<!-- natives table: made from collect.Natives by `go test ./collect/profile -run TestNativesTable -update`; do not edit -->\n"
	tableEnd       = "<!-- end of natives table -->\n"
)

// nativesTable returns the Markdown table of the registered natives.
func nativesTable() string {
	var b strings.Builder
	b.WriteString("| native | family | class | os | description |\n|---|---|---|---|---|\n")
	for _, n := range collect.Natives() {
		b.WriteString("| `" + n.Name + "` | `collect/" + n.Family + "` | " + n.Class.String() + " | " +
			strings.Join(n.OS, ", ") + " | " + strings.ReplaceAll(n.Description, "|", `\|`) + " |\n")
	}
	return b.String()
}

// TestNativesTable checks that the table of native collectors in
// docs/definitions.md is the registry's; -update rewrites it.
func TestNativesTable(t *testing.T) {
	b, err := os.ReadFile(definitionsDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	before, rest, ok := strings.Cut(doc, tableStart)
	table, after, ok2 := strings.Cut(rest, tableEnd)
	if !ok || !ok2 {
		t.Fatalf("%s: no natives table between %q and %q", definitionsDoc, tableStart, tableEnd)
	}
	want := nativesTable()
	if table == want {
		return
	}
	if *update {
		if err := os.WriteFile(definitionsDoc, []byte(before+tableStart+want+tableEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s: the natives table is not the registry's; run go test ./collect/profile -run TestNativesTable -update\nhave:\n%swant:\n%s",
		definitionsDoc, table, want)
}
