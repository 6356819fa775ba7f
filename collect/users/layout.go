package users

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"
)

// Layout is the binary layout of glibc's struct utmp and struct lastlog.
// It depends on the architecture of the system that wrote the file.
type Layout int

const (
	// Layout32 has 32-bit ut_session, ut_tv and ll_time fields: 384-byte
	// utmp and 292-byte lastlog records. glibc uses it on ports that set
	// __WORDSIZE_TIME64_COMPAT32 (x86_64 among them) and on 32-bit ports.
	Layout32 Layout = 32
	// Layout64 has a 64-bit ut_session, a 64-bit struct timeval ut_tv and
	// a 64-bit ll_time: 400-byte utmp and 296-byte lastlog records
	// (aarch64, s390x, loongarch64).
	Layout64 Layout = 64
)

// UtmpSize is the size of one utmp record.
func (l Layout) UtmpSize() int {
	if l == Layout64 {
		return 400
	}
	return 384
}

// LastlogSize is the size of one lastlog record.
func (l Layout) LastlogSize() int {
	if l == Layout64 {
		return 296
	}
	return 292
}

// String returns "utmp384/lastlog292" or "utmp400/lastlog296".
func (l Layout) String() string {
	return fmt.Sprintf("utmp%d/lastlog%d", l.UtmpSize(), l.LastlogSize())
}

// NativeLayout is the layout glibc uses on the architecture scelle was
// built for; it decides when a file's content does not.
func NativeLayout() Layout {
	switch runtime.GOARCH {
	case "arm64", "s390x", "loong64":
		return Layout64
	}
	return Layout32
}

// plausibleSec bounds the times that count as valid when telling layouts
// apart: 1980-01-01 up to 2^34 seconds (year 2514).
const (
	minPlausibleSec = 315532800
	maxPlausibleSec = 1 << 34
)

// choose picks a layout from the number of records that looked valid
// under each, then from which record size divides the file size, then
// the native layout.
func choose(score32, score64 int, size int64, size32, size64 int) Layout {
	switch {
	case score32 > score64:
		return Layout32
	case score64 > score32:
		return Layout64
	}
	div32, div64 := size%int64(size32) == 0, size%int64(size64) == 0
	switch {
	case div32 && !div64:
		return Layout32
	case div64 && !div32:
		return Layout64
	}
	return NativeLayout()
}

// text returns a fixed-size C string field as text: the bytes before the
// first NUL, valid UTF-8 kept, each byte that is not valid UTF-8 written
// as \xNN. raw is the field's bytes (trailing NULs trimmed) when
// text does not show them exactly: when a byte was escaped, or when
// non-zero bytes follow the first NUL. Records carry raw in a "_raw"
// field, which encoding/json writes in base64.
func text(field []byte) (s string, raw []byte) {
	n := 0
	for n < len(field) && field[n] != 0 {
		n++
	}
	v := field[:n]
	exact := true
	for _, b := range field[n:] {
		if b != 0 {
			exact = false
			break
		}
	}
	if utf8.Valid(v) {
		s = string(v)
	} else {
		exact = false
		s = escape(v)
	}
	if !exact {
		end := len(field)
		for end > 0 && field[end-1] == 0 {
			end--
		}
		raw = append([]byte{}, field[:end]...)
	}
	return s, raw
}

// escape writes b as UTF-8, each byte that is not part of a valid UTF-8
// sequence as \xNN.
func escape(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			fmt.Fprintf(&sb, `\x%02x`, b[0])
			b = b[1:]
			continue
		}
		sb.Write(b[:size])
		b = b[size:]
	}
	return sb.String()
}

// textString is text for a Go string read from a text file: valid UTF-8
// is kept, and when it is not, the escaped form and the bytes.
func textString(v string) (s string, raw []byte) {
	if utf8.ValidString(v) {
		return v, nil
	}
	return escape([]byte(v)), []byte(v)
}

// unixTime formats seconds and microseconds since the epoch as UTC
// RFC 3339. s is empty when the time cannot be written (beyond year 9999
// or before year 0) and note says why; note also says when usec was out
// of range and only sec was used.
func unixTime(sec, usec int64) (s string, note string) {
	const maxSec = 253402300799 // 9999-12-31T23:59:59Z
	const minSec = -62167219200 // 0000-01-01T00:00:00Z
	if sec > maxSec || sec < minSec {
		return "", fmt.Sprintf("time of %d seconds is outside years 0 to 9999; not rendered", sec)
	}
	if usec < 0 || usec >= 1e6 {
		note = fmt.Sprintf("microseconds field %d is out of range; time uses the seconds only", usec)
		usec = 0
	}
	return time.Unix(sec, usec*1000).UTC().Format(time.RFC3339Nano), note
}

// dayDate formats a count of days since 1970-01-01 (shadow(5)) as the
// UTC RFC 3339 time of that day's start, or "" when out of range.
func dayDate(days int64) string {
	if days > math.MaxInt64/86400 || days < math.MinInt64/86400 {
		return ""
	}
	s, _ := unixTime(days*86400, 0)
	return s
}
