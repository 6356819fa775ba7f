package ntfstest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/internal/testtool"
	"golang.org/x/sys/unix"
)

const (
	defaultVolumeSize = 64 << 20
	diskLead          = 1 << 20 // the partition starts at 1 MiB (sector 2048)
	diskTail          = 1 << 20 // room for the backup GPT
	label             = "SCELLE-WIN"
	buildTimeout      = 5 * time.Minute
)

// tools are the commands a build runs, and their Debian packages.
var tools = [][2]string{{"mkntfs", "ntfs-3g"}, {"ntfs-3g", "ntfs-3g"}, {"ntfsinfo", "ntfs-3g"}, {"ntfsls", "ntfs-3g"},
	{"sfdisk", "fdisk"}, {"sgdisk", "gdisk"}, {"umount", "mount"}}

// Build returns the image opts describe, from the cache or built now; it
// ends tb as testtool.Missing does when the image cannot be built here.
func Build(tb testing.TB, opts Options) *Image {
	tb.Helper()
	img, err := build(opts, func(why string) { testtool.Missing(tb, "ntfstest: %s", why) })
	if err != nil {
		tb.Fatalf("ntfstest: %v", err)
	}
	return img
}

func build(opts Options, skip func(string)) (*Image, error) {
	if opts.Layout == "" {
		opts.Layout = Bare
	}
	if opts.VolumeSize == 0 {
		opts.VolumeSize = defaultVolumeSize
	}
	switch opts.Layout {
	case Bare, MBR, GPT:
	default:
		return nil, fmt.Errorf("unknown layout %q", opts.Layout)
	}
	if opts.VolumeSize%4096 != 0 || opts.VolumeSize < 16<<20 {
		return nil, fmt.Errorf("volume size %d: want a multiple of 4096, at least 16 MiB", opts.VolumeSize)
	}
	root, err := cacheRoot()
	if err != nil {
		return nil, err
	}
	key := cacheKey(opts)
	dir := filepath.Join(root, key)
	if img, err := load(dir, opts.Layout); err == nil {
		return img, nil
	}
	// Not cached: check what a build needs before taking the lock.
	if os.Geteuid() != 0 {
		skip("building NTFS images needs root (an ntfs-3g FUSE mount)")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		skip("no /dev/fuse")
	}
	for _, t := range tools {
		if _, err := exec.LookPath(t[0]); err != nil {
			skip(fmt.Sprintf("%s not found: install the Debian package %s", t[0], t[1]))
		}
	}
	if _, err := goCommand(); err != nil {
		skip(err.Error())
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(root, key+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return nil, fmt.Errorf("lock the cache: %w", err)
	}
	defer unix.Flock(int(lock.Fd()), unix.LOCK_UN)
	if img, err := load(dir, opts.Layout); err == nil {
		return img, nil // built by another test binary while we waited
	}
	tmp, err := os.MkdirTemp(root, key+".tmp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	if err := buildAll(ctx, tmp, opts); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, err
	}
	return load(dir, opts.Layout)
}

// cacheRoot is the folder that holds the cached images.
func cacheRoot() (string, error) {
	if d := os.Getenv("SCELLE_NTFSTEST_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder: set SCELLE_NTFSTEST_CACHE: %w", err)
	}
	return filepath.Join(d, "scelle-ntfstest"), nil
}

// cacheKey names the volume opts describe; the three layouts of one
// volume share it.
func cacheKey(opts Options) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s@%s %s\n%d %d\n", builderVersion, hiveModule, hiveVer, hiveSHA256, opts.ExtraFiles, opts.VolumeSize)
	for _, p := range plants() {
		fmt.Fprintf(h, "%q %q %q %v %q %d %q\n", p.path, p.stream, p.family, p.hive, p.magic, p.size, p.text)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// built is what the cache folder's image.json holds.
type built struct {
	Serial     uint64 `json:"serial"`
	VolumeSize int64  `json:"volume_size"`
	Files      []File `json:"files"`
}

func imageFile(l Layout) string { return string(l) + ".img" }

func load(dir string, l Layout) (*Image, error) {
	b, err := os.ReadFile(filepath.Join(dir, "image.json"))
	if err != nil {
		return nil, err
	}
	var m built
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("cached image.json: %w", err)
	}
	p := filepath.Join(dir, imageFile(l))
	if _, err := os.Stat(p); err != nil {
		return nil, err
	}
	img := &Image{Path: p, Layout: l, PartitionSize: m.VolumeSize, Label: label, Serial: m.Serial, Files: m.Files}
	if l != Bare {
		img.PartitionOffset = diskLead
	}
	return img, nil
}

