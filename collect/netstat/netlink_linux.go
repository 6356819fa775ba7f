package netstat

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// supported reports whether the live collectors can run on this OS.
const supported = true

// maxDump bounds the bytes of one netlink dump kept in memory.
const maxDump = 64 << 20

// dumpRetries is how many times a dump the kernel marks as interrupted
// (NLM_F_DUMP_INTR: the table changed while it was dumped) is retried.
const dumpRetries = 3

// netlinkDump asks the kernel for a NETLINK_ROUTE dump of typ (RTM_GETLINK,
// RTM_GETADDR, RTM_GETROUTE or RTM_GETNEIGH) for all address families and
// returns the messages it answered, as received. When the dump stays
// inconsistent after retries, or is larger than maxDump, the messages
// received are returned with an error.
func netlinkDump(ctx context.Context, typ uint16) ([]byte, error) {
	var b []byte
	var err error
	for try := 0; try < dumpRetries; try++ {
		b, err = netlinkDumpOnce(ctx, typ, uint32(time.Now().UnixNano())|1)
		if !errors.Is(err, errDumpInterrupted) {
			return b, err
		}
	}
	return b, fmt.Errorf("after %d tries: %w", dumpRetries, err)
}

var errDumpInterrupted = errors.New("dump interrupted by a change of the table (NLM_F_DUMP_INTR): records may be inconsistent")

func netlinkDumpOnce(ctx context.Context, typ uint16, seq uint32) ([]byte, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netlink bind: %w", err)
	}
	// A receive timeout lets the loop notice ctx; the kernel answers a
	// dump at once, so a long silence is an error.
	tv := unix.Timeval{Sec: 0, Usec: 250000}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, fmt.Errorf("netlink timeout: %w", err)
	}
	var hdrLen int
	switch typ {
	case rtmGetLink:
		hdrLen = 16 // struct ifinfomsg
	case rtmGetAddr:
		hdrLen = 8 // struct ifaddrmsg
	case rtmGetRoute, rtmGetNeigh:
		hdrLen = 12 // struct rtmsg, struct ndmsg
	default:
		return nil, fmt.Errorf("netlink: unsupported request %d", typ)
	}
	req := make([]byte, nlmsgHdrLen+hdrLen)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], typ)
	binary.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	binary.NativeEndian.PutUint32(req[8:], seq)
	// req[16] is the family: AF_UNSPEC, all of them.
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netlink send: %w", err)
	}
	var out []byte
	buf := make([]byte, 1<<16)
	intr := false
	silent := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		n, _, rflags, from, err := unix.Recvmsg(fd, buf, nil, 0)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN || err == unix.EWOULDBLOCK:
			if time.Since(silent) > 10*time.Second {
				return out, errors.New("netlink: no answer for 10s")
			}
			continue
		case err != nil:
			return out, fmt.Errorf("netlink receive: %w", err)
		}
		silent = time.Now()
		if sa, ok := from.(*unix.SockaddrNetlink); !ok || sa.Pid != 0 {
			continue // not from the kernel
		}
		if rflags&unix.MSG_TRUNC != 0 {
			return out, errors.New("netlink: message truncated by the receive buffer")
		}
		msgs, err := ParseMessages(buf[:n])
		if err != nil {
			return out, fmt.Errorf("netlink answer: %w", err)
		}
		if len(msgs) == 0 || msgs[0].Seq != seq {
			continue // a stale answer to another request
		}
		if len(out)+n > maxDump {
			return out, fmt.Errorf("netlink dump larger than %d bytes: rest not read", maxDump)
		}
		out = append(out, buf[:n]...)
		for _, m := range msgs {
			if m.Flags&nlmFDumpIntr != 0 {
				intr = true
			}
			switch m.Type {
			case nlmsgError:
				if err := errorMessage(m); err != nil {
					return out, err
				}
			case nlmsgDone:
				if err := errorMessage(m); err != nil {
					return out, err
				}
				if intr {
					return out, errDumpInterrupted
				}
				return out, nil
			}
		}
	}
}
