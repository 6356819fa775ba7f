package timestamp

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/scelle/scelle/internal/tsatest"
	"github.com/scelle/scelle/internal/vectors"
	"io/fs"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rfc3161 "github.com/digitorus/timestamp"
)

// A test PKI made with crypto/x509, and a TSA served on loopback that
// pipes each request to `openssl ts -reply`: the tokens under test are
// made by the reference implementation, not by the code that checks them.

var (
	oidTimeStamping = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
	oidCodeSigning  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 3}
	testPolicy      = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}
)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
	pool *x509.CertPool
}

func newTestCA(t testing.TB, cn string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn, Organization: []string{"scelle test"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pool}
}

// issue makes a leaf certificate valid for a year. ekus, when not nil, is
// the extended key usage extension, critical or not.
func (ca *testCA) issue(t testing.TB, cn string, ekus []asn1.ObjectIdentifier, critical bool) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn, Organization: []string{"scelle test"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature}
	if ekus != nil {
		v, err := asn1.Marshal(ekus)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.ExtraExtensions = []pkix.Extension{{Id: oidExtKeyUsage, Critical: critical, Value: v}}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// goToken makes a TimeStampResp with the timestamp package (which, unlike
// openssl, signs with any certificate it is given).
func goToken(t testing.TB, cert *x509.Certificate, key crypto.Signer, root []byte, at time.Time) []byte {
	t.Helper()
	ts := rfc3161.Timestamp{HashAlgorithm: crypto.SHA256, HashedMessage: root, Time: at, Policy: testPolicy,
		Nonce: big.NewInt(7), AddTSACertificate: true}
	b, err := ts.CreateResponseWithOpts(cert, key, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type testTSA struct {
	URL    string
	CA     *testCA
	CAFile string
	Cert   *x509.Certificate
}

func needOpenSSL(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed (CI installs it from Debian): the test TSA is `openssl ts -reply`")
	}
}

// startTSA serves `openssl ts -reply` on 127.0.0.1. essAlg is the ESS
// signing-certificate hash (sha1: SigningCertificate, sha256:
// SigningCertificateV2); digests the imprint algorithms it accepts.
func startTSA(t testing.TB, essAlg, digests string) *testTSA {
	t.Helper()
	needOpenSSL(t)
	dir := t.TempDir()
	ca := newTestCA(t, "scelle test CA")
	cert, key := ca.issue(t, "scelle test TSA", []asn1.ObjectIdentifier{oidTimeStamping}, true)
	tsa := &testTSA{CA: ca, Cert: cert, CAFile: filepath.Join(dir, "ca.pem")}
	if err := os.WriteFile(tsa.CAFile, ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := tsatest.Serve(dir, cert, key, tsatest.Options{Policy: testPolicy.String(), ESSAlg: essAlg, Digests: digests})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	tsa.URL = srv.URL + "/tsa"
	return tsa
}

func testRoot(s string) []byte {
	r := sha256.Sum256([]byte(s))
	return r[:]
}

// opensslVerify runs `openssl ts -verify` on a stored token file.
func opensslVerify(t testing.TB, token []byte, root []byte, caFile string) error {
	t.Helper()
	f := filepath.Join(t.TempDir(), "t.tsr")
	if err := os.WriteFile(f, token, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("openssl", "ts", "-verify", "-in", f, "-digest", hex.EncodeToString(root), "-CAfile", caFile).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	if !bytes.Contains(out, []byte("Verification: OK")) {
		return fmt.Errorf("no \"Verification: OK\": %s", out)
	}
	return nil
}

func TestTimestampRoundTrip(t *testing.T) {
	for _, ess := range []string{"sha1", "sha256"} {
		t.Run("ess-"+ess, func(t *testing.T) {
			tsa := startTSA(t, ess, "sha256, sha384")
			root := testRoot("tag manifest")
			before := time.Now().Add(-2 * time.Second)
			resp, err := Request(context.Background(), tsa.URL, root, nil)
			if err != nil {
				t.Fatal(err)
			}
			info, err := Verify(resp, root, tsa.CA.pool, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if info.Time.Before(before) || info.Time.After(time.Now().Add(2*time.Second)) {
				t.Errorf("genTime %v, want about now", info.Time)
			}
			if want := "CN=scelle test TSA,O=scelle test"; info.TSA != want {
				t.Errorf("TSA %q, want %q", info.TSA, want)
			}
			if !info.Policy.Equal(testPolicy) || info.Serial == nil || info.Nonce == nil || info.Accuracy != time.Second {
				t.Errorf("policy %v serial %v nonce %v accuracy %v", info.Policy, info.Serial, info.Nonce, info.Accuracy)
			}
			if len(info.Chain) != 2 || !info.Chain[1].Equal(tsa.CA.cert) || !info.Signer.Equal(tsa.Cert) {
				t.Errorf("chain %v", info.Chain)
			}

			// The same token, bare, verifies too; without a pool the
			// chain is not checked and says so.
			tok, isResp, err := splitResponse(resp)
			if err != nil || !isResp {
				t.Fatal(err, isResp)
			}
			if _, err := Verify(tok, root, tsa.CA.pool, time.Now()); err != nil {
				t.Errorf("bare token: %v", err)
			}
			if info, err := Verify(resp, root, nil, time.Now()); err != nil || info.Chain != nil {
				t.Errorf("no pool: %v, chain %v", err, info.Chain)
			}

			// The real tool agrees, with -digest and with -data.
			if err := opensslVerify(t, resp, root, tsa.CAFile); err != nil {
				t.Fatalf("openssl ts -verify: %v", err)
			}
			data := filepath.Join(t.TempDir(), "tagmanifest-sha256.txt")
			os.WriteFile(data, []byte("tag manifest"), 0o644)
			f := filepath.Join(t.TempDir(), "timestamp-1.tsr")
			os.WriteFile(f, resp, 0o644)
			if out, err := exec.Command("openssl", "ts", "-verify", "-in", f, "-data", data, "-CAfile", tsa.CAFile).CombinedOutput(); err != nil {
				t.Fatalf("openssl ts -verify -data: %v: %s", err, out)
			}
		})
	}
}

// Tokens made by the timestamp package verify as openssl's do.
func TestTimestampGoToken(t *testing.T) {
	ca := newTestCA(t, "CA")
	cert, key := ca.issue(t, "TSA", []asn1.ObjectIdentifier{oidTimeStamping}, true)
	root := testRoot("x")
	info, err := Verify(goToken(t, cert, key, root, time.Now()), root, ca.pool, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if info.TSA != "CN=TSA,O=scelle test" {
		t.Errorf("TSA %q", info.TSA)
	}
}

func TestTimestampRejected(t *testing.T) {
	tsa := startTSA(t, "sha256", "sha256")
	root := testRoot("tag manifest")
	good, err := Request(context.Background(), tsa.URL, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	other := newTestCA(t, "another CA")
	otherFile := filepath.Join(t.TempDir(), "other.pem")
	os.WriteFile(otherFile, other.pem, 0o644)
	noEKU, noEKUKey := tsa.CA.issue(t, "no EKU", nil, true)
	soft, softKey := tsa.CA.issue(t, "EKU not critical", []asn1.ObjectIdentifier{oidTimeStamping}, false)
	mixed, mixedKey := tsa.CA.issue(t, "EKU code signing too", []asn1.ObjectIdentifier{oidTimeStamping, oidCodeSigning}, true)
	tsCert, tsKey := tsa.CA.issue(t, "another TSA", []asn1.ObjectIdentifier{oidTimeStamping}, true)
	changed := bytes.Clone(good)
	// A byte of the genTime, inside the signed TSTInfo.
	at := bytes.Index(changed, []byte(time.Now().UTC().Format("20060102")))
	if at < 0 {
		t.Fatal("no genTime in the token")
	}
	changed[at+2] ^= 1

	for _, tc := range []struct {
		name   string
		token  []byte
		root   []byte
		pool   *x509.CertPool
		caFile string
		want   error
		msg    string
		// openssl checks the chain as at now, not the token's time.
		opensslAccepts bool
	}{
		{"another root", good, testRoot("another"), tsa.CA.pool, tsa.CAFile, ErrImprint, "not for this root", false},
		{"untrusted CA", good, root, other.pool, otherFile, ErrChain, "does not chain", false},
		{"changed byte", changed, root, tsa.CA.pool, tsa.CAFile, ErrSignature, "content was changed", false},
		{"no EKU", goToken(t, noEKU, noEKUKey, root, time.Now()), root, tsa.CA.pool, tsa.CAFile, ErrCertificate, "no extended key usage", false},
		{"EKU not critical", goToken(t, soft, softKey, root, time.Now()), root, tsa.CA.pool, tsa.CAFile, ErrCertificate, "not marked critical", false},
		{"EKU not alone", goToken(t, mixed, mixedKey, root, time.Now()), root, tsa.CA.pool, tsa.CAFile, ErrCertificate, "alone", false},
		{"time before the certificate", goToken(t, tsCert, tsKey, root, time.Now().Add(-2*time.Hour)), root, tsa.CA.pool, tsa.CAFile, ErrCertificate, "outside", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(tc.token, tc.root, tc.pool, time.Now())
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want %v with %q", err, tc.want, tc.msg)
			}
			if err := opensslVerify(t, tc.token, tc.root, tc.caFile); (err == nil) != tc.opensslAccepts {
				t.Errorf("openssl ts -verify: %v, want it to accept: %v", err, tc.opensslAccepts)
			}
		})
	}
}

// Any one byte changed anywhere in a stored token is rejected: in the
// signed TSTInfo and attributes, and in the fields the signature does not
// cover (versions, algorithm lists, lengths, the status).
func TestTimestampEveryByte(t *testing.T) {
	tsa := startTSA(t, "sha256", "sha256")
	root := testRoot("tag manifest")
	good, err := Request(context.Background(), tsa.URL, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, mask := range []byte{0x01, 0x20, 0x80} {
		for i := range good {
			b := bytes.Clone(good)
			b[i] ^= mask
			if _, err := Verify(b, root, tsa.CA.pool, time.Now()); err == nil {
				t.Errorf("byte %d of %d xor %#x: accepted", i, len(good), mask)
			}
		}
	}
	for _, n := range []int{1, 100, len(good) - 1} {
		if _, err := Verify(good[:n], root, tsa.CA.pool, time.Now()); !errors.Is(err, ErrMalformed) {
			t.Errorf("cut to %d bytes: %v", n, err)
		}
	}
	if _, err := Verify(append(bytes.Clone(good), 0), root, tsa.CA.pool, time.Now()); !errors.Is(err, ErrMalformed) {
		t.Errorf("a byte appended: %v", err)
	}
}

func FuzzVerifyTimestamp(f *testing.F) {
	ca := newTestCA(f, "CA")
	cert, key := ca.issue(f, "TSA", []asn1.ObjectIdentifier{oidTimeStamping}, true)
	root := testRoot("x")
	resp := goToken(f, cert, key, root, time.Now())
	tok, _, err := splitResponse(resp)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(resp)
	f.Add(tok)
	frozen, err := vectors.Files("timestamp-1.tsr") // the frozen v1 bags, testdata/bags/v1
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range frozen {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := Verify(b, root, ca.pool, time.Now())
		if err == nil && (info == nil || !bytes.Equal(b, resp) && !bytes.Equal(b, tok)) {
			t.Errorf("accepted %x", b)
		}
	})
}

func TestRequestTimestampFails(t *testing.T) {
	root := testRoot("tag manifest")
	t.Run("refused", func(t *testing.T) {
		tsa := startTSA(t, "sha256", "sha512") // SHA-256 imprints not accepted
		_, err := Request(context.Background(), tsa.URL, root, nil)
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "request is rejected") || !strings.Contains(err.Error(), "unsupported Algorithm") {
			t.Errorf("error %v, want a refusal for a bad algorithm", err)
		}
	})

	tsa := startTSA(t, "sha256", "sha256")
	good, err := Request(context.Background(), tsa.URL, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	forOther, err := Request(context.Background(), tsa.URL, testRoot("other"), nil)
	if err != nil {
		t.Fatal(err)
	}
	replay := func(b []byte, status int, ctype string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ctype)
			w.WriteHeader(status)
			w.Write(b)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	for _, tc := range []struct {
		name string
		url  string
		want error
		msg  string
	}{
		{"replayed reply", replay(good, 200, ReplyType), ErrNonce, "nonce"},
		{"reply for another root", replay(forOther, 200, ReplyType), ErrImprint, "not for this root"},
		{"HTTP error", replay([]byte("no"), 503, "text/plain"), nil, "503 Service Unavailable"},
		{"not a TSA", replay([]byte("<html>"), 200, "text/html"), ErrMalformed, "(text/html)"},
		{"bare token", replay(good[9:], 200, ReplyType), ErrMalformed, "bare token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Request(context.Background(), tc.url, root, nil)
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want %v with %q", err, tc.want, tc.msg)
			}
		})
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Request(ctx, tsa.URL, root, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := Request(context.Background(), tsa.URL, root[:20], nil); err == nil {
		t.Error("a 20-byte root was sent")
	}
}

// A token is valid as long as its TSA certificate is; after that, the
// chain holds as at the token's time, which the caller may choose to use.
func TestTimestampExpired(t *testing.T) {
	ca := newTestCA(t, "CA")
	cert, key := ca.issue(t, "TSA", []asn1.ObjectIdentifier{oidTimeStamping}, true)
	root := testRoot("x")
	resp := goToken(t, cert, key, root, time.Now())
	later := time.Now().AddDate(2, 0, 0)
	_, err := Verify(resp, root, ca.pool, later)
	var ie x509.CertificateInvalidError
	if !errors.Is(err, ErrChain) || !errors.As(err, &ie) || ie.Reason != x509.Expired {
		t.Fatalf("two years on: %v, want an expired chain", err)
	}
	info, err := Verify(resp, root, nil, later)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(resp, root, ca.pool, info.Time); err != nil {
		t.Errorf("as at the token's time: %v", err)
	}
}

func TestStoreTimestamp(t *testing.T) {
	dir := t.TempDir()
	if ns, err := List(dir); err != nil || len(ns) != 0 {
		t.Fatal(ns, err)
	}
	for _, name := range []string{"timestamp-01.tsr", "timestamp-x.tsr", "timestamp-0.tsr", "timestamp-1.tsr.sha256"} {
		os.WriteFile(filepath.Join(dir, name), nil, 0o644)
	}
	n, err := Store(dir, []byte("token 1"), []byte("ca"))
	if err != nil || n != 1 {
		t.Fatal(n, err)
	}
	n, err = Store(dir, []byte("token 2"), nil)
	if err != nil || n != 2 {
		t.Fatal(n, err)
	}
	// A CA file left without its token still takes its number.
	os.WriteFile(filepath.Join(dir, CAFile(3)), []byte("ca"), 0o644)
	if n, err = Store(dir, []byte("token 4"), nil); err != nil || n != 4 {
		t.Fatal(n, err)
	}
	ns, err := List(dir)
	if err != nil || fmt.Sprint(ns) != "[1 2 4]" {
		t.Fatal(ns, err)
	}
	for file, want := range map[string]string{File(1): "token 1", CAFile(1): "ca", File(2): "token 2"} {
		if b, err := os.ReadFile(filepath.Join(dir, file)); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v", file, b, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, CAFile(2))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s: %v", CAFile(2), err)
	}
	if err := writeNewFile(filepath.Join(dir, File(1)), []byte("again")); !errors.Is(err, fs.ErrExist) {
		t.Errorf("overwrote: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, File(1))); string(b) != "token 1" {
		t.Errorf("changed to %q", b)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*.partial"))
	if len(matches) > 0 {
		t.Errorf("left %v", matches)
	}
}
