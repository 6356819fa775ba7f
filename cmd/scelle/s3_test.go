package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/scelle/scelle/internal/s3test"
)

// s3Servers holds each script's S3 store, by its work folder.
var (
	s3Mu      sync.Mutex
	s3Servers = map[string]*s3test.Server{}
)

// cmdS3 is the testscript command
//
//	s3
//
// It starts versitygw, an S3 engine with Object Lock, on loopback until
// the script ends (internal/s3test) and points the AWS variables at it
// with its root credentials ($AWS_ENDPOINT_URL ...); the script skips
// first with [!versitygw] skip.
func cmdS3(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) > 0 {
		ts.Fatalf("usage: s3")
	}
	s, err := s3test.Start(ts.MkAbs("s3"))
	ts.Check(err)
	ts.Defer(func() { s.Close() })
	s3Mu.Lock()
	s3Servers[ts.Getenv("WORK")] = s
	s3Mu.Unlock()
	for _, kv := range s.Env() {
		k, v, _ := bytesCut(kv)
		ts.Setenv(k, v)
	}
	ts.Setenv("AWS_ENDPOINT_URL_SAVED", s.Endpoint)
	// $SCELLE is the release binary when make test names it, else this
	// test binary run as scelle.
	bin := os.Getenv("SCELLE_BIN")
	if bin == "" {
		bin = "scelle"
	}
	ts.Setenv("SCELLE", bin)
	ts.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(ts.Getenv("WORK"), "no-aws-credentials"))
}

func bytesCut(kv string) (string, string, bool) {
	k, v, ok := bytes.Cut([]byte(kv), []byte("="))
	return string(k), string(v), ok
}

func s3Of(ts *testscript.TestScript) *s3test.Server {
	s3Mu.Lock()
	s := s3Servers[ts.Getenv("WORK")]
	s3Mu.Unlock()
	if s == nil {
		ts.Fatalf("no s3 server: run s3 first")
	}
	return s
}

// cmdS3Bucket is the testscript command
//
//	s3bucket VAR [nolock]
//
// It makes a bucket, with Object Lock unless nolock, and sets VAR to its
// name.
func cmdS3Bucket(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 || (len(args) == 2 && args[1] != "nolock") {
		ts.Fatalf("usage: s3bucket VAR [nolock]")
	}
	b, err := s3Of(ts).MakeBucket("script", len(args) == 1)
	ts.Check(err)
	ts.Setenv(args[0], b)
}

// cmdS3Delete is the testscript command
//
//	s3delete BUCKET KEY
//
// It deletes every version of KEY with the root credentials, bypassing
// governance retention (COMPLIANCE refuses it).
func cmdS3Delete(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: s3delete BUCKET KEY")
	}
	c, err := s3Of(ts).Client()
	ts.Check(err)
	ctx := context.Background()
	var firstErr error
	for o := range c.ListObjects(ctx, args[0], minio.ListObjectsOptions{Prefix: args[1], WithVersions: true}) {
		ts.Check(o.Err)
		if o.Key != args[1] {
			continue
		}
		if err := c.RemoveObject(ctx, args[0], o.Key, minio.RemoveObjectOptions{VersionID: o.VersionID, GovernanceBypass: true}); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if neg && firstErr == nil {
		ts.Fatalf("deleting %s was allowed", args[1])
	}
	if !neg && firstErr != nil {
		ts.Fatalf("delete %s: %v", args[1], firstErr)
	}
}

// cmdBasename is the testscript command
//
//	basename VAR PATH
func cmdBasename(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: basename VAR PATH")
	}
	ts.Setenv(args[0], filepath.Base(args[1]))
}

// cmdS3Slow is the testscript command
//
//	s3slow VAR
//
// It starts a proxy on loopback to the script's S3 store that passes the
// bytes each connection sends at about 8 MiB/s, until the script ends,
// and sets VAR to its URL: a push through it lasts long enough to be
// killed once some of its parts are stored (s3parts).
func cmdS3Slow(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: s3slow VAR")
	}
	target := strings.TrimPrefix(s3Of(ts).Endpoint, "http://")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	ts.Defer(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go slowProxy(c, target)
		}
	}()
	ts.Setenv(args[0], "http://"+ln.Addr().String())
}

// slowProxy passes c to target, what c sends at about 8 MiB/s.
func slowProxy(c net.Conn, target string) {
	defer c.Close()
	u, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer u.Close()
	go func() {
		io.Copy(c, u)
		c.Close()
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, err := u.Write(buf[:n]); err != nil {
				return
			}
			time.Sleep(time.Duration(n) * time.Second / (8 << 20))
		}
		if err != nil {
			return
		}
	}
}

// cmdS3Parts is the testscript command
//
//	s3parts BUCKET PREFIX N
//
// It waits (30 s at most) until an unfinished multipart upload of a key
// under PREFIX has at least N parts stored.
func cmdS3Parts(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: s3parts BUCKET PREFIX N")
	}
	want, err := strconv.Atoi(args[2])
	ts.Check(err)
	cl, err := s3Of(ts).Client()
	ts.Check(err)
	core := minio.Core{Client: cl}
	ctx := context.Background()
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		ups, err := core.ListMultipartUploads(ctx, args[0], args[1], "", "", "", 1000)
		ts.Check(err)
		for _, up := range ups.Uploads {
			lp, err := core.ListObjectParts(ctx, args[0], up.Key, up.UploadID, 0, 1000)
			if err == nil && len(lp.ObjectParts) >= want {
				ts.Logf("%s: %d parts stored", up.Key, len(lp.ObjectParts))
				return
			}
		}
	}
	ts.Fatalf("no upload under %s has %d parts stored after 30 s", args[1], want)
}
