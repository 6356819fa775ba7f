package tpm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/google/go-tpm/tpm2/transport"
)

// openDevice opens a TPM character device. A missing device, or a path
// that is not a character device, is ErrNoTPM; a device scelle may not
// open (permissions) is an error that says so.
func openDevice(path string) (transport.TPMCloser, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", ErrNoTPM, path)
	}
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeCharDevice == 0 {
		return nil, fmt.Errorf("%w: %s is not a character device", ErrNoTPM, path)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open TPM: %w", err)
	}
	return transport.FromReadWriteCloser(f), nil
}
