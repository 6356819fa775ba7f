package vault

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/minio/sha256-simd"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/internal/hint"
	"github.com/scelle/scelle/seal"
)

// TicketFormat names the upload ticket's format.
const TicketFormat = "scelle-upload-ticket-1"

// MaxTicketPut is the largest file a ticket's single PUT takes (S3's
// limit for one PUT).
const MaxTicketPut = 5 << 30

// ticketFiles are the names a ticket has a URL for: every file a bag's
// folder can hold.
var ticketFiles = func() []string {
	names := []string{seal.ArchiveFile, seal.ArchiveSumFile, seal.EncryptedArchiveFile, seal.EncryptedArchiveSumFile,
		seal.RecordFile, seal.RootFile, seal.SigFile, seal.PubFile, seal.JournalFile, chain.CustodyFile,
		"tpm.json", "report.html", "report.pdf"}
	for n := 1; n <= 4; n++ {
		names = append(names, fmt.Sprintf("timestamp-%d.tsr", n), fmt.Sprintf("timestamp-%d.ca.pem", n))
	}
	return names
}()

// Ticket lets whoever holds it store bags under a bucket's prefix, one
// bag a slot, and nothing else: each URL is a pre-signed PUT of one key,
// with the Object Lock headers signed into it, valid until Expires. It
// holds no credentials, but it is a bearer token until it expires: keep
// it like a key.
type Ticket struct {
	Format   string       `json:"format"`
	Endpoint string       `json:"endpoint"`
	Bucket   string       `json:"bucket"`
	Expires  time.Time    `json:"expires"`
	Headers  http.Header  `json:"headers,omitempty"` // signed into every URL: send them as they are
	Slots    []TicketSlot `json:"slots"`
}

// TicketSlot is the folder of one bag and a PUT URL per file name.
type TicketSlot struct {
	Name   string            `json:"name"`
	Prefix string            `json:"prefix"`
	URLs   map[string]string `json:"urls"`
}

// PresignOptions tune Presign.
type PresignOptions struct {
	Hosts       int           // slots, one a bag
	Expires     time.Duration // at most 7 days (S3's limit)
	RetainUntil time.Time     // COMPLIANCE retention signed into each URL; zero: the bucket's default
	LegalHold   bool
}

// Presign makes a ticket for opts.Hosts bags under loc, slot i's bag
// going to PREFIX/host-NN/. It checks that the bucket has Object Lock
// (a ticket for a bucket without it is refused).
func (s *Store) Presign(ctx context.Context, loc Location, opts PresignOptions) (*Ticket, error) {
	if opts.Hosts < 1 || opts.Hosts > 1000 {
		return nil, fmt.Errorf("hosts %d: between 1 and 1000", opts.Hosts)
	}
	if opts.Expires <= 0 || opts.Expires > 7*24*time.Hour {
		return nil, fmt.Errorf("expires %v: more than 0, at most 7 days", opts.Expires)
	}
	locked, _, err := s.lockConfig(ctx, loc.Bucket)
	if err != nil {
		return nil, err
	}
	if !locked {
		return nil, hint.Wrap(fmt.Errorf("%s: %w", loc.Bucket, ErrNoLock), "tickets are for buckets with Object Lock")
	}
	t := &Ticket{Format: TicketFormat, Endpoint: s.cfg.Endpoint, Bucket: loc.Bucket,
		Expires: time.Now().Add(opts.Expires).UTC().Truncate(time.Second), Headers: http.Header{}}
	if !opts.RetainUntil.IsZero() {
		t.Headers.Set("X-Amz-Object-Lock-Mode", "COMPLIANCE")
		t.Headers.Set("X-Amz-Object-Lock-Retain-Until-Date", opts.RetainUntil.UTC().Format(time.RFC3339))
	}
	if opts.LegalHold {
		t.Headers.Set("X-Amz-Object-Lock-Legal-Hold", "ON")
	}
	for i := 1; i <= opts.Hosts; i++ {
		slot := TicketSlot{Name: fmt.Sprintf("host-%02d", i), URLs: map[string]string{}}
		slot.Prefix = loc.folder() + slot.Name + "/"
		for _, n := range ticketFiles {
			u, err := s.core.PresignHeader(ctx, http.MethodPut, loc.Bucket, slot.Prefix+n, opts.Expires, nil, t.Headers)
			if err != nil {
				return nil, s.classify(err, loc.Bucket)
			}
			slot.URLs[n] = u.String()
		}
		t.Slots = append(t.Slots, slot)
	}
	return t, nil
}

// WriteTicket writes t to path, readable by its owner only; an existing
// file is not replaced.
func WriteTicket(path string, t *Ticket) error {
	b, err := json.MarshalIndent(t, "", " ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// ReadTicket reads a ticket file.
func ReadTicket(path string) (*Ticket, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var t Ticket
	dec := json.NewDecoder(io.LimitReader(f, 16<<20))
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, ErrTicket, err)
	}
	if t.Format != TicketFormat || t.Bucket == "" || len(t.Slots) == 0 {
		return nil, fmt.Errorf("%s: %w: not a %s file", path, ErrTicket, TicketFormat)
	}
	return &t, nil
}

