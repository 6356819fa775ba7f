package bodyfile

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scelle/scelle/internal/bodyfmt"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/internal/safeopen"
)

// DefaultChunkSize is the largest chunk of one output, in bytes.
const DefaultChunkSize = collect.ChunkSize

// MaxDepth is the deepest folder level entered below a root; deeper
// folders are listed and recorded as skipped.
const MaxDepth = 256

// DefaultExclude holds the kernel's virtual trees, never entered from a
// root outside them.
var DefaultExclude = []string{"/proc", "/sys", "/dev"}

// Walker walks trees and stores their bodyfile and lists.
type Walker struct {
	// ID is the collector's name ("bodyfile.fs").
	ID string
	// Vol is the collector's class; 0 means collect.ClassTemp.
	Vol collect.Class
	// Base names the outputs: parsed/bodyfile/<Base>.000.body ...;
	// "" means ID.
	Base string
	// Roots are absolute host paths (under the session's Env.Root) to
	// walk. A root below another root is dropped: it is walked with it.
	Roots []string
	// Exclude holds absolute host paths of folders never entered (the
	// output folder). They apply in addition to DefaultExclude.
	Exclude []string
	// ChunkSize caps one stored chunk; 0 means DefaultChunkSize.
	ChunkSize int
}

// Name implements collect.Collector.
func (w *Walker) Name() string { return w.ID }

// Class implements collect.Collector.
func (w *Walker) Class() collect.Class {
	if w.Vol == 0 {
		return collect.ClassTemp
	}
	return w.Vol
}

func (w *Walker) base() string {
	if w.Base != "" {
		return w.Base
	}
	return w.ID
}

// Entry is one line of a list.
type Entry struct {
	Path string `json:"path"`
	// PathRaw holds the path's bytes when they are not valid UTF-8.
	PathRaw []byte `json:"path_raw,omitempty"`
	// Type is the type letter of the bodyfile (r, d, l, p, c, b, s, -).
	Type string `json:"type"`
	// Mode is the mode as the bodyfile shows it, Perm its octal bits.
	Mode  string     `json:"mode"`
	Perm  string     `json:"perm"`
	UID   uint32     `json:"uid"`
	GID   uint32     `json:"gid"`
	Size  int64      `json:"size"`
	Inode uint64     `json:"inode"`
	Mtime time.Time  `json:"mtime"`
	Ctime time.Time  `json:"ctime"`
	Btime *time.Time `json:"btime,omitempty"`
	// Why says what put the entry on the list ("setuid", "uid 1234 not in
	// /etc/passwd" ...).
	Why []string `json:"why"`
}

// stat is what the walk knows of one entry.
type stat struct {
	mode           uint32 // st_mode
	uid, gid       uint32
	size           int64
	ino            uint64
	atime, mtime   int64
	ctime, crtime  int64
	mtimeT, ctimeT time.Time
	btimeT         *time.Time
}

const (
	sIFMT   = 0o170000
	sIFSOCK = 0o140000
	sIFLNK  = 0o120000
	sIFREG  = 0o100000
	sIFBLK  = 0o060000
	sIFDIR  = 0o040000
	sIFCHR  = 0o020000
	sIFIFO  = 0o010000
	sISUID  = 0o4000
	sISGID  = 0o2000
	sISVTX  = 0o1000
)

// bodyLine appends the bodyfile line of the entry at p to buf.
func bodyLine(buf *bytes.Buffer, p, target string, st *stat) {
	buf.WriteString("0|")
	bodyfmt.EscapeName(buf, p)
	if st.mode&sIFMT == sIFLNK {
		buf.WriteString(" -> ")
		bodyfmt.EscapeName(buf, target)
	}
	fmt.Fprintf(buf, "|%d|%s|%d|%d|%d|%d|%d|%d|%d\n", st.ino, bodyfmt.Mode(st.mode), st.uid, st.gid,
		st.size, st.atime, st.mtime, st.ctime, st.crtime)
}

