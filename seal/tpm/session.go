package tpm

import (
	"encoding/json"
	"fmt"
)

// Session is a collection's TPM evidence from its start to its seal: the
// few calls a collector needs. It is not safe for concurrent use.
type Session struct {
	path string
	tpm  *TPM
	// Start is the start evidence; never nil after Begin.
	Start *Evidence
	// Err is why Start holds no quote, nil when it does. It wraps ErrNoTPM
	// when the host has no TPM: not worth a warning.
	Err error
	// End and EndErr are the same for the quote over the root, set by
	// Seal.
	End    *Evidence
	EndErr error
}

// Begin opens the TPM at path (see Open) and quotes it with
// StartNonce(collectionID, keyFingerprint). It never fails: without a
// TPM, or when the quote fails, Start records why and Err says it.
func Begin(path, collectionID, keyFingerprint string) *Session {
	s := &Session{path: path}
	t, err := Open(path)
	if err != nil {
		s.Start, s.Err = Absent(err), err
		return s
	}
	s.tpm = t
	ev, err := t.Quote(StartNonce(collectionID, keyFingerprint))
	if err != nil {
		err = fmt.Errorf("TPM quote at the start: %w", err)
		s.Start, s.Err = Absent(err), err
		return s
	}
	s.Start = ev
	return s
}

// StartJSON is the start evidence as the record's extra[RecordKey].
func (s *Session) StartJSON() json.RawMessage {
	b, err := json.Marshal(s.Start)
	if err != nil { // cannot happen: Evidence is plain data
		b, _ = json.Marshal(Absent(err))
	}
	return b
}

// Seal quotes the TPM over the root of the bag sealed in dir (End,
// EndErr), writes tpm.json there (WriteBeside) and closes the TPM. Its
// error is only for a tpm.json that could not be written: a missing TPM
// or a failed quote is recorded, and EndErr says it (wrapping ErrNoTPM
// when there is no TPM).
func (s *Session) Seal(dir, root string) error {
	s.End, s.EndErr = s.quoteEnd(root)
	if s.EndErr != nil {
		s.End = Absent(s.EndErr)
	}
	s.Close()
	return WriteBeside(dir, s.Start, s.End, root)
}

func (s *Session) quoteEnd(root string) (*Evidence, error) {
	nonce, err := EndNonce(root)
	if err != nil {
		return nil, err
	}
	if s.tpm == nil {
		// No TPM at the start: try again, the cause may have passed.
		if s.tpm, err = Open(s.path); err != nil {
			return nil, err
		}
	}
	ev, err := s.tpm.Quote(nonce)
	if err != nil {
		return nil, fmt.Errorf("TPM quote at sealing: %w", err)
	}
	return ev, nil
}

// Close releases the TPM; Seal calls it. It may be called again.
func (s *Session) Close() error {
	if s.tpm == nil {
		return nil
	}
	err := s.tpm.Close()
	s.tpm = nil
	return err
}
