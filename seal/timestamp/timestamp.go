package timestamp

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/digitorus/pkcs7"
	rfc3161 "github.com/digitorus/timestamp"

	"github.com/scelle/scelle/internal/fileio"
)

// MaxResponse bounds a TSA's reply, and a token file read back.
const MaxResponse = 1 << 20

// MIME types of RFC 3161 section 3.4 (time-stamp protocol over HTTP).
const (
	QueryType = "application/timestamp-query"
	ReplyType = "application/timestamp-reply"
)

// Errors of Request and Verify, for errors.Is. Each is
// wrapped with the detail.
var (
	// ErrRefused: the TSA answered with a status other than granted.
	ErrRefused = errors.New("the TSA refused the request")
	// ErrMalformed: not a time-stamp response or token scelle can read.
	ErrMalformed = errors.New("not a valid time-stamp token")
	// ErrSignature: the CMS signature does not verify, or it is not
	// bound to the certificate that verifies it.
	ErrSignature = errors.New("time-stamp token signature does not verify")
	// ErrImprint: the token is for other data than the root.
	ErrImprint = errors.New("time-stamp token is not for this root")
	// ErrNonce: the reply does not answer this request.
	ErrNonce = errors.New("time-stamp reply does not answer this request")
	// ErrCertificate: the signer's certificate is not a
	// time-stamping certificate (RFC 3161 section 2.3), or does not cover
	// the token's time or name.
	ErrCertificate = errors.New("time-stamp signer is not a time-stamping authority")
	// ErrChain: the signer's certificate does not chain to the
	// given CAs (as at the time asked for).
	ErrChain = errors.New("time-stamp signer does not chain to a trusted CA")
)

var (
	oidSignedData           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidTSTInfo              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	oidSigningCertificate   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	oidSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidSHA256               = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidExtKeyUsage          = asn1.ObjectIdentifier{2, 5, 29, 37}
)

// Info is what a verified token states.
type Info struct {
	// Time is the token's genTime: when the TSA says the root existed.
	Time time.Time
	// Accuracy is the TSA's stated accuracy of Time; zero when not stated.
	Accuracy time.Duration
	// TSA names the authority: the token's tsa field when present, else
	// the signer certificate's subject.
	TSA    string
	Serial *big.Int
	Policy asn1.ObjectIdentifier
	Nonce  *big.Int // nil when the token has none
	// QCStatement reports that the token carries the qcStatements
	// extension by which a TSA declares it qualified (ETSI EN 319 422).
	// It is the TSA's own claim: only the EU trusted lists confirm it.
	QCStatement bool
	// Signer is the certificate whose key signed the token.
	Signer *x509.Certificate
	// Chain runs from Signer to a certificate of the given CA pool. It is
	// nil when Verify was given no pool: the chain was not
	// checked, and the token then proves only that the holder of Signer's
	// key made it.
	Chain []*x509.Certificate
}

// Request asks the TSA at tsaURL (RFC 3161 over HTTP) for a
// token whose message imprint is root, the 32-byte root fingerprint, with
// a random nonce and the TSA's certificate. It returns the DER
// TimeStampResp as the TSA sent it, after checking that its status is
// granted, that the token's signature verifies with the certificate it
// carries, and that its imprint and nonce are those of the request. It
// does not check whom the certificate belongs to: Verify with a
// CA pool does. A nil client means http.DefaultClient; ctx bounds the
// exchange.
func Request(ctx context.Context, tsaURL string, root []byte, client *http.Client) (token []byte, err error) {
	if len(root) != sha256.Size {
		return nil, fmt.Errorf("timestamp: the root is %d bytes, want %d", len(root), sha256.Size)
	}
	var nonce *big.Int
	for nonce == nil || nonce.Sign() == 0 {
		// 64 bits, as openssl ts -query uses: large enough never to
		// repeat, small enough for every TSA.
		if nonce, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64)); err != nil {
			return nil, fmt.Errorf("timestamp: nonce: %w", err)
		}
	}
	req := rfc3161.Request{HashAlgorithm: crypto.SHA256, HashedMessage: root, Certificates: true, Nonce: nonce}
	body, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("timestamp: encode request: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, tsaURL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	hreq.Header.Set("Content-Type", QueryType)
	hreq.Header.Set("Accept", ReplyType)
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("timestamp: read reply from %s: %w", tsaURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("timestamp: %s answered %s", tsaURL, resp.Status)
	}
	if len(reply) > MaxResponse {
		return nil, fmt.Errorf("timestamp: %w: the reply from %s is larger than %d bytes", ErrMalformed, tsaURL, MaxResponse)
	}
	tok, isResp, err := splitResponse(reply)
	if err == nil && !isResp {
		err = fmt.Errorf("%w: a bare token, not a TimeStampResp", ErrMalformed)
	}
	if err != nil {
		return nil, fmt.Errorf("timestamp: reply from %s (%s): %w", tsaURL, resp.Header.Get("Content-Type"), err)
	}
	v, err := verifyToken(tok)
	if err != nil {
		return nil, fmt.Errorf("timestamp: reply from %s: %w", tsaURL, err)
	}
	if err := v.checkImprint(root); err != nil {
		return nil, fmt.Errorf("timestamp: reply from %s: %w", tsaURL, err)
	}
	if v.ts.Nonce == nil || v.ts.Nonce.Cmp(nonce) != 0 {
		return nil, fmt.Errorf("timestamp: reply from %s: %w: nonce %v, sent %v", tsaURL, ErrNonce, v.ts.Nonce, nonce)
	}
	return reply, nil
}

