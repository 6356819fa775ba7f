package bodyfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/internal/safeopen"
)

const (
	statxFlags = unix.AT_SYMLINK_NOFOLLOW | unix.AT_NO_AUTOMOUNT | unix.AT_STATX_DONT_SYNC
	statxMask  = unix.STATX_BASIC_STATS | unix.STATX_BTIME
	dirFlags   = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NONBLOCK
	direntBuf  = 8 << 10
)

// notCrossed names the file systems the walk does not enter below a root:
// kernel pseudo file systems (their content is not on disk, and reading
// some has effects), and file systems served over the network or by a
// host process (which may hang the walk or lie).
var notCrossed = map[int64]string{
	unix.PROC_SUPER_MAGIC:     "proc",
	unix.SYSFS_MAGIC:          "sysfs",
	unix.CGROUP_SUPER_MAGIC:   "cgroup",
	unix.CGROUP2_SUPER_MAGIC:  "cgroup2",
	unix.DEBUGFS_MAGIC:        "debugfs",
	unix.TRACEFS_MAGIC:        "tracefs",
	unix.SECURITYFS_MAGIC:     "securityfs",
	unix.PSTOREFS_MAGIC:       "pstore",
	unix.BPF_FS_MAGIC:         "bpf",
	unix.EFIVARFS_MAGIC:       "efivarfs",
	unix.BINFMTFS_MAGIC:       "binfmt_misc",
	unix.DEVPTS_SUPER_MAGIC:   "devpts",
	unix.NSFS_MAGIC:           "nsfs",
	unix.SELINUX_MAGIC:        "selinuxfs",
	unix.SMACK_MAGIC:          "smackfs",
	unix.RDTGROUP_SUPER_MAGIC: "resctrl",
	unix.HUGETLBFS_MAGIC:      "hugetlbfs",
	unix.AUTOFS_SUPER_MAGIC:   "autofs",
	0x62656570:                "configfs",
	0x65735543:                "fusectl",
	0x19800202:                "mqueue",
	unix.FUSE_SUPER_MAGIC:     "fuse",
	unix.NFS_SUPER_MAGIC:      "nfs",
	unix.SMB_SUPER_MAGIC:      "smb",
	unix.SMB2_SUPER_MAGIC:     "smb2",
	unix.CIFS_SUPER_MAGIC:     "cifs",
	unix.V9FS_MAGIC:           "9p",
	unix.CEPH_SUPER_MAGIC:     "ceph",
	unix.AFS_SUPER_MAGIC:      "afs",
	unix.CODA_SUPER_MAGIC:     "coda",
}

// Collect implements collect.Collector.
func (w *Walker) Collect(ctx context.Context, s *collect.Session) error {
	roots := cleanRoots(w.Roots)
	if len(roots) == 0 {
		s.Skip("", collect.KindDir, "no folders to walk")
		return nil
	}
	limit := w.ChunkSize
	if limit <= 0 {
		limit = DefaultChunkSize
	}
	l := newLists(ctx, s, w.base(), "walk of "+strings.Join(roots, ", "), limit, loadAccounts(ctx, s))
	var err error
	for _, r := range roots {
		if err = ctx.Err(); err != nil {
			break
		}
		if err = w.walkRoot(ctx, s, l, r); err != nil {
			break
		}
	}
	// What was walked stays valid evidence even after an interruption;
	// the runner records the collector as failed.
	l.close(context.WithoutCancel(ctx))
	return err
}

type devIno struct{ dev, ino uint64 }

// walk is the state of the walk of one root.
type walk struct {
	s        *collect.Session
	l        *lists
	exclude  map[string]string // folder -> why it is not entered
	line     bytes.Buffer
	stack    []devIno // folders being walked, to stop loops
	entries  int
	links    int
	problems int
}

