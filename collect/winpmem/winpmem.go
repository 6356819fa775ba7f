package winpmem

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/collect/memory"
	"github.com/scelle/scelle/internal/evidence"
)

// The bag entries (names below data/).
const (
	SourceEntry = "live/memory/winpmem.json"
	StderrEntry = "live/memory/winpmem.stderr"
	ImageDir    = "live/memory/winpmem"
	RangesEntry = "live/memory/ranges.jsonl"
)

// EntryChunk is the most bytes of the image one entry holds, and the
// collector's buffer: the Linux capture's, for the same reasons (the
// heap's room under its limit above all).
const EntryChunk = memory.EntryChunk

// maxStderr bounds the standard error kept.
const maxStderr = 1 << 20

// CollectorName names the collector; ItemSource is the source of its items.
const (
	CollectorName = "memory.winpmem"
	ItemSource    = "physical memory"
)

// SkippedReason is the reason recorded when no WinPmem is given.
const SkippedReason = "physical memory on Windows needs a signed kernel driver, which scelle does not ship: give --winpmem PATH, the examiner's own WinPmem"

// ChunkName is the entry of the chunk that starts at offset off of the
// raw image: 16 hex digits, so that name order is offset order.
func ChunkName(off uint64) string { return fmt.Sprintf("%s/%016x.raw", ImageDir, off) }

// RangeLine is one line of RangesEntry: collect/memory's format, with
// the source "winpmem" and Start and End offsets in the raw image (which
// WinPmem lays out by physical address).
type RangeLine = memory.RangeLine

// Source is SourceEntry's content.
type Source struct {
	Program string   `json:"program"`
	Args    []string `json:"args"`
	// SHA256 is the program's hash before it was started; SHA256After,
	// once it ran (the file held open between the two).
	SHA256      string `json:"sha256"`
	SHA256After string `json:"sha256_after_start,omitempty"`
	Size        int64  `json:"size"`
	Started     string `json:"started,omitempty"`
	Ended       string `json:"ended,omitempty"`
	// ExitStatus is the program's exit code; nil when it did not end by
	// itself (killed, or not started).
	ExitStatus *int  `json:"exit_status,omitempty"`
	Bytes      int64 `json:"bytes"`
	// ImageSHA256 is the SHA-256 of the whole raw stream read.
	ImageSHA256 string `json:"image_sha256"`
	Error       string `json:"error,omitempty"`
}

// Collector runs WinPmem at Path (absolute; "" records RAM as skipped).
type Collector struct {
	Path string
	Args []string // nil: "-"
}

func (c *Collector) Name() string         { return CollectorName }
func (c *Collector) Class() collect.Class { return collect.ClassSystem }

// TimeLimit implements collect.Lengthy: memory.CaptureLimit for the
// host's physical memory, as collect/memory allows on Linux. Where the
// size is unknown, the Runner's timeout.
func (c *Collector) TimeLimit(timeout time.Duration) time.Duration {
	total, err := physicalMemory()
	if c.Path == "" || err != nil || total == 0 {
		return timeout
	}
	return memory.CaptureLimit(timeout, total)
}

// ErrChanged is wrapped by the failure recorded when the program changed
// between hashing and running.
var ErrChanged = errors.New("WinPmem changed between hashing and running: refused")

func (c *Collector) Collect(ctx context.Context, s *collect.Session) error {
	if c.Path == "" {
		s.Skip(ItemSource, evidence.KindGenerated, SkippedReason)
		return nil
	}
	args := c.Args
	if args == nil {
		args = []string{"-"}
	}
	src := Source{Program: c.Path, Args: args}
	err := c.run(ctx, s, &src)
	if err != nil {
		src.Error = err.Error()
		s.Fail(ItemSource, evidence.KindGenerated, fmt.Errorf("winpmem %s: %w", c.Path, err))
	}
	b, _ := json.MarshalIndent(&src, "", "  ")
	s.PutBytes(ctx, SourceEntry, c.Path, append(b, '\n'))
	return ctx.Err()
}

