// Package s3test runs a real S3 engine with Object Lock on loopback for
// tests: versitygw (github.com/versity/versitygw, Apache-2.0) over a posix
// folder, with versioning, so the code under test talks to a store that
// enforces retention, legal holds and checksums itself.
//
// A test binary starts one Server in TestMain (Start) and closes it when
// its tests are done; each test makes buckets of its own (MakeBucket). A
// Server is safe for concurrent use.
package s3test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Root credentials of every Server.
const (
	AccessKey = "scelle-test-root"
	SecretKey = "scelle-test-root-secret-0123456789"
	Region    = "us-east-1"
)

// ErrNoBinary: versitygw is not installed (make deps installs it).
var ErrNoBinary = errors.New("versitygw not found: run make deps (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")

// Binary finds versitygw: $VERSITYGW, then $PATH, then the folder make
// deps installs it in ($HOME/.cache/scelle-tools), then $GOPATH/bin.
func Binary() (string, error) {
	if p := os.Getenv("VERSITYGW"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	var cands []string
	if h, err := os.UserHomeDir(); err == nil {
		cands = append(cands, filepath.Join(h, ".cache", "scelle-tools", "versitygw"), filepath.Join(h, "go", "bin", "versitygw"))
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		cands = append(cands, filepath.Join(gp, "bin", "versitygw"))
	}
	for _, c := range cands {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			return c, nil
		}
	}
	return "", ErrNoBinary
}

// Server is a running versitygw.
type Server struct {
	Endpoint string // http://127.0.0.1:PORT
	Host     string // 127.0.0.1:PORT
	Dir      string // the store's files: root/ (buckets) and versions/
	cmd      *exec.Cmd
	log      bytes.Buffer
	exited   chan struct{}
	client   *minio.Client
	n        atomic.Int64
}

// Start runs versitygw on a free loopback port over dir (absolute, made
// if missing), and waits until it answers.
func Start(dir string) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	root, versions := filepath.Join(dir, "root"), filepath.Join(dir, "versions")
	for _, d := range []string{root, versions} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	var lastErr error
	for range 3 { // a port taken between the probe and the start: try another
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &Server{Host: "127.0.0.1:" + strconv.Itoa(port), Dir: dir, exited: make(chan struct{})}
		s.Endpoint = "http://" + s.Host
		s.cmd = exec.Command(bin, "--port", s.Host, "posix", "--versioning-dir", versions, root)
		s.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+AccessKey, "ROOT_SECRET_ACCESS_KEY="+SecretKey)
		s.cmd.Stdout, s.cmd.Stderr = &s.log, &s.log
		if err := s.cmd.Start(); err != nil {
			return nil, fmt.Errorf("start versitygw: %w", err)
		}
		go func() { s.cmd.Wait(); close(s.exited) }()
		if lastErr = s.wait(15 * time.Second); lastErr == nil {
			if s.client, err = s.Client(); err != nil {
				s.Close()
				return nil, err
			}
			return s, nil
		}
		s.Close()
	}
	return nil, lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// wait polls the port until it accepts, the process exits or d passes.
func (s *Server) wait(d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("versitygw exited: %s", s.log.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", s.Host, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("versitygw did not answer on %s within %v", s.Host, d)
}

// Close stops the server (its files are left in Dir).
func (s *Server) Close() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	s.cmd.Process.Kill()
	<-s.exited
	return nil
}

// Log returns what the server printed.
func (s *Server) Log() string { return s.log.String() }

// Client returns a client with the root credentials.
func (s *Server) Client() (*minio.Client, error) {
	return minio.New(s.Host, &minio.Options{Creds: credentials.NewStaticV4(AccessKey, SecretKey, ""), Region: Region})
}

// MakeBucket creates a bucket with a name of its own (prefix, then a
// counter) with Object Lock enabled when lock is true, and returns its
// name.
func (s *Server) MakeBucket(prefix string, lock bool) (string, error) {
	name := fmt.Sprintf("%s-%d", prefix, s.n.Add(1))
	err := s.client.MakeBucket(context.Background(), name, minio.MakeBucketOptions{Region: Region, ObjectLocking: lock})
	if err != nil {
		return "", fmt.Errorf("make bucket %s: %w", name, err)
	}
	return name, nil
}

// Env returns the AWS variables that point a client at the server with
// the root credentials.
func (s *Server) Env() []string {
	return []string{"AWS_ENDPOINT_URL=" + s.Endpoint, "AWS_ACCESS_KEY_ID=" + AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + SecretKey, "AWS_REGION=" + Region}
}
