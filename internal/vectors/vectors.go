// Package vectors finds the frozen format vectors: sealed bags of format
// version 1, made once by scelle and committed under testdata/bags/v1 at
// the top of the module, with the values every later version of scelle
// must find in them (EXPECTED.json). Tests verify them; fuzz targets are
// seeded with their files.
//
// The vectors are frozen: no test writes them. Making them again
// (go run ./internal/vectors/gen) is a change of the bag format, never the
// fix for a test that fails on them.
package vectors

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Folder is the vectors' folder, relative to the module root.
const Folder = "testdata/bags/v1"

// ExpectedFile is the file of Folder that holds the expected values.
const ExpectedFile = "EXPECTED.json"

// Format is the value of Expected.Format for this version of the vectors.
const Format = "scelle-vectors/1"

// Expected is what EXPECTED.json records.
type Expected struct {
	Format string `json:"format"`
	Note   string `json:"note"`
	// Made says how and from which revision the vectors were made.
	Made string `json:"made"`
	Bags []Bag  `json:"bags"`
}

// Bag is one frozen bag and what verifying it must give.
type Bag struct {
	// Dir is the bag's output folder, relative to Folder, as scelle
	// collect named it.
	Dir string `json:"dir"`
	// Encrypted: the archive is evidence.tar.zst.age.
	Encrypted bool `json:"encrypted"`
	// Identity is the age identity file that decrypts the archive,
	// relative to Folder.
	Identity string `json:"identity,omitempty"`
	// Root is the root fingerprint (hex SHA-256 of the tag manifest).
	Root string `json:"root"`
	// KeyFingerprint is the signing key's fingerprint (hex SHA-256 of its
	// PKIX DER).
	KeyFingerprint string `json:"key_fingerprint"`
	// ArchiveSHA256 is the SHA-256 of the plaintext archive,
	// evidence.tar.zst; ArchiveAgeSHA256 that of the ciphertext,
	// evidence.tar.zst.age, for an encrypted bag.
	ArchiveSHA256    string `json:"archive_sha256"`
	ArchiveAgeSHA256 string `json:"archive_age_sha256,omitempty"`
	// Items is the number of payload items the verification proves.
	Items int `json:"items"`
	// Verdict is the verdict of scelle verify without an identity, and
	// Code its exit code; VerdictWithIdentity that with Identity.
	Verdict             string `json:"verdict"`
	Code                int    `json:"code"`
	VerdictWithIdentity string `json:"verdict_with_identity,omitempty"`
	// CustodyEvents is the number of events of custody.jsonl.
	CustodyEvents int `json:"custody_events"`
	// Timestamps is the number of RFC 3161 tokens beside the bag
	// (timestamp-<n>.tsr).
	Timestamps int `json:"timestamps"`
	// TPM: tpm.json holds TPM quotes at start and at sealing.
	TPM bool `json:"tpm"`
}

// Dir returns the absolute path of the vectors' folder: Folder under the
// module root, the first folder holding go.mod from the working directory
// up.
func Dir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, filepath.FromSlash(Folder)), nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", fmt.Errorf("no go.mod above %s: not in the scelle module", wd)
		}
		d = up
	}
}

// Load reads the vectors' folder and its EXPECTED.json.
func Load() (dir string, exp *Expected, err error) {
	if dir, err = Dir(); err != nil {
		return "", nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, ExpectedFile))
	if err != nil {
		return "", nil, err
	}
	exp = new(Expected)
	if err := json.Unmarshal(b, exp); err != nil {
		return "", nil, fmt.Errorf("%s: %w", ExpectedFile, err)
	}
	if exp.Format != Format {
		return "", nil, fmt.Errorf("%s: format %q, want %q", ExpectedFile, exp.Format, Format)
	}
	if len(exp.Bags) == 0 {
		return "", nil, errors.New(ExpectedFile + ": no bags")
	}
	return dir, exp, nil
}

// Files returns the bytes of the file name (e.g. "journal.jsonl") of each
// frozen bag that has one, to seed a fuzz target. It fails when none has
// it.
func Files(name string) ([][]byte, error) {
	dir, exp, err := Load()
	if err != nil {
		return nil, err
	}
	var files [][]byte
	for _, bag := range exp.Bags {
		b, err := os.ReadFile(filepath.Join(dir, bag.Dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		files = append(files, b)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no frozen bag in %s has %s", dir, name)
	}
	return files, nil
}