// Verify checks, offline, a token as Request returns it
// (a DER TimeStampResp; a bare TimeStampToken is also accepted) against
// root, the 32-byte root fingerprint:
//
//   - it is a CMS SignedData of a TSTInfo with one signer, whose signature
//     verifies with the certificate the token carries, and whose ESS
//     signing-certificate attribute names that certificate;
//   - its message imprint is SHA-256 with the root as hashed message;
//   - the certificate is a time-stamping certificate: the extended key
//     usage extension is critical and holds id-kp-timeStamping alone, any
//     key usage allows signatures, genTime is within its validity, and a
//     tsa field that is a directory name is its subject;
//   - when roots is not nil, it chains to a certificate of roots through
//     the certificates the token carries, every one valid at now and
//     allowed to time-stamp. When roots is nil this is not checked and
//     the result's Chain is nil; callers must say so.
//
// Revocation (CRL, OCSP) is not checked. The errors wrap the
// Err* values; on a chain error the x509 error is wrapped too, so
// that x509.CertificateInvalidError{Reason: x509.Expired} can be told
// apart and the check repeated as at the token's time.
func Verify(token []byte, root []byte, roots *x509.CertPool, now time.Time) (*Info, error) {
	if len(root) != sha256.Size {
		return nil, fmt.Errorf("the root is %d bytes, want %d", len(root), sha256.Size)
	}
	tok, _, err := splitResponse(token)
	if err != nil {
		return nil, err
	}
	v, err := verifyToken(tok)
	if err != nil {
		return nil, err
	}
	if err := v.checkImprint(root); err != nil {
		return nil, err
	}
	if err := v.checkSigner(); err != nil {
		return nil, err
	}
	info := &Info{
		Time: v.ts.Time.UTC(), Accuracy: v.ts.Accuracy, TSA: v.tsaName, Serial: v.ts.SerialNumber,
		Policy: v.ts.Policy, Nonce: v.ts.Nonce, QCStatement: v.ts.Qualified, Signer: v.signer,
	}
	if roots == nil {
		return info, nil
	}
	inter := x509.NewCertPool()
	for _, c := range v.p7.Certificates {
		if c != v.signer {
			inter.AddCert(c)
		}
	}
	chains, err := v.signer.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}})
	if err != nil {
		return nil, fmt.Errorf("%w: %s as at %s: %w", ErrChain, subject(v.signer), now.UTC().Format(time.RFC3339), err)
	}
	info.Chain = chains[0]
	return info, nil
}

