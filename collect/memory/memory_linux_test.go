package memory

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// fixtureRoot is a host's /proc, /sys and /dev made by code under a
// temporary folder: the iomem of qemu-1g.txt, a lockdown file, and the
// files given (relative to the root; "" removes the file, a value
// starting with "->" makes a link, with "/" a folder).
func fixtureRoot(t *testing.T, files map[string]string) Paths {
	t.Helper()
	root := t.TempDir()
	iomem, err := os.ReadFile("testdata/iomem/qemu-1g.txt")
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]string{
		"proc/iomem":                   string(iomem),
		"sys/kernel/security/lockdown": "[none] integrity confidentiality\n",
	}
	for k, v := range files {
		all[k] = v
	}
	for name, content := range all {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case content == "":
		case strings.HasPrefix(content, "->"):
			err = os.Symlink(content[2:], p)
		case content == "/":
			err = os.Mkdir(p, 0o755)
		default:
			err = os.WriteFile(p, []byte(content), 0o444)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"proc", "sys", "dev"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return Paths{Proc: filepath.Join(root, "proc"), Sys: filepath.Join(root, "sys"), Dev: filepath.Join(root, "dev")}
}

func TestOpenKcore(t *testing.T) {
	kc, _ := x86Kcore(binary.LittleEndian).build()
	p := fixtureRoot(t, map[string]string{
		"proc/kcore":            string(kc),
		"sys/kernel/vmcoreinfo": "0x0000000000101800 1024\n",
	})
	s, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	if s.Name != SourceKcore || s.Path != filepath.Join(p.Proc, "kcore") || len(s.Refused) != 0 || s.Lockdown != "none" {
		t.Errorf("source %s at %s, lockdown %q, refused %v", s.Name, s.Path, s.Lockdown, s.Refused)
	}
	wantExt, wantGaps := Plan(qemuRAM, mustKcore(t, kc).Loads, uint64(os.Getpagesize()))
	if fmt.Sprint(s.Extents) != fmt.Sprint(wantExt) || fmt.Sprint(s.Gaps) != fmt.Sprint(wantGaps) || fmt.Sprint(s.RAM) != fmt.Sprint(qemuRAM) {
		t.Errorf("plan: %v %v %v", s.RAM, s.Extents, s.Gaps)
	}
	if string(s.VMCOREINFO) != vmcoreinfoText || s.VMCOREINFOErr != nil || s.VMCOREINFOAddr != 0x101800 || s.VMCOREINFOSize != 0x1024 {
		t.Errorf("vmcoreinfo %#x+%#x %q %v", s.VMCOREINFOAddr, s.VMCOREINFOSize, s.VMCOREINFO, s.VMCOREINFOErr)
	}
	// The image of the source holds the synthetic memory, range by range.
	var img bytes.Buffer
	lw := NewLiMEWriterSize(&img, 0x8000)
	for _, e := range s.Extents {
		if res := lw.WriteRange(e.Range, s.Reader(e)); !res.Complete() {
			t.Fatalf("%v: %+v", e, res)
		}
	}
	n := 0
	err = ReadLiME(&img, func(h Header, body io.Reader) error {
		b, err := io.ReadAll(body)
		if err != nil {
			return err
		}
		if !bytes.Equal(b, physBytes(h.range_())) {
			return fmt.Errorf("record %#x-%#x differs", h.Start, h.End)
		}
		n++
		return nil
	})
	if err != nil || n != 21 {
		t.Errorf("%d records, %v", n, err)
	}
}

