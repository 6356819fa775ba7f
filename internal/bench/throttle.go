//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// throttleRate is the write rate of the throttled medium, bytes a second:
// a USB 3 stick's.
const throttleRate = 100_000_000

// medium is a file system whose writes go no faster than throttleRate,
// made as root from what Linux has on these machines:
//
//   - an ext4 file system on a loop device over a sparse file in /dev/shm
//     (so the medium itself is memory, and the limit is the only limit);
//   - the block layer's throttle on that loop device, cgroup v2 io.max of
//     the root group when the io controller is there, else cgroup v1
//     blkio.throttle.write_bps_device of the root group (which holds the
//     flusher threads, so buffered writes are throttled as they reach the
//     device);
//   - the device's dirty page cache held to 32 MiB (bdi strict_limit and
//     max_bytes), as the kernel holds a slow stick's, so that a writer
//     waits for the medium instead of filling the page cache, as it would
//     on a real stick once its few hundred MiB of cache are full.
//
// dm-delay and dm-throttle need device-mapper, which these machines'
// kernels lack.
type medium struct {
	Dir, img, dev, bdi, limitFile string
	// Rate is the measured rate of writing 256 MiB of random bytes and
	// syncing them, bytes a second.
	Rate float64
}

// newMedium makes the throttled medium, or says why it cannot.
func newMedium(work string) (*medium, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("not root: a loop device and the block throttle need root")
	}
	for _, tool := range []string{"losetup", "mkfs.ext4", "mount", "umount", "lsblk"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s not found", tool)
		}
	}
	m := &medium{Dir: filepath.Join(work, "medium"), img: fmt.Sprintf("/dev/shm/scelle-bench-medium-%d.img", os.Getpid())}
	fail := func(err error) (*medium, error) { m.close(); return nil, err }
	sh := func(name string, args ...string) (string, error) {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return strings.TrimSpace(string(out)), nil
	}
	if err := os.WriteFile(m.img, nil, 0o600); err != nil {
		return fail(err)
	}
	if err := os.Truncate(m.img, 3<<30); err != nil {
		return fail(err)
	}
	dev, err := sh("losetup", "-f", "--show", "--direct-io=on", m.img)
	if err != nil {
		return fail(err)
	}
	m.dev = dev
	if _, err := sh("mkfs.ext4", "-q", "-F", "-E", "nodiscard", dev); err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(m.Dir, 0o755); err != nil {
		return fail(err)
	}
	// discard: files removed give their memory back to /dev/shm.
	if _, err := sh("mount", "-o", "discard", dev, m.Dir); err != nil {
		m.Dir = ""
		return fail(err)
	}
	majmin, err := sh("lsblk", "-dno", "MAJ:MIN", dev)
	if err != nil {
		return fail(err)
	}
	majmin = strings.TrimSpace(majmin)
	m.bdi = "/sys/class/bdi/" + majmin
	if b, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil && strings.Contains(string(b), "io") {
		m.limitFile = "/sys/fs/cgroup/io.max"
		err = os.WriteFile(m.limitFile, fmt.Appendf(nil, "%s wbps=%d", majmin, throttleRate), 0)
	} else {
		m.limitFile = "/sys/fs/cgroup/blkio/blkio.throttle.write_bps_device"
		err = os.WriteFile(m.limitFile, fmt.Appendf(nil, "%s %d", majmin, throttleRate), 0)
	}
	if err != nil {
		m.limitFile = ""
		return fail(fmt.Errorf("block throttle: %w", err))
	}
	m.limitFile += "\x00" + majmin
	if err := os.WriteFile(m.bdi+"/strict_limit", []byte("1"), 0); err != nil {
		return fail(err)
	}
	if err := os.WriteFile(m.bdi+"/max_bytes", []byte(fmt.Sprint(32<<20)), 0); err != nil {
		return fail(err)
	}
	if m.Rate, err = m.calibrate(); err != nil {
		return fail(err)
	}
	return m, nil
}

// calibrate writes 256 MiB of random bytes to the medium, syncs them and
// returns the rate.
func (m *medium) calibrate() (float64, error) {
	p := filepath.Join(m.Dir, "calibrate")
	defer os.Remove(p)
	f, err := os.Create(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i*2654435761>>13) ^ byte(i>>7)
	}
	start := time.Now()
	for i := range 256 {
		buf[0] = byte(i)
		if _, err := f.Write(buf); err != nil {
			return 0, err
		}
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return float64(256<<20) / time.Since(start).Seconds(), nil
}

// close undoes newMedium, as far as it went.
func (m *medium) close() {
	if m.limitFile != "" {
		file, majmin, _ := strings.Cut(m.limitFile, "\x00")
		if strings.HasSuffix(file, "io.max") {
			os.WriteFile(file, []byte(majmin+" wbps=max"), 0)
		} else {
			os.WriteFile(file, []byte(majmin+" 0"), 0)
		}
	}
	if m.bdi != "" {
		os.WriteFile(m.bdi+"/max_bytes", []byte("0"), 0)
		os.WriteFile(m.bdi+"/max_ratio", []byte("100"), 0)
		os.WriteFile(m.bdi+"/strict_limit", []byte("0"), 0)
	}
	if m.Dir != "" {
		exec.Command("umount", m.Dir).Run()
	}
	if m.dev != "" {
		exec.Command("losetup", "-d", m.dev).Run()
	}
	os.Remove(m.img)
}
