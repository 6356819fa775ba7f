package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"

	sha256 "github.com/minio/sha256-simd"
	"golang.org/x/sys/unix"

	"github.com/scelle/scelle/collect"
)

// openExe opens the process's executable through the /proc/PID/exe magic
// link (never by its path, which may be gone or replaced), without
// updating its access time where the kernel allows it.
func (d *pidDir) openExe() (*os.File, bool, error) {
	p := path.Join(d.path, "exe")
	flags := unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK | unix.O_NOCTTY
	noatime := true
	fd, err := unix.Openat(d.fd, "exe", flags|unix.O_NOATIME, 0)
	if errors.Is(err, unix.EPERM) {
		noatime = false
		fd, err = unix.Openat(d.fd, "exe", flags, 0)
	}
	if err != nil {
		return nil, false, &os.PathError{Op: "open", Path: p, Err: d.exitErr(err)}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, false, &os.PathError{Op: "open", Path: p, Err: fs.ErrInvalid}
	}
	return os.NewFile(uintptr(fd), p), noatime, nil
}

type fileKey struct{ dev, ino uint64 }

// exeEntry is a record being built, with the raw link targets seen.
type exeEntry struct {
	x    *Executable
	raws [][]byte
}

// Collect implements collect.Collector.
func (e *Executables) Collect(ctx context.Context, s *collect.Session) error {
	pids, done, err := livePIDs(s)
	if done {
		return err
	}
	seen := map[fileKey]*exeEntry{}
	var order []*exeEntry
	for i, pid := range pids {
		if ctx.Err() != nil {
			s.Fail(s.Env.Linux.Proc, collect.KindGenerated, fmt.Errorf("interrupted after %d of %d processes: %w", i, len(pids), ctx.Err()))
			break
		}
		src := path.Join(s.Env.Linux.Proc, strconv.Itoa(pid), "exe")
		d, err := openPID(s.Env.Linux.Proc, pid)
		if errors.Is(err, errExited) {
			// Listed, then gone: nothing is lost that still existed.
			s.Skip(src, collect.KindFile, exitedReason)
			continue
		}
		if err != nil {
			s.Fail(src, collect.KindFile, err)
			continue
		}
		x, err := e.one(ctx, s, d, seen)
		d.close()
		switch {
		case errors.Is(err, errExited):
			s.Skip(src, collect.KindFile, exitedReason)
		case err != nil && errors.Is(err, fs.ErrNotExist):
			// No executable: a kernel thread or a zombie.
		case err != nil:
			s.Fail(src, collect.KindFile, err)
		case x != nil:
			order = append(order, x)
		}
	}
	out := newJSONL()
	for _, x := range order {
		x.x.Paths, x.x.PathsRaw = distinct(x.raws)
		if err := out.add(x.x); err != nil {
			return err
		}
	}
	// What was hashed is stored even when interrupted.
	s.PutBytes(context.WithoutCancel(ctx), "live/proc/executables.jsonl", s.Env.Linux.Proc, out.buf.Bytes())
	return ctx.Err()
}

// one opens the executable of the process d. It returns a new entry when
// the file (device and inode) was not seen before, hashing it and storing
// it when it is deleted or a memfd; else it adds the pid to the entry seen.
func (e *Executables) one(ctx context.Context, s *collect.Session, d *pidDir, seen map[fileKey]*exeEntry) (*exeEntry, error) {
	target, err := d.readlink("exe")
	if err != nil {
		return nil, err
	}
	f, noatime, err := d.openExe()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	before, err := collect.Fstat(f)
	if err != nil {
		return nil, err
	}
	k := fileKey{before.Dev, before.Inode}
	link := ParseLink(target)
	if en := seen[k]; en != nil {
		en.x.PIDs = append(en.x.PIDs, d.pid)
		en.x.Deleted = en.x.Deleted || link.Deleted
		en.raws = append(en.raws, target)
		return nil, nil
	}
	x := &Executable{
		Dev:     fmt.Sprintf("%d:%d", unix.Major(before.Dev), unix.Minor(before.Dev)),
		Inode:   before.Inode,
		Size:    before.Size,
		Nlink:   before.Nlink,
		PIDs:    []int{d.pid},
		Deleted: link.Deleted,
		Memfd:   link.Memfd,
		NoATime: noatime,
	}
	en := &exeEntry{x: x, raws: [][]byte{target}}
	seen[k] = en

	rctx, cancel := itemContext(ctx, s.Env)
	defer cancel()
	h := sha256.New()
	hashed := &counter{w: h}
	r := io.TeeReader(collect.NewContextReader(rctx, f), hashed)
	if link.Deleted || link.Memfd || before.Nlink == 0 {
		name := fmt.Sprintf("live/proc/exe/%d.bin", d.pid)
		size := min(before.Size, e.opts.MaxExecutable)
		if o := s.PutReader(rctx, name, f.Name(), collect.KindFile, size, r); o.Path != "" {
			x.Stored = name
		}
	}
	// Hash what the sink did not read: the bytes past the cap, or the
	// whole file when nothing was stored. The tee saw every byte read, in
	// order, so the sum is of the whole file.
	if _, err := io.Copy(io.Discard, r); err != nil {
		x.Error = fmt.Sprintf("read %s after %d bytes: %v", f.Name(), hashed.n, d.exitErr(err))
		s.Fail(f.Name(), collect.KindFile, fmt.Errorf("sha256 not computed: %s", x.Error))
	}
	x.Hashed = hashed.n
	if x.Error == "" {
		x.SHA256 = fmt.Sprintf("%x", h.Sum(nil))
	}
	if after, err := collect.Fstat(f); err == nil {
		x.Changed = before.Changed(after)
	}
	return en, nil
}

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// distinct returns the distinct link targets in first-seen order, as
// text, and their raw bytes when any of them is not valid UTF-8.
func distinct(raws [][]byte) ([]string, [][]byte) {
	var paths []string
	var out [][]byte
	bad := false
	seen := map[string]bool{}
	for _, r := range raws {
		if seen[string(r)] {
			continue
		}
		seen[string(r)] = true
		t, b := text(r)
		bad = bad || b != nil
		paths = append(paths, t)
		out = append(out, r)
	}
	if !bad {
		out = nil
	}
	return paths, out
}
