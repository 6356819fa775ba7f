package vault

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/sha256-simd"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/hint"
	"github.com/scelle/scelle/seal"
)

const custodyName = chain.CustodyFile

// Names of the checks Verify adds to a verdict.
const (
	CheckStorePinned   = "store-pinned"   // each pinned version is there, with its size, ETag and SHA-256
	CheckStoreLock     = "store-lock"     // the Object Lock each version still has
	CheckStoreVersions = "store-versions" // the other versions and delete markers of the bag's keys
)

// maxCustody bounds the custody log read from a store.
const maxCustody = chain.MaxCustodyLine * 64

// Version is an object version of a stored bag's keys that no stored
// event pinned, or a delete marker.
type Version struct {
	Key          string    `json:"key"`
	VersionID    string    `json:"version_id"`
	Time         time.Time `json:"time"`
	Size         int64     `json:"size"`
	DeleteMarker bool      `json:"delete_marker,omitempty"`
	Latest       bool      `json:"latest,omitempty"`
}

// Lock is the Object Lock a pinned version has now.
type Lock struct {
	Key         string `json:"key"`
	VersionID   string `json:"version_id"`
	Retention   string `json:"retention,omitempty"`
	RetainUntil string `json:"retain_until,omitempty"`
	LegalHold   bool   `json:"legal_hold,omitempty"`
}

// RemoteVerdict is Verify's outcome: the bag's verdict, as a local
// verify makes it from the pinned versions, with the store's checks
// added to its Checks.
type RemoteVerdict struct {
	*verdict.Verdict
	Location Location
	Stored   *chain.CustodyEntry // the stored event whose versions were checked
	Locks    []Lock              // one per pinned object
	Others   []Version           // versions not pinned (the custody log's older ones aside) and delete markers
	Read     int64               // bytes read from the store
}

// Verify checks the bag stored at loc (its folder: PREFIX/BAG/) in
// place: it reads the custody log from the store, takes its last stored
// event for this bucket and folder, streams each object at the version
// the event pinned through the checks of verdict.Check (nothing is
// written to disk), compares each object with the event (size, ETag,
// SHA-256), reads the Object Lock each still has, and lists every other
// version and delete marker of the bag's keys. A pinned version that is
// missing or differs fails the verdict.
func (s *Store) Verify(ctx context.Context, loc Location, opts verdict.Options) (*RemoteVerdict, error) {
	prefix := loc.folder()
	if prefix == "" {
		return nil, hint.Wrap(fmt.Errorf("%s: %w", loc, ErrNotStored), "name the bag's folder: s3://BUCKET/PREFIX/BAG")
	}
	fsys, stored, err := s.pinnedFS(ctx, loc)
	if err != nil {
		return nil, err
	}
	rv := &RemoteVerdict{Location: loc, Stored: stored}
	var pinned []seal.Check
	var lockNotes []string
	missing := 0
	for _, o := range stored.Store.Objects {
		name := strings.TrimPrefix(o.Key, prefix)
		info, err := s.core.StatObject(ctx, loc.Bucket, o.Key, minio.StatObjectOptions{VersionID: versionParam(o.VersionID)})
		switch code := minio.ToErrorResponse(err).Code; {
		case err != nil && (code == "NoSuchKey" || code == "NoSuchVersion" || code == "MethodNotAllowed"):
			missing++
			pinned = append(pinned, seal.Check{Name: CheckStorePinned, Where: o.Key,
				Detail: fmt.Sprintf("version %s is not in the store", o.VersionID)})
			continue
		case err != nil:
			return nil, s.classify(err, loc.Bucket)
		}
		if info.Size != o.Size || info.ETag != o.ETag {
			pinned = append(pinned, seal.Check{Name: CheckStorePinned, Where: o.Key,
				Detail: fmt.Sprintf("version %s: size %d, ETag %s; the stored event says %d, %s", o.VersionID, info.Size, info.ETag, o.Size, o.ETag)})
		}
		fsys.objects[name] = pinnedObject{key: o.Key, version: o.VersionID, size: info.Size, modTime: info.LastModified}
		l, note, err := s.lockOf(ctx, loc.Bucket, o)
		if err != nil {
			return nil, err
		}
		rv.Locks = append(rv.Locks, l)
		if note != "" {
			lockNotes = append(lockNotes, note)
		}
	}

	v, err := verdict.CheckFS(fsys, loc.String(), opts)
	if err != nil {
		return nil, err
	}
	rv.Verdict = v
	// Every pinned object, read whole, is the one the event recorded;
	// those the checks above do not read (the reports) are read now.
	for _, o := range stored.Store.Objects {
		name := strings.TrimPrefix(o.Key, prefix)
		if _, ok := fsys.objects[name]; !ok {
			continue
		}
		sum := fsys.sum(name)
		if sum == nil {
			if sum, err = fsys.hash(name); err != nil {
				return nil, err
			}
		}
		if got := hex.EncodeToString(sum); got != o.SHA256 {
			pinned = append(pinned, seal.Check{Name: CheckStorePinned, Where: o.Key,
				Detail: fmt.Sprintf("version %s has SHA-256 %s; the stored event (custody line %d) says %s", o.VersionID, got, stored.Seq, o.SHA256)})
		}
	}
	if len(pinned) == 0 {
		pinned = append(pinned, seal.Check{Name: CheckStorePinned, OK: true, Where: prefix,
			Detail: fmt.Sprintf("the %d versions pinned by %s line %d hold (size, ETag, SHA-256)", len(stored.Store.Objects), custodyName, stored.Seq)})
	}
	v.Checks = append(v.Checks, pinned...)
	lock := seal.Check{Name: CheckStoreLock, OK: true, Where: prefix}
	switch {
	case stored.Store.NoLock:
		lock.Detail = "the bucket had no Object Lock when pushed (--no-lock): the versions can be deleted"
	case len(lockNotes) > 0:
		lock.Detail = strings.Join(lockNotes, "; ")
	default:
		lock.Detail = lockSummary(rv.Locks)
	}
	v.Checks = append(v.Checks, lock)

	if rv.Others, err = s.otherVersions(ctx, loc.Bucket, prefix, stored.Store); err != nil {
		return nil, err
	}
	v.Checks = append(v.Checks, seal.Check{Name: CheckStoreVersions, OK: true, Where: prefix, Detail: versionsSummary(rv.Others)})
	if missing > 0 || len(pinned) > 1 || !pinned[0].OK {
		v.Status = verdict.Failed
	}
	rv.Read = fsys.read
	return rv, nil
}

