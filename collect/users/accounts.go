package users

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Account is one /etc/passwd entry.
type Account struct {
	Name  string
	UID   uint32
	GID   uint32
	Gecos string
	Home  string
	Shell string
	// Line is the entry's line number in /etc/passwd, from 1.
	Line int
}

// passwdEntry is a parsed /etc/passwd line.
type passwdEntry struct {
	Account
	fields   int
	password string // second field: never written out
	uidOK    bool
	gidOK    bool
	problems []string
}

// lines calls fn for each line of b that is not empty or a comment, with
// its number, after the leading blanks glibc's files parser skips.
func lines(b []byte, fn func(n int, line string)) {
	n := 0
	for len(b) > 0 {
		n++
		var l []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			l, b = b[:i], b[i+1:]
		} else {
			l, b = b, nil
		}
		l = bytes.TrimLeft(l, " \t")
		if len(l) == 0 || l[0] == '#' {
			continue
		}
		fn(n, string(l))
	}
}

// parseID reads a uid or gid field as glibc does (strtoul, base 10, the
// value cast to 32 bits). ok is false when glibc would reject the line; a
// note is returned for any form other than plain digits in range.
func parseID(f, what string) (v uint32, ok bool, note string) {
	s := strings.TrimLeft(f, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false, fmt.Sprintf("%s field %q is not a number", what, f)
	}
	u, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		u = math.MaxUint64 // strtoul saturates
	}
	if neg {
		u = -u
	}
	v = uint32(u)
	switch {
	case u > math.MaxUint32:
		note = fmt.Sprintf("%s field %q is out of the 32-bit range; glibc reads it as %d (cut to 32 bits)", what, f, v)
	case f != strconv.FormatUint(u, 10):
		note = fmt.Sprintf("%s field %q is not in plain form; glibc reads it as %d", what, f, v)
	}
	return v, true, note
}

// parsePasswd parses the text of an /etc/passwd file.
func parsePasswd(b []byte) []passwdEntry {
	var out []passwdEntry
	lines(b, func(n int, line string) {
		f := strings.Split(line, ":")
		e := passwdEntry{fields: len(f)}
		e.Line = n
		e.Name = f[0]
		if len(f) != 7 {
			e.problems = append(e.problems, fmt.Sprintf("%d fields, 7 expected", len(f)))
		}
		get := func(i int) string {
			if i < len(f) {
				return f[i]
			}
			return ""
		}
		e.password, e.Gecos, e.Home, e.Shell = get(1), get(4), get(5), strings.Join(f[min(6, len(f)):], ":")
		var note string
		if len(f) > 2 {
			if e.UID, e.uidOK, note = parseID(f[2], "uid"); note != "" {
				e.problems = append(e.problems, note)
			}
		}
		if len(f) > 3 {
			if e.GID, e.gidOK, note = parseID(f[3], "gid"); note != "" {
				e.problems = append(e.problems, note)
			}
		}
		out = append(out, e)
	})
	return out
}

// shadowEntry is a parsed /etc/shadow line.
type shadowEntry struct {
	line     int
	name     string
	password string // never written out
	// Days since 1970-01-01 or counts of days; -1 when empty.
	lastChange, min, max, warn, inactive, expire int64
	problems                                     []string
	used                                         bool
}

func parseShadow(b []byte) []shadowEntry {
	var out []shadowEntry
	lines(b, func(n int, line string) {
		f := strings.Split(line, ":")
		e := shadowEntry{line: n, name: f[0]}
		if len(f) != 9 {
			e.problems = append(e.problems, fmt.Sprintf("%d fields, 9 expected", len(f)))
		}
		if len(f) > 1 {
			e.password = f[1]
		}
		names := [...]string{"last change", "minimum age", "maximum age", "warning period", "inactivity period", "expiration date"}
		ptrs := [...]*int64{&e.lastChange, &e.min, &e.max, &e.warn, &e.inactive, &e.expire}
		for i, p := range ptrs {
			*p = -1
			if 2+i >= len(f) || f[2+i] == "" {
				continue
			}
			v, err := strconv.ParseInt(f[2+i], 10, 64)
			if err != nil {
				e.problems = append(e.problems, fmt.Sprintf("%s field %q is not a number", names[i], f[2+i]))
				continue
			}
			*p = v
		}
		out = append(out, e)
	})
	return out
}

