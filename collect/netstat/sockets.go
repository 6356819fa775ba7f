package netstat

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/scelle/scelle/collect"
	"github.com/scelle/scelle/internal/safeopen"
)

// socketTable is one /proc/net socket table.
type socketTable struct {
	file  string // under /proc/net
	proto string
	parse func(r io.Reader, src string, emit func(Socket) error) error
}

func inet(proto string) func(io.Reader, string, func(Socket) error) error {
	return func(r io.Reader, src string, emit func(Socket) error) error {
		return ParseInet(r, src, proto, binary.NativeEndian, emit)
	}
}

var socketTables = []socketTable{
	{"tcp", "tcp", inet("tcp")},
	{"tcp6", "tcp", inet("tcp")},
	{"udp", "udp", inet("udp")},
	{"udp6", "udp", inet("udp")},
	{"udplite", "udplite", inet("udplite")},
	{"udplite6", "udplite", inet("udplite")},
	{"raw", "raw", inet("raw")},
	{"raw6", "raw", inet("raw")},
	{"icmp", "icmp", inet("icmp")}, // unprivileged ping sockets
	{"icmp6", "icmp", inet("icmp")},
	{"unix", "unix", ParseUnix},
	{"packet", "packet", ParsePacket},
	{"netlink", "netlink", ParseNetlink},
}

type sockCollector struct{ base }

// NewSockets returns the net.sockets collector. It stores each socket
// table of the collector's network namespace as is
// (live/proc/net/{tcp,tcp6,udp,udp6,udplite,udplite6,raw,raw6,icmp,icmp6,
// unix,packet,netlink}), the tables of every other network namespace a process is
// in (live/proc/<pid>/net/<table>, through the lowest such pid), and the
// parsed sockets with their owning processes (live/net/sockets.jsonl),
// found by reading the /proc/<pid>/fd links.
func NewSockets() collect.Collector { return &sockCollector{base{name: "net.sockets"}} }

const socketsName = "live/net/sockets.jsonl"

// Collect implements collect.Collector.
func (c *sockCollector) Collect(ctx context.Context, s *collect.Session) error {
	proc := s.Env.Linux.Proc
	var planned []string
	for _, t := range socketTables {
		planned = append(planned, path.Join(proc, "net", t.file))
	}
	if skipVolatile(s, collect.KindKernel, planned...) {
		skipVolatile(s, collect.KindGenerated, socketsName)
		return nil
	}
	// The tables first: they change fastest. The parsed records are made
	// from the very bytes stored, so the two always agree.
	stored := map[string][]byte{}
	copyTable := func(name, host string) {
		var b bytes.Buffer
		// A table cut at the sink's bound is parsed whole from a new read.
		if o := s.CopyKernelTee(ctx, name, host, maxRaw, &b); o.Status == collect.Collected {
			stored[host] = b.Bytes()
		}
	}
	for _, t := range socketTables {
		if err := ctx.Err(); err != nil {
			return err
		}
		copyTable("live/proc/net/"+t.file, path.Join(proc, "net", t.file))
	}
	scan, err := scanProcesses(ctx, proc)
	if err != nil {
		return err
	}
	// Other network namespaces: through the first process still there.
	type nsTables struct {
		ns  uint64
		dir string // host path of the net folder
		pid int
	}
	var others []nsTables
	for _, ns := range scan.namespaces() {
		if ns == scan.selfNS {
			continue
		}
		found := false
		for _, pid := range scan.netns[ns] {
			dir := path.Join(proc, strconv.Itoa(pid), "net")
			if _, err := collect.Lstat(path.Join(dir, "unix")); err != nil {
				continue // exited, or not readable: try the next
			}
			for _, t := range socketTables {
				if err := ctx.Err(); err != nil {
					return err
				}
				copyTable(fmt.Sprintf("live/proc/%d/net/%s", pid, t.file), path.Join(dir, t.file))
			}
			others = append(others, nsTables{ns, dir, pid})
			found = true
			break
		}
		if !found {
			s.Fail(fmt.Sprintf("%s/*/net (net:[%d])", proc, ns), collect.KindKernel,
				fmt.Errorf("no process of network namespace %d left with a readable net folder (pids %v)", ns, scan.netns[ns]))
		}
	}
	src := fmt.Sprintf("%s/net/{%s} and %s/*/fd", proc, tableNames(), proc)
	putJSONL(ctx, s, socketsName, src, func(w *recordWriter) error {
		var p problems
		emitFrom := func(dir, logical string, ns uint64) error {
			for _, t := range socketTables {
				err := parseTable(ctx, stored, path.Join(dir, t.file), logical+"/"+t.file, t, func(sk Socket) error {
					sk.NetNS = ns
					sk.Owners = scan.owners[sk.Inode]
					if sk.Owners == nil || sk.Inode == 0 {
						sk.Owners = []Owner{}
					}
					return w.Write(sk)
				})
				switch {
				case err == nil, errors.Is(err, fs.ErrNotExist):
				case isStop(ctx, err):
					return err
				default:
					p.add("%v", err)
				}
			}
			return nil
		}
		err := emitFrom(path.Join(proc, "net"), "/proc/net", scan.selfNS)
		for _, o := range others {
			if err != nil {
				break
			}
			err = emitFrom(o.dir, fmt.Sprintf("/proc/%d/net", o.pid), o.ns)
		}
		if err != nil {
			p.add("%v", err) // the reason generation stopped, after the others
		}
		if len(scan.denied) > 0 {
			p.add("owners incomplete: the fd links of %d processes were not all readable (pids %s); first error: %v",
				len(scan.denied), pidList(scan.denied), scan.deniedErr)
		}
		return p.err()
	})
	return ctx.Err()
}