// buildAll makes the volume and its three layouts in dir.
func buildAll(ctx context.Context, dir string, opts Options) error {
	hive, err := fetchHive(ctx)
	if err != nil {
		return err
	}
	vol := filepath.Join(dir, imageFile(Bare))
	if err := os.WriteFile(vol, nil, 0o644); err != nil {
		return err
	}
	if err := os.Truncate(vol, opts.VolumeSize); err != nil {
		return err
	}
	sectors := strconv.FormatInt(opts.VolumeSize/512, 10)
	if err := run(ctx, "mkntfs", "-F", "-f", "-q", "-L", label, "-c", "4096", "-s", "512",
		"-p", "0", "-H", "255", "-S", "63", vol, sectors); err != nil {
		return err
	}
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		return err
	}
	files, err := populate(ctx, vol, mnt, hive, opts)
	if err != nil {
		return err
	}
	if err := os.Remove(mnt); err != nil {
		return err
	}
	if err := check(ctx, vol); err != nil {
		return err
	}
	boot := make([]byte, 512)
	if err := readAt(vol, boot, 0); err != nil {
		return err
	}
	m := built{Serial: binary.LittleEndian.Uint64(boot[0x48:]), VolumeSize: opts.VolumeSize, Files: files}
	if err := disk(ctx, vol, filepath.Join(dir, imageFile(MBR)), opts.VolumeSize, MBR); err != nil {
		return err
	}
	if err := disk(ctx, vol, filepath.Join(dir, imageFile(GPT)), opts.VolumeSize, GPT); err != nil {
		return err
	}
	b, err := json.MarshalIndent(m, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "image.json"), b, 0o644)
}

// populate mounts vol on mnt, plants the files and unmounts it; it
// returns the manifest.
func populate(ctx context.Context, vol, mnt string, hive []byte, opts Options) (files []File, err error) {
	cmd := exec.CommandContext(ctx, "ntfs-3g", "-o", "no_detach,streams_interface=xattr", vol, mnt)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("ntfs-3g: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := waitMounted(ctx, mnt, exited); err != nil {
		return nil, fmt.Errorf("ntfs-3g: %w: %s", err, stderr.String())
	}
	mounted := true
	defer func() {
		if mounted {
			_ = exec.Command("umount", "-l", mnt).Run()
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	files, err = plantAll(mnt, hive, opts)
	if err != nil {
		return nil, err
	}
	if err := run(ctx, "umount", mnt); err != nil {
		return nil, err
	}
	mounted = false
	// ntfs-3g writes its last changes and exits after the unmount.
	if err := <-exited; err != nil {
		return nil, fmt.Errorf("ntfs-3g: %w: %s", err, stderr.String())
	}
	return files, nil
}

// waitMounted returns once mnt is a FUSE mount, or the mount failed.
func waitMounted(ctx context.Context, mnt string, exited <-chan error) error {
	const fuseMagic = 0x65735546
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		var st unix.Statfs_t
		if err := unix.Statfs(mnt, &st); err == nil && st.Type == fuseMagic {
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited before mounting: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// plantAll writes every plant under mnt, makes the fragmented and the
// deleted files, and sets the times last.
func plantAll(mnt string, hive []byte, opts Options) ([]File, error) {
	var files []File
	ps := plants()
	for _, p := range ps {
		full := filepath.Join(mnt, filepath.FromSlash(p.path))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return nil, err
		}
		b := p.content(hive)
		switch {
		case p.stream != "":
			if err := unix.Setxattr(full, "user."+p.stream, b, 0); err != nil {
				return nil, fmt.Errorf("stream %s:%s: %w", p.path, p.stream, err)
			}
		case p.family == "fragmented":
			continue // below, once the volume is full
		case p.family == "sparse":
			if err := writeSparse(full); err != nil {
				return nil, err
			}
		default:
			if err := os.WriteFile(full, b, 0o644); err != nil {
				return nil, err
			}
		}
	}
	for i := 0; i < opts.ExtraFiles; i++ {
		d := filepath.Join(mnt, filepath.FromSlash(local+"Temp/fill"), fmt.Sprintf("%03d", i/1000))
		if i%1000 == 0 {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return nil, err
			}
		}
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("%06d.tmp", i)), bytes.Repeat([]byte{'x'}, 64), 0o644); err != nil {
			return nil, err
		}
	}
	for _, p := range ps {
		if p.family == "fragmented" {
			if err := writeFragmented(mnt, filepath.Join(mnt, filepath.FromSlash(p.path)), p.content(hive)); err != nil {
				return nil, err
			}
		}
	}
	for i, p := range ps {
		b := p.content(hive)
		sum := sha256.Sum256(b)
		f := File{Path: p.path, Stream: p.stream, Family: p.family, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b)),
			Sparse: p.family == "sparse", Fragmented: p.family == "fragmented"}
		if p.stream == "" {
			f.Created, f.Modified, f.Accessed = plantTimes(i)
			full := filepath.Join(mnt, filepath.FromSlash(p.path))
			if err := unix.Setxattr(full, "system.ntfs_times", ntfsTimes(f.Created, f.Modified, f.Accessed), 0); err != nil {
				return nil, fmt.Errorf("times of %s: %w", p.path, err)
			}
		}
		files = append(files, f)
	}
	// The deleted file, last, so that nothing reuses its MFT record.
	full := filepath.Join(mnt, filepath.FromSlash(deletedPath))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return nil, err
	}
	if err := writeSync(full, []byte(deletedText)); err != nil {
		return nil, err
	}
	if err := os.Remove(full); err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(deletedText))
	files = append(files, File{Path: deletedPath, Family: "deleted", SHA256: hex.EncodeToString(sum[:]),
		Size: int64(len(deletedText)), Deleted: true})
	return files, nil
}

