package tpm

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// ErrNoTPM means the host has no TPM 2.0 that scelle can reach. Callers
// record it (a bag without TPM evidence is still a bag); it is not a
// failure.
var ErrNoTPM = errors.New("no TPM")

// DefaultDevice is the Linux TPM resource manager. Open never uses the
// raw /dev/tpm0 unless asked: the resource manager lets scelle share the
// TPM with the host's own users and flushes what scelle leaves behind.
const DefaultDevice = "/dev/tpmrm0"

// TPM is an open TPM.
type TPM struct {
	t      transport.TPMCloser
	device string
	// akTemplates are tried in order; nil means ECC P-256, then RSA.
	akTemplates []tpm2.TPMTPublic
}

// Open opens the TPM at path: "" for DefaultDevice, a device path, or
// "swtpm:HOST:PORT" (also "tcp:HOST:PORT") for the command socket of a
// swtpm started with --server type=tcp. When the host has no TPM the
// error wraps ErrNoTPM.
func Open(path string) (*TPM, error) {
	if addr, ok := cutAnyPrefix(path, "swtpm:", "tcp:"); ok {
		t, err := openSwtpm(addr)
		if err != nil {
			return nil, err
		}
		return &TPM{t: t, device: "swtpm:" + addr}, nil
	}
	if path == "" {
		path = DefaultDevice
	}
	t, err := openDevice(path)
	if err != nil {
		return nil, err
	}
	return &TPM{t: t, device: path}, nil
}

func cutAnyPrefix(s string, prefixes ...string) (string, bool) {
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return rest, true
		}
	}
	return "", false
}

// Device says where the TPM was reached.
func (t *TPM) Device() string { return t.device }

// Close releases the TPM.
func (t *TPM) Close() error { return t.t.Close() }

// akTemplateECC is the attestation key: a restricted ECDSA P-256 signing
// key with SHA-256, generated and kept in the TPM, with an empty
// authorization that is not subject to dictionary-attack lockout.
// Changing it changes the AK of every TPM: it is part of docs/tpm.md.
var akTemplateECC = tpm2.TPMTPublic{
	Type:    tpm2.TPMAlgECC,
	NameAlg: tpm2.TPMAlgSHA256,
	ObjectAttributes: tpm2.TPMAObject{
		FixedTPM: true, FixedParent: true, SensitiveDataOrigin: true,
		UserWithAuth: true, NoDA: true, Restricted: true, SignEncrypt: true,
	},
	Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &tpm2.TPMSECCParms{
		Symmetric: tpm2.TPMTSymDefObject{Algorithm: tpm2.TPMAlgNull},
		Scheme: tpm2.TPMTECCScheme{
			Scheme:  tpm2.TPMAlgECDSA,
			Details: tpm2.NewTPMUAsymScheme(tpm2.TPMAlgECDSA, &tpm2.TPMSSigSchemeECDSA{HashAlg: tpm2.TPMAlgSHA256}),
		},
		CurveID: tpm2.TPMECCNistP256,
		KDF:     tpm2.TPMTKDFScheme{Scheme: tpm2.TPMAlgNull},
	}),
	Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, &tpm2.TPMSECCPoint{}),
}

// akTemplateRSA is the attestation key for a TPM without ECC P-256:
// RSA-2048, RSASSA-PKCS1-v1_5 with SHA-256.
var akTemplateRSA = tpm2.TPMTPublic{
	Type:    tpm2.TPMAlgRSA,
	NameAlg: tpm2.TPMAlgSHA256,
	ObjectAttributes: tpm2.TPMAObject{
		FixedTPM: true, FixedParent: true, SensitiveDataOrigin: true,
		UserWithAuth: true, NoDA: true, Restricted: true, SignEncrypt: true,
	},
	Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgRSA, &tpm2.TPMSRSAParms{
		Symmetric: tpm2.TPMTSymDefObject{Algorithm: tpm2.TPMAlgNull},
		Scheme: tpm2.TPMTRSAScheme{
			Scheme:  tpm2.TPMAlgRSASSA,
			Details: tpm2.NewTPMUAsymScheme(tpm2.TPMAlgRSASSA, &tpm2.TPMSSigSchemeRSASSA{HashAlg: tpm2.TPMAlgSHA256}),
		},
		KeyBits: 2048,
	}),
	Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgRSA, &tpm2.TPM2BPublicKeyRSA{}),
}