func (w *Walker) walkRoot(ctx context.Context, s *collect.Session, l *lists, r string) error {
	k := &walk{s: s, l: l, exclude: map[string]string{}}
	for _, x := range DefaultExclude {
		if !within(r, x) {
			k.exclude[x] = "kernel virtual file system folder: not entered"
		}
	}
	for _, x := range w.Exclude {
		x = path.Clean("/" + x)
		if within(r, x) {
			s.Skip(r, collect.KindDir, fmt.Sprintf("excluded (below %s): not walked", x))
			return nil
		}
		k.exclude[x] = "excluded: not entered"
	}
	o := collect.Outcome{Source: r, Kind: collect.KindDir, Started: time.Now().UTC()}
	parent, name := path.Dir(r), path.Base(r)
	if r == "/" {
		name = ""
	}
	pf, err := safeopen.OpenDir(s.Env.Root, parent)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
			s.Skip(r, collect.KindDir, "not present")
			return nil
		}
		s.Fail(r, collect.KindDir, fmt.Errorf("open parent folder: %w", err))
		return nil
	}
	defer pf.Close()
	present, err := k.visit(ctx, int(pf.Fd()), r, name, 0, 0, true)
	if !present {
		return err
	}
	o.Status, o.Reason = collect.Collected, fmt.Sprintf("%d entries listed in the bodyfile", k.entries)
	if k.links > 0 {
		o.Reason += fmt.Sprintf("; %d link targets read: readlink(2) may have updated those links' access times "+
			"(the bodyfile shows them from before)", k.links)
	}
	if k.problems > 0 {
		o.Status = collect.Partial
		o.Reason += fmt.Sprintf("; %d entries or folders could not be read (see their failed outcomes)", k.problems)
	}
	if err != nil {
		o.Status = collect.Partial
		o.Reason += fmt.Sprintf("; walk stopped: %v", err)
	}
	s.Record(o)
	return err
}

func statx(dirfd int, name string, sx *unix.Statx_t) error {
	flags := statxFlags
	if name == "" {
		flags |= unix.AT_EMPTY_PATH
	}
	for {
		err := unix.Statx(dirfd, name, flags, statxMask, sx)
		if err != unix.EINTR {
			return err
		}
	}
}

func toStat(sx *unix.Statx_t) *stat {
	st := &stat{mode: uint32(sx.Mode), uid: sx.Uid, gid: sx.Gid, size: int64(sx.Size), ino: sx.Ino,
		atime: sx.Atime.Sec, mtime: sx.Mtime.Sec, ctime: sx.Ctime.Sec,
		mtimeT: time.Unix(sx.Mtime.Sec, int64(sx.Mtime.Nsec)).UTC(),
		ctimeT: time.Unix(sx.Ctime.Sec, int64(sx.Ctime.Nsec)).UTC()}
	if sx.Mask&unix.STATX_BTIME != 0 && (sx.Btime.Sec != 0 || sx.Btime.Nsec != 0) {
		st.crtime = sx.Btime.Sec
		b := time.Unix(sx.Btime.Sec, int64(sx.Btime.Nsec)).UTC()
		st.btimeT = &b
	}
	return st
}

// visit lists the entry name of the folder dirfd, host path p, and walks
// it when it is a folder. It reports whether the entry existed; its error
// is the context's, which stops the walk.
func (k *walk) visit(ctx context.Context, dirfd int, p, name string, depth int, parentDev uint64, isRoot bool) (bool, error) {
	var sx unix.Statx_t
	if err := statx(dirfd, name, &sx); err != nil {
		switch {
		case err == unix.ENOENT && isRoot:
			k.s.Skip(p, collect.KindDir, "not present")
		case err == unix.ENOENT:
			k.s.Skip(p, collect.KindFile, "vanished during the walk")
		default:
			k.problems++
			k.s.Fail(p, collect.KindFile, fmt.Errorf("statx %s: %w", p, err))
		}
		return !isRoot || err != unix.ENOENT, nil
	}
	st := toStat(&sx)
	var target string
	if st.mode&sIFMT == sIFLNK {
		buf := make([]byte, unix.PathMax)
		k.links++
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			k.problems++
			k.s.Fail(p, collect.KindSymlink, fmt.Errorf("read link %s: %w", p, err))
		} else {
			target = string(buf[:n])
		}
	}
	k.l.add(p, name, target, st, &k.line)
	k.entries++
	if st.mode&sIFMT != sIFDIR {
		return true, nil
	}
	return true, k.walkDir(ctx, dirfd, p, name, depth, parentDev, &sx, isRoot)
}