// Open returns the stored bag at loc as an fs.FS of its files at the
// versions its last stored event pinned (and its custody log), streamed
// from the store as they are read. Nothing is checked: Verify does.
func (s *Store) Open(ctx context.Context, loc Location) (fs.FS, error) {
	fsys, stored, err := s.pinnedFS(ctx, loc)
	if err != nil {
		return nil, err
	}
	for _, o := range stored.Store.Objects {
		fsys.objects[strings.TrimPrefix(o.Key, loc.folder())] = pinnedObject{key: o.Key, version: o.VersionID, size: o.Size}
	}
	return fsys, nil
}

// pinnedFS reads the custody log of the bag at loc and returns its last
// stored event for that place, and a storeFS of the bag with the log and
// no object yet: Verify and Open add the pinned versions.
func (s *Store) pinnedFS(ctx context.Context, loc Location) (*storeFS, *chain.CustodyEntry, error) {
	prefix := loc.folder()
	custody, at, err := s.readCustody(ctx, loc.Bucket, prefix+custodyName)
	if err != nil {
		return nil, nil, err
	}
	stored, err := lastStored(custody, loc.Bucket, prefix)
	if err != nil {
		return nil, nil, err
	}
	return &storeFS{ctx: ctx, s: s, bucket: loc.Bucket, objects: map[string]pinnedObject{}, custody: custody, at: at, sums: map[string][]byte{}}, stored, nil
}

// lastStored returns the last stored event of a custody log for the
// bucket and folder.
func lastStored(custody []byte, bucket, prefix string) (*chain.CustodyEntry, error) {
	c, err := chain.ReadCustody(bytes.NewReader(custody))
	if err != nil {
		return nil, fmt.Errorf("%s%s: %w", prefix, custodyName, err)
	}
	for i := len(c.Entries) - 1; i >= 0; i-- {
		if st := c.Entries[i].Store; st != nil && st.Bucket == bucket && st.Prefix == prefix {
			return &c.Entries[i], nil
		}
	}
	return nil, hint.Wrap(fmt.Errorf("s3://%s/%s: %w", bucket, prefix, ErrNotStored), "scelle push records a stored event; scelle vault ls lists the bags of a prefix")
}

// hash reads a pinned object whole and returns its SHA-256.
func (f *storeFS) hash(name string) ([]byte, error) {
	r, err := f.Open(name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, err
	}
	if s := f.sum(name); s != nil {
		return s, nil
	}
	h := sha256.New()
	return h.Sum(nil), nil
}

