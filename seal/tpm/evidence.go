package tpm

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"time"

	"github.com/google/go-tpm/tpm2"
)

// Evidence is one TPM quote and what a verifier needs to check it
// offline. Quoted and Signature are the TPM's own bytes and the only
// signed part; the other fields either let a verifier check those bytes
// (AKPublic, PCRs, Nonce) or repeat what they hold in readable form
// (Clock, FirmwareVersion), and Verify rejects any that disagree.
// EKPublicPEM, EKFingerprint, EKCertificate, Manufacturer and HostTime
// are not signed by the TPM.
type Evidence struct {
	// Present is true for a quote; false records why there is none.
	Present bool   `json:"present"`
	Reason  string `json:"reason,omitempty"`
	// Device is where the TPM was reached (/dev/tpmrm0, swtpm:HOST:PORT).
	Device string `json:"device,omitempty"`
	// Manufacturer is the TPM's vendor id (TPM_PT_MANUFACTURER), such as
	// "IFX", "INTC", "STM", "NTC", "IBM".
	Manufacturer string `json:"manufacturer,omitempty"`
	// HostTime is the host's clock just before quoting (not signed).
	HostTime time.Time `json:"host_time,omitzero"`
	// Nonce is the qualifying data the quote was asked for.
	Nonce []byte `json:"nonce,omitempty"`
	// Quoted is the TPMS_ATTEST structure the TPM signed.
	Quoted []byte `json:"quoted,omitempty"`
	// Signature is the TPMT_SIGNATURE structure the TPM returned;
	// SignatureDER is the same signature as openssl takes it (an
	// ECDSA-Sig-Value, or the RSASSA-PKCS1-v1_5 block).
	Signature    []byte `json:"signature,omitempty"`
	SignatureAlg string `json:"signature_alg,omitempty"`
	SignatureDER []byte `json:"signature_der,omitempty"`
	// AKPublic is the attestation key's TPMT_PUBLIC; AKPublicPEM its key.
	AKPublic    []byte `json:"ak_public,omitempty"`
	AKPublicPEM string `json:"ak_public_pem,omitempty"`
	// EKPublicPEM is the endorsement key; EKFingerprint the SHA-256 of
	// its PKIX DER encoding, in hex; EKSource where it was read
	// ("nv:0x01c00002" for the certificate in NV, "template:ecc-p256"
	// for a key made from the TCG template); EKCertificate the
	// certificate (DER) when the TPM holds one.
	EKPublicPEM   string `json:"ek_public_pem,omitempty"`
	EKFingerprint string `json:"ek_fingerprint,omitempty"`
	EKSource      string `json:"ek_source,omitempty"`
	EKCertificate []byte `json:"ek_certificate,omitempty"`
	// PCRBank is the quoted bank ("sha256"); PCRs its values, by index.
	PCRBank string `json:"pcr_bank,omitempty"`
	PCRs    []PCR  `json:"pcrs,omitempty"`
	// Clock and FirmwareVersion repeat what Quoted holds.
	Clock           *ClockInfo `json:"clock_info,omitempty"`
	FirmwareVersion string     `json:"firmware_version,omitempty"` // hex, 16 digits
}

// PCR is one PCR's value.
type PCR struct {
	Index int    `json:"index"`
	Value string `json:"value"` // hex
}

// ClockInfo is the TPMS_CLOCK_INFO of a quote.
type ClockInfo struct {
	// Clock is the time in milliseconds the TPM has been powered since
	// it was made or last cleared; it never goes back (see Safe).
	Clock uint64 `json:"clock"`
	// ResetCount counts TPM Resets (reboots) since the last TPM2_Clear.
	ResetCount uint32 `json:"reset_count"`
	// RestartCount counts TPM Restarts and Resumes (hibernation,
	// suspend) since the last Reset.
	RestartCount uint32 `json:"restart_count"`
	// Safe is false when the TPM may have reported a larger Clock before
	// (it lost power without an orderly shutdown).
	Safe bool `json:"safe"`
}