func mustKcore(t *testing.T, b []byte) *Kcore {
	t.Helper()
	k, err := ParseKcore(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestOpenVMCOREINFOFromMemory(t *testing.T) {
	k := x86Kcore(binary.LittleEndian)
	k.notes = nil
	kc, loads := k.build()
	// Put the VMCOREINFO note, as the kernel keeps it, in RAM at 0x2010.
	n := append(note(binary.LittleEndian, "VMCOREINFO", 0, []byte(vmcoreinfoText)), make([]byte, 12)...)
	copy(kc[loads[3].Offset+0x1010:], n)
	copy(kc[loads[3].Offset+0x2010:], make([]byte, 0x100)) // zeros: an empty note list
	for _, tc := range []struct {
		sys, want string
		err       string
	}{
		{fmt.Sprintf("2010 %x\n", len(n)), vmcoreinfoText, ""},
		{fmt.Sprintf("3010 %x\n", len(n)), "", "no VMCOREINFO note at 0x3010"},
		{fmt.Sprintf("4010 %x\n", len(n)), "", "vmcoreinfo at 0x4010: note of"},
		{"200000 1024\n", "", "not in a captured range"},
		{"9e800 1000\n", "", "not in a captured range"},
		{"", "", "no such file"},
		{"rubbish\n", "", "want \"<hex address> <hex size>\""},
	} {
		p := fixtureRoot(t, map[string]string{"proc/kcore": string(kc), "sys/kernel/vmcoreinfo": tc.sys})
		s, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if string(s.VMCOREINFO) != tc.want || (tc.err == "") != (s.VMCOREINFOErr == nil) ||
			(tc.err != "" && !strings.Contains(s.VMCOREINFOErr.Error(), tc.err)) {
			t.Errorf("%q: %q, %v", tc.sys, s.VMCOREINFO, s.VMCOREINFOErr)
		}
	}
}

func TestOpenRefusals(t *testing.T) {
	good, _ := x86Kcore(binary.LittleEndian).build()
	virtual := fakeKcore{loads: []Segment{{VAddr: 0xffffc90000000000, PAddr: noPAddr, FileSize: 0x1000, Offset: 0x100}}}
	virtualKc, _ := virtual.build()
	outside := fakeKcore{loads: []Segment{{PAddr: 0x1000, FileSize: 0x1000, Offset: 0x10000000}}}
	outsideKc, _ := outside.build()
	absent := Refusal{Source: SourceCrash, Reason: RefusedAbsent}
	absentMem := Refusal{Source: SourceMem, Reason: RefusedAbsent}
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []Refusal // Path is checked by its base name, Err by its text
	}{{
		name: "nothing there (this machine)",
		want: []Refusal{{Source: SourceKcore, Reason: RefusedAbsent}, absent, absentMem},
	}, {
		name:  "kcore a folder",
		files: map[string]string{"proc/kcore": "/"},
		want:  []Refusal{{Source: SourceKcore, Reason: RefusedNotRegular}, absent, absentMem},
	}, {
		name:  "kcore a link to a good kcore",
		files: map[string]string{"proc/real": string(good), "proc/kcore": "->real"},
		want:  []Refusal{{Source: SourceKcore, Reason: RefusedNotRegular}, absent, absentMem},
	}, {
		name:  "kcore not ELF",
		files: map[string]string{"proc/kcore": "not an ELF file at all, longer than a header...................."},
		want:  []Refusal{{Source: SourceKcore, Reason: RefusedFormat, Err: errors.New("kcore: no ELF magic: not an ELF64 core file")}, absent, absentMem},
	}, {
		name:  "kcore without physical segments",
		files: map[string]string{"proc/kcore": string(virtualKc)},
		want:  []Refusal{{Source: SourceKcore, Reason: RefusedNoRAM}, absent, absentMem},
	}, {
		name:  "kcore segments beyond the file",
		files: map[string]string{"proc/kcore": string(outsideKc)},
		want:  []Refusal{{Source: SourceKcore, Reason: RefusedRead, Err: io.EOF}, absent, absentMem},
	}, {
		name:  "regular files where the devices are",
		files: map[string]string{"dev/crash": "x", "dev/mem": "x", "proc/misc": "227 mcelog\n 10 crash\n"},
		want: []Refusal{{Source: SourceKcore, Reason: RefusedAbsent},
			{Source: SourceCrash, Reason: RefusedNotDevice, Err: errors.New("/dev/crash is not character device 10:10")},
			{Source: SourceMem, Reason: RefusedNotDevice, Err: errors.New("/dev/mem is not character device 1:1")}},
	}, {
		name:  "a crash device without its driver",
		files: map[string]string{"dev/crash": "->/dev/null", "proc/misc": "227 mcelog\n"},
		want: []Refusal{{Source: SourceKcore, Reason: RefusedAbsent},
			{Source: SourceCrash, Reason: RefusedNotDevice, Err: errors.New("/proc/misc lists no \"crash\" device")}, absentMem},
	}, {
		name:  "links to a device",
		files: map[string]string{"dev/mem": "->/dev/null", "dev/crash": "->/dev/null", "proc/misc": "1 crash\n"},
		want: []Refusal{{Source: SourceKcore, Reason: RefusedAbsent},
			{Source: SourceCrash, Reason: RefusedNotDevice, Err: errors.New("/dev/crash is not character device 10:1")},
			{Source: SourceMem, Reason: RefusedNotDevice, Err: errors.New("/dev/mem is not character device 1:1")}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			p := fixtureRoot(t, tc.files)
			s, err := Open(p)
			if err == nil {
				s.Close()
				t.Fatalf("opened %s", s.Name)
			}
			var ns *NoSourceError
			if !errors.As(err, &ns) || !errors.Is(err, ErrNoSource) {
				t.Fatalf("got %v", err)
			}
			if len(ns.Refused) != len(tc.want) {
				t.Fatalf("refused %v", ns.Refused)
			}
			root := filepath.Dir(p.Proc)
			for i, w := range tc.want {
				r := ns.Refused[i]
				gotErr, wantErr := "<nil>", "<nil>"
				if r.Err != nil {
					gotErr = strings.ReplaceAll(r.Err.Error(), root, "")
				}
				if w.Err != nil {
					wantErr = w.Err.Error()
				}
				if r.Source != w.Source || r.Reason != w.Reason || gotErr != wantErr ||
					strings.TrimPrefix(r.Path, root) != w.Source {
					t.Errorf("refusal %d:\n got %s %q (%s)\nwant %s", i, r.Source, r.Reason, gotErr, w)
				}
			}
			if msg := strings.ReplaceAll(err.Error(), root, ""); !strings.HasPrefix(msg, "no physical memory source: /proc/kcore: ") {
				t.Errorf("message %q", msg)
			}
		})
	}
}

func TestOpenIomemErrors(t *testing.T) {
	hidden, err := os.ReadFile("testdata/iomem/hidden.txt")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(fixtureRoot(t, map[string]string{"proc/iomem": string(hidden)})); !errors.Is(err, ErrIomemHidden) {
		t.Errorf("hidden iomem: %v", err)
	}
	p := fixtureRoot(t, nil)
	if err := os.Remove(filepath.Join(p.Proc, "iomem")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(p); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no iomem: %v", err)
	}
}

// eperm fails reads at or above from with EPERM, as STRICT_DEVMEM does.
type eperm struct{ from int64 }

func (r eperm) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.from {
		return 0, &fs.PathError{Op: "read", Path: "/dev/mem", Err: syscall.EPERM}
	}
	return len(p), nil
}