// splitResponse returns the TimeStampToken of b, a DER TimeStampResp
// (isResp) or a bare token. A response must have status granted.
func splitResponse(b []byte) (token []byte, isResp bool, err error) {
	var outer asn1.RawValue
	if rest, err := asn1.Unmarshal(b, &outer); err != nil || len(rest) > 0 || outer.Tag != asn1.TagSequence || !outer.IsCompound {
		return nil, false, fmt.Errorf("%w: not a DER time-stamp response or token", ErrMalformed)
	}
	var first asn1.RawValue
	if _, err := asn1.Unmarshal(outer.Bytes, &first); err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if first.Class == asn1.ClassUniversal && first.Tag == asn1.TagOID {
		return b, false, nil // ContentInfo: a bare token
	}
	var resp struct {
		Status struct {
			Status       int
			StatusString []string       `asn1:"optional,utf8"`
			FailInfo     asn1.BitString `asn1:"optional"`
			Extra        asn1.RawValue  `asn1:"optional"`
		}
		Token asn1.RawValue `asn1:"optional"`
		Extra asn1.RawValue `asn1:"optional"`
	}
	if rest, err := asn1.Unmarshal(b, &resp); err != nil || len(rest) > 0 || resp.Extra.FullBytes != nil || resp.Status.Extra.FullBytes != nil {
		return nil, true, fmt.Errorf("%w: not a DER TimeStampResp", ErrMalformed)
	}
	if st := resp.Status.Status; st != int(rfc3161.Granted) {
		msg := rfc3161.Status(st).String()
		if len(resp.Status.StatusString) > 0 {
			msg += ": " + strings.Join(resp.Status.StatusString, "; ")
		}
		var fails []string
		for i := 0; i < resp.Status.FailInfo.BitLength; i++ {
			if resp.Status.FailInfo.At(i) != 0 {
				fails = append(fails, rfc3161.FailureInfo(i).String())
			}
		}
		if len(fails) > 0 {
			msg += " (" + strings.Join(fails, ", ") + ")"
		}
		return nil, true, fmt.Errorf("%w: status %d, %s", ErrRefused, st, msg)
	}
	if len(resp.Token.FullBytes) == 0 {
		return nil, true, fmt.Errorf("%w: status granted, but no token", ErrMalformed)
	}
	return resp.Token.FullBytes, true, nil
}

// verified is a token whose signature holds.
type verified struct {
	p7      *pkcs7.PKCS7
	ts      *rfc3161.Timestamp
	signer  *x509.Certificate
	tsaName string
	tsaDir  []byte // the tsa field's directory name (DER), if it is one
}

// verifyToken checks a token's form and signature.
func verifyToken(tok []byte) (*verified, error) {
	env, err := parseEnvelope(tok)
	if err != nil {
		return nil, err
	}
	p7, err := pkcs7.Parse(tok)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(p7.Certificates) == 0 {
		return nil, fmt.Errorf("%w: the token carries no certificate (requested without certReq?)", ErrMalformed)
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		return nil, fmt.Errorf("%w: no certificate in the token matches its signer", ErrSignature)
	}
	if err := env.same(p7); err != nil {
		return nil, err
	}
	if err := p7.Verify(); err != nil {
		var dm *pkcs7.MessageDigestMismatchError
		if errors.As(err, &dm) {
			return nil, fmt.Errorf("%w: the TSTInfo's digest is not the signed message digest: the token's content was changed", ErrSignature)
		}
		return nil, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	// The signed content-type attribute binds the signature to a TSTInfo.
	var ct asn1.ObjectIdentifier
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeContentType, &ct); err != nil || !ct.Equal(oidTSTInfo) {
		return nil, fmt.Errorf("%w: the signed content-type attribute is not TSTInfo", ErrSignature)
	}
	if err := checkESS(p7, signer); err != nil {
		return nil, err
	}
	ts, err := rfc3161.Parse(tok)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	v := &verified{p7: p7, ts: ts, signer: signer, tsaName: subject(signer)}
	if err := v.readTSAName(); err != nil {
		return nil, err
	}
	return v, nil
}

// envelope holds the parts of a token that pkcs7 verifies, as they are in
// the token's bytes.
type envelope struct {
	content     []byte // the TSTInfo
	signedAttrs []byte // the signed attributes' contents
	sid         []byte // the signer's issuer and serial number
	signature   []byte
}

