package users

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const (
	hashAlice = "$y$j9T$abcdefghijklmnopqrstu.$ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg"
	hashToor  = "$6$saltsalt$0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz./0123456789ABCDEFGHIJKLMN"
	hashBob   = "$1$abcdefgh$0123456789abcdefghijkl"
	hashOld   = "ab01234567890"
)

var (
	testPasswd = "root:x:0:0:root:/root:/bin/bash\n" +
		"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n" +
		"alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n" +
		"\n# a comment\n" +
		"toor:x:00:0::/root:/bin/sh\n" +
		"nopass::1001:1001::/home/nopass:/bin/sh\n" +
		"bob:x:1002:1002::/home/bob:/bin/bash\n" +
		"legacy:" + hashOld + ":1003:1003::/home/legacy:/bin/sh\n" +
		"ghost:x:1004:1004::/home/ghost:/bin/sh\n" +
		"alice:x:1005:1005::/home/alice2:/bin/sh\n" +
		"+::0:0:::\n" +
		"short:x:1006\n" +
		"caf\xe9:x:1007:1007::/home/caf\xe9:/bin/sh\n"
	testShadow = "root:*:19000:0:99999:7:::\n" +
		"daemon:*:19000:0:99999:7:::\n" +
		"alice:" + hashAlice + ":19500:0:99999:7::20000:\n" +
		"toor:" + hashToor + ":0:0:99999:7:::\n" +
		"bob:!" + hashBob + ":19600:0:99999:7:30::\n" +
		"orphan:" + hashAlice + ":19700::::::\n" +
		"caf\xe9:!!:19800::::::\n"
	testGroup = "root:x:0:\nsudo:x:27:alice,toor\nalice:x:1000:\nusers:x:100:alice,bob\n"
)

func accountsByName(t *testing.T, recs []AccountRecord) map[string][]AccountRecord {
	t.Helper()
	m := map[string][]AccountRecord{}
	for _, r := range recs {
		m[r.Name] = append(m[r.Name], r)
	}
	return m
}

func u32(v uint32) *uint32 { return &v }
func i64(v int64) *int64   { return &v }

func TestBuildAccounts(t *testing.T) {
	recs := buildAccounts([]byte(testPasswd), []byte(testShadow), []byte(testGroup), "")
	by := accountsByName(t, recs)
	if len(recs) != 13 {
		t.Fatalf("got %d records, want 13 (12 passwd lines, 1 shadow-only)", len(recs))
	}
	for _, tc := range []struct {
		name string
		want AccountRecord
	}{
		{"root", AccountRecord{Name: "root", UID: u32(0), GID: u32(0), Group: "root", Gecos: "root", Home: "/root",
			Shell: "/bin/bash", PasswdLine: 1, ShadowLine: 1, PasswordSource: "shadow", PasswordState: PasswordDisabled,
			PasswordMarker: "*", LastChange: "2022-01-08T00:00:00Z", MinDays: i64(0), MaxDays: i64(99999), WarnDays: i64(7), Flags: []string{FlagDuplicateUID}}},
		{"toor", AccountRecord{Name: "toor", UID: u32(0), GID: u32(0), Group: "root", Groups: []string{"sudo"}, Home: "/root",
			Shell: "/bin/sh", PasswdLine: 6, ShadowLine: 4, PasswordSource: "shadow", PasswordState: PasswordSet,
			HashID: "$6$", HashAlgorithm: "sha512crypt", LastChange: "1970-01-01T00:00:00Z", MinDays: i64(0),
			MaxDays: i64(99999), WarnDays: i64(7), Flags: []string{FlagUID0NotRoot, FlagDuplicateUID, FlagMustChange},
			Problems: []string{`uid field "00" is not in plain form; glibc reads it as 0`}}},
		{"nopass", AccountRecord{Name: "nopass", UID: u32(1001), GID: u32(1001), Home: "/home/nopass", Shell: "/bin/sh",
			PasswdLine: 7, PasswordSource: "passwd", PasswordState: PasswordEmpty, Flags: []string{FlagEmptyPassword}}},
		{"bob", AccountRecord{Name: "bob", UID: u32(1002), GID: u32(1002), Groups: []string{"users"}, Home: "/home/bob",
			Shell: "/bin/bash", PasswdLine: 8, ShadowLine: 5, PasswordSource: "shadow", PasswordState: PasswordLocked,
			HashID: "$1$", HashAlgorithm: "md5crypt", LastChange: "2023-08-31T00:00:00Z", MinDays: i64(0),
			MaxDays: i64(99999), WarnDays: i64(7), InactiveDays: i64(30)}},
		{"legacy", AccountRecord{Name: "legacy", UID: u32(1003), GID: u32(1003), Home: "/home/legacy", Shell: "/bin/sh",
			PasswdLine: 9, PasswordSource: "passwd", PasswordState: PasswordSet, HashAlgorithm: "descrypt",
			Flags: []string{FlagPasswordInPasswd}}},
		{"ghost", AccountRecord{Name: "ghost", UID: u32(1004), GID: u32(1004), Home: "/home/ghost", Shell: "/bin/sh",
			PasswdLine: 10, PasswordSource: "shadow", PasswordState: PasswordDisabled, PasswordMarker: "x",
			Flags: []string{FlagNoShadowEntry}}},
		{"orphan", AccountRecord{Name: "orphan", ShadowLine: 6, PasswordSource: "shadow", PasswordState: PasswordSet,
			HashID: "$y$", HashAlgorithm: "yescrypt", LastChange: "2023-12-09T00:00:00Z", Flags: []string{FlagNotInPasswd}}},
		{"+", AccountRecord{Name: "+", UID: u32(0), GID: u32(0), Group: "root", PasswdLine: 12, PasswordSource: "passwd",
			PasswordState: PasswordEmpty, Flags: []string{FlagNISCompat, FlagUID0NotRoot, FlagEmptyPassword}}},
		{"short", AccountRecord{Name: "short", UID: u32(1006), PasswdLine: 13, PasswordSource: "shadow",
			PasswordState: PasswordDisabled, PasswordMarker: "x", Flags: []string{FlagMalformed, FlagNoShadowEntry},
			Problems: []string{"3 fields, 7 expected"}}},
		{`caf\xe9`, AccountRecord{Name: `caf\xe9`, NameRaw: []byte("caf\xe9"), UID: u32(1007), GID: u32(1007),
			Home: `/home/caf\xe9`, HomeRaw: []byte("/home/caf\xe9"), Shell: "/bin/sh", PasswdLine: 14, ShadowLine: 7,
			PasswordSource: "shadow", PasswordState: PasswordLocked, PasswordMarker: "!!", LastChange: "2024-03-18T00:00:00Z"}},
	} {
		got := by[tc.name]
		if len(got) != 1 {
			t.Errorf("%s: %d records", tc.name, len(got))
			continue
		}
		if !reflect.DeepEqual(got[0], tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got[0], tc.want)
		}
	}
	alice := by["alice"]
	if len(alice) != 2 || alice[0].HashAlgorithm != "yescrypt" || alice[0].Expire != "2024-10-04T00:00:00Z" ||
		!slices.Equal(alice[0].Groups, []string{"sudo", "users"}) || alice[0].Group != "alice" {
		t.Errorf("alice = %+v", alice)
	}
	if len(alice) == 2 && !slices.Contains(alice[1].Flags, FlagDuplicateName) {
		t.Errorf("second alice line not flagged duplicate: %+v", alice[1])
	}

	// No hash, nor any part of one, reaches the output.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range []string{hashAlice, hashToor, hashBob, hashOld, "saltsalt", "abcdefgh$", "ABCDEFGHIJ"} {
		if strings.Contains(buf.String(), h) {
			t.Errorf("output holds %q", h)
		}
	}
}

