package report

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scelle/scelle/chain"
)

// TestHostNetworkUp: a host still on a network when the collection began
// is said so in both languages, and its strings are shown escaped.
func TestHostNetworkUp(t *testing.T) {
	var h reportHost
	if err := json.Unmarshal([]byte(`{"live":true,"hostname":"web01","network_up":["interface eth0 is up with 10.0.2.15/24","default route via 10.0.2.1 dev \u001b[2Keth0"]}`), &h); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, b := range hostBlocks(&h, "") {
		for _, kv := range b.KV {
			if kv.Label.EN != "Network still up when the collection began" {
				continue
			}
			found = true
			if kv.Label.FR == "" || !strings.Contains(kv.Value, "eth0 is up with 10.0.2.15/24") || strings.ContainsRune(kv.Value, 0x1b) {
				t.Errorf("network up: %+v", kv)
			}
		}
	}
	if !found {
		t.Error("the report does not say the network was up")
	}
}

// TestSignatureBlocks: the report ends with room for the operator and
// every witness to sign, and never with no line at all.
func TestSignatureBlocks(t *testing.T) {
	rec := &chain.Record{People: &chain.People{Operator: &chain.Person{Name: "Ann Responder"},
		Witnesses: []chain.Person{{Name: "Me Claire Dupont"}, {Name: "Bob \x1b[2KWitness"}}}}
	bs := signatureBlocks(rec)
	table := bs[len(bs)-1]
	if len(table.Rows) != 3 || table.Rows[0][1] != "Ann Responder" || table.Rows[1][1] != "Me Claire Dupont" || strings.ContainsRune(table.Rows[2][1], 0x1b) {
		t.Errorf("rows %q", table.Rows)
	}
	if !strings.Contains(table.Rows[0][3], "\n") {
		t.Error("no room to sign")
	}
	if bs := signatureBlocks(&chain.Record{}); len(bs[len(bs)-1].Rows) != 2 {
		t.Errorf("nobody recorded: %d lines to sign, want 2", len(bs[len(bs)-1].Rows))
	}
}

func TestFolderName(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if got, want := folderName("."), filepath.Base(dir); got != want {
		t.Errorf("folderName(.) = %q, want %q", got, want)
	}
	if got := folderName("/x/case_host_20261205T000000Z/"); got != "case_host_20261205T000000Z" {
		t.Errorf("folderName = %q", got)
	}
}
