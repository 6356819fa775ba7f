package vault

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/sha256-simd"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/hint"
)

// Sizes of a push.
const (
	// DefaultPartSize: a file larger than this goes up in parts of this
	// size, each its own request, checked and resumable on its own.
	DefaultPartSize = 16 << 20
	// MinPartSize is S3's smallest part (but the last).
	MinPartSize = 5 << 20
	// DefaultParallel parts are sent at once.
	DefaultParallel = 4
	// metaSHA256 is the user metadata that names an object's SHA-256
	// (x-amz-meta-sha256): a push that resumes reads it to skip what is
	// already stored.
	metaSHA256 = "sha256"
)

// PushOptions tune Push.
type PushOptions struct {
	// RetainUntil, when not zero, sets COMPLIANCE retention on every
	// object until then; zero leaves the bucket's default retention.
	RetainUntil time.Time
	// LegalHold sets a legal hold on every object.
	LegalHold bool
	// NoLock accepts a bucket without Object Lock (the stored event says so).
	NoLock bool
	// PartSize (0: DefaultPartSize, at least MinPartSize) and Parallel
	// (0: DefaultParallel) shape the upload of large files.
	PartSize int64
	Parallel int
	// Key signs the custody events; Actor names who pushes.
	Key   ed25519.PrivateKey
	Actor *chain.Person
	// Identities are not needed: an encrypted bag is pushed as its
	// ciphertext, once the ciphertext verifies.

	// Progress, when not nil, is called as bytes are sent (from several
	// goroutines, never at once).
	Progress func(sent int64)
}

// PushResult says what Push did.
type PushResult struct {
	Store    chain.Store
	Uploaded int   // objects written by this push
	Reused   int   // objects found already stored (a push that resumed)
	Parts    int   // parts found already stored and not sent again
	Sent     int64 // bytes sent
	// Note: the bag was already stored there, every pinned version holds;
	// only a note was added to the custody log.
	Note  bool
	Entry chain.CustodyEntry // the custody line appended
}

// Push verifies the bag in dir and stores each of its files under
// loc.Prefix + the folder's name + "/", then appends a signed stored
// event to the bag's custody log and stores the log last. It refuses a
// bag that does not verify (ErrNotVerified) and a bucket without Object
// Lock unless opts.NoLock (ErrNoLock), before sending anything. Run
// again after an interruption, it sends only what the store does not
// hold yet: whole files, and the parts of an unfinished upload.
func (s *Store) Push(ctx context.Context, dir string, loc Location, opts PushOptions) (*PushResult, error) {
	if opts.Key == nil {
		return nil, errors.New("push: no signing key")
	}
	if opts.PartSize == 0 {
		opts.PartSize = DefaultPartSize
	}
	if opts.PartSize < MinPartSize {
		return nil, fmt.Errorf("part size %d: at least %d", opts.PartSize, MinPartSize)
	}
	if opts.Parallel <= 0 {
		opts.Parallel = DefaultParallel
	}
	if err := verifyBag(dir); err != nil {
		return nil, err
	}
	locked, _, err := s.lockConfig(ctx, loc.Bucket)
	if err != nil {
		return nil, err
	}
	if !locked && !opts.NoLock {
		return nil, hint.Wrap(fmt.Errorf("%s: %w", loc.Bucket, ErrNoLock),
			"use a bucket created with Object Lock, or say --no-lock to store without it (the custody log records it)")
	}
	files, err := bagFiles(dir)
	if err != nil {
		return nil, err
	}
	res := &PushResult{Store: chain.Store{Endpoint: s.cfg.Endpoint, Bucket: loc.Bucket,
		Prefix: loc.folder() + filepath.Base(filepath.Clean(dir)) + "/", NoLock: !locked}}

	if prev := storedBefore(dir, &res.Store); prev != nil && s.holds(ctx, prev) {
		res.Note, res.Store = true, *prev
		ev := chain.CustodyEvent{Event: chain.EventNote, Actor: opts.Actor,
			Text: fmt.Sprintf("pushed again to %s s3://%s/%s: already stored, every pinned version holds; nothing sent", prev.Endpoint, prev.Bucket, prev.Prefix)}
		if res.Entry, err = chain.AppendCustody(dir, ev, opts.Key); err != nil {
			return res, err
		}
		_, err = s.putCustody(ctx, dir, &res.Store, opts)
		return res, err
	}

	p := &pusher{s: s, opts: opts, res: res}
	for _, f := range files {
		o, err := p.putFile(ctx, dir, f)
		if err != nil {
			return res, fmt.Errorf("push %s: %w", f, err)
		}
		res.Store.Objects = append(res.Store.Objects, o)
	}
	ev := chain.CustodyEvent{Event: chain.EventStored, Actor: opts.Actor, Store: &res.Store}
	if res.Entry, err = chain.AppendCustody(dir, ev, opts.Key); err != nil {
		return res, err
	}
	if _, err := s.putCustody(ctx, dir, &res.Store, opts); err != nil {
		return res, fmt.Errorf("push %s: %w", chain.CustodyFile, err)
	}
	return res, nil
}

