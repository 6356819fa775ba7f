package memory

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"
)

func TestParseLockdown(t *testing.T) {
	for in, want := range map[string]string{
		"[none] integrity confidentiality\n": "none",
		"none [integrity] confidentiality\n": "integrity",
		"none integrity [confidentiality]\n": "confidentiality",
		"none integrity confidentiality\n":   "",
		"[]\n":                               "",
		"":                                   "",
	} {
		if got := ParseLockdown([]byte(in)); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestRefusalReasons(t *testing.T) {
	perm := &fs.PathError{Op: "open", Path: "/x", Err: syscall.EPERM}
	acces := &fs.PathError{Op: "open", Path: "/x", Err: syscall.EACCES}
	for _, tc := range []struct {
		source   string
		err      error
		lockdown string
		want     string
		keepErr  bool
	}{
		{SourceKcore, &fs.PathError{Op: "open", Path: "/x", Err: syscall.ENOENT}, "", RefusedAbsent, false},
		{SourceKcore, perm, "", RefusedPermission, true},
		{SourceKcore, acces, "none", RefusedPermission, true},
		// Integrity lockdown closes /dev/mem but leaves /proc/kcore;
		// confidentiality closes both.
		{SourceKcore, perm, "integrity", RefusedPermission, true},
		{SourceKcore, perm, "confidentiality", RefusedLockdown + " (confidentiality)", true},
		{SourceMem, perm, "integrity", RefusedLockdown + " (integrity)", true},
		{SourceCrash, perm, "confidentiality", RefusedLockdown + " (confidentiality)", true},
		{SourceKcore, fmt.Errorf("kcore: ELF class: %w", ErrNotKcore), "", RefusedFormat, true},
		{SourceMem, &refusedError{reason: RefusedStrict, err: perm}, "integrity", RefusedStrict, true},
		{SourceMem, &fs.PathError{Op: "open", Path: "/x", Err: syscall.EIO}, "", RefusedOther, true},
	} {
		r := refusal(tc.source, "/x", tc.err, tc.lockdown)
		if r.Reason != tc.want || (r.Err != nil) != tc.keepErr || r.Source != tc.source || r.Path != "/x" {
			t.Errorf("%s %v %q: %+v, want %q", tc.source, tc.err, tc.lockdown, r, tc.want)
		}
	}
}

func TestNoSourceError(t *testing.T) {
	err := error(&NoSourceError{Refused: []Refusal{
		{Source: SourceKcore, Reason: RefusedLockdown + " (confidentiality)", Err: syscall.EPERM},
		{Source: SourceCrash, Reason: RefusedAbsent},
		{Source: SourceMem, Reason: RefusedStrict, Err: syscall.EPERM},
	}})
	want := "no physical memory source: /proc/kcore: kernel lockdown (confidentiality) (operation not permitted); " +
		"/dev/crash: absent; /dev/mem: STRICT_DEVMEM: the kernel refuses System RAM through /dev/mem (operation not permitted)"
	if err.Error() != want || !errors.Is(err, ErrNoSource) {
		t.Errorf("got %q", err)
	}
}
