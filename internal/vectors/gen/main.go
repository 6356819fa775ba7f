// Command gen makes the frozen format vectors of testdata/bags/v1 (see
// package vectors) with scelle as it is at the working tree's revision:
//
//	go run ./internal/vectors/gen [-replace-frozen]
//
// run in the module. It refuses to replace vectors that exist without
// -replace-frozen. It needs openssl (the test TSA answers with
// `openssl ts -reply`) and swtpm (the TPM quoted, so that the host's own
// TPM is never read).
//
// DO NOT RUN IT TO FIX A FAILING TEST. The vectors are frozen: a test that
// fails on them says that today's scelle no longer reads yesterday's
// bags. Making them again is a change of the bag format, decided as such,
// with a new folder (testdata/bags/v2) beside the old one.
//
// It keeps the test-only keys of keys/ when they exist (so that their
// fingerprints stay), makes a small fixture host in a temporary folder,
// and collects it twice, with --path only (no host data): a plain bag,
// timestamped by a test TSA whose certificates never expire and handed
// over once (custody add transferred), and its twin encrypted with age to
// keys/expert.agekey. Then it writes EXPECTED.json from what scelle
// verify says of each.
package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/scelle/scelle/internal/tsatest"
	"github.com/scelle/scelle/internal/vectors"
)

// fixtureTime is the modification time of every file of the fixture host.
var fixtureTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fixture is the fixture host's files: a few small ones, one empty, one
// whose name the bag must encode (format.md section 4.4).
var fixture = map[string]string{
	"etc/hostname":                "fixture\n",
	"etc/machine-id":              "5ce11e00000000000000000000000001\n",
	"etc/os-release":              "NAME=\"scelle fixture\"\nID=fixture\nVERSION_ID=1\n",
	"etc/passwd":                  "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\n",
	"home/alice/notes.txt":        "meeting at 10, room 4\n",
	"home/alice/empty":            "",
	"home/alice/odd name\n^1.txt": "a name with a space, a line feed and a caret\n",
}

const (
	examiner     = "Test Examiner"
	organisation = "scelle test vectors"
	expertName   = "Eve Expert"
)

func main() {
	replace := flag.Bool("replace-frozen", false, "replace the frozen vectors that exist: a format change")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: go run ./internal/vectors/gen [-replace-frozen]\n\nMakes %s. The vectors are FROZEN: making them again is a format change, never the fix for a failing test.\n", vectors.Folder)
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*replace); err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
}

func run(replace bool) error {
	for _, tool := range []string{"go", "git", "openssl", "swtpm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is needed: %w", tool, err)
		}
	}
	dir, err := vectors.Dir()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, vectors.ExpectedFile)); err == nil && !replace {
		return fmt.Errorf("%s exists: the vectors are FROZEN; a test that fails on them is fixed in the code, not here (give -replace-frozen only for a deliberate format change)", filepath.Join(dir, vectors.ExpectedFile))
	}
	module := filepath.Dir(filepath.Dir(filepath.Dir(dir)))
	tmp, err := os.MkdirTemp("", "scelle-vectors-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	g := &gen{dir: dir, tmp: tmp, bin: filepath.Join(tmp, "scelle")}
	made, err := g.build(module)
	if err != nil {
		return err
	}
	if err := g.keys(); err != nil {
		return err
	}
	root := filepath.Join(tmp, "fixture")
	if err := writeFixture(root); err != nil {
		return err
	}
	tpmAddr, stopTPM, err := startSwtpm(tmp)
	if err != nil {
		return err
	}
	defer stopTPM()

	stage := filepath.Join(tmp, "bags")
	common := []string{"--root", root, "--path", "/etc", "--path", "/home", "--out", stage,
		"--key", g.key("operator.key"), "--examiner", examiner, "--organisation", organisation,
		"--tpm", tpmAddr, "--no-prompt"}
	plain, err := g.collect(stage, append([]string{"collect", "--case", "v1-plain"}, common...))
	if err != nil {
		return err
	}
	if err := g.timestamp(plain); err != nil {
		return err
	}
	if err := g.transfer(plain); err != nil {
		return err
	}
	recipient, err := os.ReadFile(filepath.Join(dir, g.key("expert.agekey.pub")))
	if err != nil {
		return err
	}
	encrypted, err := g.collect(stage, append([]string{"collect", "--case", "v1-encrypted",
		"--recipient", strings.TrimSpace(string(recipient))}, common...))
	if err != nil {
		return err
	}
	if err := g.transfer(encrypted); err != nil {
		return err
	}

	exp := vectors.Expected{
		Format: vectors.Format,
		Note:   "FROZEN: made once by scelle; regenerating them is a format change, never a fix for a failing test (README.md)",
		Made:   made,
	}
	for _, b := range []struct {
		dir, identity string
	}{{plain, ""}, {encrypted, "keys/expert.agekey"}} {
		bag, err := g.expect(b.dir, b.identity)
		if err != nil {
			return err
		}
		exp.Bags = append(exp.Bags, bag)
	}
	return g.install(stage, exp)
}