// Signature algorithms of Evidence.SignatureAlg.
const (
	AlgECDSA  = "ecdsa-sha256"
	AlgRSASSA = "rsassa-pkcs1v15-sha256"
)

// tpmGenerated is TPM_GENERATED_VALUE, the magic of every TPMS_ATTEST.
const tpmGenerated = 0xff544347

// maxNonce bounds qualifying data (TPM2B_DATA holds a TPMT_HA at most).
const maxNonce = 64

// Errors of Verify and CheckContinuity. Each is wrapped with details.
var (
	ErrNotPresent   = errors.New("no quote")
	ErrSignature    = errors.New("quote signature does not verify")
	ErrAttest       = errors.New("not a TPM-generated quote")
	ErrNonce        = errors.New("quote nonce differs")
	ErrPCRDigest    = errors.New("PCR values do not match the quoted digest")
	ErrMismatch     = errors.New("evidence disagrees with the signed quote")
	ErrDifferentTPM = errors.New("quotes come from different TPMs")
	ErrReset        = errors.New("the TPM was reset or restarted between the quotes")
	ErrClock        = errors.New("the TPM clock went back between the quotes")
)

// quote is what Verify learns from the signed bytes.
type quote struct {
	attest *tpm2.TPMSAttest
	info   *tpm2.TPMSQuoteInfo
	akPub  crypto.PublicKey
}

// strict parses b as T and refuses trailing or non-canonical bytes: the
// signed bytes must mean exactly one thing.
func strict[T tpm2.Marshallable, P interface {
	*T
	tpm2.Unmarshallable
}](b []byte) (v *T, err error) {
	defer func() {
		if r := recover(); r != nil { // go-tpm's reflection on hostile bytes
			v, err = nil, fmt.Errorf("malformed: %v", r)
		}
	}()
	v, err = tpm2.Unmarshal[T, P](b)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(tpm2.Marshal(*v), b) {
		return nil, errors.New("trailing or non-canonical bytes")
	}
	return v, nil
}

// Verify checks ev offline: the signature over Quoted verifies with the
// attestation key AKPublic, a restricted signing key that never leaves
// its TPM; Quoted is a TPM-generated quote by that key over nonce and
// over the digest of ev.PCRs; the readable fields repeat the signed ones.
// It does not check who made the AK (docs/tpm.md).
func Verify(ev *Evidence, nonce []byte) error {
	_, err := verify(ev, nonce)
	return err
}

