package vault

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/chain/chaintest"

	"github.com/minio/minio-go/v7"
	"github.com/minio/sha256-simd"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/hint"
	"github.com/scelle/scelle/internal/s3test"
	"github.com/scelle/scelle/internal/testtool"
	"github.com/scelle/scelle/seal"
)

// srv is the one versitygw of this test binary (nil when not installed).
var srv *s3test.Server

func TestMain(m *testing.M) {
	var code int
	func() {
		dir, err := os.MkdirTemp("", "vault-s3")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		if srv, err = s3test.Start(dir); err != nil && !errors.Is(err, s3test.ErrNoBinary) {
			fmt.Fprintln(os.Stderr, "versitygw:", err)
			code = 1
			return
		}
		if srv != nil {
			defer srv.Close()
		}
		code = m.Run()
	}()
	os.Exit(code)
}

// server returns the test server, or skips (fails in CI) without one.
func server(t *testing.T) *s3test.Server {
	t.Helper()
	if srv == nil {
		testtool.Missing(t, "%v", s3test.ErrNoBinary)
	}
	return srv
}

// connect points the AWS variables at the server with the root
// credentials and returns a Store.
func connect(t *testing.T, s *s3test.Server) *Store {
	t.Helper()
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	st, err := Connect(Config{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func bucket(t *testing.T, s *s3test.Server, lock bool) string {
	t.Helper()
	b, err := s.MakeBucket("t", lock)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testKey(n byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{n}, ed25519.SeedSize))
}

var collector, pusherKey = testKey(1), testKey(2)

// sealBag seals a bag the way scelle collect does (record, acquired and
// sealed events) holding one file of size random bytes, and returns its
// folder.
func sealBag(t testing.TB, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "C-1_box_20261205T100000Z")
	chaintest.SealBag(t, dir, collector, chaintest.File{Source: "/var/big", Size: int64(size), Body: io.LimitReader(rand.Reader, int64(size))})
	return dir
}

// snapshot returns each file of dir with its content's SHA-256.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprintf("%s %x", e.Name(), b))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func storedEvents(t *testing.T, dir string) []chain.CustodyEntry {
	t.Helper()
	c, err := chain.CheckCustodyDir(dir)
	if err != nil || c.Err != nil {
		t.Fatalf("custody: %v %v", err, c.Err)
	}
	var out []chain.CustodyEntry
	for _, e := range c.Entries {
		if e.Event == chain.EventStored || e.Event == chain.EventNote {
			out = append(out, e)
		}
	}
	return out
}

