package mft

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// appendJSON appends te as one JSON object, the way encoding/json
// encodes TimelineEntry (same keys, order and omitempty rules; HTML
// characters not escaped), without reflection: the timeline writes one
// per entry. TestAppendJSON checks the two agree.
func appendJSON(b []byte, te *TimelineEntry) []byte {
	b = append(b, `{"entry":`...)
	b = strconv.AppendUint(b, te.Entry, 10)
	b = append(b, `,"sequence":`...)
	b = strconv.AppendUint(b, uint64(te.Sequence), 10)
	b = append(b, `,"in_use":`...)
	b = strconv.AppendBool(b, te.InUse)
	b = append(b, `,"deleted":`...)
	b = strconv.AppendBool(b, te.Deleted)
	b = append(b, `,"dir":`...)
	b = strconv.AppendBool(b, te.Dir)
	b = appendStringField(b, "path", te.Path)
	if te.Orphan {
		b = append(b, `,"orphan":true`...)
	}
	b = appendStringField(b, "name", te.Name)
	b = appendStringField(b, "namespace", te.Namespace)
	if te.Parent != nil {
		b = append(b, `,"parent_entry":`...)
		b = strconv.AppendUint(b, *te.Parent, 10)
	}
	if te.ParentSeq != nil {
		b = append(b, `,"parent_sequence":`...)
		b = strconv.AppendUint(b, uint64(*te.ParentSeq), 10)
	}
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, te.Size, 10)
	b = append(b, `,"allocated":`...)
	b = strconv.AppendInt(b, te.Allocated, 10)
	for _, f := range []struct {
		key string
		v   bool
	}{{"resident", te.Resident}, {"sparse", te.Sparse}, {"compressed", te.Compressed}, {"encrypted", te.Encrypted}} {
		if f.v {
			b = append(b, `,"`...)
			b = append(b, f.key...)
			b = append(b, `":true`...)
		}
	}
	if te.Runs != 0 {
		b = append(b, `,"runs":`...)
		b = strconv.AppendInt(b, int64(te.Runs), 10)
	}
	b = appendStringField(b, "attributes", te.Attributes)
	b = append(b, `,"link_count":`...)
	b = strconv.AppendUint(b, uint64(te.LinkCount), 10)
	b = append(b, `,"lsn":`...)
	b = strconv.AppendUint(b, te.LSN, 10)
	b = appendMACB(b, "si", te.SI)
	b = appendMACB(b, "fn", te.FN)
	if len(te.Links) > 0 {
		b = append(b, `,"links":[`...)
		for i, l := range te.Links {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, l)
		}
		b = append(b, ']')
	}
	if len(te.Streams) > 0 {
		b = append(b, `,"streams":[`...)
		for i, s := range te.Streams {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendString(b, s.Name)
			b = append(b, `,"size":`...)
			b = strconv.AppendInt(b, s.Size, 10)
			if s.Resident {
				b = append(b, `,"resident":true`...)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendStringField(b, "error", te.Error)
	return append(b, "}\n"...)
}

func appendMACB(b []byte, key string, m *MACB) []byte {
	if m == nil {
		return b
	}
	b = append(b, `,"`...)
	b = append(b, key...)
	b = append(b, `":{"modified":`...)
	b = appendString(b, m.Modified)
	b = append(b, `,"accessed":`...)
	b = appendString(b, m.Accessed)
	b = append(b, `,"changed":`...)
	b = appendString(b, m.Changed)
	b = append(b, `,"created":`...)
	b = appendString(b, m.Created)
	return append(b, '}')
}

// appendStringField appends ,"key":"s" unless s is "" (omitempty).
func appendStringField(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, `,"`...)
	b = append(b, key...)
	b = append(b, `":`...)
	return appendString(b, s)
}

// appendString appends s as a JSON string as encoding/json writes it
// without HTML escaping: invalid UTF-8 as U+FFFD, U+2028 and U+2029
// escaped.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendTime appends t (UTC, years 1601 to 9999) in TimeLayout.
func appendTime(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, int(mo), 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, 'T')
	b = appendDigits(b, h, 2)
	b = append(b, ':')
	b = appendDigits(b, mi, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/100, 7)
	return append(b, 'Z')
}

func appendDigits(b []byte, v, n int) []byte {
	var d [8]byte
	for i := n - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:n]...)
}