func verify(ev *Evidence, nonce []byte) (*quote, error) {
	if ev == nil || !ev.Present {
		reason := ""
		if ev != nil && ev.Reason != "" {
			reason = ": " + ev.Reason
		}
		return nil, fmt.Errorf("%w%s", ErrNotPresent, reason)
	}
	q := &quote{}

	// The attestation key.
	pub, err := strict[tpm2.TPMTPublic](ev.AKPublic)
	if err != nil {
		return nil, fmt.Errorf("ak_public: %w", err)
	}
	a := pub.ObjectAttributes
	if !a.Restricted || !a.SignEncrypt || a.Decrypt || !a.FixedTPM || !a.FixedParent || !a.SensitiveDataOrigin {
		return nil, fmt.Errorf("ak_public: not a restricted signing key generated and kept in a TPM")
	}
	if q.akPub, err = publicKey(pub); err != nil {
		return nil, fmt.Errorf("ak_public: %w", err)
	}
	if ev.AKPublicPEM != "" {
		if p, err := PublicKeyPEM(q.akPub); err != nil || p != ev.AKPublicPEM {
			return nil, fmt.Errorf("%w: ak_public_pem is not the key of ak_public", ErrMismatch)
		}
	}

	// The signature over the quoted bytes.
	sig, err := strict[tpm2.TPMTSignature](ev.Signature)
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	alg, der, err := checkSignature(q.akPub, sig, ev.Quoted)
	if err != nil {
		return nil, err
	}
	if ev.SignatureAlg != alg {
		return nil, fmt.Errorf("%w: signature_alg is %q, the signature is %s", ErrMismatch, ev.SignatureAlg, alg)
	}
	if ev.SignatureDER != nil && !bytes.Equal(ev.SignatureDER, der) {
		return nil, fmt.Errorf("%w: signature_der is not the signature", ErrMismatch)
	}

	// What was signed.
	if len(ev.Quoted) < 4 || binary.BigEndian.Uint32(ev.Quoted) != tpmGenerated {
		return nil, fmt.Errorf("%w: magic is not TPM_GENERATED", ErrAttest)
	}
	if q.attest, err = strict[tpm2.TPMSAttest](ev.Quoted); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAttest, err)
	}
	if q.attest.Type != tpm2.TPMSTAttestQuote {
		return nil, fmt.Errorf("%w: type %#x is not TPM_ST_ATTEST_QUOTE", ErrAttest, uint16(q.attest.Type))
	}
	if q.info, err = q.attest.Attested.Quote(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAttest, err)
	}
	if want, err := qualifiedName(pub); err != nil || !bytes.Equal(q.attest.QualifiedSigner.Buffer, want) {
		return nil, fmt.Errorf("%w: the signer is not this AK as a primary key of the endorsement hierarchy", ErrAttest)
	}
	if !bytes.Equal(q.attest.ExtraData.Buffer, nonce) {
		return nil, fmt.Errorf("%w: quote has %x, want %x", ErrNonce, q.attest.ExtraData.Buffer, nonce)
	}
	if ev.Nonce != nil && !bytes.Equal(ev.Nonce, nonce) {
		return nil, fmt.Errorf("%w: nonce field is %x, want %x", ErrNonce, ev.Nonce, nonce)
	}
	if err := checkPCRs(ev, q.info); err != nil {
		return nil, err
	}
	if err := checkReadable(ev, q.attest); err != nil {
		return nil, err
	}
	if err := checkEK(ev); err != nil {
		return nil, err
	}
	return q, nil
}

// checkSignature verifies sig over msg with pub and returns the
// algorithm's name and the signature in openssl's form.
func checkSignature(pub crypto.PublicKey, sig *tpm2.TPMTSignature, msg []byte) (string, []byte, error) {
	digest := sha256.Sum256(msg)
	switch sig.SigAlg {
	case tpm2.TPMAlgECDSA:
		s, err := sig.Signature.ECDSA()
		if err != nil {
			return "", nil, fmt.Errorf("signature: %w", err)
		}
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || s.Hash != tpm2.TPMAlgSHA256 {
			return "", nil, fmt.Errorf("%w: ECDSA signature with a %T key or hash %#x", ErrSignature, pub, uint16(s.Hash))
		}
		der, err := asn1.Marshal(struct{ R, S *big.Int }{
			new(big.Int).SetBytes(s.SignatureR.Buffer), new(big.Int).SetBytes(s.SignatureS.Buffer)})
		if err != nil {
			return "", nil, err
		}
		if !ecdsa.VerifyASN1(k, digest[:], der) {
			return "", nil, fmt.Errorf("%w with the AK (%s)", ErrSignature, AlgECDSA)
		}
		return AlgECDSA, der, nil
	case tpm2.TPMAlgRSASSA:
		s, err := sig.Signature.RSASSA()
		if err != nil {
			return "", nil, fmt.Errorf("signature: %w", err)
		}
		k, ok := pub.(*rsa.PublicKey)
		if !ok || s.Hash != tpm2.TPMAlgSHA256 {
			return "", nil, fmt.Errorf("%w: RSASSA signature with a %T key or hash %#x", ErrSignature, pub, uint16(s.Hash))
		}
		if err := rsa.VerifyPKCS1v15(k, crypto.SHA256, digest[:], s.Sig.Buffer); err != nil {
			return "", nil, fmt.Errorf("%w with the AK (%s)", ErrSignature, AlgRSASSA)
		}
		return AlgRSASSA, s.Sig.Buffer, nil
	default:
		return "", nil, fmt.Errorf("%w: unsupported scheme %#x", ErrSignature, uint16(sig.SigAlg))
	}
}

