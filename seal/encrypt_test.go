package seal

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// testIdentities makes n age identities.
func testIdentities(t testing.TB, n int) []*age.X25519Identity {
	t.Helper()
	var ids []*age.X25519Identity
	for range n {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// makeFixedBag writes testItems into a bag whose every byte is fixed by
// its options (key, clock), sealed; recipients, if any, encrypt it.
func makeFixedBag(t testing.TB, recipients ...age.Recipient) string {
	t.Helper()
	seed := sha256.Sum256([]byte("scelle encrypt test key"))
	key := ed25519.NewKeyFromSeed(seed[:])
	clock := time.Date(2026, 11, 22, 15, 45, 12, 0, time.UTC)
	dir := filepath.Join(t.TempDir(), "case_host_20261122T154512Z")
	w, err := Create(dir, Options{Key: key, Collection: "fixed", Tool: "scelle test", Recipients: recipients,
		Now: func() time.Time { clock = clock.Add(time.Millisecond); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range testItems {
		if _, err := w.Put(context.Background(), Entry{Name: it.name, Size: int64(len(it.data)), ModTime: time.Unix(1e9, 0)},
			bytes.NewReader(it.data)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Seal([]byte(`{"record":true}`+"\n"), BagInfo{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func decryptFile(t testing.TB, path string, id age.Identity) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := age.Decrypt(f, id)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEncryptedBag(t *testing.T) {
	ids := testIdentities(t, 3) // the third is no recipient
	dir := makeFixedBag(t, ids[0].Recipient(), ids[1].Recipient())
	plainDir := makeFixedBag(t)

	if _, err := os.Stat(filepath.Join(dir, ArchiveFile)); !os.IsNotExist(err) {
		t.Fatalf("a plaintext archive is on disk: %v", err)
	}
	// The plaintext is, byte for byte, the unencrypted bag's archive.
	want, err := os.ReadFile(filepath.Join(plainDir, ArchiveFile))
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids[:2] {
		if got := decryptFile(t, filepath.Join(dir, EncryptedArchiveFile), id); !bytes.Equal(got, want) {
			t.Fatalf("identity %d: plaintext differs from the unencrypted archive (%d vs %d bytes)", i, len(got), len(want))
		}
	}
	for _, name := range []string{ArchiveSumFile, RecordFile, RootFile, SigFile, PubFile} {
		a, _ := os.ReadFile(filepath.Join(dir, name))
		b, _ := os.ReadFile(filepath.Join(plainDir, name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from the unencrypted bag's", name)
		}
	}
	ct, _ := os.ReadFile(filepath.Join(dir, EncryptedArchiveFile))
	ctSum := sha256.Sum256(ct)
	sumFile, _ := os.ReadFile(filepath.Join(dir, EncryptedArchiveSumFile))
	if string(sumFile) != hex.EncodeToString(ctSum[:])+"  "+EncryptedArchiveFile+"\n" {
		t.Fatalf("%s = %q", EncryptedArchiveSumFile, sumFile)
	}
	j, _ := os.ReadFile(filepath.Join(dir, JournalFile))
	lines := strings.Split(strings.TrimSuffix(string(j), "\n"), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, `,"archive_age_sha256":"`+hex.EncodeToString(ctSum[:])+`","sig":"`) {
		t.Fatalf("seal line does not name the ciphertext: %s", last)
	}

	// With either identity: everything verified, in one stream.
	for i, id := range ids[:2] {
		rep, err := VerifyWith(dir, VerifyOptions{Identities: []age.Identity{id}})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || !rep.Sealed || !rep.Encrypted || rep.ContentsUnverified || rep.Proven != len(testItems) {
			t.Fatalf("identity %d: %+v", i, rep)
		}
		mustCheck(t, rep, CheckAgeHash, true)
		mustCheck(t, rep, CheckSignature, true)
	}
	// Without: the ciphertext, the journal and the form of the files.
	rep, err := Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || !rep.Sealed || !rep.ContentsUnverified || rep.Proven != 0 {
		t.Fatalf("no identity: %+v", rep)
	}
	mustCheck(t, rep, CheckAgeHash, true)
	mustCheck(t, rep, CheckJournalChain, true)
	// Another identity: no verdict on the bag, an error to act on.
	if _, err := VerifyWith(dir, VerifyOptions{Identities: []age.Identity{ids[2]}}); !errors.Is(err, ErrWrongIdentity) {
		t.Fatalf("wrong identity: %v", err)
	}
	// Decrypted beside the ciphertext, as age -d -o would: verified
	// without an identity.
	if err := os.WriteFile(filepath.Join(dir, ArchiveFile), want, 0o644); err != nil {
		t.Fatal(err)
	}
	if rep, err := Verify(dir); err != nil || !rep.OK() || rep.ContentsUnverified || rep.Proven != len(testItems) {
		t.Fatalf("decrypted beside: %v %+v", err, rep)
	}
}

func mustCheck(t *testing.T, rep *Report, name string, ok bool) Check {
	t.Helper()
	for _, c := range rep.Checks {
		if c.Name == name && c.OK == ok {
			return c
		}
	}
	t.Fatalf("no check %s ok=%v in %+v", name, ok, rep.Checks)
	return Check{}
}

func TestEncryptedTampered(t *testing.T) {
	ids := testIdentities(t, 1)
	dir := makeFixedBag(t, ids[0].Recipient())
	path := filepath.Join(dir, EncryptedArchiveFile)
	ct, _ := os.ReadFile(path)
	withID := VerifyOptions{Identities: []age.Identity{ids[0]}}
	for _, at := range []int{len(ct) / 2, len(ct) - 5, 40} { // payload, last chunk, header
		t.Run(strconv.Itoa(at), func(t *testing.T) {
			b := bytes.Clone(ct)
			b[at] ^= 0x01
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(path, ct, 0o644)
			rep, err := VerifyWith(dir, withID)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatal("verified a changed ciphertext")
			}
			mustCheck(t, rep, CheckAgeHash, false)
			if c := mustCheck(t, rep, CheckArchive, false); !strings.Contains(c.Detail, "decrypt "+EncryptedArchiveFile) {
				t.Fatalf("archive check does not name the decryption: %s", c.Detail)
			}
			// Without the identity, the ciphertext hash alone catches it.
			rep, err = Verify(dir)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatal("verified a changed ciphertext without identity")
			}
			mustCheck(t, rep, CheckAgeHash, false)
		})
	}
}

// TestEncryptedKilled reads an encrypted bag as a killed run leaves it:
// age still holds the last chunk in memory, the rest is on disk. Every
// item whose frames are in whole chunks on disk is proven; only items in
// the last 64 KiB may be claimed and not proven. A cut in the middle of the
// file proves the items before the cut.
func TestEncryptedKilled(t *testing.T) {
	ids := testIdentities(t, 1)
	withID := VerifyOptions{Identities: []age.Identity{ids[0]}}
	dir := filepath.Join(t.TempDir(), "cut")
	w, err := Create(dir, Options{Recipients: []age.Recipient{ids[0].Recipient()}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort("test done")
	var ends []int64
	for i := range 8 {
		data := randBytes(int64(i), 100_000+i*7_000) // incompressible: frames as large as items
		if _, err := w.Put(t.Context(), Entry{Name: fmt.Sprintf("fs/item%d", i), Size: int64(len(data))}, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	w.fr.idle() // as a killed process would leave it: every item sent is written
	partial := dir + PartialSuffix
	jc, err := checkJournalFile(localFolder(partial), JournalFile, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range jc.Entries {
		if e.Type == JournalItem {
			ends = append(ends, *e.End)
		}
	}
	rep, err := VerifyWith(partial, withID)
	if err != nil {
		t.Fatal(err)
	}
	written := w.Written()
	onDisk := written / (64 << 10) * (64 << 10) // whole chunks only
	want := 0
	for _, e := range ends {
		if e <= onDisk {
			want++
		}
	}
	t.Logf("killed: %d plaintext bytes written, %d on disk; %+v", written, onDisk, rep.Checks)
	if rep.Sealed || rep.Proven != want || rep.Proven+rep.Unproven != len(ends) || want < len(ends)-1 {
		t.Fatalf("killed: proven %d unproven %d, want %d of %d", rep.Proven, rep.Unproven, want, len(ends))
	}

	// Aborted: the last chunk is written, everything decrypts.
	if err := w.Abort("test"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(partial, EncryptedArchiveFile)
	rep, err = VerifyWith(partial, withID)
	if err != nil || rep.Proven != len(ends) || rep.Unproven != 0 {
		t.Fatalf("aborted: %v %+v", err, rep)
	}
	mustCheck(t, rep, CheckArchive, true)

	// Cut in the middle of the fifth item: the four before it are proven.
	ct, _ := os.ReadFile(path)
	hdr := int64(len(ct)) - written - 16*((written+(64<<10)-1)/(64<<10)) // header and nonce
	cutPlain := (ends[3] + ends[4]) / 2
	cut := hdr + cutPlain + 16*(cutPlain/(64<<10))
	if err := os.Truncate(path, cut); err != nil {
		t.Fatal(err)
	}
	rep, err = VerifyWith(partial, withID)
	if err != nil {
		t.Fatal(err)
	}
	c := mustCheck(t, rep, CheckArchive, false)
	if !strings.Contains(c.Detail, "decrypt") || rep.Proven != 4 || rep.Unproven != 4 {
		t.Fatalf("cut at %d: proven %d, unproven %d; %s", cut, rep.Proven, rep.Unproven, c.Detail)
	}
	// Without the identity, nothing is proven, and the report says why.
	rep, err = Verify(partial)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Proven != 0 || !rep.ContentsUnverified || !strings.Contains(mustCheck(t, rep, "sealed", false).Detail, "claims 8 items") {
		t.Fatalf("no identity: %+v", rep)
	}
}

func TestOpenArchive(t *testing.T) {
	ids := testIdentities(t, 2)
	dir := makeFixedBag(t, ids[0].Recipient())
	if _, err := OpenArchive(dir, nil); !errors.Is(err, ErrEncrypted) {
		t.Fatalf("no identity: %v", err)
	}
	if _, err := OpenArchive(dir, []age.Identity{ids[1]}); !errors.Is(err, ErrWrongIdentity) {
		t.Fatalf("wrong identity: %v", err)
	}
	r, err := OpenArchive(filepath.Join(dir, EncryptedArchiveFile), []age.Identity{ids[1], ids[0]})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ar, err := NewArchiveReader(r)
	if err != nil {
		t.Fatal(err)
	}
	defer ar.Close()
	n := 0
	for {
		_, err := ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != len(testItems)+6 {
		t.Fatalf("%d entries", n)
	}
}

func TestParseRecipients(t *testing.T) {
	ids := testIdentities(t, 2)
	if _, err := ParseRecipient(ids[0].Recipient().String()); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", ids[0].String(), "age1nope", ids[0].Recipient().String() + "\n" + ids[1].Recipient().String()} {
		if _, err := ParseRecipient(bad); err == nil {
			t.Errorf("ParseRecipient(%q) accepted", bad)
		} else if strings.Contains(err.Error(), "AGE-SECRET-KEY") {
			t.Errorf("error shows the secret key: %v", err)
		}
	}
	f := filepath.Join(t.TempDir(), "recipients.txt")
	os.WriteFile(f, []byte("# the experts\n"+ids[0].Recipient().String()+"\n\n# second\n"+ids[1].Recipient().String()+"\n"), 0o644)
	rs, err := ReadRecipientsFile(f)
	if err != nil || len(rs) != 2 {
		t.Fatalf("%v %d", err, len(rs))
	}
}

// BenchmarkPutEncrypted is BenchmarkPut's 16 MiB items, plain and
// encrypted with age to two recipients: the difference is encryption's
// cost.
func BenchmarkPutEncrypted(b *testing.B) {
	ids := testIdentities(b, 2)
	for _, kind := range []struct {
		name string
		gen  func(int) []byte
	}{{"text", benchText}, {"random", benchRandom}} {
		for _, enc := range []string{"plain", "age"} {
			b.Run(kind.name+"/"+enc, func(b *testing.B) {
				const size = 16 << 20
				payload := kind.gen(size)
				opts := Options{Collection: "bench", Tool: "scelle bench"}
				if enc == "age" {
					opts.Recipients = []age.Recipient{ids[0].Recipient(), ids[1].Recipient()}
				}
				w, err := Create(filepath.Join(b.TempDir(), "bag"), opts)
				if err != nil {
					b.Fatal(err)
				}
				defer w.Abort("benchmark done")
				b.SetBytes(size)
				i := 0
				for b.Loop() {
					i++
					e := Entry{Name: "fs/item" + strconv.Itoa(i), Size: size, ModTime: time.Unix(1e9, 0)}
					if _, err := w.Put(context.Background(), e, bytes.NewReader(payload)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkVerifyEncrypted verifies a 32 MiB bag (half text, half random)
// plain and encrypted, with the identity.
func BenchmarkVerifyEncrypted(b *testing.B) {
	ids := testIdentities(b, 1)
	text, random := benchText(16<<20), benchRandom(16<<20)
	for _, enc := range []string{"plain", "age"} {
		b.Run(enc, func(b *testing.B) {
			opts := Options{Collection: "bench", Tool: "scelle bench"}
			var vo VerifyOptions
			if enc == "age" {
				opts.Recipients = []age.Recipient{ids[0].Recipient()}
				vo.Identities = []age.Identity{ids[0]}
			}
			dir := filepath.Join(b.TempDir(), "bag")
			w, err := Create(dir, opts)
			if err != nil {
				b.Fatal(err)
			}
			for i, p := range [][]byte{text, random} {
				if _, err := w.Put(context.Background(), Entry{Name: fmt.Sprintf("fs/item%d", i), Size: int64(len(p))}, bytes.NewReader(p)); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := w.Seal([]byte(`{"record":true}`+"\n"), BagInfo{}); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(32 << 20)
			for b.Loop() {
				rep, err := VerifyWith(dir, vo)
				if err != nil || !rep.OK() || rep.ContentsUnverified {
					b.Fatalf("%v %+v", err, rep)
				}
			}
		})
	}
}