type gen struct {
	dir, tmp, bin string
}

// key is the path of a test-only key relative to the vectors' folder,
// where scelle runs: the record's argv names no folder of this machine
// but the temporary one.
func (g *gen) key(name string) string { return "keys/" + name }

// build builds scelle from the module's working tree, as the Makefile
// does, and says which revision it is.
func (g *gen) build(module string) (string, error) {
	describe, err := output(module, "git", "describe", "--tags", "--always", "--dirty")
	if err != nil {
		return "", err
	}
	revision, err := output(module, "git", "rev-parse", "HEAD")
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -X main.version="+describe+" -X main.revision="+revision, "-o", g.bin, "./cmd/scelle")
	cmd.Dir, cmd.Env = module, append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, b)
	}
	return "go run ./internal/vectors/gen, scelle " + describe + " (" + revision + ")", nil
}

// keys makes the test-only keys that do not exist yet.
func (g *gen) keys() error {
	if err := os.MkdirAll(filepath.Join(g.dir, "keys"), 0o755); err != nil {
		return err
	}
	for _, name := range []string{"operator.key", "expert.key"} {
		if _, err := os.Stat(filepath.Join(g.dir, g.key(name))); err == nil {
			continue
		}
		if _, err := g.scelle("key", "new", g.key(name)); err != nil {
			return err
		}
	}
	agekey := filepath.Join(g.dir, g.key("expert.agekey"))
	if _, err := os.Stat(agekey); err == nil {
		return nil
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	if err := os.WriteFile(agekey, []byte("# TEST ONLY: the age identity of the frozen vectors; never use it for real evidence\n"+id.String()+"\n"), 0o600); err != nil {
		return err
	}
	return os.WriteFile(agekey+".pub", []byte(id.Recipient().String()+"\n"), 0o644)
}

func writeFixture(root string) error {
	for name, content := range fixture {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, fixtureTime, fixtureTime)
	})
}