// groupEntry is a parsed /etc/group line.
type groupEntry struct {
	name    string
	gid     uint32
	gidOK   bool
	members []string
}

func parseGroup(b []byte) []groupEntry {
	var out []groupEntry
	lines(b, func(n int, line string) {
		f := strings.Split(line, ":")
		g := groupEntry{name: f[0]}
		if len(f) > 2 {
			g.gid, g.gidOK, _ = parseID(f[2], "gid")
		}
		if len(f) > 3 && f[3] != "" {
			g.members = strings.Split(f[3], ",")
		}
		out = append(out, g)
	})
	return out
}

// Password states of AccountRecord.PasswordState.
const (
	PasswordSet      = "set"      // a crypt(3) hash: the password can be used
	PasswordLocked   = "locked"   // the field starts with "!": locked
	PasswordEmpty    = "empty"    // empty field: no password asked
	PasswordDisabled = "disabled" // not a crypt(3) hash ("*", "x" ...): no password login
	PasswordUnknown  = "unknown"  // the field is in /etc/shadow, which was not read
)

var hashAlgorithms = map[string]string{
	"1": "md5crypt", "2": "bcrypt", "2a": "bcrypt", "2b": "bcrypt", "2x": "bcrypt", "2y": "bcrypt",
	"3": "nthash", "5": "sha256crypt", "6": "sha512crypt", "7": "scrypt", "y": "yescrypt",
	"gy": "gost-yescrypt", "sha1": "sha1crypt", "md5": "sunmd5",
}

// classifyHash returns the identifier and algorithm of a crypt(3) hash,
// or empty strings when h is not one. It never returns any of the salt
// or hash.
func classifyHash(h string) (id, algorithm string) {
	switch {
	case strings.HasPrefix(h, "$"):
		j := strings.IndexAny(h[1:], "$,")
		if j < 1 || j > 16 || len(h) <= j+2 {
			return "", ""
		}
		name := h[1 : j+1]
		if strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return "", ""
		}
		algorithm = hashAlgorithms[name]
		if algorithm == "" {
			algorithm = "unknown"
		}
		return "$" + name + "$", algorithm
	case len(h) == 20 && h[0] == '_' && isCryptText(h[1:]):
		return "_", "bsdicrypt"
	case len(h) == 13 && isCryptText(h):
		return "", "descrypt"
	}
	return "", ""
}

func isCryptText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '.' || c == '/' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// markers are password fields shown as they are: they hold no secret.
var markers = map[string]bool{"x": true, "*": true, "!": true, "!!": true, "!*": true, "*!": true, "*LK*": true, "NP": true, "LK": true}

// passwordState classifies a password field without revealing it.
func passwordState(f string) (state, id, algorithm string) {
	switch {
	case f == "":
		return PasswordEmpty, "", ""
	case strings.HasPrefix(f, "!"):
		id, algorithm = classifyHash(strings.TrimLeft(f, "!"))
		return PasswordLocked, id, algorithm
	}
	if id, algorithm = classifyHash(f); algorithm != "" {
		return PasswordSet, id, algorithm
	}
	return PasswordDisabled, "", ""
}

