package proc

import (
	"context"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/scelle/scelle/collect"
)

// Collect implements collect.Collector.
func (m *Memory) Collect(ctx context.Context, s *collect.Session) error {
	out := newJSONL()
	for _, pid := range m.opts.MemoryPIDs {
		if err := ctx.Err(); err != nil {
			return err
		}
		src := path.Join(s.Env.Linux.Proc, strconv.Itoa(pid), "mem")
		if !s.Env.Live {
			s.Skip(src, collect.KindKernel, deadBox)
			continue
		}
		if err := m.one(ctx, s, pid, out); err != nil {
			s.Fail(src, collect.KindKernel, err)
		}
	}
	if s.Env.Live {
		s.PutBytes(ctx, "live/proc/memory.jsonl", s.Env.Linux.Proc, out.buf.Bytes())
	}
	return nil
}

// one stores the readable regions of process pid, in address order, until
// the cap; it returns an error when nothing of the process could be read.
func (m *Memory) one(ctx context.Context, s *collect.Session, pid int, out *jsonl) error {
	d, err := openPID(s.Env.Linux.Proc, pid)
	if err != nil {
		return err
	}
	defer d.close()
	// The maps the regions were taken from, stored with them.
	b, cut, _ := copyRaw(ctx, s, d, "maps", fmt.Sprintf("live/proc/%d/mem/maps", pid), m.opts.MaxKernelFile, m.opts.MaxKernelFile)
	if b == nil {
		return fmt.Errorf("no memory map read")
	}
	maps, err := ParseMaps(b)
	if err != nil && !cut {
		return err
	}
	mem, err := d.open("mem")
	if err != nil {
		return err
	}
	defer mem.Close()
	left := m.opts.MaxMemory
	for _, mp := range maps {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := Region{PID: pid, Start: fmt.Sprintf("%08x", mp.Start), End: fmt.Sprintf("%08x", mp.End),
			Perms: mp.Perms, Offset: mp.Offset, Dev: mp.Dev, Inode: mp.Inode}
		r.Path, r.PathRaw = text(mp.Path)
		size := int64(mp.End - mp.Start)
		if reason := skipRegion(mp); reason != "" {
			r.Status, r.Reason = string(collect.Skipped), reason
		} else if size > left {
			r.Status, r.Reason = string(collect.Skipped), fmt.Sprintf("memory cap of %d bytes reached", m.opts.MaxMemory)
		} else {
			left -= size
			rctx, cancel := itemContext(ctx, s.Env)
			name := fmt.Sprintf("live/proc/%d/mem/%s-%s.bin", pid, r.Start, r.End)
			rd := &capReader{d: d, r: collect.NewContextReader(rctx, io.NewSectionReader(mem, int64(mp.Start), size)), left: size, max: size}
			o := s.PutReader(rctx, name, mem.Name(), collect.KindKernel, size, rd)
			cancel()
			r.Status, r.Reason, r.SHA256 = string(o.Status), o.Reason, o.SHA256
			if o.Path != "" {
				r.Stored = name
			}
		}
		if err := out.add(r); err != nil {
			return err
		}
	}
	return nil
}

// skipRegion says why a mapping is not read, or "".
func skipRegion(mp Mapping) string {
	p := string(mp.Path)
	switch {
	case mp.Perms[0] != 'r':
		return "not readable"
	case mp.Start >= 1<<63 || mp.End > 1<<63:
		return "address beyond the file offset range (vsyscall)"
	case p == "[vvar]" || p == "[vvar_vclock]":
		return "kernel time data page: not readable through mem"
	case strings.HasPrefix(p, "/dev/") && !strings.HasPrefix(p, "/dev/shm/") && !strings.HasPrefix(p, "/dev/zero"):
		return "device mapping: not read"
	}
	return ""
}
