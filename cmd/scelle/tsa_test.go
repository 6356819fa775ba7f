package main

import (
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
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/tsatest"

	"github.com/digitorus/timestamp"
	"github.com/rogpeppe/go-internal/testscript"
)

// cmdTSA is the testscript command
//
//	tsa
//
// It makes a test CA (written to $WORK/tsa/ca.pem), a TSA certificate with
// the critical id-kp-timeStamping extended key usage, another CA
// ($WORK/tsa/other-ca.pem), and serves on 127.0.0.1, until the script
// ends, a TSA that pipes each request to `openssl ts -reply`. $TSA is its
// URL. Scripts that use it start with [!exec:openssl] skip.
func cmdTSA(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) > 0 {
		ts.Fatalf("usage: tsa")
	}
	dir := ts.MkAbs("tsa")
	ts.Check(os.MkdirAll(dir, 0o755))
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		ts.Check(os.WriteFile(p, b, 0o600))
		return p
	}
	pemCert := func(der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}) }

	caKey, caDER := testCert(ts, "scelle test CA", nil, nil)
	ca, err := x509.ParseCertificate(caDER)
	ts.Check(err)
	_, otherDER := testCert(ts, "another CA", nil, nil)
	tsaKey, tsaDER := testCert(ts, "scelle test TSA", ca, caKey)
	write("ca.pem", pemCert(caDER))
	write("other-ca.pem", pemCert(otherDER))
	tsaCert, err := x509.ParseCertificate(tsaDER)
	ts.Check(err)
	srv, err := tsatest.Serve(dir, tsaCert, tsaKey, tsatest.Options{})
	ts.Check(err)
	ts.Defer(srv.Close)
	ts.Setenv("TSA", srv.URL+"/tsa")
}

// testCert makes a P-256 key and a certificate for it: a self-signed CA
// when issuer is nil, else a TSA certificate (critical id-kp-timeStamping)
// issued by it.
func testCert(ts interface{ Check(error) }, cn string, issuer *x509.Certificate, issuerKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ts.Check(err)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	ts.Check(err)
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), BasicConstraintsValid: true}
	if issuer == nil {
		tmpl.IsCA, tmpl.KeyUsage = true, x509.KeyUsageCertSign|x509.KeyUsageCRLSign
		issuer, issuerKey = tmpl, key
	} else {
		eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
		ts.Check(err)
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, issuerKey)
	ts.Check(err)
	return key, der
}

type checker struct{ t *testing.T }

func (c checker) Check(err error) {
	c.t.Helper()
	if err != nil {
		c.t.Fatal(err)
	}
}

// The verify check of one token, on tokens made in Go (no openssl): a
// qualified claim, a TSA certificate expired since, another root, a bad
// CA file.
func TestCheckTimestamp(t *testing.T) {
	caKey, caDER := testCert(checker{t}, "CA", nil, nil)
	ca, err := x509.ParseCertificate(caDER)
	checker{t}.Check(err)
	tsaKey, tsaDER := testCert(checker{t}, "TSA", ca, caKey)
	tsaCert, err := x509.ParseCertificate(tsaDER)
	checker{t}.Check(err)
	root := sha256.Sum256([]byte("tag manifest"))
	tok := timestamp.Timestamp{HashAlgorithm: crypto.SHA256, HashedMessage: root[:], Time: time.Now(),
		Policy: asn1.ObjectIdentifier{1, 2, 3}, AddTSACertificate: true, Qualified: true}
	resp, err := tok.CreateResponseWithOpts(tsaCert, tsaKey, crypto.SHA256)
	checker{t}.Check(err)

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "timestamp-1.tsr"), resp, 0o644)
	os.WriteFile(filepath.Join(dir, "timestamp-1.ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644)
	rootHex := hex.EncodeToString(root[:])
	other := sha256.Sum256([]byte("other"))
	for _, tc := range []struct {
		name string
		root string
		now  time.Time
		ok   bool
		want []string
	}{
		{"now", rootHex, time.Now(), true, []string{"timestamp-1.tsr: ", " by CN=TSA (serial ", "chains to CN=CA (timestamp-1.ca.pem)", "claims to be a qualified time stamp"}},
		{"expired since", rootHex, time.Now().AddDate(2, 0, 0), true, []string{"chains to CN=CA", "has expired since: the chain holds as at the token's time (revocation not checked)"}},
		{"another root", hex.EncodeToString(other[:]), time.Now(), false, []string{"time-stamp token is not for this root"}},
		{"no root", "", time.Now(), false, []string{"no root fingerprint"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, detail := verdict.CheckTimestamp(dir, 1, tc.root, tc.now)
			if ok != tc.ok {
				t.Errorf("ok %v, want %v: %s", ok, tc.ok, detail)
			}
			for _, w := range tc.want {
				if !strings.Contains(detail, w) {
					t.Errorf("%q does not say %q", detail, w)
				}
			}
		})
	}
	os.WriteFile(filepath.Join(dir, "timestamp-1.ca.pem"), []byte("not PEM"), 0o644)
	if ok, detail := verdict.CheckTimestamp(dir, 1, rootHex, time.Now()); ok || !strings.Contains(detail, "timestamp-1.ca.pem: no PEM certificate") {
		t.Errorf("bad CA file: %v %s", ok, detail)
	}
}