// AccountRecord is one account of parsed/users/accounts.jsonl: an
// /etc/passwd entry joined with its /etc/shadow and /etc/group entries,
// or a shadow entry no passwd line has.
type AccountRecord struct {
	Name       string   `json:"name"`
	NameRaw    []byte   `json:"name_raw,omitempty"`
	UID        *uint32  `json:"uid,omitempty"`
	GID        *uint32  `json:"gid,omitempty"`
	Group      string   `json:"group,omitempty"`
	Groups     []string `json:"groups,omitempty"`
	Gecos      string   `json:"gecos,omitempty"`
	GecosRaw   []byte   `json:"gecos_raw,omitempty"`
	Home       string   `json:"home,omitempty"`
	HomeRaw    []byte   `json:"home_raw,omitempty"`
	Shell      string   `json:"shell,omitempty"`
	ShellRaw   []byte   `json:"shell_raw,omitempty"`
	PasswdLine int      `json:"passwd_line,omitempty"`
	ShadowLine int      `json:"shadow_line,omitempty"`
	// PasswordSource is the file the password field was read from:
	// "shadow" when passwd says "x", else "passwd".
	PasswordSource string `json:"password_source"`
	PasswordState  string `json:"password_state"`
	// PasswordMarker is the field itself when it is a marker that holds
	// no secret ("x", "*", "!", "!!" ...).
	PasswordMarker string `json:"password_marker,omitempty"`
	HashID         string `json:"hash_id,omitempty"`
	HashAlgorithm  string `json:"hash_algorithm,omitempty"`
	LastChange     string `json:"last_change,omitempty"`
	MinDays        *int64 `json:"min_days,omitempty"`
	MaxDays        *int64 `json:"max_days,omitempty"`
	WarnDays       *int64 `json:"warn_days,omitempty"`
	InactiveDays   *int64 `json:"inactive_days,omitempty"`
	Expire         string `json:"expire,omitempty"`
	// Flags are triage findings; docs/schema/users.md lists them.
	Flags    []string `json:"flags,omitempty"`
	Problems []string `json:"problems,omitempty"`
}

// Flags of AccountRecord.
const (
	FlagUID0NotRoot       = "uid0_not_root"
	FlagEmptyPassword     = "empty_password"
	FlagPasswordInPasswd  = "password_in_passwd"
	FlagNoShadowEntry     = "no_shadow_entry"
	FlagNotInPasswd       = "not_in_passwd"
	FlagDuplicateName     = "duplicate_name"
	FlagDuplicateUID      = "duplicate_uid"
	FlagNISCompat         = "nis_compat"
	FlagMalformed         = "malformed"
	FlagMustChange        = "must_change_password"
	FlagDuplicateShadow   = "duplicate_shadow_entry"
	FlagShadowUnavailable = "shadow_unavailable"
)