// collect runs scelle collect and returns the bag it sealed in stage.
func (g *gen) collect(stage string, args []string) (string, error) {
	before, _ := filepath.Glob(filepath.Join(stage, "*"))
	if _, err := g.scelle(args...); err != nil {
		return "", err
	}
	after, _ := filepath.Glob(filepath.Join(stage, "*"))
	for _, p := range after {
		if !contains(before, p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("scelle %s: no new bag in %s", strings.Join(args, " "), stage)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// timestamp has a test TSA, whose CA and certificate never expire,
// timestamp the bag, with the CA file kept beside the token.
func (g *gen) timestamp(bag string) error {
	tsaDir := filepath.Join(g.tmp, "tsa")
	if err := os.MkdirAll(tsaDir, 0o700); err != nil {
		return err
	}
	caKey, caDER, err := certificate("scelle test vectors CA", nil, nil)
	if err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	tsaKey, tsaDER, err := certificate("scelle test vectors TSA", ca, caKey)
	if err != nil {
		return err
	}
	tsaCert, err := x509.ParseCertificate(tsaDER)
	if err != nil {
		return err
	}
	caFile := filepath.Join(tsaDir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		return err
	}
	srv, err := tsatest.Serve(tsaDir, tsaCert, tsaKey, tsatest.Options{})
	if err != nil {
		return err
	}
	defer srv.Close()
	_, err = g.scelle("timestamp", bag, "--tsa", srv.URL+"/tsa", "--ca", caFile, "--key", g.key("expert.key"), "--actor", expertName)
	return err
}

// noExpiry is RFC 5280's notAfter for a certificate with no
// well-defined expiration date.
var noExpiry = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// certificate makes a P-256 key and a certificate for it that never
// expires: a self-signed CA when issuer is nil, else a TSA certificate
// (critical id-kp-timeStamping) issued by it.
func certificate(cn string, issuer *x509.Certificate, issuerKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour).UTC().Truncate(time.Second), NotAfter: noExpiry, BasicConstraintsValid: true}
	if issuer == nil {
		tmpl.IsCA, tmpl.KeyUsage = true, x509.KeyUsageCertSign|x509.KeyUsageCRLSign
		issuer, issuerKey = tmpl, key
	} else {
		eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
		if err != nil {
			return nil, nil, err
		}
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, issuerKey)
	return key, der, err
}

// transfer records the bag's hand-over to a lab.
func (g *gen) transfer(bag string) error {
	_, err := g.scelle("custody", "add", bag, "--event", "transferred", "--key", g.key("operator.key"),
		"--actor", examiner, "--organisation", organisation, "--from", examiner, "--to", "Lab Y",
		"--medium", "USB stick SN 0000", "--seal-number", "V1-0001", "--reason", "expert analysis")
	return err
}

// verified is the part of scelle verify --json that EXPECTED.json records.
type verified struct {
	Verdict string `json:"verdict"`
	Root    string `json:"root"`
	Key     string `json:"key_fingerprint"`
	Proven  int    `json:"proven"`
	Checks  []struct {
		Name   string `json:"name"`
		OK     bool   `json:"ok"`
		Detail string `json:"detail"`
	} `json:"checks"`
}

// expect verifies the bag as scelle verify does, with and without the
// identity, and says what a later scelle must find.
func (g *gen) expect(bag, identity string) (vectors.Bag, error) {
	b := vectors.Bag{Dir: filepath.Base(bag), Encrypted: identity != "", Identity: identity}
	plain, code, err := g.verify(bag)
	if err != nil {
		return b, err
	}
	b.Verdict, b.Code, b.Root, b.KeyFingerprint, b.Items = plain.Verdict, code, plain.Root, plain.Key, plain.Proven
	if identity != "" {
		full, code, err := g.verify(bag, "--identity", filepath.Join(g.dir, identity))
		if err != nil {
			return b, err
		}
		if code != 0 || full.Verdict != "VERIFIED" {
			return b, fmt.Errorf("%s with %s: %s (exit %d)", b.Dir, identity, full.Verdict, code)
		}
		b.VerdictWithIdentity, b.Root, b.KeyFingerprint, b.Items = full.Verdict, full.Root, full.Key, full.Proven
	} else if code != 0 || plain.Verdict != "VERIFIED" {
		return b, fmt.Errorf("%s: %s (exit %d)", b.Dir, plain.Verdict, code)
	}
	sum, err := archiveSum(bag, "evidence.tar.zst.sha256")
	if err != nil {
		return b, err
	}
	b.ArchiveSHA256 = sum
	if b.Encrypted {
		if b.ArchiveAgeSHA256, err = archiveSum(bag, "evidence.tar.zst.age.sha256"); err != nil {
			return b, err
		}
	}
	custody, err := os.ReadFile(filepath.Join(bag, "custody.jsonl"))
	if err != nil {
		return b, err
	}
	b.CustodyEvents = bytes.Count(custody, []byte("\n"))
	tokens, _ := filepath.Glob(filepath.Join(bag, "timestamp-*.tsr"))
	b.Timestamps = len(tokens)
	for _, c := range plain.Checks {
		if c.Name == "tpm-continuity" && c.OK {
			b.TPM = true
		}
	}
	if !b.TPM {
		return b, fmt.Errorf("%s: no tpm-continuity check holds", b.Dir)
	}
	return b, nil
}

func (g *gen) verify(bag string, args ...string) (*verified, int, error) {
	cmd := exec.Command(g.bin, append(append([]string{"verify", "--json"}, args...), bag)...)
	out, err := cmd.Output()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		return nil, 0, err
	}
	v := new(verified)
	if err := json.Unmarshal(out, v); err != nil {
		return nil, 0, fmt.Errorf("scelle verify --json %s: %v\n%s", bag, err, out)
	}
	return v, code, nil
}