func TestProbeStrictDevmem(t *testing.T) {
	ext, _ := planDevice(qemuRAM, 4096, false)
	err := probeStrictDevmem(eperm{1 << 20}, ext, 4096)
	var re *refusedError
	if !errors.As(err, &re) || re.reason != RefusedStrict || !errors.Is(err, syscall.EPERM) {
		t.Errorf("strict: %v", err)
	}
	if err := probeStrictDevmem(eperm{1 << 40}, ext, 4096); err != nil {
		t.Errorf("not strict: %v", err)
	}
	if err := probeStrictDevmem(eperm{0}, ext[:1], 4096); err != nil {
		t.Errorf("no RAM above 1 MiB: %v", err)
	}
}

// TestOpenHost opens the host's memory: on this machine every source is
// absent; where one works, its plan covers RAM and its first page reads.
func TestOpenHost(t *testing.T) {
	s, err := Open(HostPaths)
	var ns *NoSourceError
	switch {
	case errors.Is(err, ErrIomemHidden):
		t.Skip("not root:", err)
	case errors.As(err, &ns):
		if len(ns.Refused) != 3 {
			t.Errorf("refused %v", ns.Refused)
		}
		t.Log(err)
	case err != nil:
		t.Fatal(err)
	default:
		defer s.Close()
		if len(s.Extents) == 0 || len(s.RAM) == 0 {
			t.Errorf("%s: an empty plan", s.Name)
		}
		t.Logf("%s: %d extents, %d gaps, refused %v", s.Name, len(s.Extents), len(s.Gaps), s.Refused)
	}
}