// isStop reports whether err ends the whole generation (cancellation,
// the record cap, the sink no longer reading) rather than one table.
func isStop(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, errRecordCap) || errors.Is(err, errSinkStopped)
}

func tableNames() string {
	var n []string
	for _, t := range socketTables {
		n = append(n, t.file)
	}
	return strings.Join(n, ",")
}

func pidList(pids []int) string {
	const show = 20
	var b strings.Builder
	for i, p := range pids {
		if i == show {
			fmt.Fprintf(&b, " and %d more", len(pids)-show)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(p))
	}
	return b.String()
}

// parseTable opens the kernel table at hostPath and parses it.
// parseTable parses the table at hostPath from the bytes stored of it, or,
// when none were stored, as read now.
func parseTable(ctx context.Context, stored map[string][]byte, hostPath, logical string, t socketTable, emit func(Socket) error) error {
	if b, ok := stored[hostPath]; ok {
		return t.parse(bytes.NewReader(b), logical, emit)
	}
	return readTable(ctx, hostPath, func(r io.Reader) error { return t.parse(r, logical, emit) })
}

// procScan is what a pass over /proc/<pid> found.
type procScan struct {
	owners    map[uint64][]Owner // socket inode -> holders
	netns     map[uint64][]int   // network namespace inode -> pids, ascending
	selfNS    uint64             // the collector's own network namespace
	denied    []int              // pids whose fd folder or links could not be read
	deniedErr error              // the first such error
}

func (p *procScan) namespaces() []uint64 {
	out := make([]uint64, 0, len(p.netns))
	for ns := range p.netns {
		out = append(out, ns)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// scanProcesses reads every process's fd links and network namespace.
// Processes that exit during the scan are left out without error.
func scanProcesses(ctx context.Context, proc string) (*procScan, error) {
	p := &procScan{owners: map[uint64][]Owner{}, netns: map[uint64][]int{}}
	p.selfNS, _ = nsInode(path.Join(proc, "self/ns/net"))
	pids, err := listPIDs(proc)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	for _, pid := range pids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		dir := path.Join(proc, strconv.Itoa(pid))
		if ns, err := nsInode(path.Join(dir, "ns/net")); err == nil {
			p.netns[ns] = append(p.netns[ns], pid)
		}
		p.scanFDs(ctx, dir, pid)
	}
	return p, nil
}

func (p *procScan) scanFDs(ctx context.Context, dir string, pid int) {
	fdDir := path.Join(dir, "fd")
	var firstErr error
	defer func() {
		if firstErr != nil {
			p.denied = append(p.denied, pid)
			if p.deniedErr == nil {
				p.deniedErr = firstErr
			}
		}
	}()
	f, err := safeopen.OpenDir("", fdDir)
	if err != nil {
		if !gone(err) {
			firstErr = err
		}
		return
	}
	defer f.Close()
	comm := ""
	var commRaw []byte
	haveComm := false
	for {
		names, err := f.Readdirnames(1024)
		for _, name := range names {
			fd, err := strconv.Atoi(name)
			if err != nil {
				continue
			}
			target, err := os.Readlink(path.Join(fdDir, name))
			if err != nil {
				if !gone(err) && firstErr == nil {
					firstErr = err
				}
				continue
			}
			inode, ok := socketInode(target)
			if !ok {
				continue
			}
			if !haveComm {
				b, _ := collect.ReadFile(ctx, path.Join(dir, "comm"), maxSmall)
				comm, haveComm = strings.TrimSuffix(string(b), "\n"), true
				if !utf8.ValidString(comm) {
					commRaw = []byte(comm)
				}
			}
			p.owners[inode] = append(p.owners[inode], Owner{PID: pid, FD: fd, Comm: comm, CommRaw: commRaw})
		}
		if err != nil || len(names) == 0 {
			if err != nil && err != io.EOF && !gone(err) && firstErr == nil {
				firstErr = err
			}
			return
		}
	}
}

// gone reports whether err says the process or fd no longer exists.
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// socketInode parses an fd link target "socket:[12345]".
func socketInode(target string) (uint64, bool) {
	s, ok := strings.CutPrefix(target, "socket:[")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "]")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// nsInode reads a namespace link "net:[4026531840]".
func nsInode(link string) (uint64, error) {
	t, err := os.Readlink(link)
	if err != nil {
		return 0, err
	}
	s, ok := strings.CutPrefix(t, "net:[")
	if !ok {
		return 0, fmt.Errorf("%s: unexpected target %q", link, t)
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", link, err)
	}
	return n, nil
}

// listPIDs lists the numeric folders of proc, ascending.
func listPIDs(proc string) ([]int, error) {
	f, err := safeopen.OpenDir("", proc)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var pids []int
	for {
		names, err := f.Readdirnames(4096)
		for _, n := range names {
			if pid, err := strconv.Atoi(n); err == nil && pid > 0 {
				pids = append(pids, pid)
			}
		}
		if err == io.EOF || (err == nil && len(names) == 0) {
			break
		}
		if err != nil {
			return pids, err
		}
	}
	sort.Ints(pids)
	return pids, nil
}
