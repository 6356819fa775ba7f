package export

import (
	"bytes"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/scelle/scelle/internal/bodyfmt"
	"github.com/scelle/scelle/internal/evidence"
)

// The bodyfile export: a Sleuth Kit 3.x bodyfile
//
//	MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|crtime
//
// that mactime -b turns into a timeline. It holds, first, one line for
// every item of the record that has a stat_before (the files collected,
// links recorded, special files recorded but never opened), with the
// item's original host path and the metadata read before the file was
// read; then the bodyfile chunks the collection stored under
// parsed/bodyfile/ (<base>.000.body, <base>.001.body ...), as stored, in
// archive order, which is their number order: those of collect/bodyfile's
// walks and the $MFT timelines of NTFS volumes (ntfs.timeline,
// mft-VOLUME.NNN.body, names starting with "VOLUME:"). MD5 is always 0. Names are
// escaped as package collect/bodyfile escapes them ('%', '|' and the '>'
// of "->" as %HH, control bytes as \ooo, '\' as \\), so that the two
// parts read alike; times are whole seconds since 1970 UTC, crtime 0 when
// no birth time is known.

// itemHostPath is the item's original host path as bytes: source_raw when
// the path is not valid UTF-8, else source.
func itemHostPath(it *evidence.Item) string {
	if len(it.SourceRaw) > 0 {
		return string(it.SourceRaw)
	}
	return it.Source
}

// bodyChunk matches the bodyfile chunks of collect/bodyfile.
var bodyChunk = regexp.MustCompile(`^data/parsed/bodyfile/[^/]+\.[0-9]{3,}\.body$`)

type bodyfileExport struct {
	line bytes.Buffer
}

func (x *bodyfileExport) begin(b *exportBag) error { return nil }

func (x *bodyfileExport) item(b *exportBag, it *evidence.Item) error {
	st := it.Before
	if st == nil || it.Source == "" {
		return nil
	}
	x.line.Reset()
	x.line.WriteString("0|")
	bodyfmt.EscapeName(&x.line, itemHostPath(it))
	if st.Perm&0o170000 == 0o120000 && it.LinkTarget != "" {
		x.line.WriteString(" -> ")
		bodyfmt.EscapeName(&x.line, it.LinkTarget)
	}
	x.line.WriteByte('|')
	x.line.WriteString(strconv.FormatUint(st.Inode, 10))
	x.line.WriteByte('|')
	x.line.WriteString(bodyfmt.Mode(st.Perm))
	for _, v := range []int64{int64(st.UID), int64(st.GID), st.Size, st.Atime.Unix(), st.Mtime.Unix(), st.Ctime.Unix(), unixOrZero(btime(st))} {
		x.line.WriteByte('|')
		x.line.WriteString(strconv.FormatInt(v, 10))
	}
	x.line.WriteByte('\n')
	b.stats.Records++
	_, err := b.w.Write(x.line.Bytes())
	return err
}

func (x *bodyfileExport) wants(path string) bool { return bodyChunk.MatchString(path) }

func (x *bodyfileExport) entry(b *exportBag, path string, _ storedItem, r io.Reader) error {
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			b.stats.Records += bytes.Count(buf[:n], []byte{'\n'})
			if _, werr := b.w.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (x *bodyfileExport) end(b *exportBag) error { return nil }

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// btime is the stat's birth time; zero when unknown.
func btime(st *evidence.Stat) time.Time {
	if st.Btime == nil {
		return time.Time{}
	}
	return *st.Btime
}