// verifyBag refuses a bag that does not verify (an encrypted one whose
// ciphertext verifies is pushed as it is).
func verifyBag(dir string) error {
	v, err := verdict.Check(dir, verdict.Options{})
	if err != nil {
		return err
	}
	if v.Status != verdict.Verified && v.Status != verdict.Encrypted {
		return hint.Wrap(fmt.Errorf("%s: %w: %s (%s)", dir, ErrNotVerified, v.Status, strings.Join(v.FailedNames(), ", ")),
			"scelle verify %s says what does not hold; nothing was sent", dir)
	}
	return nil
}

// bagFiles lists the regular files of the bag's folder that a push
// stores, the custody log aside (it goes last), in name order.
func bagFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if !e.Type().IsRegular() || n == chain.CustodyFile || strings.HasSuffix(n, ".partial") || strings.HasSuffix(n, ".lock") {
			continue
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// storedBefore returns the last stored event of the bag's custody log
// for the same endpoint, bucket and prefix.
func storedBefore(dir string, want *chain.Store) *chain.Store {
	c, err := chain.CheckCustodyDir(dir)
	if err != nil || c.Err != nil {
		return nil
	}
	for i := len(c.Entries) - 1; i >= 0; i-- {
		st := c.Entries[i].Store
		if st != nil && st.Endpoint == want.Endpoint && st.Bucket == want.Bucket && st.Prefix == want.Prefix {
			return st
		}
	}
	return nil
}

// holds says whether every object of st is still stored at its version,
// with its size and ETag.
func (s *Store) holds(ctx context.Context, st *chain.Store) bool {
	for _, o := range st.Objects {
		info, err := s.core.StatObject(ctx, st.Bucket, o.Key, minio.StatObjectOptions{VersionID: versionParam(o.VersionID)})
		if err != nil || info.Size != o.Size || info.ETag != o.ETag {
			return false
		}
	}
	return true
}

type pusher struct {
	s    *Store
	opts PushOptions
	res  *PushResult
	mu   sync.Mutex // guards res counters and Progress
}

func (p *pusher) sent(n int64) {
	p.mu.Lock()
	p.res.Sent += n
	if p.opts.Progress != nil {
		p.opts.Progress(p.res.Sent)
	}
	p.mu.Unlock()
}

// nullVersion is the version id S3 gives an object of a bucket without
// versioning.
const nullVersion = "null"

func orNull(v string) string {
	if v == "" {
		return nullVersion
	}
	return v
}

// versionParam is the versionId to ask for: none for the null version
// (some stores refuse versionId=null on a bucket without versioning,
// which holds one version a key).
func versionParam(v string) string {
	if v == nullVersion {
		return ""
	}
	return v
}

// putOptions are the headers of every object's first request.
func (p *pusher) putOptions(sum string) minio.PutObjectOptions {
	o := minio.PutObjectOptions{UserMetadata: map[string]string{metaSHA256: sum}, ContentType: "application/octet-stream"}
	if !p.opts.RetainUntil.IsZero() {
		o.Mode, o.RetainUntilDate = minio.Compliance, p.opts.RetainUntil.UTC()
	}
	if p.opts.LegalHold {
		o.LegalHold = minio.LegalHoldEnabled
	}
	return o
}

// putFile stores one file, or finds it already stored, and returns what
// the store says of it.
func (p *pusher) putFile(ctx context.Context, dir, name string) (chain.StoredObject, error) {
	key := p.res.Store.Prefix + name
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if err != nil {
		return chain.StoredObject{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return chain.StoredObject{}, err
	}
	size := fi.Size()
	var sum []byte
	var parts []partSum
	if size <= p.opts.PartSize {
		if sum, err = hashRange(f, 0, size); err != nil {
			return chain.StoredObject{}, err
		}
	} else if sum, parts, err = hashParts(f, size, p.opts.PartSize); err != nil {
		return chain.StoredObject{}, err
	}
	hexSum := hex.EncodeToString(sum)
	o := chain.StoredObject{Key: key, SHA256: hexSum, Size: size}

	// Already stored whole by a push that was cut short?
	if info, err := p.s.core.StatObject(ctx, p.res.Store.Bucket, key, minio.StatObjectOptions{}); err == nil &&
		info.Size == size && info.Metadata.Get("X-Amz-Meta-"+metaSHA256) == hexSum && (info.VersionID != "" || p.res.Store.NoLock) {
		p.res.Reused++
		o.VersionID, o.ETag = orNull(info.VersionID), info.ETag
		return o, p.s.retention(ctx, p.res.Store.Bucket, &o, p.opts)
	}

	var up minio.UploadInfo
	if parts == nil {
		opts := p.putOptions(hexSum)
		opts.UserMetadata["x-amz-checksum-sha256"] = base64.StdEncoding.EncodeToString(sum)
		up, err = p.s.core.PutObject(ctx, p.res.Store.Bucket, key, io.NewSectionReader(f, 0, size), size, "", hexSum, opts)
		if err != nil {
			return o, p.s.classify(err, p.res.Store.Bucket)
		}
		p.sent(size)
		// The store checked the header against the bytes; it reports the
		// whole object's SHA-256, which must be the bag's.
		if up.ChecksumSHA256 != "" && up.ChecksumSHA256 != base64.StdEncoding.EncodeToString(sum) {
			return o, fmt.Errorf("%s: the store reports SHA-256 %s, the file has %s: %w", key, up.ChecksumSHA256, hexSum, ErrStoreChanged)
		}
	} else if up, err = p.multipart(ctx, f, key, hexSum, parts); err != nil {
		return o, err
	}
	p.res.Uploaded++
	o.VersionID, o.ETag = up.VersionID, up.ETag
	if o.VersionID == "" {
		if !p.res.Store.NoLock {
			return o, fmt.Errorf("%s: the store gave no version id: is versioning on?", key)
		}
		o.VersionID = nullVersion // a bucket without versioning
	}
	return o, p.s.retention(ctx, p.res.Store.Bucket, &o, p.opts)
}

// retention records the Object Lock the store applied to o's version,
// and checks it is what was asked.
func (s *Store) retention(ctx context.Context, bucket string, o *chain.StoredObject, opts PushOptions) error {
	l, err := s.objectLock(ctx, bucket, o.Key, o.VersionID)
	if errors.Is(err, ErrCredentials) {
		// Write-only credentials cannot read it back (docs/vault.md):
		// record what was asked, which the store applied or refused.
		if !opts.RetainUntil.IsZero() {
			o.Retention, o.RetainUntil = string(minio.Compliance), opts.RetainUntil.UTC().Format(time.RFC3339)
		}
		o.LegalHold = opts.LegalHold
		return nil
	}
	if err != nil {
		return err
	}
	o.Retention, o.RetainUntil = l.Retention, l.RetainUntil
	if !opts.RetainUntil.IsZero() && (o.Retention != string(minio.Compliance) || o.RetainUntil < opts.RetainUntil.UTC().Format(time.RFC3339)) {
		return fmt.Errorf("%s: asked COMPLIANCE until %s, the store holds %q until %q", o.Key, opts.RetainUntil.UTC().Format(time.RFC3339), o.Retention, o.RetainUntil)
	}
	if opts.LegalHold && !l.LegalHold {
		return fmt.Errorf("%s: asked a legal hold, the store has none", o.Key)
	}
	o.LegalHold = l.LegalHold
	return nil
}

// objectLock reads the Object Lock of a version from the headers of a
// HEAD request (x-amz-object-lock-*), which every store sends to a
// caller allowed to read the retention, whatever the form of its
// GetObjectRetention answer.
func (s *Store) objectLock(ctx context.Context, bucket, key, version string) (Lock, error) {
	l := Lock{Key: key, VersionID: version}
	info, err := s.core.StatObject(ctx, bucket, key, minio.StatObjectOptions{VersionID: versionParam(version)})
	if err != nil {
		return l, s.classify(err, bucket)
	}
	l.Retention = info.Metadata.Get("X-Amz-Object-Lock-Mode")
	if u := info.Metadata.Get("X-Amz-Object-Lock-Retain-Until-Date"); u != "" {
		t, err := time.Parse(time.RFC3339Nano, u)
		if err != nil {
			return l, fmt.Errorf("%s: retain-until date %q: %w", key, u, err)
		}
		l.RetainUntil = t.UTC().Format(time.RFC3339)
	}
	l.LegalHold = info.Metadata.Get("X-Amz-Object-Lock-Legal-Hold") == "ON"
	return l, nil
}

// putCustody stores the custody log, last; its version is not pinned
// (the log grows), each stored event pins the others.
func (s *Store) putCustody(ctx context.Context, dir string, st *chain.Store, opts PushOptions) (minio.UploadInfo, error) {
	f, err := os.Open(filepath.Join(dir, chain.CustodyFile))
	if err != nil {
		return minio.UploadInfo{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return minio.UploadInfo{}, err
	}
	sum, err := hashRange(f, 0, fi.Size())
	if err != nil {
		return minio.UploadInfo{}, err
	}
	p := &pusher{s: s, opts: opts, res: &PushResult{}}
	o := p.putOptions(hex.EncodeToString(sum))
	o.UserMetadata["x-amz-checksum-sha256"] = base64.StdEncoding.EncodeToString(sum)
	up, err := s.core.PutObject(ctx, st.Bucket, st.Prefix+chain.CustodyFile, io.NewSectionReader(f, 0, fi.Size()), fi.Size(), "", hex.EncodeToString(sum), o)
	return up, s.classify(err, st.Bucket)
}

// hashRange hashes n bytes of f from off.
func hashRange(f io.ReaderAt, off, n int64) ([]byte, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, off, n)); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

type partSum struct {
	n         int // 1-based
	off, size int64
	sum       []byte
}

// hashParts reads f once, hashing it whole and part by part.
func hashParts(f io.ReaderAt, size, partSize int64) (whole []byte, parts []partSum, err error) {
	h, ph := sha256.New(), sha256.New()
	buf := make([]byte, 1<<20)
	for off, n := int64(0), 1; off < size; n++ {
		ps := min(partSize, size-off)
		ph.Reset()
		if _, err := io.CopyBuffer(io.MultiWriter(h, ph), io.NewSectionReader(f, off, ps), buf); err != nil {
			return nil, nil, err
		}
		parts = append(parts, partSum{n: n, off: off, size: ps, sum: ph.Sum(nil)})
		off += ps
	}
	return h.Sum(nil), parts, nil
}

// multipart sends a large file in parts, resuming the upload a push cut
// short left: a part already stored with the same SHA-256 is not sent
// again.
func (p *pusher) multipart(ctx context.Context, f *os.File, key, hexSum string, parts []partSum) (minio.UploadInfo, error) {
	bucket := p.res.Store.Bucket
	done := map[int]minio.ObjectPart{}
	uploadID := p.findUpload(ctx, key)
	if uploadID != "" {
		for marker := 0; ; {
			lp, err := p.s.core.ListObjectParts(ctx, bucket, key, uploadID, marker, 1000)
			if err != nil {
				uploadID = "" // gone: start again
				break
			}
			for _, op := range lp.ObjectParts {
				done[op.PartNumber] = op
			}
			if !lp.IsTruncated {
				break
			}
			marker = lp.NextPartNumberMarker
		}
	}
	if uploadID == "" {
		opts := p.putOptions(hexSum)
		opts.UserMetadata["x-amz-checksum-algorithm"] = "SHA256"
		id, err := p.s.core.NewMultipartUpload(ctx, bucket, key, opts)
		if err != nil {
			return minio.UploadInfo{}, p.s.classify(err, bucket)
		}
		uploadID = id
	}
	complete := make([]minio.CompletePart, len(parts))
	jobs := make(chan partSum)
	errs := make(chan error, p.opts.Parallel)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range p.opts.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ps := range jobs {
				b64 := base64.StdEncoding.EncodeToString(ps.sum)
				op, err := p.s.core.PutObjectPart(ctx, bucket, key, uploadID, ps.n, io.NewSectionReader(f, ps.off, ps.size), ps.size,
					minio.PutObjectPartOptions{Sha256Hex: hex.EncodeToString(ps.sum), CustomHeader: map[string][]string{"X-Amz-Checksum-Sha256": {b64}}})
				if err == nil && op.ChecksumSHA256 != "" && op.ChecksumSHA256 != b64 {
					err = fmt.Errorf("part %d: the store reports SHA-256 %s, the part has %s: %w", ps.n, op.ChecksumSHA256, b64, ErrStoreChanged)
				}
				if err != nil {
					errs <- p.s.classify(err, bucket)
					cancel()
					return
				}
				p.sent(ps.size)
				complete[ps.n-1] = minio.CompletePart{PartNumber: ps.n, ETag: op.ETag, ChecksumSHA256: b64}
			}
		}()
	}
feed:
	for _, ps := range parts {
		b64 := base64.StdEncoding.EncodeToString(ps.sum)
		if op, ok := done[ps.n]; ok && op.Size == ps.size && op.ChecksumSHA256 == b64 {
			complete[ps.n-1] = minio.CompletePart{PartNumber: ps.n, ETag: op.ETag, ChecksumSHA256: b64}
			p.mu.Lock()
			p.res.Parts++
			p.mu.Unlock()
			continue
		}
		select {
		case jobs <- ps:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return minio.UploadInfo{}, err
	default:
	}
	if err := ctx.Err(); err != nil {
		return minio.UploadInfo{}, err
	}
	up, err := p.s.core.CompleteMultipartUpload(ctx, bucket, key, uploadID, complete, minio.PutObjectOptions{})
	return up, p.s.classify(err, bucket)
}

// findUpload returns the id of the newest unfinished upload of key, or "".
func (p *pusher) findUpload(ctx context.Context, key string) string {
	r, err := p.s.core.ListMultipartUploads(ctx, p.res.Store.Bucket, key, "", "", "", 1000)
	if err != nil {
		return ""
	}
	var id string
	var at time.Time
	for _, u := range r.Uploads {
		if u.Key == key && (id == "" || u.Initiated.After(at)) {
			id, at = u.UploadID, u.Initiated
		}
	}
	return id
}