// entry returns the list line for the entry at p.
func entry(p string, st *stat, why []string) Entry {
	e := Entry{Path: p, Type: string(bodyfmt.TypeLetter(st.mode)), Mode: bodyfmt.Mode(st.mode),
		Perm: fmt.Sprintf("%04o", st.mode&0o7777), UID: st.uid, GID: st.gid, Size: st.size,
		Inode: st.ino, Mtime: st.mtimeT, Ctime: st.ctimeT, Btime: st.btimeT, Why: why}
	if !utf8.ValidString(p) {
		e.PathRaw = []byte(p)
	}
	return e
}

// addJSON adds e to c as one JSON line.
func addJSON(c *collect.Chunks, e Entry) {
	b, err := json.Marshal(e)
	if err != nil { // not reachable: Entry always marshals
		panic(fmt.Sprintf("bodyfile: marshal entry: %v", err))
	}
	c.Write(append(b, '\n'))
}

// cleanRoots returns the roots cleaned, sorted, without duplicates and
// without roots below another root.
func cleanRoots(roots []string) []string {
	var cs []string
	for _, r := range roots {
		cs = append(cs, path.Clean("/"+r))
	}
	sort.Strings(cs)
	var out []string
	for _, r := range cs {
		if len(out) > 0 && within(r, out[len(out)-1]) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// accounts is what the walk needs of the root's account files.
type accounts struct {
	uids, gids map[uint32]bool // nil when the file could not be read
	homes      []string        // login home folders, for the hidden list
}

// maxAccountFile bounds the size of /etc/passwd and /etc/group read.
const maxAccountFile = 64 << 20

// parsePasswd reads passwd(5) lines: the UIDs, and the home folders of
// accounts with a login shell. Malformed lines are ignored.
func parsePasswd(r io.Reader) (uids map[uint32]bool, homes []string, err error) {
	uids = map[uint32]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) < 7 || strings.HasPrefix(f[0], "#") {
			continue
		}
		uid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			continue
		}
		uids[uint32(uid)] = true
		home, shell := path.Clean(f[5]), f[6]
		if !strings.HasPrefix(f[5], "/") || home == "/" ||
			strings.HasSuffix(shell, "nologin") || strings.HasSuffix(shell, "false") {
			continue
		}
		homes = append(homes, home)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("parse passwd: %w", err)
	}
	return uids, homes, nil
}

// parseGroup reads group(5) lines: the GIDs. Malformed lines are ignored.
func parseGroup(r io.Reader) (map[uint32]bool, error) {
	gids := map[uint32]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) < 3 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if gid, err := strconv.ParseUint(f[2], 10, 32); err == nil {
			gids[uint32(gid)] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse group: %w", err)
	}
	return gids, nil
}