// run hashes, starts and reads the program, filling src.
func (c *Collector) run(ctx context.Context, s *collect.Session, src *Source) error {
	if !filepath.IsAbs(c.Path) {
		return errors.New("not an absolute path")
	}
	if fi, err := os.Stat(c.Path); err == nil && !fi.Mode().IsRegular() {
		return errors.New("not a regular file") // Windows opens no folder as a file
	}
	f, err := openHeld(c.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	src.Size = fi.Size()
	if src.SHA256, err = hashFile(f); err != nil {
		return err
	}
	pctx, kill := context.WithCancel(ctx)
	defer kill()
	cmd := exec.CommandContext(pctx, c.Path, src.Args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr := &boundedBuffer{max: maxStderr}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	src.Started = time.Now().UTC().Format(time.RFC3339Nano)
	if src.SHA256After, err = hashFile(f); err != nil || src.SHA256After != src.SHA256 {
		kill()
		cmd.Wait()
		if err != nil {
			return fmt.Errorf("hash again once started: %w", err)
		}
		return fmt.Errorf("%w: SHA-256 %s before, %s once started", ErrChanged, src.SHA256, src.SHA256After)
	}
	lines, readErr := c.stream(ctx, s, stdout, src)
	if readErr != nil {
		kill()
	}
	io.Copy(io.Discard, stdout) // let it end if it still writes
	waitErr := cmd.Wait()
	src.Ended = time.Now().UTC().Format(time.RFC3339Nano)
	if ps := cmd.ProcessState; ps != nil && ps.Exited() {
		code := ps.ExitCode()
		src.ExitStatus = &code
	}
	var jl bytes.Buffer
	enc := json.NewEncoder(&jl)
	for _, l := range lines {
		enc.Encode(l)
	}
	s.PutBytes(ctx, RangesEntry, c.Path, jl.Bytes())
	if stderr.Len() > 0 {
		s.PutBytes(ctx, StderrEntry, c.Path, stderr.Bytes())
	}
	switch {
	case readErr != nil:
		return readErr
	case src.ExitStatus == nil:
		return fmt.Errorf("did not end by itself: %v", waitErr)
	case *src.ExitStatus != 0:
		return fmt.Errorf("exit status %d (the image holds the %d bytes it wrote)", *src.ExitStatus, src.Bytes)
	case src.Bytes == 0:
		return errors.New("wrote nothing")
	}
	return nil
}

// stream stores r in chunks and returns a RangeLine for each.
func (c *Collector) stream(ctx context.Context, s *collect.Session, r io.Reader, src *Source) ([]RangeLine, error) {
	buf := make([]byte, EntryChunk)
	whole := sha256.New()
	var lines []RangeLine
	defer func() { src.ImageSHA256 = hex.EncodeToString(whole.Sum(nil)) }()
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			whole.Write(buf[:n])
			off := uint64(src.Bytes)
			src.Bytes += int64(n)
			o := s.PutReader(ctx, ChunkName(off), ItemSource, evidence.KindGenerated, int64(n), bytes.NewReader(buf[:n]))
			l := RangeLine{Start: fmt.Sprintf("0x%x", off), End: fmt.Sprintf("0x%x", off+uint64(n)-1), Bytes: uint64(n),
				Source: "winpmem", Status: string(o.Status), Reason: o.Reason}
			if o.Path != "" {
				l.Entry, l.SHA256 = o.Path, o.SHA256
			}
			lines = append(lines, l)
		}
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return lines, nil
		case err != nil:
			return lines, fmt.Errorf("read its output: %w", err)
		case ctx.Err() != nil:
			return lines, ctx.Err()
		}
	}
}

func hashFile(f *os.File) (string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// boundedBuffer keeps the first max bytes written to it.
type boundedBuffer struct {
	mu  sync.Mutex
	b   bytes.Buffer
	max int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.b.Len(); room > 0 {
		b.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *boundedBuffer) Len() int { b.mu.Lock(); defer b.mu.Unlock(); return b.b.Len() }
func (b *boundedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.b.Bytes())
}
