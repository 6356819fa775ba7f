// Package tsatest serves an RFC 3161 time-stamp authority on loopback for
// tests: each request is answered by `openssl ts -reply`, so the tokens
// under test come from the reference implementation, not from the code
// that checks them.
package tsatest

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// Options are the TSA's settings in openssl's ts configuration.
type Options struct {
	Policy  string // default policy OID; "" means 1.3.6.1.4.1.99999.1
	ESSAlg  string // ess_cert_id_alg: sha1 or sha256; "" means sha256
	Digests string // accepted imprint digests; "" means sha256
}

// Serve writes, in dir, the signer's certificate and key and an openssl
// ts configuration, and serves on 127.0.0.1 a TSA that pipes each
// application/timestamp-query it is posted to `openssl ts -reply`. The
// caller closes the server.
func Serve(dir string, cert *x509.Certificate, key crypto.PrivateKey, o Options) (*httptest.Server, error) {
	if o.Policy == "" {
		o.Policy = "1.3.6.1.4.1.99999.1"
	}
	if o.ESSAlg == "" {
		o.ESSAlg = "sha256"
	}
	if o.Digests == "" {
		o.Digests = "sha256"
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	var werr error
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil && werr == nil {
			werr = err
		}
		return p
	}
	conf := write("ts.cnf", fmt.Appendf(nil, `[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = %s
signer_cert = %s
signer_key = %s
signer_digest = sha256
default_policy = %s
other_policies = 1.3.6.1.4.1.99999.2
digests = %s
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = %s
crypto_device = builtin
`, write("serial", []byte("01\n")), write("tsa.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})),
		write("tsa.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})), o.Policy, o.Digests, o.ESSAlg))
	if werr != nil {
		return nil, werr
	}
	var mu sync.Mutex // openssl updates the serial file
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/timestamp-query" {
			http.Error(w, "POST an application/timestamp-query", http.StatusUnsupportedMediaType)
			return
		}
		cmd := exec.Command("openssl", "ts", "-reply", "-config", conf, "-queryfile", "/dev/stdin", "-out", "-")
		cmd.Stdin = http.MaxBytesReader(w, r.Body, 1<<16)
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Run(); err != nil {
			http.Error(w, fmt.Sprintf("openssl ts -reply: %v: %s", err, stderr.Bytes()), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(out.Bytes())
	})), nil
}
