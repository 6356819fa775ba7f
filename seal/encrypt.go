package seal

// Encrypted bags. With Options.Recipients, the archive is written through
// age (age-encryption.org/v1) as evidence.tar.zst.age: the plaintext is,
// byte for byte, the archive an unencrypted bag would hold (the same
// frames, the same tar, the same offsets in the journal), so that after
// "age -d" every check of docs/format.md applies unchanged. The root, the
// signature and the journal cover the plaintext; evidence.tar.zst.sha256
// keeps the plaintext archive's SHA-256, and evidence.tar.zst.age.sha256
// the ciphertext's, which the journal's seal line signs too. All the
// cryptography is age's.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	sha256 "github.com/minio/sha256-simd"
)

// ErrEncrypted is returned when an encrypted archive is to be read and no
// identity was given.
var ErrEncrypted = errors.New("the archive is encrypted (" + EncryptedArchiveFile + "): an age identity of one of its recipients is needed")

// ErrWrongIdentity is returned by VerifyWith, OpenArchive and
// NewDecryptReader when none of the identities given is a recipient of the
// archive.
var ErrWrongIdentity = errors.New("no identity given matches a recipient of the archive")

// DecryptError is a failure to decrypt and authenticate the archive: the
// ciphertext was changed, or cut short. The plaintext before Offset was
// authenticated.
type DecryptError struct {
	Offset int64 // plaintext bytes authenticated before the failure
	Err    error
}

func (e *DecryptError) Error() string {
	return fmt.Sprintf("decrypt %s: %v (after %d bytes of plaintext; the ciphertext was changed or cut short)",
		EncryptedArchiveFile, e.Err, e.Offset)
}
func (e *DecryptError) Unwrap() error { return e.Err }

// ParseRecipient parses one age recipient: "age1..." (X25519), or
// "age1pq1..." (hybrid post-quantum, which age 1.3 and later decrypt).
func ParseRecipient(s string) (age.Recipient, error) {
	// The value is not quoted in errors: it may be a secret key given by
	// mistake.
	switch s = strings.TrimSpace(s); {
	case strings.HasPrefix(s, "age1pq1"):
		return age.ParseHybridRecipient(s)
	case strings.HasPrefix(s, "age1"):
		return age.ParseX25519Recipient(s)
	}
	return nil, errors.New("not an age recipient (age1...)")
}

// ReadRecipientsFile reads a file of age recipients, one per line; empty
// lines and lines that start with "#" are skipped.
func ReadRecipientsFile(path string) ([]age.Recipient, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rs, err := age.ParseRecipients(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rs, nil
}

// ReadIdentities reads an age identity file, as age-keygen writes it.
func ReadIdentities(path string) ([]age.Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ids, nil
}

// encryptor sits between the framer's countWriter, which counts and
// hashes the plaintext, and the archive file. Its own countWriter hashes
// the ciphertext. age writes the ciphertext in chunks of 64 KiB of
// plaintext, and holds the last one until the next is full or close: so
// up to 64 KiB of written plaintext is in memory only.
type encryptor struct {
	age    io.WriteCloser
	cipher *countWriter
	header *bytes.Buffer // the header, until attach
}

// newEncryptor checks the recipients and prepares the age header, before
// any file exists; attach then names the file.
func newEncryptor(recipients []age.Recipient) (*encryptor, error) {
	e := &encryptor{header: &bytes.Buffer{}}
	e.cipher = &countWriter{w: e.header, h: sha256.New()}
	wc, err := age.Encrypt(e.cipher, recipients...)
	if err != nil {
		return nil, fmt.Errorf("age recipients: %w", err)
	}
	e.age = wc
	return e, nil
}

// attach writes the header to w, and everything after it.
func (e *encryptor) attach(w io.Writer) error {
	if _, err := w.Write(e.header.Bytes()); err != nil {
		return err
	}
	e.cipher.w, e.header = w, nil
	return nil
}

func (e *encryptor) Write(p []byte) (int, error) { return e.age.Write(p) }

// close encrypts and writes the last chunk.
func (e *encryptor) close() error { return e.age.Close() }

// sum is the hex SHA-256 of the ciphertext written.
func (e *encryptor) sum() string { return fmt.Sprintf("%x", e.cipher.h.Sum(nil)) }

// decryptReader counts the plaintext age gives and wraps its errors.
type decryptReader struct {
	r io.Reader
	n int64
}

func (d *decryptReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.n += int64(n)
	if err != nil && err != io.EOF {
		var de *DecryptError
		if !errors.As(err, &de) {
			err = &DecryptError{Offset: d.n, Err: err}
		}
	}
	return n, err
}

// NewDecryptReader returns the plaintext archive of the age file r, each
// chunk authenticated before it is returned. A failure to read r's header
// or to authenticate a chunk is a *DecryptError; identities that match no
// recipient give ErrWrongIdentity.
func NewDecryptReader(r io.Reader, identities ...age.Identity) (io.Reader, error) {
	if len(identities) == 0 {
		return nil, ErrEncrypted
	}
	pr, err := age.Decrypt(r, identities...)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, fmt.Errorf("%w: %v", ErrWrongIdentity, err)
		}
		return nil, &DecryptError{Err: err}
	}
	return &decryptReader{r: pr}, nil
}

// OpenArchive opens the archive of bag, an output folder or an archive
// file, and returns its plaintext: through age, with identities, when bag
// names a ".age" file or a folder that holds evidence.tar.zst.age (and,
// without identities, no evidence.tar.zst decrypted beside it). Without
// identities, an encrypted archive gives ErrEncrypted.
func OpenArchive(bag string, identities []age.Identity) (io.ReadCloser, error) {
	path, encrypted := bag, strings.HasSuffix(bag, ".age")
	if fi, err := os.Stat(bag); err == nil && fi.IsDir() {
		path = filepath.Join(bag, ArchiveFile)
		_, perr := os.Lstat(path)
		if _, err := os.Lstat(filepath.Join(bag, EncryptedArchiveFile)); err == nil && (len(identities) > 0 || perr != nil) {
			path, encrypted = filepath.Join(bag, EncryptedArchiveFile), true
		}
	}
	if encrypted && len(identities) == 0 {
		return nil, ErrEncrypted
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if !encrypted {
		return f, nil
	}
	r, err := NewDecryptReader(f, identities...)
	if err != nil {
		f.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{r, f}, nil
}
