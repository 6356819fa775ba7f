package vault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/scelle/scelle/internal/hint"
)

// Errors a caller can test with errors.Is; each comes wrapped with what
// was asked and a hint.
var (
	ErrURL          = errors.New("not an s3://BUCKET/PREFIX address")
	ErrUnreachable  = errors.New("the S3 endpoint does not answer")
	ErrCredentials  = errors.New("the store refused the credentials")
	ErrNoBucket     = errors.New("no such bucket")
	ErrNoLock       = errors.New("the bucket has no Object Lock")
	ErrNotVerified  = errors.New("the bag does not verify")
	ErrTicket       = errors.New("the upload ticket is not valid")
	ErrNotStored    = errors.New("no stored event for this bag")
	ErrStoreChanged = errors.New("the store does not hold what the custody log pinned")
)

// Location is an s3://BUCKET/PREFIX address. Prefix has no leading slash
// and, when not empty, ends with one.
type Location struct {
	Bucket, Prefix string
}

// String gives the location back as s3://BUCKET/PREFIX.
func (l Location) String() string { return "s3://" + l.Bucket + "/" + l.Prefix }

// folder is Prefix, ending with a slash unless empty.
func (l Location) folder() string {
	if l.Prefix == "" || strings.HasSuffix(l.Prefix, "/") {
		return l.Prefix
	}
	return l.Prefix + "/"
}

// IsURL says whether s is written as an s3:// address.
func IsURL(s string) bool { return strings.HasPrefix(s, "s3://") }

// ParseURL reads s3://BUCKET[/PREFIX].
func ParseURL(s string) (Location, error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return Location{}, fmt.Errorf("%q: %w", s, ErrURL)
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	prefix = strings.Trim(prefix, "/")
	if bucket == "" || strings.Contains(prefix, "//") || strings.ContainsAny(bucket, " \\") {
		return Location{}, fmt.Errorf("%q: %w", s, ErrURL)
	}
	for _, part := range strings.Split(prefix, "/") {
		if part == "." || part == ".." {
			return Location{}, fmt.Errorf("%q: %w", s, ErrURL)
		}
	}
	if prefix != "" {
		prefix += "/"
	}
	return Location{Bucket: bucket, Prefix: prefix}, nil
}

// Config says how to reach the store. The zero value follows the AWS
// conventions: AWS_ENDPOINT_URL (or s3.REGION.amazonaws.com), AWS_REGION
// (or AWS_DEFAULT_REGION, or us-east-1), the credentials of
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, then
// of the shared files (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials,
// profile AWS_PROFILE).
type Config struct {
	Endpoint string // URL: https://host[:port] or http://host[:port]
	Region   string
	// Transport, when not nil, carries the requests (tests).
	Transport http.RoundTripper
}

func (c Config) resolve() (Config, error) {
	if c.Region == "" {
		c.Region = os.Getenv("AWS_REGION")
	}
	if c.Region == "" {
		c.Region = os.Getenv("AWS_DEFAULT_REGION")
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.Endpoint == "" {
		c.Endpoint = os.Getenv("AWS_ENDPOINT_URL_S3")
	}
	if c.Endpoint == "" {
		c.Endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	if c.Endpoint == "" {
		c.Endpoint = "https://s3." + c.Region + ".amazonaws.com"
	}
	if !strings.Contains(c.Endpoint, "://") {
		c.Endpoint = "https://" + c.Endpoint
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return c, hint.Wrap(fmt.Errorf("endpoint %q: not an http(s)://HOST[:PORT] URL", c.Endpoint), "give --endpoint or AWS_ENDPOINT_URL as https://host[:port]")
	}
	c.Endpoint = u.Scheme + "://" + u.Host
	return c, nil
}

// Store is a connection to one S3 endpoint. It is safe for concurrent use.
type Store struct {
	cfg  Config
	core minio.Core
}

// Connect makes a Store; it does not contact the endpoint.
func Connect(cfg Config) (*Store, error) {
	cfg, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(cfg.Endpoint)
	creds := credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{},
	})
	c, err := minio.New(u.Host, &minio.Options{Creds: creds, Secure: u.Scheme == "https", Region: cfg.Region,
		Transport: cfg.Transport, BucketLookup: minio.BucketLookupPath, MaxRetries: 3})
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", cfg.Endpoint, err)
	}
	return &Store{cfg: cfg, core: minio.Core{Client: c}}, nil
}

// Endpoint is the store's endpoint URL.
func (s *Store) Endpoint() string { return s.cfg.Endpoint }

// classify turns a client error into one of this package's errors, with
// a hint.
func (s *Store) classify(err error, bucket string) error {
	if err == nil {
		return nil
	}
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) {
		return hint.Wrap(fmt.Errorf("%s: %w (%v)", s.cfg.Endpoint, ErrUnreachable, err),
			"check --endpoint (or AWS_ENDPOINT_URL) and the network")
	}
	switch minio.ToErrorResponse(err).Code {
	case "NoSuchBucket":
		return hint.Wrap(fmt.Errorf("%s: %w", bucket, ErrNoBucket), "check the bucket's name; create it with Object Lock enabled")
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken", "InvalidToken":
		return hint.Wrap(fmt.Errorf("%s: %w (%s)", s.cfg.Endpoint, ErrCredentials, minio.ToErrorResponse(err).Message),
			"check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) or AWS_PROFILE")
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return err
}

// lockConfig reads the bucket's Object Lock configuration: enabled, and
// its default retention ("" when none).
func (s *Store) lockConfig(ctx context.Context, bucket string) (enabled bool, mode string, err error) {
	enabledStr, m, validity, unit, err := s.core.GetObjectLockConfig(ctx, bucket)
	if err != nil {
		code := minio.ToErrorResponse(err).Code
		if code == "ObjectLockConfigurationNotFoundError" || code == "ObjectLockConfigurationNotFound" {
			// Say whether the bucket exists at all.
			if _, verr := s.core.GetBucketVersioning(ctx, bucket); verr != nil {
				return false, "", s.classify(verr, bucket)
			}
			return false, "", nil
		}
		return false, "", s.classify(err, bucket)
	}
	if m != nil && validity != nil && unit != nil {
		mode = fmt.Sprintf("%s %d %s", *m, *validity, *unit)
	}
	return enabledStr == "Enabled", mode, nil
}