// NV indices of EK certificates (TCG EK Credential Profile 2.0, 2.2.1.4).
const (
	nvEKCertRSA = 0x01c00002
	nvEKCertECC = 0x01c0000a
)

// primary is a transient primary key; flush it after use.
type primary struct {
	handle tpm2.TPMHandle
	name   tpm2.TPM2BName
	public []byte // TPMT_PUBLIC
}

func (t *TPM) createPrimary(template tpm2.TPMTPublic) (*primary, error) {
	rsp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHEndorsement, Auth: tpm2.PasswordAuth(nil)},
		InPublic:      tpm2.New2B(template),
	}.Execute(t.t)
	if err != nil {
		return nil, err
	}
	return &primary{handle: rsp.ObjectHandle, name: rsp.Name, public: rsp.OutPublic.Bytes()}, nil
}

func (t *TPM) flush(h tpm2.TPMHandle) {
	tpm2.FlushContext{FlushHandle: h}.Execute(t.t) //nolint:errcheck // best effort; the resource manager flushes on close too
}

// Quote makes a quote of the PCR bank (SHA-256 where allocated) and of
// the TPM clock over nonce (at most 64 bytes), with a transient
// attestation key that it flushes before returning. The PCRs are read
// again until they are the ones quoted, so that a PCR extended meanwhile
// (IMA extends PCR 10 often) does not leave evidence that fails to
// verify.
func (t *TPM) Quote(nonce []byte) (*Evidence, error) {
	if len(nonce) > maxNonce {
		return nil, fmt.Errorf("nonce of %d bytes, at most %d", len(nonce), maxNonce)
	}
	ev := &Evidence{Present: true, Device: t.device, Nonce: bytes.Clone(nonce), Manufacturer: t.manufacturer()}
	bank, indices, err := t.pcrBank()
	if err != nil {
		return nil, err
	}
	ev.PCRBank = bank.name

	templates := t.akTemplates
	if templates == nil {
		templates = []tpm2.TPMTPublic{akTemplateECC, akTemplateRSA}
	}
	var ak *primary
	var errs []error
	for _, tmpl := range templates {
		if ak, err = t.createPrimary(tmpl); err == nil {
			break
		}
		errs = append(errs, err)
	}
	if ak == nil {
		return nil, fmt.Errorf("create attestation key: %w", errors.Join(errs...))
	}
	defer t.flush(ak.handle)
	ev.AKPublic = ak.public

	sel := tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{
		Hash: bank.alg, PCRSelect: bitmap(indices)}}}
	const attempts = 8
	for i := 0; ; i++ {
		values, err := t.readPCRs(bank.alg, indices)
		if err != nil {
			return nil, err
		}
		ev.HostTime = time.Now().UTC()
		rsp, err := tpm2.Quote{
			SignHandle:     tpm2.AuthHandle{Handle: ak.handle, Name: ak.name, Auth: tpm2.PasswordAuth(nil)},
			QualifyingData: tpm2.TPM2BData{Buffer: nonce},
			InScheme:       tpm2.TPMTSigScheme{Scheme: tpm2.TPMAlgNull},
			PCRSelect:      sel,
		}.Execute(t.t)
		if err != nil {
			return nil, fmt.Errorf("quote: %w", err)
		}
		ev.Quoted = rsp.Quoted.Bytes()
		ev.Signature = tpm2.Marshal(rsp.Signature)
		a, err := rsp.Quoted.Contents()
		if err != nil {
			return nil, fmt.Errorf("quote: %w", err)
		}
		info, err := a.Attested.Quote()
		if err != nil {
			return nil, fmt.Errorf("quote: %w", err)
		}
		h := sha256.New()
		ev.PCRs = ev.PCRs[:0]
		for j, idx := range indices {
			h.Write(values[j])
			ev.PCRs = append(ev.PCRs, PCR{Index: idx, Value: hex.EncodeToString(values[j])})
		}
		if bytes.Equal(h.Sum(nil), info.PCRDigest.Buffer) {
			c := clockOf(a)
			ev.Clock, ev.FirmwareVersion = &c, firmware(a)
			break
		}
		if i+1 == attempts {
			return nil, fmt.Errorf("quote: the PCRs changed during each of %d attempts", attempts)
		}
	}

	pub, err := strict[tpm2.TPMTPublic](ev.AKPublic)
	if err != nil {
		return nil, fmt.Errorf("attestation key: %w", err)
	}
	akPub, err := publicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("attestation key: %w", err)
	}
	if ev.AKPublicPEM, err = PublicKeyPEM(akPub); err != nil {
		return nil, err
	}
	sig, err := strict[tpm2.TPMTSignature](ev.Signature)
	if err != nil {
		return nil, fmt.Errorf("quote signature: %w", err)
	}
	if ev.SignatureAlg, ev.SignatureDER, err = checkSignature(akPub, sig, ev.Quoted); err != nil {
		return nil, err
	}
	if err := t.endorsementKey(ev); err != nil {
		return nil, err
	}
	return ev, nil
}

