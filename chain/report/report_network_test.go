package report

import (
	"encoding/json"
	"strings"
	"testing"
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