// qualifiedName is the Qualified Name of a primary key of the
// endorsement hierarchy: nameAlg || H(handle of TPM_RH_ENDORSEMENT ||
// Name of the key) (TPM 2.0 Part 1, 16 "Names").
func qualifiedName(pub *tpm2.TPMTPublic) ([]byte, error) {
	name, err := tpm2.ObjectName(pub)
	if err != nil {
		return nil, err
	}
	if pub.NameAlg != tpm2.TPMAlgSHA256 {
		return nil, fmt.Errorf("name algorithm %#x", uint16(pub.NameAlg))
	}
	h := sha256.New()
	binary.Write(h, binary.BigEndian, uint32(tpm2.TPMRHEndorsement))
	h.Write(name.Buffer)
	return h.Sum(binary.BigEndian.AppendUint16(nil, uint16(tpm2.TPMAlgSHA256))), nil
}

// banks maps the names of PCR banks to their hash algorithms.
var banks = []struct {
	name string
	alg  tpm2.TPMAlgID
	size int
}{
	{"sha256", tpm2.TPMAlgSHA256, 32},
	{"sha384", tpm2.TPMAlgSHA384, 48},
	{"sha512", tpm2.TPMAlgSHA512, 64},
	{"sha1", tpm2.TPMAlgSHA1, 20},
}

func bankByName(name string) (tpm2.TPMAlgID, int, bool) {
	for _, b := range banks {
		if b.name == name {
			return b.alg, b.size, true
		}
	}
	return 0, 0, false
}

// selected lists the PCR indices set in a selection bitmap.
func selected(bitmap []byte) []int {
	var out []int
	for i, b := range bitmap {
		for bit := range 8 {
			if b&(1<<bit) != 0 {
				out = append(out, i*8+bit)
			}
		}
	}
	return out
}

// checkPCRs checks that ev.PCRs are the PCRs the quote selects and that
// their digest is the quoted one.
func checkPCRs(ev *Evidence, info *tpm2.TPMSQuoteInfo) error {
	alg, size, ok := bankByName(ev.PCRBank)
	if !ok {
		return fmt.Errorf("%w: unknown PCR bank %q", ErrPCRDigest, ev.PCRBank)
	}
	sels := info.PCRSelect.PCRSelections
	if len(sels) != 1 || sels[0].Hash != alg {
		return fmt.Errorf("%w: the quote does not select the %s bank alone", ErrPCRDigest, ev.PCRBank)
	}
	want := selected(sels[0].PCRSelect)
	if len(want) != len(ev.PCRs) {
		return fmt.Errorf("%w: the quote selects PCRs %v, the evidence has %d values", ErrPCRDigest, want, len(ev.PCRs))
	}
	h := sha256.New()
	for i, p := range ev.PCRs {
		if p.Index != want[i] {
			return fmt.Errorf("%w: the quote selects PCRs %v, the evidence has PCR %d in place %d", ErrPCRDigest, want, p.Index, i)
		}
		v, err := hex.DecodeString(p.Value)
		if err != nil || len(v) != size {
			return fmt.Errorf("%w: PCR %d: not a %s value", ErrPCRDigest, p.Index, ev.PCRBank)
		}
		h.Write(v)
	}
	if !bytes.Equal(h.Sum(nil), info.PCRDigest.Buffer) {
		return fmt.Errorf("%w: SHA-256 of the %d recorded values is %x, the quote signs %x", ErrPCRDigest, len(ev.PCRs), h.Sum(nil), info.PCRDigest.Buffer)
	}
	return nil
}

func clockOf(a *tpm2.TPMSAttest) ClockInfo {
	c := a.ClockInfo
	return ClockInfo{Clock: c.Clock, ResetCount: c.ResetCount, RestartCount: c.RestartCount, Safe: bool(c.Safe)}
}

func firmware(a *tpm2.TPMSAttest) string { return fmt.Sprintf("%016x", a.FirmwareVersion) }

