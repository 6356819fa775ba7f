package ntfstest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestBuild builds (or reads from the cache) each layout and checks the
// image with the tools of other projects: the partition table with
// sfdisk, the boot sector, and each planted file's bytes with ntfscat.
func TestBuild(t *testing.T) {
	for _, l := range Layouts {
		t.Run(string(l), func(t *testing.T) {
			img := Build(t, Options{Layout: l})
			fi, err := os.Stat(img.Path)
			if err != nil {
				t.Fatal(err)
			}
			boot := make([]byte, 512)
			f, err := os.Open(img.Path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.ReadAt(boot, img.PartitionOffset); err != nil {
				t.Fatal(err)
			}
			if string(boot[3:11]) != "NTFS    " {
				t.Fatalf("no NTFS boot sector at %d", img.PartitionOffset)
			}
			if got := binary.LittleEndian.Uint64(boot[0x48:]); got != img.Serial {
				t.Errorf("serial %x, manifest says %x", got, img.Serial)
			}
			if got := binary.LittleEndian.Uint32(boot[0x1c:]); int64(got) != img.PartitionOffset/512 {
				t.Errorf("hidden sectors %d, want %d", got, img.PartitionOffset/512)
			}
			switch l {
			case Bare:
				if fi.Size() != img.PartitionSize {
					t.Errorf("size %d, want %d", fi.Size(), img.PartitionSize)
				}
			case MBR, GPT:
				out, err := exec.Command("sfdisk", "--json", img.Path).Output()
				if err != nil {
					t.Fatal(err)
				}
				want := map[Layout]string{MBR: `"label": "dos"`, GPT: `"label": "gpt"`}[l]
				if !strings.Contains(string(out), want) || !strings.Contains(string(out), `"start": 2048`) {
					t.Errorf("sfdisk --json:\n%s", out)
				}
			}
			if l != Bare {
				return // the volume is the same bytes: ntfscat reads the bare one
			}
			checkFiles(t, img)
		})
	}
}

func checkFiles(t *testing.T, img *Image) {
	families := map[string]bool{}
	for _, f := range img.Files {
		families[f.Family] = true
		args := []string{img.Path, f.WindowsPath()[1:]}
		args[1] = strings.ReplaceAll(args[1], `\`, "/")
		if f.Stream != "" {
			args = []string{"-a", "DATA", "-n", f.Stream, img.Path, strings.ReplaceAll(f.Path, `\`, "/")}
		}
		out, err := exec.Command("ntfscat", args...).Output()
		if f.Deleted {
			if err == nil {
				t.Errorf("%s: deleted, but ntfscat reads it", f.Path)
			}
			continue
		}
		if err != nil {
			t.Errorf("ntfscat %s: %v", f.WindowsPath(), err)
			continue
		}
		sum := sha256.Sum256(out)
		if hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(out)) != f.Size {
			t.Errorf("%s: %d bytes %x, manifest %d %s", f.WindowsPath(), len(out), sum, f.Size, f.SHA256)
		}
		if f.Family == "registry" && strings.HasSuffix(f.Path, "NTUSER.DAT") && !bytes.HasPrefix(out, []byte("regf")) {
			t.Errorf("%s: not a hive", f.Path)
		}
	}
	for _, fam := range []string{"registry", "evtx", "prefetch", "recentfilecache", "srum", "wmi", "tasks", "startup",
		"psreadline", "lnk", "jumplist", "recyclebin", "timeline", "browser", "hosts", "setupapi", "wer", "download",
		"sparse", "fragmented", "deleted"} {
		if !families[fam] {
			t.Errorf("no %s file planted", fam)
		}
	}
}