func TestBuildAccountsNoShadow(t *testing.T) {
	recs := buildAccounts([]byte(testPasswd), nil, nil, "permission denied")
	r := accountsByName(t, recs)["alice"][0]
	if r.PasswordState != PasswordUnknown || !slices.Contains(r.Flags, FlagShadowUnavailable) ||
		!slices.Contains(r.Problems, "shadow not read: permission denied") {
		t.Errorf("alice without shadow = %+v", r)
	}
	if r := accountsByName(t, recs)["nopass"][0]; r.PasswordState != PasswordEmpty {
		t.Errorf("an empty passwd field does not need shadow: %+v", r)
	}
}

func TestParseID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		v    uint32
		ok   bool
		note bool
	}{
		{"1000", 1000, true, false},
		{"0", 0, true, false},
		{"00", 0, true, true},
		{" 0", 0, true, true},
		{"+5", 5, true, true},
		{"-1", 4294967295, true, true},
		{"4294967296", 0, true, true},
		{"99999999999999999999999", 4294967295, true, true},
		{"", 0, false, true},
		{"1a", 0, false, true},
		{"-", 0, false, true},
	} {
		v, ok, note := parseID(tc.in, "uid")
		if v != tc.v || ok != tc.ok || (note != "") != tc.note {
			t.Errorf("parseID(%q) = %d, %v, %q; want %d, %v, note %v", tc.in, v, ok, note, tc.v, tc.ok, tc.note)
		}
	}
}

func TestPasswordState(t *testing.T) {
	for _, tc := range []struct{ in, state, id, alg string }{
		{"", PasswordEmpty, "", ""},
		{"*", PasswordDisabled, "", ""},
		{"x", PasswordDisabled, "", ""},
		{"!", PasswordLocked, "", ""},
		{"!!", PasswordLocked, "", ""},
		{"!" + hashAlice, PasswordLocked, "$y$", "yescrypt"},
		{hashToor, PasswordSet, "$6$", "sha512crypt"},
		{"$2b$12$abcdefghijklmnopqrstuu", PasswordSet, "$2b$", "bcrypt"},
		{"$gy$j9T$salt$hash", PasswordSet, "$gy$", "gost-yescrypt"},
		{"$argon2id$v=19$m=65536$x$y", PasswordSet, "$argon2id$", "unknown"},
		{"$6$", PasswordDisabled, "", ""},
		{"$$", PasswordDisabled, "", ""},
		{"$A$bad", PasswordDisabled, "", ""},
		{"_J9..CCCCXBrJUJV154M", PasswordSet, "_", "bsdicrypt"},
		{hashOld, PasswordSet, "", "descrypt"},
		{"plain text", PasswordDisabled, "", ""},
	} {
		state, id, alg := passwordState(tc.in)
		if state != tc.state || id != tc.id || alg != tc.alg {
			t.Errorf("passwordState(%q) = %s %q %q; want %s %q %q", tc.in, state, id, alg, tc.state, tc.id, tc.alg)
		}
	}
}