// checkReadable checks that the readable copies are the signed values.
func checkReadable(ev *Evidence, a *tpm2.TPMSAttest) error {
	if ev.Clock == nil || *ev.Clock != clockOf(a) {
		return fmt.Errorf("%w: clock_info is %+v, the quote signs %+v", ErrMismatch, ev.Clock, clockOf(a))
	}
	if ev.FirmwareVersion != firmware(a) {
		return fmt.Errorf("%w: firmware_version is %q, the quote signs %q", ErrMismatch, ev.FirmwareVersion, firmware(a))
	}
	return nil
}

// checkEK checks that the EK fields agree with each other. The TPM signs
// none of them.
func checkEK(ev *Evidence) error {
	pub, err := ParsePublicKeyPEM(ev.EKPublicPEM)
	if err != nil {
		return fmt.Errorf("ek_public_pem: %w", err)
	}
	fp, err := Fingerprint(pub)
	if err != nil || fp != ev.EKFingerprint {
		return fmt.Errorf("%w: ek_fingerprint is not the SHA-256 of ek_public_pem", ErrMismatch)
	}
	if len(ev.EKCertificate) > 0 && len(ev.EKSource) > 3 && ev.EKSource[:3] == "nv:" {
		cert, err := ParseEKCertificate(ev.EKCertificate)
		if err != nil {
			return fmt.Errorf("ek_certificate: %w", err)
		}
		if cfp, err := Fingerprint(cert.PublicKey); err != nil || cfp != fp {
			return fmt.Errorf("%w: ek_certificate is not for ek_public_pem", ErrMismatch)
		}
	}
	return nil
}

// CheckContinuity checks that end was quoted by the same TPM as start
// (same EK, same AK: the AK is derived from the endorsement seed), with
// no TPM Reset (reboot) and no Restart or Resume (hibernation, suspend)
// between them, and that the TPM clock did not go back. It reads the
// signed bytes, not their readable copies; check each quote with Verify
// first.
func CheckContinuity(start, end *Evidence) error {
	sa, err := signedAttest(start)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	ea, err := signedAttest(end)
	if err != nil {
		return fmt.Errorf("end: %w", err)
	}
	if start.EKFingerprint == "" || start.EKFingerprint != end.EKFingerprint {
		return fmt.Errorf("%w: EK %.16s… at the start, %.16s… at the end", ErrDifferentTPM, start.EKFingerprint, end.EKFingerprint)
	}
	if !bytes.Equal(start.AKPublic, end.AKPublic) {
		return fmt.Errorf("%w: the attestation keys differ", ErrDifferentTPM)
	}
	sc, ec := clockOf(sa), clockOf(ea)
	if sc.ResetCount != ec.ResetCount || sc.RestartCount != ec.RestartCount {
		return fmt.Errorf("%w: resetCount %d then %d, restartCount %d then %d", ErrReset,
			sc.ResetCount, ec.ResetCount, sc.RestartCount, ec.RestartCount)
	}
	if ec.Clock < sc.Clock {
		return fmt.Errorf("%w: %d ms then %d ms", ErrClock, sc.Clock, ec.Clock)
	}
	if sa.FirmwareVersion != ea.FirmwareVersion {
		return fmt.Errorf("%w: firmware %s then %s", ErrDifferentTPM, firmware(sa), firmware(ea))
	}
	return nil
}

// Elapsed is the TPM clock's advance from start to end (zero when it
// cannot be read).
func Elapsed(start, end *Evidence) time.Duration {
	sa, err1 := signedAttest(start)
	ea, err2 := signedAttest(end)
	if err1 != nil || err2 != nil || ea.ClockInfo.Clock < sa.ClockInfo.Clock {
		return 0
	}
	return time.Duration(ea.ClockInfo.Clock-sa.ClockInfo.Clock) * time.Millisecond
}

func signedAttest(ev *Evidence) (*tpm2.TPMSAttest, error) {
	if ev == nil || !ev.Present {
		return nil, ErrNotPresent
	}
	a, err := strict[tpm2.TPMSAttest](ev.Quoted)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAttest, err)
	}
	return a, nil
}

