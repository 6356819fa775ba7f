//go:build !linux

package tpm

import (
	"fmt"
	"runtime"

	"github.com/google/go-tpm/tpm2/transport"
)

// openDevice: scelle reaches a TPM device only on Linux (a swtpm socket
// works everywhere).
func openDevice(path string) (transport.TPMCloser, error) {
	return nil, fmt.Errorf("%w: TPM devices are not supported on %s", ErrNoTPM, runtime.GOOS)
}