// buildAccounts joins passwd, shadow and group. shadowErr, when not
// empty, says why shadow was not read.
func buildAccounts(passwd, shadow, group []byte, shadowErr string) []AccountRecord {
	pw := parsePasswd(passwd)
	sh := parseShadow(shadow)
	gr := parseGroup(group)

	shadowBy := map[string]*shadowEntry{}
	dupShadow := map[string]bool{}
	for i := range sh {
		if shadowBy[sh[i].name] != nil {
			dupShadow[sh[i].name] = true
			continue
		}
		shadowBy[sh[i].name] = &sh[i]
	}
	groupName := map[uint32]string{}
	memberOf := map[string][]string{}
	for _, g := range gr {
		if _, ok := groupName[g.gid]; g.gidOK && !ok {
			groupName[g.gid] = g.name
		}
		for _, m := range g.members {
			memberOf[m] = append(memberOf[m], g.name)
		}
	}
	uidCount := map[uint32]int{}
	for _, e := range pw {
		if e.uidOK && !isNIS(e.Name) {
			uidCount[e.UID]++
		}
	}

	var out []AccountRecord
	seen := map[string]bool{}
	for _, e := range pw {
		r := AccountRecord{PasswdLine: e.Line, Problems: e.problems}
		r.Name, r.NameRaw = textString(e.Name)
		r.Gecos, r.GecosRaw = textString(e.Gecos)
		r.Home, r.HomeRaw = textString(e.Home)
		r.Shell, r.ShellRaw = textString(e.Shell)
		if e.fields != 7 {
			r.Flags = append(r.Flags, FlagMalformed)
		}
		if isNIS(e.Name) {
			r.Flags = append(r.Flags, FlagNISCompat)
		}
		if seen[e.Name] {
			r.Flags = append(r.Flags, FlagDuplicateName)
		}
		seen[e.Name] = true
		if e.uidOK {
			uid := e.UID
			r.UID = &uid
			if uid == 0 && e.Name != "root" {
				r.Flags = append(r.Flags, FlagUID0NotRoot)
			}
			if uidCount[uid] > 1 && !isNIS(e.Name) {
				r.Flags = append(r.Flags, FlagDuplicateUID)
			}
		}
		if e.gidOK {
			gid := e.GID
			r.GID = &gid
			r.Group = groupName[gid]
		}
		r.Groups = memberOf[e.Name]

		field := e.password
		r.PasswordSource = "passwd"
		if e.password == "x" {
			r.PasswordSource = "shadow"
			switch s := shadowBy[e.Name]; {
			case shadowErr != "":
				r.PasswordState = PasswordUnknown
				r.Flags = append(r.Flags, FlagShadowUnavailable)
				r.Problems = append(r.Problems, "shadow not read: "+shadowErr)
			case s == nil:
				r.Flags = append(r.Flags, FlagNoShadowEntry)
			default:
				field = s.password
				s.used = true
				r.fromShadow(s, dupShadow[e.Name])
			}
		}
		if r.PasswordState == "" {
			r.setPassword(field)
			if r.PasswordSource == "passwd" && r.HashAlgorithm != "" {
				r.Flags = append(r.Flags, FlagPasswordInPasswd)
			}
		}
		out = append(out, r)
	}
	for i := range sh {
		s := &sh[i]
		if s.used || seen[s.name] || (dupShadow[s.name] && shadowBy[s.name] != s) {
			continue
		}
		r := AccountRecord{PasswordSource: "shadow", Flags: []string{FlagNotInPasswd}}
		r.Name, r.NameRaw = textString(s.name)
		r.fromShadow(s, dupShadow[s.name])
		out = append(out, r)
	}
	return out
}

func isNIS(name string) bool { return strings.HasPrefix(name, "+") || strings.HasPrefix(name, "-") }

// setPassword sets the password state fields from a password field.
func (r *AccountRecord) setPassword(field string) {
	r.PasswordState, r.HashID, r.HashAlgorithm = passwordState(field)
	if markers[field] {
		r.PasswordMarker = field
	}
	if r.PasswordState == PasswordEmpty {
		r.Flags = append(r.Flags, FlagEmptyPassword)
	}
}

// fromShadow sets the aging fields of a shadow entry.
func (r *AccountRecord) fromShadow(s *shadowEntry, dup bool) {
	r.ShadowLine = s.line
	r.Problems = append(r.Problems, s.problems...)
	if dup {
		r.Flags = append(r.Flags, FlagDuplicateShadow)
	}
	r.setPassword(s.password)
	if s.lastChange >= 0 {
		if r.LastChange = dayDate(s.lastChange); r.LastChange == "" {
			r.Problems = append(r.Problems, fmt.Sprintf("last change of %d days is outside years 0 to 9999", s.lastChange))
		}
	}
	if s.lastChange == 0 {
		r.Flags = append(r.Flags, FlagMustChange)
	}
	opt := func(v int64) *int64 {
		if v < 0 {
			return nil
		}
		return &v
	}
	r.MinDays, r.MaxDays, r.WarnDays, r.InactiveDays = opt(s.min), opt(s.max), opt(s.warn), opt(s.inactive)
	if s.expire >= 0 {
		if r.Expire = dayDate(s.expire); r.Expire == "" {
			r.Problems = append(r.Problems, fmt.Sprintf("expiration of %d days is outside years 0 to 9999", s.expire))
		}
	}
}
