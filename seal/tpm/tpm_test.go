package tpm

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-tpm/tpm2"
)

var testNonce = StartNonce("6f1d2b34-0000-4000-8000-000000000001", strings.Repeat("ab", 32))

func open(t *testing.T, s *swtpm) *TPM {
	t.Helper()
	tp, err := Open(s.addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.Close() })
	return tp
}

func mustQuote(t *testing.T, tp *TPM, nonce []byte) *Evidence {
	t.Helper()
	ev, err := tp.Quote(nonce)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// quoteAt quotes s on a connection of its own: swtpm serves one client
// at a time.
func quoteAt(t *testing.T, s *swtpm, nonce []byte) *Evidence {
	t.Helper()
	tp, err := Open(s.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	return mustQuote(t, tp, nonce)
}

// roundTrip passes ev through its JSON form, as it is stored.
func roundTrip(t *testing.T, ev *Evidence) *Evidence {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var out Evidence
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func TestQuoteVerify(t *testing.T) {
	s := newSwtpm(t, true, "not-need-init,startup-clear")
	ev := roundTrip(t, quoteAt(t, s, testNonce))
	if err := Verify(ev, testNonce); err != nil {
		t.Fatal(err)
	}
	if ev.SignatureAlg != AlgECDSA || ev.PCRBank != "sha256" || len(ev.PCRs) != 24 {
		t.Errorf("alg %s, bank %s, %d PCRs; want ECDSA over 24 SHA-256 PCRs", ev.SignatureAlg, ev.PCRBank, len(ev.PCRs))
	}
	if ev.EKSource != "nv:0x01c00002" || len(ev.EKCertificate) == 0 {
		t.Errorf("EK from %q; want the RSA EK certificate in NV", ev.EKSource)
	}
	if ev.Manufacturer != "IBM" || ev.Clock == nil || !ev.Clock.Safe {
		t.Errorf("manufacturer %q, clock %+v", ev.Manufacturer, ev.Clock)
	}

	// The EK certificate chains to swtpm_setup's throwaway CA.
	ca := filepath.Join(provision(t), "ca")
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for pool, name := range map[*x509.CertPool]string{roots: "swtpm-localca-rootca-cert.pem", inter: "issuercert.pem"} {
		b, err := os.ReadFile(filepath.Join(ca, name))
		if err != nil {
			t.Fatal(err)
		}
		pool.AppendCertsFromPEM(b)
	}
	if err := VerifyEKCertificate(ev, roots, inter); err != nil {
		t.Errorf("EK certificate: %v", err)
	}
	if err := VerifyEKCertificate(ev, x509.NewCertPool(), nil); err == nil {
		t.Error("EK certificate verified without its CA")
	}
}

func TestQuoteRSA(t *testing.T) {
	s := newSwtpm(t, true, "not-need-init,startup-clear")
	tp := open(t, s)
	tp.akTemplates = []tpm2.TPMTPublic{akTemplateRSA}
	ev := roundTrip(t, mustQuote(t, tp, testNonce))
	if ev.SignatureAlg != AlgRSASSA {
		t.Fatalf("alg %s", ev.SignatureAlg)
	}
	if err := Verify(ev, testNonce); err != nil {
		t.Fatal(err)
	}
	ev.Signature[len(ev.Signature)-1] ^= 1
	if err := Verify(ev, testNonce); !errors.Is(err, ErrSignature) {
		t.Fatalf("changed RSA signature: %v", err)
	}
}

// TestQuoteNoEKCertificate: a TPM without EK certificates (a fresh
// swtpm state) gets its EK from the TCG template.
func TestQuoteNoEKCertificate(t *testing.T) {
	s := newSwtpm(t, false, "not-need-init,startup-clear")
	ev := quoteAt(t, s, testNonce)
	if ev.EKSource != "template:ecc-p256" || ev.EKCertificate != nil {
		t.Errorf("EK from %q", ev.EKSource)
	}
	if err := Verify(roundTrip(t, ev), testNonce); err != nil {
		t.Fatal(err)
	}
	// The AK and EK are derived from the endorsement seed: the same
	// again.
	again := quoteAt(t, s, testNonce)
	if again.EKFingerprint != ev.EKFingerprint || !bytes.Equal(again.AKPublic, ev.AKPublic) {
		t.Error("a second quote has another EK or AK")
	}
}

// TestOpenNeedsInit: a swtpm started without not-need-init and
// startup-clear is initialised through its control channel.
func TestOpenNeedsInit(t *testing.T) {
	s := newSwtpm(t, true, "")
	if err := Verify(quoteAt(t, s, testNonce), testNonce); err != nil {
		t.Fatal(err)
	}
}

func TestOpenNoTPM(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tpm")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	for _, path := range []string{filepath.Join(t.TempDir(), "tpmrm0"), file, "swtpm:" + closed} {
		tp, err := Open(path)
		if !errors.Is(err, ErrNoTPM) {
			if tp != nil {
				tp.Close()
			}
			t.Errorf("Open(%q): %v, want ErrNoTPM", path, err)
		}
	}
	if _, err := Open("swtpm:nonsense"); err == nil || errors.Is(err, ErrNoTPM) {
		t.Errorf("bad address: %v", err)
	}
}

// TestTamper changes one thing at a time in a verified quote.
func TestTamper(t *testing.T) {
	s := newSwtpm(t, true, "not-need-init,startup-clear")
	good := quoteAt(t, s, testNonce)
	other := quoteAt(t, newSwtpm(t, false, "not-need-init,startup-clear"), testNonce)
	if err := Verify(good, testNonce); err != nil {
		t.Fatal(err)
	}
	// Offsets in TPMS_ATTEST: magic 4, type 2, qualifiedSigner 2+34,
	// extraData 2+32, then clockInfo: clock 8, resetCount 4, ...
	clockAt := 4 + 2 + 2 + 34 + 2 + len(testNonce)
	tests := []struct {
		name   string
		change func(ev *Evidence)
		nonce  []byte
		want   error
	}{
		{"quoted byte", func(ev *Evidence) { ev.Quoted[len(ev.Quoted)-1] ^= 1 }, nil, ErrSignature},
		{"quoted resetCount", func(ev *Evidence) { ev.Quoted[clockAt+8+3]++ }, nil, ErrSignature},
		{"signature byte", func(ev *Evidence) { ev.Signature[10] ^= 1 }, nil, ErrSignature},
		{"signature_der", func(ev *Evidence) { ev.SignatureDER[len(ev.SignatureDER)-1] ^= 1 }, nil, ErrMismatch},
		{"signature_alg", func(ev *Evidence) { ev.SignatureAlg = AlgRSASSA }, nil, ErrMismatch},
		{"wrong nonce", nil, StartNonce("other collection", strings.Repeat("ab", 32)), ErrNonce},
		{"nonce field", func(ev *Evidence) { ev.Nonce = []byte("x") }, nil, ErrNonce},
		{"PCR value", func(ev *Evidence) { ev.PCRs[7].Value = strings.Repeat("11", 32) }, nil, ErrPCRDigest},
		{"PCR dropped", func(ev *Evidence) { ev.PCRs = ev.PCRs[:23] }, nil, ErrPCRDigest},
		{"PCR index", func(ev *Evidence) { ev.PCRs[1].Index = 2 }, nil, ErrPCRDigest},
		{"PCR bank", func(ev *Evidence) { ev.PCRBank = "sha1" }, nil, ErrPCRDigest},
		{"reset_count", func(ev *Evidence) { ev.Clock.ResetCount++ }, nil, ErrMismatch},
		{"restart_count", func(ev *Evidence) { ev.Clock.RestartCount++ }, nil, ErrMismatch},
		{"clock", func(ev *Evidence) { ev.Clock.Clock-- }, nil, ErrMismatch},
		{"safe", func(ev *Evidence) { ev.Clock.Safe = false }, nil, ErrMismatch},
		{"firmware_version", func(ev *Evidence) { ev.FirmwareVersion = "0000000000000001" }, nil, ErrMismatch},
		{"other AK", func(ev *Evidence) { ev.AKPublic, ev.AKPublicPEM = other.AKPublic, other.AKPublicPEM }, nil, ErrSignature},
		{"ak_public_pem", func(ev *Evidence) { ev.AKPublicPEM = other.AKPublicPEM }, nil, ErrMismatch},
		{"other EK", func(ev *Evidence) { ev.EKPublicPEM, ev.EKFingerprint = other.EKPublicPEM, other.EKFingerprint }, nil, ErrMismatch},
		{"ek_fingerprint", func(ev *Evidence) { ev.EKFingerprint = other.EKFingerprint }, nil, ErrMismatch},
		{"not present", func(ev *Evidence) { ev.Present = false }, nil, ErrNotPresent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := roundTrip(t, good) // a deep copy
			if tt.change != nil {
				tt.change(ev)
			}
			nonce := testNonce
			if tt.nonce != nil {
				nonce = tt.nonce
			}
			if err := Verify(ev, nonce); !errors.Is(err, tt.want) {
				t.Errorf("Verify: %v, want %v", err, tt.want)
			}
		})
	}
	// A quote made by another AK of restricted keys but for a verifier's
	// nonce cannot be passed off: its signer is checked too.
	ev := roundTrip(t, good)
	ev.Quoted = other.Quoted
	if err := Verify(ev, testNonce); !errors.Is(err, ErrSignature) {
		t.Errorf("other TPM's quote: %v", err)
	}
}

// TestContinuity: quotes with nothing between them are continuous; a
// TPM Reset (reboot), Restart (hibernation) or Resume (suspend), or
// another TPM, breaks it.
func TestContinuity(t *testing.T) {
	s := newSwtpm(t, true, "not-need-init,startup-clear")
	tp := open(t, s)
	a, b := mustQuote(t, tp, testNonce), mustQuote(t, tp, testNonce)
	if err := CheckContinuity(a, b); err != nil {
		t.Fatal(err)
	}
	if err := CheckContinuity(b, a); !errors.Is(err, ErrClock) {
		t.Errorf("clock back: %v", err)
	}
	tp.Close()

	// Power cycle without an orderly shutdown (CMD_INIT), then
	// TPM2_Startup(CLEAR): a TPM Reset, resetCount+1, clock not safe.
	if err := SwtpmControl(s.ctrl(), ctrlInit, 0); err != nil {
		t.Fatal(err)
	}
	c := quoteAt(t, s, testNonce)
	if err := CheckContinuity(b, c); !errors.Is(err, ErrReset) {
		t.Errorf("after a reset: %v", err)
	}
	if c.Clock.ResetCount != b.Clock.ResetCount+1 || c.Clock.Safe {
		t.Errorf("after a reset: %+v then %+v", b.Clock, c.Clock)
	}

	// TPM2_Shutdown(STATE), power cycle, TPM2_Startup(STATE): a TPM
	// Resume (suspend to RAM), restartCount+1.
	resume := func(startup tpm2.TPMSU) *Evidence {
		raw := dial(t, s)
		if _, err := (tpm2.Shutdown{ShutdownType: tpm2.TPMSUState}).Execute(raw); err != nil {
			t.Fatal(err)
		}
		raw.Close()
		if err := SwtpmControl(s.ctrl(), ctrlInit, 0); err != nil {
			t.Fatal(err)
		}
		raw = dial(t, s)
		if _, err := (tpm2.Startup{StartupType: startup}).Execute(raw); err != nil {
			t.Fatal(err)
		}
		raw.Close()
		return quoteAt(t, s, testNonce)
	}
	d := resume(tpm2.TPMSUState)
	if err := CheckContinuity(c, d); !errors.Is(err, ErrReset) || d.Clock.RestartCount != c.Clock.RestartCount+1 {
		t.Errorf("after a resume: %v; %+v then %+v", err, c.Clock, d.Clock)
	}
	// The same with TPM2_Startup(CLEAR): a TPM Restart (hibernation).
	e := resume(tpm2.TPMSUClear)
	if err := CheckContinuity(d, e); !errors.Is(err, ErrReset) || e.Clock.RestartCount != d.Clock.RestartCount+1 {
		t.Errorf("after a restart: %v; %+v then %+v", err, d.Clock, e.Clock)
	}

	// swtpm stopped and started again on the same state: a reboot.
	s.stop()
	s.start(t, "not-need-init,startup-clear")
	f := quoteAt(t, s, testNonce)
	if err := CheckContinuity(e, f); !errors.Is(err, ErrReset) || f.Clock.ResetCount != e.Clock.ResetCount+1 {
		t.Errorf("after swtpm restarted: %v; %+v then %+v", err, e.Clock, f.Clock)
	}
	g := quoteAt(t, s, testNonce)
	if err := CheckContinuity(f, g); err != nil {
		t.Errorf("after swtpm restarted, two quotes: %v", err)
	}

	other := quoteAt(t, newSwtpm(t, false, "not-need-init,startup-clear"), testNonce)
	if err := CheckContinuity(g, other); !errors.Is(err, ErrDifferentTPM) {
		t.Errorf("another TPM: %v", err)
	}
	// A forged copy that claims the same EK is still another AK.
	other.EKFingerprint = g.EKFingerprint
	if err := CheckContinuity(g, other); !errors.Is(err, ErrDifferentTPM) {
		t.Errorf("another TPM claiming the EK: %v", err)
	}
}

// dial connects to s's command socket without Open's startup.
func dial(t *testing.T, s *swtpm) *stream {
	t.Helper()
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s.port))
	if err != nil {
		t.Fatal(err)
	}
	return &stream{conn: c}
}