// archiveSum reads a .sha256 file beside the archive and checks it.
func archiveSum(bag, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(bag, name))
	if err != nil {
		return "", err
	}
	want := strings.TrimSuffix(name, ".sha256")
	sum, file, ok := strings.Cut(strings.TrimSuffix(string(b), "\n"), "  ")
	if !ok || file != want {
		return "", fmt.Errorf("%s: not '<sha256>  %s'", name, want)
	}
	if data, err := os.ReadFile(filepath.Join(bag, want)); err == nil {
		if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != sum {
			return "", fmt.Errorf("%s: %s is not the SHA-256 of %s", name, sum, want)
		}
	} else if !errors.Is(err, os.ErrNotExist) { // an encrypted bag has no plaintext archive
		return "", err
	}
	return sum, nil
}

// install replaces the bags of the vectors' folder and EXPECTED.json
// with the new ones; the keys and the README stay.
func (g *gen) install(stage string, exp vectors.Expected) error {
	old, err := os.ReadDir(g.dir)
	if err != nil {
		return err
	}
	for _, e := range old {
		if e.IsDir() && e.Name() != "keys" {
			if err := os.RemoveAll(filepath.Join(g.dir, e.Name())); err != nil {
				return err
			}
		}
	}
	for _, b := range exp.Bags {
		if err := os.CopyFS(filepath.Join(g.dir, b.Dir), os.DirFS(filepath.Join(stage, b.Dir))); err != nil {
			return err
		}
	}
	js, err := json.MarshalIndent(exp, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(g.dir, vectors.ExpectedFile), append(js, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d bags\n", g.dir, len(exp.Bags))
	return nil
}

func (g *gen) scelle(args ...string) (string, error) {
	cmd := exec.Command(g.bin, args...)
	cmd.Dir = g.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("scelle %s: %v\n%s%s", strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.String(), nil
}

func output(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(b)), nil
}

// startSwtpm starts a software TPM on two free loopback ports, waits
// until it answers, and returns its --tpm address.
func startSwtpm(tmp string) (addr string, stop func(), err error) {
	var port int
	for i := 0; port == 0; i++ {
		if i == 20 {
			return "", nil, errors.New("no two free consecutive loopback ports for swtpm")
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", nil, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+1))
		l.Close()
		if err == nil {
			l2.Close()
			port = p
		}
	}
	state := filepath.Join(tmp, "swtpm")
	if err := os.MkdirAll(state, 0o700); err != nil {
		return "", nil, err
	}
	var stderr bytes.Buffer
	cmd := exec.Command("swtpm", "socket", "--tpm2", "--tpmstate", "dir="+state,
		"--server", fmt.Sprintf("type=tcp,port=%d,bindaddr=127.0.0.1", port),
		"--ctrl", fmt.Sprintf("type=tcp,port=%d,bindaddr=127.0.0.1", port+1),
		"--flags", "not-need-init,startup-clear")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop = func() { cmd.Process.Kill(); <-exited }
	deadline := time.After(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return fmt.Sprintf("swtpm:127.0.0.1:%d", port), stop, nil
		}
		select {
		case err := <-exited:
			return "", nil, fmt.Errorf("swtpm exited: %v\n%s", err, stderr.Bytes())
		case <-deadline:
			stop()
			return "", nil, fmt.Errorf("swtpm does not answer on 127.0.0.1:%d after 10s\n%s", port, stderr.Bytes())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
