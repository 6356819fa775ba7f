package verdict

import (
	"context"
	"encoding/hex"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/seal"
)

// sealNamed seals, as sealBag does, a bag of one file a name.
func sealNamed(t *testing.T, names ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "C-1_box_20261122T100000Z")
	w, err := seal.Create(dir, seal.Options{Key: collector, Collection: "c0ffee", Tool: "scelle test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.AppendCustody(w.PartialDir(), chain.AcquiredEvent("", "C-1", "box", "scelle test", nil), collector); err != nil {
		t.Fatal(err)
	}
	pub, _ := seal.PublicKeyPEM(w.PublicKey())
	rec := &chain.Record{Format: chain.RecordFormat, Collection: "c0ffee", Case: "C-1",
		Key: chain.Key{Fingerprint: seal.KeyFingerprint(w.PublicKey()), PublicKey: string(pub)}}
	for _, n := range names {
		res, err := w.Put(context.Background(), seal.Entry{Name: "fs/" + n, Size: int64(len(n))}, strings.NewReader(n))
		if err != nil {
			t.Fatal(err)
		}
		rec.Items = append(rec.Items, evidence.Item{Collector: "files", Class: "disk", Source: "/" + n, Path: res.Path,
			Kind: "file", Status: evidence.Collected, Size: res.Size, SHA256: hex.EncodeToString(res.SHA256[:])})
	}
	rec.Summarize()
	b, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	s, err := w.Seal(b, seal.BagInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.AppendCustody(dir, chain.SealedEvent(s, rec.Summary, nil), collector); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The payload names Windows or macOS cannot create as they are are
// noted, per system; the bag still verifies.
func TestUnportable(t *testing.T) {
	for _, tc := range []struct {
		names []string
		want  []Unportable
	}{
		{[]string{"etc/hostname", "etc/Hosts"}, nil},
		{[]string{"etc/ok", "etc/CON", "dev/aux.txt", "x/a.", "x:y/z", "x:y/w", "A.txt", "a.txt"}, []Unportable{
			{OS: "windows", Names: 5, Reasons: "reserved name, character, trailing dot or space, case collision", First: "data/fs/etc/CON"},
			{OS: "darwin", Names: 2, Reasons: "character, case collision", First: "data/fs/x:y"},
		}},
	} {
		v, err := Check(sealNamed(t, tc.names...), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != Verified || !reflect.DeepEqual(v.Unportable, tc.want) {
			t.Errorf("%q: %s, %+v; want %+v", tc.names, v.Status, v.Unportable, tc.want)
		}
	}
}
