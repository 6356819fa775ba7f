package users

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/internal/safeopen"
)

// Host paths read by the collectors.
const (
	UtmpPath    = "/run/utmp"
	WtmpPath    = "/var/log/wtmp"
	BtmpPath    = "/var/log/btmp"
	LastlogPath = "/var/log/lastlog"
	WtmpDBDir   = "/var/lib/wtmpdb"
	Lastlog2Dir = "/var/lib/lastlog"
)

// LastlogRawCap bounds the raw copy of /var/log/lastlog, a sparse file
// whose apparent size grows with the highest uid that logged in (about
// 1.2 TB for uid 2^32-2). Records past the cap are still parsed.
const LastlogRawCap = 256 << 20

// maxAccountsFile bounds each of passwd, shadow and group read for
// parsing.
const maxAccountsFile = 32 << 20

const deadBox = "dead-box collection: volatile state not available"

// Collectors returns the collectors of this package: users.utmp,
// users.wtmp, users.btmp, users.lastlog and users.accounts.
func Collectors() []collect.Collector {
	return []collect.Collector{NewUtmp(), NewWtmp(), NewBtmp(), NewLastlog(), NewAccounts()}
}

// NewUtmp returns the collector "users.utmp": the users logged in now.
// It stores /run/utmp raw and parsed as live/users/utmp.jsonl; in a
// dead-box collection it records the item as skipped.
func NewUtmp() collect.Collector {
	return &loginLog{id: "users.utmp", path: UtmpPath, live: true}
}

// NewWtmp returns the collector "users.wtmp": the login history. It stores
// /var/log/wtmp and its rotated copies raw, each uncompressed one also
// parsed as parsed/users/<name>.jsonl, and the wtmpdb database files
// under /var/lib/wtmpdb raw.
func NewWtmp() collect.Collector {
	return &loginLog{id: "users.wtmp", path: WtmpPath, rotated: true, db: WtmpDBDir, dbPrimary: "wtmp.db", dbPrefix: "wtmp"}
}

// NewBtmp returns the collector "users.btmp": failed logins, from
// /var/log/btmp and its rotated copies, stored as wtmp is.
func NewBtmp() collect.Collector {
	return &loginLog{id: "users.btmp", path: BtmpPath, rotated: true}
}

// loginLog collects a file of utmp records.
type loginLog struct {
	id      string
	path    string
	live    bool // volatile: skipped in dead-box, parsed under live/
	rotated bool // also the rotated copies beside path
	// db, when set, is a folder of SQLite files to store raw.
	db, dbPrimary, dbPrefix string
}

func (c *loginLog) Name() string         { return c.id }
func (c *loginLog) Class() collect.Class { return collect.ClassSystem }

func (c *loginLog) Collect(ctx context.Context, s *collect.Session) error {
	if c.live && !s.Env.Live {
		s.Skip(c.path, collect.KindFile, deadBox)
		return nil
	}
	paths := []string{c.path}
	if c.rotated {
		paths = append(paths, rotations(s, c.path)...)
	}
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := "parsed/users/" + path.Base(p) + ".jsonl"
		if c.live {
			name = "live/users/" + path.Base(p) + ".jsonl"
		}
		o := s.CopyFile(ctx, p, 0)
		if !notParsed(s, p, o) {
			parseUtmpFile(ctx, s, p, name, o.Before)
		}
	}
	if c.db != "" {
		if err := ctx.Err(); err != nil {
			return err
		}
		collectDB(ctx, s, c.db, c.dbPrimary, c.dbPrefix)
	}
	return ctx.Err()
}

// itemContext bounds the parsing of one item by Env.ItemTimeout.
func itemContext(ctx context.Context, env *collect.Env) (context.Context, context.CancelFunc) {
	if env.ItemTimeout > 0 {
		return context.WithTimeout(ctx, env.ItemTimeout)
	}
	return context.WithCancel(ctx)
}

// openForParsing opens the host file p again, to parse what its raw copy
// read (before), with a context bounded by the item timeout. When it
// cannot, or p is no longer the file copied, it records why and returns a
// nil file; else done closes the file and ends the context.
func openForParsing(ctx context.Context, s *collect.Session, p string, before *collect.FileStat) (context.Context, *safeopen.File, func()) {
	f, err := openHost(s.Env, p)
	if err != nil {
		s.Fail(p, collect.KindGenerated, fmt.Errorf("open for parsing: %w", err))
		return ctx, nil, nil
	}
	if why := replaced(f, before); why != "" {
		f.Close()
		s.Skip(p, collect.KindGenerated, "not parsed: "+why)
		return ctx, nil, nil
	}
	ictx, cancel := itemContext(ctx, s.Env)
	return ictx, f, func() { f.Close(); cancel() }
}

// parseUtmpFile stores the records of the utmp-format host file p as the
// JSON Lines artifact name, reading the bytes the raw copy saw (before).
func parseUtmpFile(ctx context.Context, s *collect.Session, p, name string, before *collect.FileStat) {
	ctx, f, done := openForParsing(ctx, s, p, before)
	if f == nil {
		return
	}
	defer done()
	size := before.Size
	head := make([]byte, min(size, DetectHeadSize))
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		s.Fail(p, collect.KindGenerated, fmt.Errorf("read for parsing: %w", err))
		return
	}
	head = head[:n]
	if format := compression(p, head); format != "" {
		s.Skip(p, collect.KindGenerated, format+"-compressed: stored raw, not parsed")
		return
	}
	layout := DetectUtmpLayout(head, size)
	putJSONL(ctx, s, name, p, func(w io.Writer) error {
		r := io.NewSectionReader(f, 0, size)
		br := bufio.NewReaderSize(collect.NewContextReader(ctx, r), 256<<10)
		return writeUtmp(w, NewUtmpReader(br, layout))
	})
}

