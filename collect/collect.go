package collect

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/scelle/scelle/internal/evidence"
)

// Class is an item's volatility class. Lower classes are more volatile and
// are collected first.
type Class int

// Volatility classes, most volatile first (RFC 3227 section 2.1).
const (
	ClassProcess Class = iota + 1 // processes and memory
	ClassNetwork                  // sockets, interfaces, routes, caches
	ClassSystem                   // time, identity, users, kernel state
	ClassTemp                     // temporary file systems
	ClassDisk                     // logs and configuration on disk
)

var classNames = map[Class]string{
	ClassProcess: "process",
	ClassNetwork: "network",
	ClassSystem:  "system",
	ClassTemp:    "temp",
	ClassDisk:    "disk",
}

// String returns the class's name as used in definitions and records.
func (c Class) String() string {
	if n, ok := classNames[c]; ok {
		return n
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// ParseClass returns the class with the given name.
func ParseClass(s string) (Class, error) {
	for c, n := range classNames {
		if n == s {
			return c, nil
		}
	}
	return 0, fmt.Errorf("unknown volatility class %q", s)
}

// MarshalText implements encoding.TextMarshaler.
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *Class) UnmarshalText(b []byte) error {
	v, err := ParseClass(string(b))
	*c = v
	return err
}

// Status is how an item ended (evidence.Status).
type Status = evidence.Status

// Item outcomes. Every planned item ends with exactly one of them.
const (
	Collected = evidence.Collected // stored whole
	Partial   = evidence.Partial   // stored, but not whole: Reason says why
	Skipped   = evidence.Skipped   // deliberately not stored: Reason says why
	Failed    = evidence.Failed    // could not be stored: Reason has the error
)

// Meta describes one artifact handed to a Sink.
type Meta struct {
	// Name is the artifact's path inside the bag's payload folder,
	// slash-separated, without the "data/" prefix: "fs/etc/passwd",
	// "live/proc/net/tcp". It may hold any bytes; the sink encodes it.
	Name string
	// Size is the exact number of bytes the reader will yield, or -1 when
	// it is not known in advance (the sink then buffers, within a bound).
	Size    int64
	ModTime time.Time
	Mode    fs.FileMode
}

// Stored is what a Sink reports about one artifact it stored.
type Stored struct {
	Path   string // path inside the bag, as encoded ("data/fs/etc/passwd")
	Size   int64  // bytes stored
	SHA256 [32]byte
	// Padded counts zero bytes the sink added because the reader ended
	// before Meta.Size bytes (the source shrank or a read failed).
	Padded int64
	// Truncated is set when the reader had more than Meta.Size bytes, or
	// more than the sink's buffer bound for an unknown size.
	Truncated bool
}

// Sink stores artifacts. Put reads r to EOF (or to Meta.Size bytes) and
// returns what it stored. When r fails part way, Put still ends the
// artifact cleanly and returns what it stored with the read error; a
// returned Stored with an empty Path means nothing was stored.
type Sink interface {
	Put(ctx context.Context, m Meta, r io.Reader) (Stored, error)
}

// ReasonNotPresent is the reason of an item skipped because its source
// does not exist on the host.
const ReasonNotPresent = "not present"

// SkipError is returned by a Sink that declines an artifact on purpose
// (an output budget); the item is recorded as skipped with Reason.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return e.Reason }

// Collector captures one source family.
type Collector interface {
	// Name is a stable dotted identifier: "proc.table", "files.etc".
	Name() string
	// Class is the collector's volatility class.
	Class() Class
	// Collect stores artifacts and records outcomes through s. An error
	// return means the collector as a whole failed; per-item problems are
	// recorded as outcomes instead.
	Collect(ctx context.Context, s *Session) error
}
