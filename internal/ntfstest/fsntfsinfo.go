package ntfstest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/scelle/scelle/internal/testtool"
)

// TheirFile is a regular file or a named $DATA stream as libfsntfs's
// fsntfsinfo lists it: another implementation to check ours against.
type TheirFile struct {
	Path     string // Windows form from the volume's root: \dir\name
	Stream   string // "" for the unnamed $DATA stream
	Size     int64
	Modified int64 // $STANDARD_INFORMATION's, Unix seconds (garbage when unset)
}

// Fsntfsinfo returns the regular files and named $DATA streams of img's
// volume from fsntfsinfo's bodyfile (fsntfsinfo -H -B), leaving out the
// $FILE_NAME lines and the indexes of metadata files ($O, $Q, $R, $SDH,
// $SII) that it lists as streams.
func Fsntfsinfo(t testing.TB, img *Image) []TheirFile {
	t.Helper()
	testtool.Need(t, "fsntfsinfo", "libfsntfs-utils")
	body := filepath.Join(t.TempDir(), "fs.body")
	if b, err := exec.Command("fsntfsinfo", "-o", strconv.FormatInt(img.PartitionOffset, 10), "-H", "-B", body, img.Path).CombinedOutput(); err != nil {
		t.Fatalf("fsntfsinfo: %v\n%s", err, b)
	}
	out, err := os.ReadFile(body)
	if err != nil {
		t.Fatal(err)
	}
	var files []TheirFile
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fs := strings.Split(line, "|")
		if len(fs) != 11 || !strings.HasPrefix(fs[3], "r/") || strings.HasSuffix(fs[1], " ($FILE_NAME)") {
			continue
		}
		f := TheirFile{Path: strings.ReplaceAll(fs[1], `\\`, `\`)}
		f.Size, _ = strconv.ParseInt(fs[6], 10, 64)
		mtime, _ := strconv.ParseFloat(fs[8], 64)
		f.Modified = int64(mtime)
		if i := strings.LastIndexByte(f.Path, ':'); i > 0 {
			f.Path, f.Stream = f.Path[:i], f.Path[i+1:]
		}
		switch f.Stream {
		case "$O", "$Q", "$R", "$SDH", "$SII":
			continue
		}
		files = append(files, f)
	}
	return files
}