// TestOpenSSL verifies a quote's signature with openssl alone, as
// docs/tpm.md tells an expert to.
func TestOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	s := newSwtpm(t, true, "not-need-init,startup-clear")
	tp := open(t, s)
	for _, tmpl := range []tpm2.TPMTPublic{akTemplateECC, akTemplateRSA} {
		tp.akTemplates = []tpm2.TPMTPublic{tmpl}
		ev := mustQuote(t, tp, testNonce)
		dir := t.TempDir()
		files := map[string][]byte{"ak.pem": []byte(ev.AKPublicPEM), "quoted.bin": ev.Quoted, "sig.bin": ev.SignatureDER}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		run := func() (string, error) {
			cmd := exec.Command("openssl", "dgst", "-sha256", "-verify", "ak.pem", "-signature", "sig.bin", "quoted.bin")
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		if out, err := run(); err != nil || !strings.Contains(out, "Verified OK") {
			t.Fatalf("%s: openssl: %v\n%s", ev.SignatureAlg, err, out)
		}
		// The PCR digest in the quote is SHA-256 over the values.
		h := sha256.New()
		for _, p := range ev.PCRs {
			h.Write(mustHex(t, p.Value))
		}
		if !bytes.Contains(ev.Quoted, h.Sum(nil)) {
			t.Error("PCR digest not in the quote")
		}
		ev.Quoted[len(ev.Quoted)-1] ^= 1
		os.WriteFile(filepath.Join(dir, "quoted.bin"), ev.Quoted, 0o600)
		if out, err := run(); err == nil {
			t.Fatalf("%s: openssl verified a changed quote\n%s", ev.SignatureAlg, out)
		}
	}
	// The AK PEM is what openssl reads back.
	b, _ := pem.Decode([]byte(mustQuote(t, tp, testNonce).AKPublicPEM))
	if b == nil {
		t.Fatal("AK PEM")
	}
}