// walkDir enters the folder name of dirfd, host path p, whose statx is sx.
func (k *walk) walkDir(ctx context.Context, dirfd int, p, name string, depth int, parentDev uint64, sx *unix.Statx_t, isRoot bool) error {
	if !isRoot {
		if why, ok := k.exclude[p]; ok {
			k.s.Skip(p, collect.KindDir, why)
			return nil
		}
		if sx.Attributes&unix.STATX_ATTR_AUTOMOUNT != 0 {
			k.s.Skip(p, collect.KindDir, "automount point: not entered (entering would mount it)")
			return nil
		}
	}
	if depth >= MaxDepth {
		k.s.Skip(p, collect.KindDir, fmt.Sprintf("folder depth limit of %d reached: not entered", MaxDepth))
		return nil
	}
	di := devIno{unix.Mkdev(sx.Dev_major, sx.Dev_minor), sx.Ino}
	for _, a := range k.stack {
		if a == di {
			k.s.Skip(p, collect.KindDir, "folder loop (a bind mount of an enclosing folder): not entered again")
			return nil
		}
	}
	open := name
	if open == "" {
		open = "."
	}
	fd, err := openat(dirfd, open)
	if err != nil {
		k.problems++
		k.s.Fail(p, collect.KindDir, fmt.Errorf("open folder %s: %w", p, err))
		return nil
	}
	defer unix.Close(fd)
	var fx unix.Statx_t
	if err := statx(fd, "", &fx); err != nil {
		k.problems++
		k.s.Fail(p, collect.KindDir, fmt.Errorf("statx folder %s: %w", p, err))
		return nil
	}
	if (devIno{unix.Mkdev(fx.Dev_major, fx.Dev_minor), fx.Ino}) != di {
		k.s.Skip(p, collect.KindDir, "replaced by another folder between listing and opening: not entered")
		return nil
	}
	if !isRoot && di.dev != parentDev {
		var sf unix.Statfs_t
		if err := unix.Fstatfs(fd, &sf); err == nil {
			if fsName, ok := notCrossed[int64(sf.Type)]; ok {
				k.s.Skip(p, collect.KindDir, fmt.Sprintf("mount point of a %s file system: not entered", fsName))
				return nil
			}
		}
	}
	k.stack = append(k.stack, di)
	defer func() { k.stack = k.stack[:len(k.stack)-1] }()
	buf := make([]byte, direntBuf)
	var names []string
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := readDirent(fd, buf)
		if err != nil {
			k.problems++
			k.s.Fail(p, collect.KindDir, fmt.Errorf("read folder %s: %w", p, err))
			return nil
		}
		if n <= 0 {
			return nil
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names[:0])
		for _, nm := range names {
			if _, err := k.visit(ctx, fd, path.Join(p, nm), nm, depth+1, di.dev, false); err != nil {
				return err
			}
		}
	}
}

func openat(dirfd int, name string) (int, error) {
	flags := dirFlags | unix.O_NOATIME
	for {
		fd, err := unix.Openat(dirfd, name, flags, 0)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EPERM && flags&unix.O_NOATIME != 0:
			// O_NOATIME needs ownership or CAP_FOWNER.
			flags &^= unix.O_NOATIME
			continue
		}
		return fd, err
	}
}

func readDirent(fd int, buf []byte) (int, error) {
	for {
		n, err := unix.ReadDirent(fd, buf)
		if err != unix.EINTR {
			return n, err
		}
	}
}