// readCustody reads the latest version of the bag's custody log.
func (s *Store) readCustody(ctx context.Context, bucket, key string) ([]byte, time.Time, error) {
	obj, info, _, err := s.core.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		if code := minio.ToErrorResponse(err).Code; code == "NoSuchKey" {
			return nil, time.Time{}, hint.Wrap(fmt.Errorf("s3://%s/%s: %w", bucket, key, ErrNotStored),
				"give the bag's folder: s3://BUCKET/PREFIX/BAG (scelle vault ls s3://BUCKET/PREFIX lists them)")
		}
		return nil, time.Time{}, s.classify(err, bucket)
	}
	defer obj.Close()
	b, err := io.ReadAll(io.LimitReader(obj, maxCustody+1))
	if err != nil {
		return nil, time.Time{}, s.classify(err, bucket)
	}
	if len(b) > maxCustody {
		return nil, time.Time{}, fmt.Errorf("s3://%s/%s: larger than %d bytes", bucket, key, maxCustody)
	}
	return b, info.LastModified, nil
}

// lockOf reads the Object Lock of a pinned version; note says what
// differs from what the stored event recorded, or that it has ended.
func (s *Store) lockOf(ctx context.Context, bucket string, o chain.StoredObject) (Lock, string, error) {
	l, err := s.objectLock(ctx, bucket, o.Key, o.VersionID)
	if err != nil {
		return l, "", err
	}
	var notes []string
	if o.Retention != "" && (l.Retention != o.Retention || l.RetainUntil < o.RetainUntil) {
		notes = append(notes, fmt.Sprintf("retention %s until %s, recorded %s until %s", orNone(l.Retention), orNone(l.RetainUntil), o.Retention, o.RetainUntil))
	}
	if l.RetainUntil != "" && l.RetainUntil < time.Now().UTC().Format(time.RFC3339) && !l.LegalHold {
		notes = append(notes, "retention ended "+l.RetainUntil+": the version can be deleted")
	}
	if o.LegalHold && !l.LegalHold {
		notes = append(notes, "legal hold recorded, lifted since")
	}
	if len(notes) == 0 {
		return l, "", nil
	}
	return l, path.Base(o.Key) + ": " + strings.Join(notes, ", "), nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func lockSummary(ls []Lock) string {
	byMode := map[string]int{}
	first := ""
	holds := 0
	for _, l := range ls {
		k := orNone(l.Retention)
		if l.RetainUntil != "" {
			k += " until " + l.RetainUntil
			if first == "" || l.RetainUntil < first {
				first = l.RetainUntil
			}
		}
		byMode[k]++
		if l.LegalHold {
			holds++
		}
	}
	var parts []string
	for k, n := range byMode {
		parts = append(parts, fmt.Sprintf("%d objects %s", n, k))
	}
	slices.Sort(parts)
	s := strings.Join(parts, ", ")
	if holds > 0 {
		s += fmt.Sprintf("; legal hold on %d", holds)
	}
	return s
}

// otherVersions lists the versions of the bag's keys that st does not
// pin, and every delete marker; the custody log's versions are left out
// (it grows with each event), its delete markers are not.
func (s *Store) otherVersions(ctx context.Context, bucket, prefix string, st *chain.Store) ([]Version, error) {
	pinned := map[string]bool{}
	for _, o := range st.Objects {
		pinned[o.Key+"\x00"+o.VersionID] = true
	}
	var out []Version
	for o := range s.core.Client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			return nil, s.classify(o.Err, bucket)
		}
		if pinned[o.Key+"\x00"+orNull(o.VersionID)] || (o.Key == prefix+custodyName && !o.IsDeleteMarker) {
			continue
		}
		out = append(out, Version{Key: o.Key, VersionID: o.VersionID, Time: o.LastModified.UTC(), Size: o.Size,
			DeleteMarker: o.IsDeleteMarker, Latest: o.IsLatest})
	}
	return out, nil
}

func versionsSummary(vs []Version) string {
	if len(vs) == 0 {
		return "no other version and no delete marker: the pinned versions are the only ones"
	}
	var parts []string
	for _, v := range vs {
		what := "another version"
		if v.DeleteMarker {
			what = "a delete marker"
		}
		if v.Latest {
			what += " (the latest)"
		}
		parts = append(parts, fmt.Sprintf("%s: %s %s at %s", path.Base(v.Key), what, v.VersionID, v.Time.Format(time.RFC3339)))
	}
	return fmt.Sprintf("the pinned versions hold; %d more: %s", len(vs), strings.Join(capStrings(parts, 20), "; "))
}

func capStrings(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
}