// publicKey converts a TPMT_PUBLIC to a Go key, validating the point.
func publicKey(pub *tpm2.TPMTPublic) (crypto.PublicKey, error) {
	switch pub.Type {
	case tpm2.TPMAlgECC:
		parms, err := pub.Parameters.ECCDetail()
		if err != nil {
			return nil, err
		}
		pt, err := pub.Unique.ECC()
		if err != nil {
			return nil, err
		}
		var c elliptic.Curve
		switch parms.CurveID {
		case tpm2.TPMECCNistP256:
			c = elliptic.P256()
		case tpm2.TPMECCNistP384:
			c = elliptic.P384()
		default:
			return nil, fmt.Errorf("unsupported curve %#x", uint16(parms.CurveID))
		}
		n := (c.Params().BitSize + 7) / 8
		if len(pt.X.Buffer) > n || len(pt.Y.Buffer) > n {
			return nil, errors.New("ECC point too long")
		}
		raw := append([]byte{4}, make([]byte, 2*n)...)
		copy(raw[1+n-len(pt.X.Buffer):], pt.X.Buffer)
		copy(raw[1+2*n-len(pt.Y.Buffer):], pt.Y.Buffer)
		return ecdsa.ParseUncompressedPublicKey(c, raw)
	case tpm2.TPMAlgRSA:
		parms, err := pub.Parameters.RSADetail()
		if err != nil {
			return nil, err
		}
		mod, err := pub.Unique.RSA()
		if err != nil {
			return nil, err
		}
		k, err := tpm2.RSAPub(parms, mod)
		if err != nil {
			return nil, err
		}
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("RSA key of %d bits", k.N.BitLen())
		}
		return k, nil
	default:
		return nil, fmt.Errorf("unsupported key type %#x", uint16(pub.Type))
	}
}

// PublicKeyPEM encodes a public key as a PKIX "PUBLIC KEY" PEM block.
func PublicKeyPEM(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// ParsePublicKeyPEM decodes one PKIX "PUBLIC KEY" PEM block.
func ParsePublicKeyPEM(s string) (crypto.PublicKey, error) {
	b, rest := pem.Decode([]byte(s))
	if b == nil || b.Type != "PUBLIC KEY" || len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("not one PEM PUBLIC KEY block")
	}
	return x509.ParsePKIXPublicKey(b.Bytes)
}

// Fingerprint is the SHA-256 of a public key's PKIX DER encoding, in hex:
// the form scelle uses for every key.
func Fingerprint(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}

// ParseEKCertificate parses an EK certificate as stored in NV, where
// vendors may pad the DER with trailing bytes.
func ParseEKCertificate(b []byte) (*x509.Certificate, error) {
	var raw asn1.RawValue
	if _, err := asn1.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	return x509.ParseCertificate(raw.FullBytes)
}

// VerifyEKCertificate checks ev's EK certificate against the TPM
// manufacturer's CA certificates in roots (and intermediates). Offline,
// scelle has no such CA: this is for an expert who obtained it.
func VerifyEKCertificate(ev *Evidence, roots, intermediates *x509.CertPool) error {
	if len(ev.EKCertificate) == 0 {
		return errors.New("no EK certificate in the evidence")
	}
	cert, err := ParseEKCertificate(ev.EKCertificate)
	if err != nil {
		return err
	}
	if fp, err := Fingerprint(cert.PublicKey); err != nil || fp != ev.EKFingerprint {
		return fmt.Errorf("%w: ek_certificate is not for ek_fingerprint", ErrMismatch)
	}
	// EK certificates carry the TCG's EK key usage, not a TLS one; they
	// may also hold the TPM's identity in a critical SAN that Go does not
	// understand.
	cert.UnhandledCriticalExtensions = slices.DeleteFunc(cert.UnhandledCriticalExtensions,
		func(oid asn1.ObjectIdentifier) bool { return oid.Equal(asn1.ObjectIdentifier{2, 5, 29, 17}) })
	_, err = cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err
}

// hexHandle formats an NV index or handle as EKSource does.
func hexHandle(h uint32) string { return "0x" + strconv.FormatUint(uint64(h)|1<<32, 16)[1:] }
