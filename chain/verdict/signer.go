package verdict

import (
	"crypto/ed25519"
	"encoding/pem"
	"fmt"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/internal/fileio"
	"github.com/scelle/scelle/seal"
)

// TrustedKey is a key whose custody events a Verdict names as signed by
// a known holder.
type TrustedKey struct {
	Source string // the file it was read from
	Key    ed25519.PublicKey
}

// ReadTrustedKey reads an Ed25519 key as scelle key new writes it: the
// public key (PKIX PEM, FILE.pub.pem) or the private key (PKCS #8 PEM),
// whose public half it keeps.
func ReadTrustedKey(path string) (TrustedKey, error) {
	k := TrustedKey{Source: path}
	b, err := fileio.ReadSmall(path, 64<<10)
	if err != nil {
		return k, err
	}
	blk, _ := pem.Decode(b)
	switch {
	case blk == nil:
		return k, fmt.Errorf("%s: no PEM block", path)
	case blk.Type == "PUBLIC KEY":
		if k.Key, err = seal.ParsePublicKeyPEM(b); err != nil {
			return k, fmt.Errorf("%s: %w", path, err)
		}
	case blk.Type == "PRIVATE KEY":
		priv, err := seal.ReadPrivateKey(path)
		if err != nil {
			return k, err
		}
		k.Key = priv.Public().(ed25519.PublicKey)
	default:
		return k, fmt.Errorf("%s: a PEM %q block, not a PUBLIC KEY or PRIVATE KEY", path, blk.Type)
	}
	return k, nil
}

// SignerKind says whose key signed a custody line.
type SignerKind string

// Signer kinds.
const (
	SignerBag     SignerKind = "bag"     // the bag's key
	SignerTrusted SignerKind = "trusted" // a key of Options.TrustedKeys
	SignerUnknown SignerKind = "unknown" // neither: anyone can make a key and sign a line
)

// Signer names the signer of one custody line that holds.
type Signer struct {
	Line           int        `json:"line"`
	Event          string     `json:"event"`
	KeyFingerprint string     `json:"key_fingerprint"`
	Kind           SignerKind `json:"signer"`
	// Source is the file the key was read from: the bag's (root.pub.pem,
	// or journal.jsonl) or the trusted key's. Empty for an unknown key.
	Source string `json:"source,omitempty"`
}

// signers names the signer of each custody line that holds.
func signers(c *chain.CustodyCheck, trusted []TrustedKey) []Signer {
	if c == nil {
		return nil
	}
	known := map[string]string{}
	for _, k := range trusted {
		fp := seal.KeyFingerprint(k.Key)
		if _, ok := known[fp]; !ok {
			known[fp] = k.Source
		}
	}
	var out []Signer
	for i := range c.Entries {
		e := &c.Entries[i]
		s := Signer{Line: i + 1, Event: e.Event, KeyFingerprint: e.KeyFingerprint, Kind: SignerUnknown}
		if c.BagKey(e) {
			s.Kind, s.Source = SignerBag, c.Bag.KeySource
		} else if src, ok := known[e.KeyFingerprint]; ok {
			s.Kind, s.Source = SignerTrusted, src
		}
		out = append(out, s)
	}
	return out
}