// PushTicket is Push with a ticket instead of credentials: the bag goes
// to the slot named slot ("" for a ticket of one slot), each file in one
// PUT with its Content-MD5, which the store checks. The ticket cannot
// read, so a push cut short sends every file again, and the retention
// recorded is the one the ticket asked for.
func PushTicket(ctx context.Context, dir string, t *Ticket, slot string, opts PushOptions, client *http.Client) (*PushResult, error) {
	if client == nil {
		client = http.DefaultClient
	}
	if opts.Key == nil {
		return nil, errors.New("push: no signing key")
	}
	sl, err := t.slot(slot)
	if err != nil {
		return nil, err
	}
	if time.Now().After(t.Expires) {
		return nil, hint.Wrap(fmt.Errorf("%w: it expired at %s", ErrTicket, t.Expires.Format(time.RFC3339)), "ask the examiner for a new ticket (scelle vault presign)")
	}
	if err := verifyBag(dir); err != nil {
		return nil, err
	}
	files, err := bagFiles(dir)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if sl.URLs[f] == "" {
			return nil, fmt.Errorf("%w: no URL for %s", ErrTicket, f)
		}
	}
	res := &PushResult{Store: chain.Store{Endpoint: t.Endpoint, Bucket: t.Bucket, Prefix: sl.Prefix}}
	mode, until := t.Headers.Get("X-Amz-Object-Lock-Mode"), t.Headers.Get("X-Amz-Object-Lock-Retain-Until-Date")
	for _, f := range files {
		o, err := ticketPut(ctx, client, t, sl, dir, f)
		if err != nil {
			return res, fmt.Errorf("push %s: %w", f, err)
		}
		o.Retention, o.RetainUntil, o.LegalHold = mode, until, t.Headers.Get("X-Amz-Object-Lock-Legal-Hold") == "ON"
		res.Uploaded++
		res.Sent += o.Size
		res.Store.Objects = append(res.Store.Objects, o)
	}
	ev := chain.CustodyEvent{Event: chain.EventStored, Actor: opts.Actor, Store: &res.Store}
	if res.Entry, err = chain.AppendCustody(dir, ev, opts.Key); err != nil {
		return res, err
	}
	if _, err := ticketPut(ctx, client, t, sl, dir, chain.CustodyFile); err != nil {
		return res, fmt.Errorf("push %s: %w", chain.CustodyFile, err)
	}
	return res, nil
}

func (t *Ticket) slot(name string) (*TicketSlot, error) {
	if name == "" {
		if len(t.Slots) == 1 {
			return &t.Slots[0], nil
		}
		return nil, hint.Wrap(fmt.Errorf("%w: it has %d slots", ErrTicket, len(t.Slots)), "give --slot host-NN: one slot a bag, as the examiner handed them out")
	}
	i := slices.IndexFunc(t.Slots, func(s TicketSlot) bool { return s.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("%w: no slot %q", ErrTicket, name)
	}
	return &t.Slots[i], nil
}

// ticketPut sends one file with its URL.
func ticketPut(ctx context.Context, client *http.Client, t *Ticket, sl *TicketSlot, dir, name string) (chain.StoredObject, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return chain.StoredObject{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return chain.StoredObject{}, err
	}
	if fi.Size() > MaxTicketPut {
		return chain.StoredObject{}, hint.Wrap(fmt.Errorf("%d bytes: a ticket sends one PUT a file, at most %d bytes", fi.Size(), int64(MaxTicketPut)),
			"push with short-lived credentials instead (docs/vault.md)")
	}
	h, m := sha256.New(), md5.New()
	if _, err := io.Copy(io.MultiWriter(h, m), f); err != nil {
		return chain.StoredObject{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, sl.URLs[name], io.NewSectionReader(f, 0, fi.Size()))
	if err != nil {
		return chain.StoredObject{}, fmt.Errorf("%w: %v", ErrTicket, err)
	}
	req.ContentLength = fi.Size()
	for k, v := range t.Headers {
		req.Header[k] = v
	}
	req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	resp, err := client.Do(req)
	if err != nil {
		return chain.StoredObject{}, hint.Wrap(fmt.Errorf("%s: %w (%v)", t.Endpoint, ErrUnreachable, err), "check the network to the store")
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		code := xmlValue(body, "Code")
		msg := fmt.Errorf("%w: the store answered %s (%s %s)", ErrTicket, resp.Status, code, xmlValue(body, "Message"))
		if code == "AccessDenied" && bytes.Contains(body, []byte("xpired")) || strings.Contains(xmlValue(body, "Message"), "xpired") {
			return chain.StoredObject{}, hint.Wrap(msg, "the ticket has expired: ask the examiner for a new one")
		}
		return chain.StoredObject{}, msg
	}
	return chain.StoredObject{Key: sl.Prefix + name, VersionID: orNull(resp.Header.Get("X-Amz-Version-Id")),
		ETag: strings.Trim(resp.Header.Get("ETag"), `"`), SHA256: hex.EncodeToString(h.Sum(nil)), Size: fi.Size()}, nil
}

// xmlValue returns the text of the first <tag> of an S3 error body.
func xmlValue(b []byte, tag string) string {
	_, rest, ok := bytes.Cut(b, []byte("<"+tag+">"))
	if !ok {
		return ""
	}
	v, _, _ := bytes.Cut(rest, []byte("</"+tag+">"))
	return string(v)
}