type bankInfo struct {
	name string
	alg  tpm2.TPMAlgID
}

// pcrBank picks the allocated bank to quote, SHA-256 first, and its PCRs.
func (t *TPM) pcrBank() (bankInfo, []int, error) {
	rsp, err := tpm2.GetCapability{Capability: tpm2.TPMCapPCRs, PropertyCount: 1}.Execute(t.t)
	if err != nil {
		return bankInfo{}, nil, fmt.Errorf("read PCR banks: %w", err)
	}
	sels, err := rsp.CapabilityData.Data.AssignedPCR()
	if err != nil {
		return bankInfo{}, nil, fmt.Errorf("read PCR banks: %w", err)
	}
	for _, b := range banks {
		for _, s := range sels.PCRSelections {
			if s.Hash == b.alg {
				if idx := selected(s.PCRSelect); len(idx) > 0 {
					return bankInfo{b.name, b.alg}, idx, nil
				}
			}
		}
	}
	return bankInfo{}, nil, errors.New("no PCR bank allocated")
}

func bitmap(indices []int) []byte {
	u := make([]uint, len(indices))
	for i, v := range indices {
		u[i] = uint(v)
	}
	return tpm2.PCClientCompatible.PCRs(u...)
}

// readPCRs reads the PCRs of a bank, in the order of indices; a TPM
// returns at most 8 per command.
func (t *TPM) readPCRs(alg tpm2.TPMAlgID, indices []int) ([][]byte, error) {
	got := map[int][]byte{}
	remaining := indices
	for len(remaining) > 0 {
		rsp, err := tpm2.PCRRead{PCRSelectionIn: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{
			Hash: alg, PCRSelect: bitmap(remaining)}}}}.Execute(t.t)
		if err != nil {
			return nil, fmt.Errorf("read PCRs: %w", err)
		}
		var read []int
		for _, s := range rsp.PCRSelectionOut.PCRSelections {
			if s.Hash == alg {
				read = append(read, selected(s.PCRSelect)...)
			}
		}
		if len(read) == 0 || len(read) != len(rsp.PCRValues.Digests) {
			return nil, fmt.Errorf("read PCRs: the TPM returned %d values for %d PCRs", len(rsp.PCRValues.Digests), len(read))
		}
		for i, idx := range read {
			got[idx] = rsp.PCRValues.Digests[i].Buffer
		}
		var next []int
		for _, idx := range remaining {
			if _, ok := got[idx]; !ok {
				next = append(next, idx)
			}
		}
		if len(next) == len(remaining) {
			return nil, errors.New("read PCRs: no progress")
		}
		remaining = next
	}
	out := make([][]byte, len(indices))
	for i, idx := range indices {
		out[i] = got[idx]
	}
	return out, nil
}

