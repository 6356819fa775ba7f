package tpm

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The tests drive a real swtpm (Debian packages swtpm, swtpm-tools).

var (
	provisionOnce sync.Once
	provisioned   string // a TPM state made by swtpm_setup, with EK certificates
	provisionErr  error
)

func needSwtpm(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("swtpm"); err != nil {
		t.Skip("swtpm not installed (Debian: apt-get install swtpm swtpm-tools): TPM tests skipped")
	}
}

// provision makes, once per test binary, a manufactured TPM state (EK
// key pairs and certificates from a throwaway local CA) with
// swtpm_setup, offline, writing only under a temporary folder.
func provision(t *testing.T) string {
	t.Helper()
	needSwtpm(t)
	if _, err := exec.LookPath("swtpm_setup"); err != nil {
		t.Skip("swtpm_setup not installed (Debian: swtpm-tools): TPM tests skipped")
	}
	provisionOnce.Do(func() {
		dir, err := os.MkdirTemp("", "scelle-swtpm-")
		if err != nil {
			provisionErr = err
			return
		}
		ca, state := filepath.Join(dir, "ca"), filepath.Join(dir, "state")
		for _, d := range []string{ca, state} {
			if err := os.Mkdir(d, 0o700); err != nil {
				provisionErr = err
				return
			}
		}
		localca := filepath.Join(dir, "localca.conf")
		setup := filepath.Join(dir, "swtpm_setup.conf")
		files := map[string]string{
			localca: fmt.Sprintf("statedir = %[1]s\nsigningkey = %[1]s/signkey.pem\nissuercert = %[1]s/issuercert.pem\ncertserial = %[1]s/certserial\n", ca),
			setup: fmt.Sprintf("create_certs_tool = /usr/bin/swtpm_localca\ncreate_certs_tool_config = %s\n"+
				"create_certs_tool_options = /etc/swtpm-localca.options\nactive_pcr_banks = sha256\n", localca),
		}
		for name, body := range files {
			if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
				provisionErr = err
				return
			}
		}
		out, err := exec.Command("swtpm_setup", "--tpm2", "--tpmstate", state, "--config", setup,
			"--create-ek-cert", "--create-platform-cert", "--lock-nvram", "--overwrite").CombinedOutput()
		if err != nil {
			provisionErr = fmt.Errorf("swtpm_setup: %v\n%s", err, out)
			return
		}
		provisioned = dir
	})
	if provisionErr != nil {
		t.Fatal(provisionErr)
	}
	return provisioned
}

// swtpm is one running swtpm process.
type swtpm struct {
	state string
	port  int
	cmd   *exec.Cmd
	done  chan struct{}
}

func (s *swtpm) addr() string { return "swtpm:127.0.0.1:" + strconv.Itoa(s.port) }
func (s *swtpm) ctrl() string { return "127.0.0.1:" + strconv.Itoa(s.port+1) }

// newSwtpm starts a swtpm on a copy of the provisioned state (or a
// fresh state when manufactured is false) and stops it at cleanup.
func newSwtpm(t *testing.T, manufactured bool, flags string) *swtpm {
	t.Helper()
	needSwtpm(t)
	state := t.TempDir()
	if manufactured {
		src := filepath.Join(provision(t), "state", "tpm2-00.permall")
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(state, "tpm2-00.permall"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := &swtpm{state: state}
	s.start(t, flags)
	return s
}

// start runs swtpm on two free consecutive ports.
func (s *swtpm) start(t *testing.T, flags string) {
	t.Helper()
	var lastErr error
	for range 10 {
		port, err := freePortPair()
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"socket", "--tpm2", "--tpmstate", "dir=" + s.state,
			"--server", fmt.Sprintf("type=tcp,port=%d,bindaddr=127.0.0.1", port),
			"--ctrl", fmt.Sprintf("type=tcp,port=%d,bindaddr=127.0.0.1", port+1)}
		if flags != "" {
			args = append(args, "--flags", flags)
		}
		cmd := exec.Command("swtpm", args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		if lastErr = waitListening(port, done); lastErr == nil {
			s.port, s.cmd, s.done = port, cmd, done
			t.Cleanup(func() {
				s.stop()
				if t.Failed() && stderr.Len() > 0 {
					t.Logf("swtpm on port %d said:\n%s", port, stderr.String())
				}
			})
			return
		}
		cmd.Process.Kill()
		<-done
		lastErr = fmt.Errorf("%w; swtpm said:\n%s", lastErr, stderr.String())
	}
	t.Fatalf("swtpm did not start: %v", lastErr)
}

// stop ends this swtpm process (only it) and waits for it.
func (s *swtpm) stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

func freePortPair() (int, error) {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+1))
		l.Close()
		if err == nil {
			l2.Close()
			return port, nil
		}
	}
	return 0, errors.New("no two free consecutive ports")
}

func waitListening(port int, done <-chan struct{}) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return errors.New("swtpm exited")
		default:
		}
		for _, p := range []int{port, port + 1} {
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(p), time.Second)
			if err != nil {
				goto again
			}
			c.Close()
		}
		return nil
	again:
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("swtpm not listening after 10s")
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMain(m *testing.M) {
	code := m.Run()
	if provisioned != "" {
		os.RemoveAll(provisioned)
	}
	os.Exit(code)
}