// NewLastlog returns the collector "users.lastlog": the last login of
// each uid. It stores /var/log/lastlog raw (up to LastlogRawCap), its
// non-empty records parsed as parsed/users/lastlog.jsonl with the account
// names /etc/passwd gives their uid, and the lastlog2 database files under
// /var/lib/lastlog raw.
func NewLastlog() collect.Collector { return lastlog{} }

type lastlog struct{}

func (lastlog) Name() string         { return "users.lastlog" }
func (lastlog) Class() collect.Class { return collect.ClassSystem }

func (lastlog) Collect(ctx context.Context, s *collect.Session) error {
	limit := int64(LastlogRawCap)
	if s.Env.MaxFileSize > 0 {
		limit = min(limit, s.Env.MaxFileSize)
	}
	o := s.CopyFile(ctx, LastlogPath, limit)
	if !notParsed(s, LastlogPath, o) {
		parseLastlogFile(ctx, s, o.Before)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	collectDB(ctx, s, Lastlog2Dir, "lastlog2.db", "lastlog2.db")
	return ctx.Err()
}

func parseLastlogFile(ctx context.Context, s *collect.Session, before *collect.FileStat) {
	const p = LastlogPath
	ctx, f, done := openForParsing(ctx, s, p, before)
	if f == nil {
		return
	}
	defer done()
	size := before.Size
	next := dataFinder(f.File, size)
	layout := DetectLastlogLayout(f, size, next)
	var names map[uint64][]string
	if b, err := readHost(ctx, s.Env, "/etc/passwd", maxAccountsFile); err == nil {
		names = map[uint64][]string{}
		for _, e := range parsePasswd(b) {
			if e.uidOK && !isNIS(e.Name) {
				names[uint64(e.UID)] = append(names[uint64(e.UID)], e.Name)
			}
		}
	}
	putJSONL(ctx, s, "parsed/users/lastlog.jsonl", p, func(w io.Writer) error {
		enc := newEncoder(w)
		err := ScanLastlog(f, size, layout, next, func(r LastlogRecord) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			r.Names = names[r.UID]
			return enc.Encode(r)
		})
		if pe := (*PartialRecordError)(nil); errors.As(err, &pe) {
			return enc.Encode(newPartialLine(pe))
		}
		return err
	})
}

// NewAccounts returns the collector "users.accounts": /etc/passwd,
// /etc/group, /etc/shadow and /etc/gshadow raw, and the accounts they
// define as parsed/users/accounts.jsonl, with the state of each password
// but never its hash.
func NewAccounts() collect.Collector { return accounts{} }

type accounts struct{}

func (accounts) Name() string         { return "users.accounts" }
func (accounts) Class() collect.Class { return collect.ClassSystem }

func (accounts) Collect(ctx context.Context, s *collect.Session) error {
	for _, p := range []string{"/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow"} {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.CopyFile(ctx, p, 0)
	}
	ictx, cancel := itemContext(ctx, s.Env)
	defer cancel()
	passwd, err := readHost(ictx, s.Env, "/etc/passwd", maxAccountsFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			s.Skip("/etc/passwd", collect.KindGenerated, "accounts not parsed: /etc/passwd not present")
		} else {
			s.Fail("/etc/passwd", collect.KindGenerated, fmt.Errorf("parse accounts: %w", err))
		}
		return ctx.Err()
	}
	shadowErr := ""
	shadow, err := readHost(ictx, s.Env, "/etc/shadow", maxAccountsFile)
	if err != nil {
		shadowErr = err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			shadowErr = "not present"
		}
	}
	group, _ := readHost(ictx, s.Env, "/etc/group", maxAccountsFile)
	var buf bytes.Buffer
	enc := newEncoder(&buf)
	for _, r := range buildAccounts(passwd, shadow, group, shadowErr) {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("encode account: %w", err)
		}
	}
	s.PutBytes(ctx, "parsed/users/accounts.jsonl", "/etc/passwd", buf.Bytes())
	return ctx.Err()
}

// Homes returns the accounts of /etc/passwd under env.Root that name a
// home folder, for collectors of per-user traces. NIS compat lines
// ("+", "-") and lines glibc would reject (fewer than 6 fields, no valid
// uid) are left out; accounts.jsonl reports them.
func Homes(env *collect.Env) ([]Account, error) {
	ctx, cancel := itemContext(context.Background(), env)
	defer cancel()
	b, err := readHost(ctx, env, "/etc/passwd", maxAccountsFile)
	if err != nil {
		return nil, fmt.Errorf("read accounts: %w", err)
	}
	var out []Account
	for _, e := range parsePasswd(b) {
		if e.fields >= 6 && e.uidOK && e.Name != "" && !isNIS(e.Name) {
			out = append(out, e.Account)
		}
	}
	return out, nil
}