func writeSync(path string, b []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeSparse writes sparseTail after a hole of sparseHole bytes: ntfs-3g
// makes the file sparse and allocates no cluster for the hole.
func writeSparse(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(sparseTail), sparseHole); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeFragmented writes b to path in the holes of an otherwise full
// volume: 64 KiB files are written, the free space filled, every other
// small file deleted, then the file written; the filler and the small
// files are deleted after.
func writeFragmented(mnt, path string, b []byte) error {
	dir := filepath.Join(mnt, "scelle-fill")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	chunk := make([]byte, 64<<10)
	holes := 2*len(b)/len(chunk) + 2
	for i := 0; i < holes; i++ {
		if err := writeSync(filepath.Join(dir, fmt.Sprintf("hole%03d", i)), chunk); err != nil {
			return err
		}
	}
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		return err
	}
	big := make([]byte, 1<<20)
	for err == nil {
		_, err = f.Write(big)
	}
	if !errors.Is(err, unix.ENOSPC) {
		f.Close()
		return fmt.Errorf("fill the volume: %w", err)
	}
	// The last, partial write: fill to the cluster.
	for n := len(big) / 2; n >= 4096; n /= 2 {
		_, _ = f.Write(big[:n])
	}
	if err := f.Close(); err != nil && !errors.Is(err, unix.ENOSPC) {
		return err
	}
	for i := 1; i < holes; i += 2 {
		if err := os.Remove(filepath.Join(dir, fmt.Sprintf("hole%03d", i))); err != nil {
			return err
		}
	}
	if err := writeSync(path, b); err != nil {
		return fmt.Errorf("write the fragmented file: %w", err)
	}
	return os.RemoveAll(dir)
}

// check reads back, with ntfsinfo, what the manifest claims.
func check(ctx context.Context, vol string) error {
	out, err := output(ctx, "ntfsinfo", "-v", "-F", "/"+fragmentedPath, vol)
	if err != nil {
		return err
	}
	if !strings.Contains(out, "Total runs: ") || strings.Contains(out, "Total runs: 1 ") {
		return fmt.Errorf("%s is not fragmented:\n%s", fragmentedPath, tail(out))
	}
	out, err = output(ctx, "ntfsinfo", "-F", "/"+sparsePath, vol)
	if err != nil {
		return err
	}
	if !strings.Contains(out, "Attribute flags:\t 0x8000") {
		return fmt.Errorf("%s is not sparse:\n%s", sparsePath, tail(out))
	}
	dir, name := path.Split(deletedPath)
	out, err = output(ctx, "ntfsls", "-p", "/"+dir, vol)
	if err != nil {
		return err
	}
	if slices.Contains(strings.Split(out, "\n"), name) {
		return fmt.Errorf("%s is still there", deletedPath)
	}
	return nil
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}