// parseEnvelope reads the CMS structure around the signature strictly
// (DER, no element left over, the fields the signature does not cover
// included): pkcs7.Parse is lenient, and a token whose bytes differ from
// what the TSA sent must not verify. It is a ContentInfo holding a version
// 3 SignedData (RFC 5652 section 5.1) of a TSTInfo with one version 1
// SignerInfo with signed attributes, whose digest algorithm is the only
// one listed, with NULL or absent parameters.
func parseEnvelope(tok []byte) (*envelope, error) {
	bad := func(what string) error { return fmt.Errorf("%w: %s", ErrMalformed, what) }
	// Each struct ends with an optional RawValue that catches any element
	// after the last one the struct names (encoding/asn1 ignores those).
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"tag:0"`
		Extra       asn1.RawValue `asn1:"optional"`
	}
	if rest, err := asn1.Unmarshal(tok, &ci); err != nil || len(rest) > 0 || ci.Extra.FullBytes != nil ||
		!ci.ContentType.Equal(oidSignedData) || !ci.Content.IsCompound {
		return nil, bad("not a CMS SignedData")
	}
	var sd struct {
		Version          int
		DigestAlgorithms []asn1.RawValue `asn1:"set"`
		Encap            struct {
			Type    asn1.ObjectIdentifier
			Content asn1.RawValue `asn1:"tag:0"`
			Extra   asn1.RawValue `asn1:"optional"`
		}
		Certificates asn1.RawValue   `asn1:"optional,tag:0"`
		CRLs         asn1.RawValue   `asn1:"optional,tag:1"`
		SignerInfos  []asn1.RawValue `asn1:"set"`
		Extra        asn1.RawValue   `asn1:"optional"`
	}
	if rest, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil || len(rest) > 0 || sd.Extra.FullBytes != nil {
		return nil, bad("malformed SignedData")
	}
	if !sd.Encap.Type.Equal(oidTSTInfo) {
		return nil, bad(fmt.Sprintf("signed content is %v, not a TSTInfo", sd.Encap.Type))
	}
	var content []byte
	if rest, err := asn1.Unmarshal(sd.Encap.Content.Bytes, &content); err != nil || len(rest) > 0 ||
		!sd.Encap.Content.IsCompound || sd.Encap.Extra.FullBytes != nil {
		return nil, bad("malformed encapsulated content")
	}
	if sd.Version != 3 {
		return nil, bad(fmt.Sprintf("SignedData version %d, want 3", sd.Version))
	}
	if len(sd.SignerInfos) != 1 {
		return nil, bad(fmt.Sprintf("%d signers, want 1", len(sd.SignerInfos)))
	}
	var si struct {
		Version         int
		SID             asn1.RawValue
		DigestAlgorithm pkix.AlgorithmIdentifier
		SignedAttrs     asn1.RawValue `asn1:"tag:0"`
		SignatureAlg    pkix.AlgorithmIdentifier
		Signature       []byte
		UnsignedAttrs   asn1.RawValue `asn1:"optional,tag:1"`
		Extra           asn1.RawValue `asn1:"optional"`
	}
	if rest, err := asn1.Unmarshal(sd.SignerInfos[0].FullBytes, &si); err != nil || len(rest) > 0 || si.Extra.FullBytes != nil {
		return nil, bad("malformed SignerInfo")
	}
	if si.Version != 1 {
		return nil, bad(fmt.Sprintf("SignerInfo version %d, want 1", si.Version))
	}
	if p := si.DigestAlgorithm.Parameters.FullBytes; len(p) > 0 && !bytes.Equal(p, asn1.NullBytes) {
		return nil, bad("digest algorithm parameters are not NULL")
	}
	if alg, err := asn1.Marshal(si.DigestAlgorithm); err != nil || len(sd.DigestAlgorithms) != 1 || !bytes.Equal(sd.DigestAlgorithms[0].FullBytes, alg) {
		return nil, bad("the digest algorithms listed are not the signer's")
	}
	return &envelope{content: content, signedAttrs: si.SignedAttrs.Bytes, sid: si.SID.FullBytes, signature: si.Signature}, nil
}

// same checks that what pkcs7 parsed, and will verify, is what the token
// holds: pkcs7 verifies the signature over the signed attributes as it
// encodes them again, and would ignore anything it did not read.
func (env *envelope) same(p7 *pkcs7.PKCS7) error {
	type attribute struct {
		Type  asn1.ObjectIdentifier
		Value asn1.RawValue `asn1:"set"`
	}
	s := p7.Signers[0]
	attrs := make([]attribute, len(s.AuthenticatedAttributes))
	for i, a := range s.AuthenticatedAttributes {
		attrs[i] = attribute{a.Type, a.Value}
	}
	// As pkcs7 encodes them to verify the signature: SEQUENCE { SET OF }.
	var seq, set asn1.RawValue
	enc, err := asn1.Marshal(struct {
		A []attribute `asn1:"set"`
	}{attrs})
	if err == nil {
		_, err = asn1.Unmarshal(enc, &seq)
	}
	if err == nil {
		_, err = asn1.Unmarshal(seq.Bytes, &set)
	}
	sid, serr := asn1.Marshal(struct {
		Issuer asn1.RawValue
		Serial *big.Int
	}{s.IssuerAndSerialNumber.IssuerName, s.IssuerAndSerialNumber.SerialNumber})
	switch {
	case !bytes.Equal(p7.Content, env.content):
		return fmt.Errorf("%w: malformed encapsulated content", ErrMalformed)
	case err != nil || !bytes.Equal(set.Bytes, env.signedAttrs):
		return fmt.Errorf("%w: malformed signed attributes", ErrMalformed)
	case serr != nil || !bytes.Equal(sid, env.sid):
		return fmt.Errorf("%w: malformed signer identifier", ErrMalformed)
	case !bytes.Equal(s.EncryptedDigest, env.signature):
		return fmt.Errorf("%w: malformed signature", ErrMalformed)
	}
	return nil
}

// checkESS checks the ESS signing-certificate attribute (RFC 3161 section
// 2.4.2, RFC 5816): its first certificate hash is that of signer, so that
// no other certificate for the same key can stand in for it.
func checkESS(p7 *pkcs7.PKCS7, signer *x509.Certificate) error {
	type essCertIDv2 struct {
		HashAlgorithm pkix.AlgorithmIdentifier `asn1:"optional"`
		CertHash      []byte
		IssuerSerial  asn1.RawValue `asn1:"optional"`
	}
	type essCertID struct {
		CertHash     []byte
		IssuerSerial asn1.RawValue `asn1:"optional"`
	}
	var v2 struct {
		Certs    []essCertIDv2
		Policies asn1.RawValue `asn1:"optional"`
	}
	var v1 struct {
		Certs    []essCertID
		Policies asn1.RawValue `asn1:"optional"`
	}
	var want, got []byte
	if err := p7.UnmarshalSignedAttribute(oidSigningCertificateV2, &v2); err == nil && len(v2.Certs) > 0 {
		alg := v2.Certs[0].HashAlgorithm.Algorithm
		if len(alg) > 0 && !alg.Equal(oidSHA256) {
			return fmt.Errorf("%w: ESS signing certificate hashed with %v; only SHA-256 is supported", ErrSignature, alg)
		}
		s := sha256.Sum256(signer.Raw)
		want, got = s[:], v2.Certs[0].CertHash
	} else if err := p7.UnmarshalSignedAttribute(oidSigningCertificate, &v1); err == nil && len(v1.Certs) > 0 {
		s := sha1.Sum(signer.Raw)
		want, got = s[:], v1.Certs[0].CertHash
	} else {
		return fmt.Errorf("%w: no ESS signing-certificate attribute", ErrSignature)
	}
	if subtle.ConstantTimeCompare(want, got) != 1 {
		return fmt.Errorf("%w: the ESS signing-certificate attribute names another certificate than %s", ErrSignature, subject(signer))
	}
	return nil
}

// readTSAName reads the TSTInfo's optional tsa field ([0] GeneralName),
// which the timestamp package does not expose.
func (v *verified) readTSAName() error {
	var info asn1.RawValue
	if _, err := asn1.Unmarshal(v.p7.Content, &info); err != nil {
		return fmt.Errorf("%w: TSTInfo: %v", ErrMalformed, err)
	}
	for rest := info.Bytes; len(rest) > 0; {
		var el asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &el); err != nil {
			return fmt.Errorf("%w: TSTInfo: %v", ErrMalformed, err)
		}
		if el.Class != asn1.ClassContextSpecific || el.Tag != 0 {
			continue
		}
		var gn asn1.RawValue
		if _, err := asn1.Unmarshal(el.Bytes, &gn); err != nil || gn.Class != asn1.ClassContextSpecific {
			return fmt.Errorf("%w: TSTInfo: malformed tsa name", ErrMalformed)
		}
		switch gn.Tag {
		case 4: // directoryName
			var rdn pkix.RDNSequence
			if rest, err := asn1.Unmarshal(gn.Bytes, &rdn); err != nil || len(rest) > 0 {
				return fmt.Errorf("%w: TSTInfo: malformed tsa name", ErrMalformed)
			}
			var n pkix.Name
			n.FillFromRDNSequence(&rdn)
			v.tsaName, v.tsaDir = n.String(), gn.Bytes
		case 1, 2, 6: // rfc822Name, dNSName, uniformResourceIdentifier
			v.tsaName = string(gn.Bytes)
		}
		return nil
	}
	return nil
}

// checkImprint checks that the token is for root.
func (v *verified) checkImprint(root []byte) error {
	if v.ts.HashAlgorithm != crypto.SHA256 {
		return fmt.Errorf("%w: imprint algorithm %v, want SHA-256", ErrImprint, v.ts.HashAlgorithm)
	}
	if !bytes.Equal(v.ts.HashedMessage, root) {
		return fmt.Errorf("%w: the token is for %x, the root is %x", ErrImprint, v.ts.HashedMessage, root)
	}
	return nil
}

// checkSigner checks that the signer's certificate is one a TSA may sign
// tokens with (RFC 3161 section 2.3), for this token.
func (v *verified) checkSigner() error {
	c := v.signer
	critical := false
	for _, e := range c.Extensions {
		if e.Id.Equal(oidExtKeyUsage) {
			critical = e.Critical
		}
	}
	switch {
	case len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0:
		return fmt.Errorf("%w: %s has no extended key usage; a TSA certificate must have id-kp-timeStamping", ErrCertificate, subject(c))
	case len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || len(c.UnknownExtKeyUsage) > 0:
		return fmt.Errorf("%w: %s: the extended key usage must be id-kp-timeStamping alone", ErrCertificate, subject(c))
	case !critical:
		return fmt.Errorf("%w: %s: the extended key usage id-kp-timeStamping is not marked critical", ErrCertificate, subject(c))
	case c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0:
		return fmt.Errorf("%w: %s: its key usage does not allow signatures", ErrCertificate, subject(c))
	case v.ts.Time.Before(c.NotBefore) || v.ts.Time.After(c.NotAfter):
		return fmt.Errorf("%w: the token's time %s is outside %s's validity (%s to %s)", ErrCertificate,
			v.ts.Time.UTC().Format(time.RFC3339), subject(c), c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
	}
	if v.tsaDir != nil && !bytes.Equal(v.tsaDir, c.RawSubject) && v.tsaName != subject(c) {
		return fmt.Errorf("%w: the token names the TSA %q, but it is signed by %q", ErrCertificate, v.tsaName, subject(c))
	}
	return nil
}

func subject(c *x509.Certificate) string {
	if s := c.Subject.String(); s != "" {
		return s
	}
	return "certificate serial " + c.SerialNumber.String()
}

// File is the name of the n-th token file (from 1) in an output
// folder: timestamp-<n>.tsr.
func File(n int) string { return "timestamp-" + strconv.Itoa(n) + ".tsr" }

// CAFile is the name of the CA bundle trusted for the n-th token:
// timestamp-<n>.ca.pem.
func CAFile(n int) string { return "timestamp-" + strconv.Itoa(n) + ".ca.pem" }

// fileNumber returns n for a name timestamp-<n><suffix>, or 0.
func fileNumber(name, suffix string) int {
	s, ok := strings.CutPrefix(name, "timestamp-")
	if !ok {
		return 0
	}
	if s, ok = strings.CutSuffix(s, suffix); !ok {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || strconv.Itoa(n) != s {
		return 0
	}
	return n
}

// List returns the numbers of the token files in dir, in order.
func List(dir string) ([]int, error) { return ListFS(fileio.DirFS(dir)) }

// ListFS is List on the output folder at the root of fsys.
func ListFS(fsys fs.FS) ([]int, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var ns []int
	for _, e := range entries {
		if n := fileNumber(e.Name(), ".tsr"); n > 0 {
			ns = append(ns, n)
		}
	}
	sort.Ints(ns)
	return ns, nil
}

// Store writes token (as Request returned it) to dir as
// the next token file, and caPEM, when not empty, as its CA file. n is one
// more than any timestamp-<n> file in dir. Each file is written as
// NAME.partial, synced, and renamed; an existing file is never replaced.
func Store(dir string, token, caPEM []byte) (n int, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		for _, suf := range []string{".tsr", ".ca.pem", ".tsr.partial", ".ca.pem.partial"} {
			n = max(n, fileNumber(e.Name(), suf))
		}
	}
	n++
	if len(caPEM) > 0 {
		if err := writeNewFile(filepath.Join(dir, CAFile(n)), caPEM); err != nil {
			return 0, err
		}
	}
	if err := writeNewFile(filepath.Join(dir, File(n)), token); err != nil {
		return 0, err
	}
	return n, nil
}

func writeNewFile(path string, b []byte) error {
	return fileio.WriteNewFile(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}, 0o644)
}
