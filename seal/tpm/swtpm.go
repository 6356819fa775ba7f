package tpm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// A TPM command or response starts with tag (2 bytes), size (4 bytes,
// the whole message) and a command or response code (4 bytes).
const (
	headerSize  = 10
	maxResponse = 1 << 16
)

// cmdTimeout bounds one TPM command on a socket; generating an RSA key
// on a slow TPM takes seconds, never minutes.
const cmdTimeout = 2 * time.Minute

// stream is a TPM reached through a byte stream that carries the TPM's
// commands and responses as they are (swtpm's --server socket): no
// framing beyond the size in each header.
type stream struct {
	mu   sync.Mutex
	conn net.Conn
}

func (s *stream) Send(cmd []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.conn.SetDeadline(time.Now().Add(cmdTimeout)); err != nil {
		return nil, err
	}
	if _, err := s.conn.Write(cmd); err != nil {
		return nil, fmt.Errorf("send TPM command: %w", err)
	}
	rsp := make([]byte, headerSize)
	if _, err := io.ReadFull(s.conn, rsp); err != nil {
		return nil, fmt.Errorf("read TPM response: %w", err)
	}
	size := binary.BigEndian.Uint32(rsp[2:6])
	if size < headerSize || size > maxResponse {
		return nil, fmt.Errorf("read TPM response: size %d", size)
	}
	rsp = append(rsp, make([]byte, size-headerSize)...)
	if _, err := io.ReadFull(s.conn, rsp[headerSize:]); err != nil {
		return nil, fmt.Errorf("read TPM response: %w", err)
	}
	return rsp, nil
}

func (s *stream) Close() error { return s.conn.Close() }

// ctrlInit is CMD_INIT of swtpm's control channel
// (include/swtpm/tpm_ioctl.h): power the TPM (again), flags follow.
const ctrlInit = 0x02

// openSwtpm connects to the command socket of a swtpm at addr
// (HOST:PORT). A swtpm started without --flags not-need-init,startup-clear
// first needs CMD_INIT on its control socket, by convention PORT+1, then
// TPM2_Startup: openSwtpm sends both when the TPM says it needs them.
// Connection refused at addr means no TPM (ErrNoTPM).
func openSwtpm(addr string) (transport.TPMCloser, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("swtpm address %q: want HOST:PORT", addr)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p >= 65535 {
		return nil, fmt.Errorf("swtpm address %q: bad port", addr)
	}
	dial := func() (*stream, error) {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNoTPM, err)
		}
		return &stream{conn: c}, nil
	}
	s, err := dial()
	if err != nil {
		return nil, err
	}
	_, err = tpm2.GetCapability{Capability: tpm2.TPMCapTPMProperties, Property: uint32(tpm2.TPMPTManufacturer), PropertyCount: 1}.Execute(s)
	switch {
	case err == nil:
		return s, nil
	case errors.Is(err, tpm2.TPMRCInitialize):
		// Powered, not started.
	default:
		// Not initialised: swtpm closes the connection or answers
		// TPM_RC_FAILURE until CMD_INIT.
		s.Close()
		ctrl := net.JoinHostPort(host, strconv.Itoa(p+1))
		if cerr := SwtpmControl(ctrl, ctrlInit, 0); cerr != nil {
			return nil, fmt.Errorf("swtpm at %s: %v; control channel: %w", addr, err, cerr)
		}
		if s, err = dial(); err != nil {
			return nil, err
		}
	}
	if _, err := (tpm2.Startup{StartupType: tpm2.TPMSUClear}).Execute(s); err != nil && !errors.Is(err, tpm2.TPMRCInitialize) {
		s.Close()
		return nil, fmt.Errorf("swtpm at %s: startup: %w", addr, err)
	}
	return s, nil
}

// SwtpmControl sends one command with a 32-bit argument (args are
// omitted for commands without one: pass no args) to a swtpm control
// socket at addr and checks its result code. CMD_INIT (2) with flags 0
// power-cycles the TPM: the next TPM2_Startup(CLEAR) is a TPM Reset. It
// exists for tests and labs, never for a real TPM.
func SwtpmControl(addr string, cmd uint32, args ...uint32) error {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(cmdTimeout)); err != nil {
		return err
	}
	msg := binary.BigEndian.AppendUint32(nil, cmd)
	for _, a := range args {
		msg = binary.BigEndian.AppendUint32(msg, a)
	}
	if _, err := c.Write(msg); err != nil {
		return err
	}
	var res [4]byte
	if _, err := io.ReadFull(c, res[:]); err != nil {
		return fmt.Errorf("control command %d: %w", cmd, err)
	}
	if rc := binary.BigEndian.Uint32(res[:]); rc != 0 {
		return fmt.Errorf("control command %d: TPM result %#x", cmd, rc)
	}
	return nil
}