func TestPushLocks(t *testing.T) {
	s := server(t)
	st := connect(t, s)
	b := bucket(t, s, true)
	dir := sealBag(t, 1000)
	until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	res, err := st.Push(context.Background(), dir, Location{Bucket: b, Prefix: "case-1/"}, PushOptions{Key: pusherKey, RetainUntil: until, LegalHold: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Uploaded != len(res.Store.Objects) || res.Reused != 0 || res.Store.NoLock {
		t.Errorf("uploaded %d reused %d of %d, no lock %v", res.Uploaded, res.Reused, len(res.Store.Objects), res.Store.NoLock)
	}
	root, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	names := map[string]bool{}
	for _, o := range res.Store.Objects {
		names[strings.TrimPrefix(o.Key, "case-1/C-1_box_20261205T100000Z/")] = true
		if mode, got := lockOfVersion(t, root, b, o.Key, o.VersionID); mode != "COMPLIANCE" || !got.Equal(until) {
			t.Errorf("%s: retention %s until %s, want COMPLIANCE until %s", o.Key, mode, got, until)
		}
		if o.Retention != "COMPLIANCE" || o.RetainUntil != until.Format(time.RFC3339) || !o.LegalHold {
			t.Errorf("%s: custody says %+v", o.Key, o)
		}
		local, err := os.ReadFile(filepath.Join(dir, strings.TrimPrefix(o.Key, res.Store.Prefix)))
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%x", sha256Sum(local)) != o.SHA256 || int64(len(local)) != o.Size {
			t.Errorf("%s: sha256 %s size %d, not the file's", o.Key, o.SHA256, o.Size)
		}
		// The store refuses to delete a locked version, even to its root.
		if err := root.RemoveObject(ctx, b, o.Key, minio.RemoveObjectOptions{VersionID: o.VersionID, GovernanceBypass: true}); err == nil {
			t.Errorf("%s: deleting version %s was allowed", o.Key, o.VersionID)
		}
	}
	for _, n := range []string{seal.ArchiveFile, seal.ArchiveSumFile, seal.RootFile, seal.SigFile, seal.PubFile, seal.JournalFile, seal.RecordFile} {
		if !names[n] {
			t.Errorf("%s not stored (stored: %v)", n, names)
		}
	}
	if names[chain.CustodyFile] {
		t.Error("the stored event lists the custody log, which is stored after it")
	}
	if _, err := root.StatObject(ctx, b, res.Store.Prefix+chain.CustodyFile, minio.StatObjectOptions{}); err != nil {
		t.Errorf("custody log not stored: %v", err)
	}
	// A second client, awscli, reads the same lock.
	archive := res.Store.Objects[0]
	if out := awsCLI(t, s, "s3api", "get-object-retention", "--bucket", b, "--key", archive.Key, "--version-id", archive.VersionID); out != nil &&
		(!bytes.Contains(out, []byte(`"Mode": "COMPLIANCE"`)) || !bytes.Contains(out, []byte(until.Format("2006-01-02T15:04:05")))) {
		t.Errorf("aws s3api get-object-retention: %s", out)
	}
	ev := storedEvents(t, dir)
	if len(ev) != 1 || ev[0].Event != chain.EventStored || ev[0].Store.Endpoint != s.Endpoint || ev[0].KeyFingerprint != seal.KeyFingerprint(pusherKey.Public().(ed25519.PublicKey)) {
		t.Fatalf("custody events %+v", ev)
	}

	// Pushed again: a note, nothing sent.
	res2, err := st.Push(ctx, dir, Location{Bucket: b, Prefix: "case-1"}, PushOptions{Key: pusherKey, RetainUntil: until})
	if err != nil {
		t.Fatal(err)
	}
	if !res2.Note || res2.Sent != 0 {
		t.Errorf("push again: note %v, sent %d", res2.Note, res2.Sent)
	}
	if ev := storedEvents(t, dir); len(ev) != 2 || ev[1].Event != chain.EventNote {
		t.Errorf("after a second push: %+v", ev)
	}
}

func TestPushRefuses(t *testing.T) {
	s := server(t)
	st := connect(t, s)
	locked, unlocked := bucket(t, s, true), bucket(t, s, false)
	dir := sealBag(t, 100)
	before := snapshot(t, dir)
	ctx := context.Background()
	opts := PushOptions{Key: pusherKey}

	cases := []struct {
		name  string
		setup func(t *testing.T) *Store
		loc   Location
		want  error
	}{
		{"wrong endpoint", func(t *testing.T) *Store {
			st, err := Connect(Config{Endpoint: "http://127.0.0.1:1"})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}, Location{Bucket: locked}, ErrUnreachable},
		{"bad credentials", func(t *testing.T) *Store {
			t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-wrong-secret")
			st, err := Connect(Config{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}, Location{Bucket: locked}, ErrCredentials},
		{"missing bucket", func(*testing.T) *Store { return st }, Location{Bucket: "no-such-bucket"}, ErrNoBucket},
		{"bucket without lock", func(*testing.T) *Store { return st }, Location{Bucket: unlocked}, ErrNoLock},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.setup(t).Push(ctx, dir, c.loc, opts)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("error on more than one line: %q", err)
			}
			if snapshot(t, dir) != before {
				t.Error("the local bag changed")
			}
		})
	}
	// A bag that does not verify is refused before anything is sent.
	bad := sealBag(t, 100)
	if err := os.WriteFile(filepath.Join(bad, seal.RootFile), []byte(strings.Repeat("0", 64)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Push(ctx, bad, Location{Bucket: locked}, opts); !errors.Is(err, ErrNotVerified) {
		t.Errorf("a bag that fails: err = %v", err)
	}
	// --no-lock stores it, and says so.
	res, err := st.Push(ctx, dir, Location{Bucket: unlocked}, PushOptions{Key: pusherKey, NoLock: true})
	if err != nil {
		t.Fatal(err)
	}
	if ev := storedEvents(t, dir); len(ev) != 1 || !ev[0].Store.NoLock || !res.Store.NoLock {
		t.Errorf("no-lock push: %+v", ev)
	}
}

func TestPushResumes(t *testing.T) {
	s := server(t)
	st := connect(t, s)
	b := bucket(t, s, true)
	dir := sealBag(t, 3*MinPartSize+12345)
	ctx, cancel := context.WithCancel(context.Background())
	opts := PushOptions{Key: pusherKey, PartSize: MinPartSize, Parallel: 1,
		Progress: func(sent int64) {
			if sent >= 2*MinPartSize {
				cancel() // killed halfway through the archive
			}
		}}
	loc := Location{Bucket: b, Prefix: "p/"}
	if _, err := st.Push(ctx, dir, loc, opts); err == nil {
		t.Fatal("a cancelled push succeeded")
	}
	if ev := storedEvents(t, dir); len(ev) != 0 {
		t.Fatalf("a push cut short recorded %+v", ev)
	}
	opts.Progress = nil
	res, err := st.Push(context.Background(), dir, loc, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Parts < 2 {
		t.Errorf("resumed with %d parts already stored, want at least 2 (%d bytes sent)", res.Parts, res.Sent)
	}
	if ev := storedEvents(t, dir); len(ev) != 1 || ev[0].Event != chain.EventStored {
		t.Fatalf("custody after resume: %+v", ev)
	}
}

func sha256Sum(b []byte) []byte {
	h := sha256.New()
	h.Write(b)
	return h.Sum(nil)
}

func checkOf(v *RemoteVerdict, name string) []seal.Check {
	var out []seal.Check
	for _, c := range v.Checks {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// TestVerifyStored pushes a bag, verifies it in the store, then writes a
// later version over its archive (which write-only credentials allow):
// the pinned versions still hold and the verdict names the new one. A
// stored event that pins that other version fails.
func TestVerifyStored(t *testing.T) {
	s := server(t)
	st := connect(t, s)
	b := bucket(t, s, true)
	dir := sealBag(t, 1<<20)
	ctx := context.Background()
	res, err := st.Push(ctx, dir, Location{Bucket: b, Prefix: "case/"}, PushOptions{Key: pusherKey, RetainUntil: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	loc := Location{Bucket: b, Prefix: res.Store.Prefix}
	v, err := st.Verify(ctx, loc, verdict.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != verdict.Verified {
		t.Fatalf("verdict %s: %+v", v.Status, v.Failed())
	}
	if c := checkOf(v, CheckStorePinned); len(c) != 1 || !c[0].OK {
		t.Errorf("pinned: %+v", c)
	}
	if c := checkOf(v, CheckStoreVersions); len(c) != 1 || !strings.Contains(c[0].Detail, "no other version") {
		t.Errorf("versions: %+v", c)
	}
	if len(v.Locks) != len(res.Store.Objects) || v.Locks[0].Retention != "COMPLIANCE" {
		t.Errorf("locks: %+v", v.Locks)
	}
	if v.Read < res.Sent-int64(len(mustRead(t, filepath.Join(dir, chain.CustodyFile)))) {
		t.Errorf("read %d bytes from the store, pushed %d", v.Read, res.Sent)
	}

	// A later version over the archive.
	root, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	archiveKey := res.Store.Prefix + seal.ArchiveFile
	other := bytes.Repeat([]byte("x"), 1000)
	up, err := root.PutObject(ctx, b, archiveKey, bytes.NewReader(other), int64(len(other)), minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, err = st.Verify(ctx, loc, verdict.Options{})
	if err != nil {
		t.Fatal(err)
	}
	vc := checkOf(v, CheckStoreVersions)
	if v.Status != verdict.Verified || len(v.Others) != 1 || v.Others[0].VersionID != up.VersionID || !strings.Contains(vc[0].Detail, up.VersionID) {
		t.Fatalf("after a later version: %s, others %+v, %+v", v.Status, v.Others, vc)
	}

	// A stored event that pins the other version: exit 4's failure.
	forged := res.Store
	forged.Objects = append([]chain.StoredObject(nil), res.Store.Objects...)
	for i := range forged.Objects {
		if forged.Objects[i].Key == archiveKey {
			forged.Objects[i].VersionID, forged.Objects[i].ETag = up.VersionID, up.ETag
		}
	}
	if _, err := chain.AppendCustody(dir, chain.CustodyEvent{Event: chain.EventStored, Store: &forged}, pusherKey); err != nil {
		t.Fatal(err)
	}
	if _, err := st.putCustody(ctx, dir, &forged, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	v, err = st.Verify(ctx, loc, verdict.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != verdict.Failed {
		t.Fatalf("a stored event pinning another version: %s", v.Status)
	}
	failed := strings.Join(v.FailedNames(), " ")
	if !strings.Contains(failed, CheckStorePinned) || !strings.Contains(failed, seal.CheckArchiveHash) {
		t.Errorf("failed checks: %s", failed)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTicket: a ticket lets a push through and nothing else; once
// expired, the push fails with one clear error and the bag is untouched.
func TestTicket(t *testing.T) {
	s := server(t)
	st := connect(t, s)
	b := bucket(t, s, true)
	ctx := context.Background()
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	tk, err := st.Presign(ctx, Location{Bucket: b, Prefix: "case/"}, PresignOptions{Hosts: 2, Expires: time.Hour, RetainUntil: until})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ticket.json")
	if err := WriteTicket(path, tk); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("ticket file: %v %v", fi.Mode(), err)
	}
	tk, err = ReadTicket(path)
	if err != nil {
		t.Fatal(err)
	}
	// No credentials at all on the host.
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
	}
	dir := sealBag(t, 1000)
	if _, err := PushTicket(ctx, dir, tk, "", PushOptions{Key: pusherKey}, nil); !errors.Is(err, ErrTicket) {
		t.Errorf("two slots and none given: %v", err)
	}
	res, err := PushTicket(ctx, dir, tk, "host-02", PushOptions{Key: pusherKey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Store.Prefix != "case/host-02/" {
		t.Errorf("prefix %s", res.Store.Prefix)
	}
	// The store holds it, locked as the ticket said, and it verifies.
	root, _ := s.Client()
	for _, o := range res.Store.Objects {
		if mode, got := lockOfVersion(t, root, b, o.Key, o.VersionID); mode != "COMPLIANCE" || !got.Equal(until) || o.VersionID == "" {
			t.Errorf("%s %s: %v %v", o.Key, o.VersionID, mode, got)
		}
	}
	st2 := connect(t, s)
	v, err := st2.Verify(ctx, Location{Bucket: b, Prefix: res.Store.Prefix}, verdict.Options{})
	if err != nil || v.Status != verdict.Verified {
		t.Fatalf("verify after a ticket push: %v %+v", err, v)
	}
	// The URLs let nothing but their PUT through.
	u := tk.Slots[1].URLs[seal.ArchiveFile]
	for _, method := range []string{http.MethodGet, http.MethodDelete, http.MethodHead} {
		req, _ := http.NewRequest(method, u, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("%s with a ticket URL: %s", method, resp.Status)
		}
	}
	list := strings.Replace(u, seal.ArchiveFile, "", 1)
	if resp, err := http.Get(list); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("listing with a ticket URL: %s", resp.Status)
		}
	}

	// Expired.
	short, err := st.Presign(ctx, Location{Bucket: b, Prefix: "late/"}, PresignOptions{Hosts: 1, Expires: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	late := sealBag(t, 100)
	before := snapshot(t, late)
	time.Sleep(time.Until(short.Expires.Add(1100 * time.Millisecond)))
	short.Expires = time.Now().Add(time.Hour) // past the client's own check: the store refuses
	if _, err := PushTicket(ctx, late, short, "", PushOptions{Key: pusherKey}, nil); !errors.Is(err, ErrTicket) || hint.Of(err) == "" {
		t.Errorf("expired at the store: %v (hint %q)", err, hint.Of(err))
	}
	short.Expires = time.Now().Add(-time.Minute)
	if _, err := PushTicket(ctx, late, short, "", PushOptions{Key: pusherKey}, nil); !errors.Is(err, ErrTicket) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired: %v", err)
	}
	if snapshot(t, late) != before {
		t.Error("the local bag changed")
	}
}

func TestList(t *testing.T) {
	s := server(t)
	st := connect(t, s)
	b := bucket(t, s, true)
	ctx := context.Background()
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	dir := sealBag(t, 100)
	if _, err := st.Push(ctx, dir, Location{Bucket: b, Prefix: "c/"}, PushOptions{Key: pusherKey, RetainUntil: until}); err != nil {
		t.Fatal(err)
	}
	bags, err := st.List(ctx, Location{Bucket: b, Prefix: "c/"})
	if err != nil {
		t.Fatal(err)
	}
	if len(bags) != 1 {
		t.Fatalf("%+v", bags)
	}
	g := bags[0]
	if g.Prefix != "c/C-1_box_20261205T100000Z/" || g.Case != "C-1" || g.Host != "box" || g.Root == "" || g.Items == nil ||
		g.RetainUntil != until.Format(time.RFC3339) || g.LastEvent != chain.EventStored || g.Err != "" {
		t.Errorf("%+v", g)
	}
}

// lockOfVersion reads a version's Object Lock from the headers of a HEAD
// (versitygw's GetObjectRetention answer is not the form minio-go reads).
func lockOfVersion(t *testing.T, c *minio.Client, bucket, key, version string) (string, time.Time) {
	t.Helper()
	info, err := c.StatObject(context.Background(), bucket, key, minio.StatObjectOptions{VersionID: version})
	if err != nil {
		t.Fatalf("%s %s: %v", key, version, err)
	}
	until, _ := time.Parse(time.RFC3339Nano, info.Metadata.Get("X-Amz-Object-Lock-Retain-Until-Date"))
	return info.Metadata.Get("X-Amz-Object-Lock-Mode"), until
}

// awsCLI runs awscli against the server with the root credentials and
// returns its output; nil when awscli is not installed (outside CI).
func awsCLI(t *testing.T, s *s3test.Server, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		if testtool.CI() && runtime.GOOS != "windows" {
			t.Fatal("awscli not installed (.ci/run installs the Debian package awscli)")
		}
		t.Log("awscli not installed: the second client's check is skipped")
		return nil
	}
	cmd := exec.Command(bin, append([]string{"--endpoint-url", s.Endpoint, "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(), s.Env()...)
	cmd.Env = append(cmd.Env, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws %v: %v\n%s", args, err, out)
	}
	return out
}