// readAccountFile reads the account file p under root.
func readAccountFile(ctx context.Context, root, p string) ([]byte, error) {
	var f *safeopen.File
	var err error
	if root == "" || root == "/" {
		f, err = safeopen.Open(p)
	} else {
		f, err = safeopen.OpenIn(root, p)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(collect.NewContextReader(ctx, f), maxAccountFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if n > maxAccountFile {
		return nil, fmt.Errorf("read %s: larger than %d bytes", p, maxAccountFile)
	}
	return buf.Bytes(), nil
}

// loadAccounts reads the root's passwd and group files, recording a
// failure for each that cannot be read.
func loadAccounts(ctx context.Context, s *collect.Session) accounts {
	a := accounts{homes: []string{"/root"}}
	if b, err := readAccountFile(ctx, s.Env.Root, "/etc/passwd"); err != nil {
		s.Fail("/etc/passwd", collect.KindFile, fmt.Errorf("unowned check by uid and login homes not available: %w", err))
	} else if uids, homes, err := parsePasswd(bytes.NewReader(b)); err != nil {
		s.Fail("/etc/passwd", collect.KindFile, err)
	} else {
		a.uids, a.homes = uids, append(a.homes, homes...)
	}
	if b, err := readAccountFile(ctx, s.Env.Root, "/etc/group"); err != nil {
		s.Fail("/etc/group", collect.KindFile, fmt.Errorf("unowned check by gid not available: %w", err))
	} else if gids, err := parseGroup(bytes.NewReader(b)); err != nil {
		s.Fail("/etc/group", collect.KindFile, err)
	} else {
		a.gids = gids
	}
	return a
}

// onlyDots reports whether name is made only of dots and white space,
// and is not "." or "..".
func onlyDots(name string) bool {
	if name == "." || name == ".." || name == "" {
		return false
	}
	return strings.Trim(name, ". \t\n\v\f\r") == "" && strings.HasPrefix(name, ".")
}

// lists holds the outputs of one walk.
type lists struct {
	body, suid, writable, hidden, unowned *collect.Chunks
	acc                                   accounts
	s                                     *collect.Session
}

func newLists(ctx context.Context, s *collect.Session, base, source string, limit int, acc accounts) *lists {
	mk := func(name, ext string) *collect.Chunks {
		return collect.NewChunks(ctx, s, "parsed/bodyfile/"+name, ext, source, limit)
	}
	return &lists{
		body:     mk(base, "body"),
		suid:     mk(base+".suid", "jsonl"),
		writable: mk(base+".world-writable", "jsonl"),
		hidden:   mk(base+".hidden", "jsonl"),
		unowned:  mk(base+".unowned", "jsonl"),
		acc:      acc,
		s:        s,
	}
}

// add records the entry at p (named name in its folder) in every output
// it belongs to.
func (l *lists) add(p, name, target string, st *stat, line *bytes.Buffer) {
	line.Reset()
	bodyLine(line, p, target, st)
	l.body.Write(line.Bytes())
	typ := st.mode & sIFMT
	if typ != sIFDIR && st.mode&(sISUID|sISGID) != 0 {
		var why []string
		if st.mode&sISUID != 0 {
			why = append(why, "setuid")
		}
		if st.mode&sISGID != 0 {
			why = append(why, "setgid")
		}
		addJSON(l.suid, entry(p, st, why))
	}
	if typ != sIFLNK && st.mode&0o002 != 0 && !(typ == sIFDIR && st.mode&sISVTX != 0) {
		addJSON(l.writable, entry(p, st, []string{"world-writable"}))
	}
	if strings.HasPrefix(name, ".") {
		switch {
		case onlyDots(name):
			addJSON(l.hidden, entry(p, st, []string{"name of only dots and white space"}))
		case !l.underHome(p):
			addJSON(l.hidden, entry(p, st, []string{"dot name outside login home folders"}))
		}
	}
	var why []string
	if l.acc.uids != nil && !l.acc.uids[st.uid] {
		why = append(why, fmt.Sprintf("uid %d not in /etc/passwd", st.uid))
	}
	if l.acc.gids != nil && !l.acc.gids[st.gid] {
		why = append(why, fmt.Sprintf("gid %d not in /etc/group", st.gid))
	}
	if why != nil {
		addJSON(l.unowned, entry(p, st, why))
	}
}

// underHome reports whether p lies below a login home folder.
func (l *lists) underHome(p string) bool {
	for _, h := range l.acc.homes {
		if strings.HasPrefix(p, h+"/") {
			return true
		}
	}
	return false
}

func (l *lists) close(ctx context.Context) {
	for _, c := range []*collect.Chunks{l.body, l.suid, l.writable, l.hidden} {
		c.Close(ctx)
	}
	if l.acc.uids == nil && l.acc.gids == nil {
		l.s.Skip(l.unowned.Name(0), collect.KindGenerated,
			"not made: neither /etc/passwd nor /etc/group could be read")
		return
	}
	l.unowned.Close(ctx)
}