// manufacturer reads TPM_PT_MANUFACTURER as its four characters.
func (t *TPM) manufacturer() string {
	v, err := t.property(tpm2.TPMPTManufacturer)
	if err != nil {
		return ""
	}
	b := binary.BigEndian.AppendUint32(nil, v)
	return strings.TrimRight(string(bytes.TrimRight(b, "\x00")), " ")
}

func (t *TPM) property(p tpm2.TPMPT) (uint32, error) {
	rsp, err := tpm2.GetCapability{Capability: tpm2.TPMCapTPMProperties, Property: uint32(p), PropertyCount: 1}.Execute(t.t)
	if err != nil {
		return 0, err
	}
	props, err := rsp.CapabilityData.Data.TPMProperties()
	if err != nil {
		return 0, err
	}
	if len(props.TPMProperty) == 0 || props.TPMProperty[0].Property != p {
		return 0, fmt.Errorf("property %#x not reported", uint32(p))
	}
	return props.TPMProperty[0].Value, nil
}

// endorsementKey fills the EK fields: from the EK certificate in NV when
// the TPM holds one Go can parse, else from a primary key made from the
// TCG's ECC P-256 EK template (and flushed).
func (t *TPM) endorsementKey(ev *Evidence) error {
	var certErr error
	for _, idx := range []uint32{nvEKCertRSA, nvEKCertECC} {
		der, err := t.readNV(idx)
		if err != nil {
			continue // absent, or not readable without an owner password
		}
		cert, err := ParseEKCertificate(der)
		if err != nil {
			ev.EKCertificate = der
			certErr = fmt.Errorf("certificate at %s unreadable: %v", hexHandle(idx), err)
			continue
		}
		ev.EKCertificate = der
		ev.EKSource = "nv:" + hexHandle(idx)
		return ev.setEK(cert.PublicKey)
	}
	ek, err := t.createPrimary(tpm2.ECCEKTemplate)
	if err != nil {
		return fmt.Errorf("read the endorsement key: %w", err)
	}
	defer t.flush(ek.handle)
	pub, err := strict[tpm2.TPMTPublic](ek.public)
	if err != nil {
		return fmt.Errorf("endorsement key: %w", err)
	}
	k, err := publicKey(pub)
	if err != nil {
		return fmt.Errorf("endorsement key: %w", err)
	}
	ev.EKSource = "template:ecc-p256"
	if certErr != nil {
		ev.EKSource += " (" + certErr.Error() + ")"
	}
	return ev.setEK(k)
}

func (ev *Evidence) setEK(pub any) error {
	var err error
	if ev.EKPublicPEM, err = PublicKeyPEM(pub); err != nil {
		return fmt.Errorf("endorsement key: %w", err)
	}
	ev.EKFingerprint, err = Fingerprint(pub)
	return err
}

// readNV reads a whole NV index with its own (empty) authorization, in
// chunks the TPM accepts.
func (t *TPM) readNV(idx uint32) ([]byte, error) {
	h := tpm2.TPMHandle(idx)
	pub, err := tpm2.NVReadPublic{NVIndex: h}.Execute(t.t)
	if err != nil {
		return nil, err
	}
	nv, err := pub.NVPublic.Contents()
	if err != nil {
		return nil, err
	}
	chunk := uint32(512)
	if v, err := t.property(tpm2.TPMPTNVBufferMax); err == nil && v > 0 && v < 4096 {
		chunk = v
	}
	out := make([]byte, 0, nv.DataSize)
	for off := uint32(0); off < uint32(nv.DataSize); {
		n := min(chunk, uint32(nv.DataSize)-off)
		rsp, err := tpm2.NVRead{
			AuthHandle: tpm2.AuthHandle{Handle: h, Name: pub.NVName, Auth: tpm2.PasswordAuth(nil)},
			NVIndex:    tpm2.NamedHandle{Handle: h, Name: pub.NVName},
			Size:       uint16(n),
			Offset:     uint16(off),
		}.Execute(t.t)
		if err != nil {
			return nil, err
		}
		if len(rsp.Data.Buffer) == 0 {
			return nil, errors.New("empty NV read")
		}
		out = append(out, rsp.Data.Buffer...)
		off += uint32(len(rsp.Data.Buffer))
	}
	return out, nil
}