// disk writes the volume into a disk image of layout l at diskLead.
func disk(ctx context.Context, vol, out string, size int64, l Layout) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(diskLead + size + diskTail); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	start, n := strconv.Itoa(diskLead/512), strconv.FormatInt(size/512, 10)
	switch l {
	case MBR:
		script := "label: dos\nlabel-id: 0x5ce11e01\nstart=" + start + ", size=" + n + ", type=7, bootable\n"
		cmd := exec.CommandContext(ctx, "sfdisk", "--no-reread", "--no-tell-kernel", "-q", out)
		cmd.Stdin = strings.NewReader(script)
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("sfdisk: %w: %s", err, b)
		}
	case GPT:
		end := strconv.FormatInt(diskLead/512+size/512-1, 10)
		if err := run(ctx, "sgdisk", "-U", "5CE11E00-0000-4000-8000-000000000001",
			"-n", "1:"+start+":"+end, "-t", "1:0700", "-c", "1:Basic data partition",
			"-u", "1:5CE11E00-0000-4000-8000-000000000002", out); err != nil {
			return err
		}
	}
	return copyVolume(vol, out, diskLead)
}

// copyVolume copies vol into out at off, leaving zero blocks as holes,
// and sets the boot sectors' hidden sectors field to the partition start.
func copyVolume(vol, out string, off int64) error {
	src, err := os.Open(vol)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(out, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer dst.Close()
	buf := make([]byte, 64<<10)
	zero := make([]byte, len(buf))
	var size int64
	for pos := int64(0); ; pos += int64(len(buf)) {
		n, err := io.ReadFull(src, buf)
		if n > 0 && !bytes.Equal(buf[:n], zero[:n]) {
			if _, werr := dst.WriteAt(buf[:n], off+pos); werr != nil {
				return werr
			}
		}
		size = pos + int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return err
		}
	}
	hidden := make([]byte, 4)
	binary.LittleEndian.PutUint32(hidden, uint32(off/512))
	// The boot sector and its backup in the volume's last sector.
	for _, at := range []int64{0, size - 512} {
		if _, err := dst.WriteAt(hidden, off+at+0x1c); err != nil {
			return err
		}
	}
	return dst.Close()
}

func readAt(path string, b []byte, off int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.ReadAt(b, off)
	return err
}

func run(ctx context.Context, name string, args ...string) error {
	_, err := output(ctx, name, args...)
	return err
}

func output(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// goCommand is the go command that fetches the hive.
func goCommand() (string, error) {
	// go test puts GOROOT/bin first in the tests' PATH.
	p, err := exec.LookPath("go")
	if err != nil {
		return "", errors.New("no go command to fetch the registry hive")
	}
	return p, nil
}

// fetchHive downloads the hive's module through the module proxy (or
// finds it in the module cache) and returns the hive's bytes.
func fetchHive(ctx context.Context) ([]byte, error) {
	gocmd, err := goCommand()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, gocmd, "mod", "download", "-json", hiveModule+"@"+hiveVer)
	cmd.Dir = os.TempDir() // outside any module: the repository's go.mod stays as it is
	cmd.Env = append(os.Environ(), "GO111MODULE=on", "GOFLAGS=")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go mod download %s@%s: %w: %s", hiveModule, hiveVer, err, errb.String())
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return nil, fmt.Errorf("go mod download: %w", err)
	}
	if mod.Error != "" || mod.Dir == "" {
		return nil, fmt.Errorf("go mod download %s@%s: %s", hiveModule, hiveVer, mod.Error)
	}
	b, err := os.ReadFile(filepath.Join(mod.Dir, filepath.FromSlash(hiveFile)))
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != hiveSHA256 {
		return nil, fmt.Errorf("%s in %s@%s: SHA-256 %x, want %s", hiveFile, hiveModule, hiveVer, sum, hiveSHA256)
	}
	return b, nil
}
