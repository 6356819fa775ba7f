package qemutest

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The bag entries of the memory collector (collect/memory), read here by
// name rather than through the package: the test checks the bag as an
// expert would, with its own LiME reader.
const (
	imagePrefix = "data/live/memory/physical/"
	rangesEntry = "data/live/memory/ranges.jsonl"
	sourceEntry = "data/live/memory/source.json"
	iomemEntry  = "data/live/memory/iomem"
)

const page = 4096

// span is a physical range, End inclusive.
type span struct{ start, end uint64 }

func (s span) size() uint64 { return s.end - s.start + 1 }

func (s span) String() string { return fmt.Sprintf("%#x-%#x", s.start, s.end) }

// iomemLine matches a line of /proc/iomem: indent, start, end, name.
var iomemLine = regexp.MustCompile(`^( *)([0-9a-f]+)-([0-9a-f]+) : (.*)$`)

// parseIomem returns the top-level System RAM ranges and the ranges of the
// lines called name at any depth.
func parseIomem(t *testing.T, text string) (ram []span, named map[string][]span) {
	t.Helper()
	named = map[string][]span{}
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r", ""), "\n") {
		m := iomemLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		a, err1 := strconv.ParseUint(m[2], 16, 64)
		b, err2 := strconv.ParseUint(m[3], 16, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("iomem line %q", l)
		}
		if m[1] == "" && m[4] == "System RAM" {
			ram = append(ram, span{a, b})
		}
		named[m[4]] = append(named[m[4]], span{a, b})
	}
	if len(ram) == 0 {
		t.Fatalf("no System RAM in the guest's /proc/iomem:\n%s", text)
	}
	return ram, named
}

// inside reports whether s lies within one of the spans.
func inside(s span, in []span) bool {
	for _, r := range in {
		if s.start >= r.start && s.end <= r.end {
			return true
		}
	}
	return false
}

// rangeLine is a line of ranges.jsonl.
type rangeLine struct {
	Start, End, SHA256, Source, Entry, Status, Reason string
	Bytes                                             uint64
}

// record is one LiME record of the image as this test read it.
type record struct {
	entry string
	span
	sha256 string
}

// imageCheck accumulates what the walk over the image finds.
type imageCheck struct {
	dump           *os.File
	kernelCode     []span
	rodata         []span
	pages, same    uint64 // whole pages compared with QEMU's dump, and those identical
	codePages      uint64 // pages of Kernel code compared
	codeDiffer     []uint64
	records        []record
	banner         []byte
	bannerAt       []uint64 // physical addresses where the banner was found
	vmcoreAddr     uint64
	vmcoreinfo     []byte // the note's text, read from the image
	utsAddr        uint64 // physical address of init_uts_ns.name (from the dump's note)
	utsFromImage   []byte
	pendingCarry   []byte // the end of the previous record, for a banner across two
	pendingCarryAt uint64
}

// checkMemory checks the bag's image of physical memory against the
// guest's /proc/iomem, /proc/version and VMCOREINFO (printed on its
// serial console) and against QEMU's dump of its memory.
func checkMemory(t *testing.T, e env, r run, bag string) {
	iomemText, ok := block(r.log, "iomem")
	if !ok {
		t.Fatal("the guest did not print /proc/iomem")
	}
	ram, named := parseIomem(t, iomemText)
	version, _ := block(r.log, "version")
	banner := strings.TrimSpace(strings.ReplaceAll(version, "\r", ""))
	if !strings.HasPrefix(banner, "Linux version ") {
		t.Fatalf("the guest's /proc/version: %q", banner)
	}
	vmText, _ := block(r.log, "vmcoreinfo")
	var err error
	// "%pa %x": the note's physical address and size, in hex.
	var vmAddr uint64
	if f := strings.Fields(vmText); len(f) != 2 {
		t.Fatalf("the guest's /sys/kernel/vmcoreinfo: %q", vmText)
	} else if vmAddr, err = strconv.ParseUint(strings.TrimPrefix(f[0], "0x"), 16, 64); err != nil {
		t.Fatalf("the guest's /sys/kernel/vmcoreinfo %q: %v", vmText, err)
	}

	dump, err := os.Open(r.dump)
	if err != nil {
		t.Fatal(err)
	}
	defer dump.Close()
	c := &imageCheck{dump: dump, kernelCode: named["Kernel code"], rodata: named["Kernel rodata"], banner: []byte(banner), vmcoreAddr: vmAddr}
	if len(c.kernelCode) != 1 {
		t.Fatalf("want one Kernel code line in iomem, got %v", c.kernelCode)
	}
	// Where init_uts_ns is, from the note in QEMU's dump: the image goes by
	// in address order, and with KASLR init_uts_ns may lie below the note.
	note := make([]byte, 4096)
	if _, err := dump.ReadAt(note, int64(vmAddr)); err != nil {
		t.Fatalf("dump at VMCOREINFO %#x: %v", vmAddr, err)
	}
	c.utsAddr = utsAddress(readNote(note))

	files := map[string][]byte{}
	walkStart := time.Now()
	walkArchive(t, e, bag, func(name string, body io.Reader) {
		switch {
		case strings.HasPrefix(name, imagePrefix):
			c.readEntry(t, name, body)
		case name == rangesEntry || name == sourceEntry || name == iomemEntry:
			b, err := io.ReadAll(body)
			if err != nil {
				t.Fatal(err)
			}
			files[name] = b
		}
	})
	t.Logf("read the image back from the archive and compared it with the dump in %s", time.Since(walkStart).Round(time.Second))
	if len(c.records) == 0 {
		if !strings.Contains(string(files[sourceEntry]), "source") {
			t.Fatalf("the bag holds no image of physical memory (no %s*) and no %s", imagePrefix, sourceEntry)
		}
		t.Fatalf("the bag holds no image of physical memory; %s: %s", sourceEntry, files[sourceEntry])
	}

	t.Run("iomem", func(t *testing.T) {
		// The bag's copy of /proc/iomem is the one the guest printed.
		got := strings.TrimSpace(string(files[iomemEntry]))
		want := strings.TrimSpace(strings.ReplaceAll(iomemText, "\r", ""))
		if got != want {
			t.Errorf("%s differs from the guest's /proc/iomem:\n%s\nwant:\n%s", iomemEntry, got, want)
		}
	})

	t.Run("ranges", func(t *testing.T) {
		checkRanges(t, c.records, ram, files[rangesEntry])
	})

	t.Run("dump", func(t *testing.T) {
		// Kernel text does not change while the guest idles: every page of
		// it is the same in the image and in QEMU's view.
		if c.codePages == 0 {
			t.Errorf("no page of Kernel code %v in the image", c.kernelCode)
		}
		if len(c.codeDiffer) > 0 {
			t.Errorf("%d of %d pages of Kernel code differ from QEMU's dump, first at %#x", len(c.codeDiffer), c.codePages, c.codeDiffer[0])
		}
		pct := 100 * float64(c.same) / float64(c.pages)
		t.Logf("pages identical to QEMU's dump: %d of %d (%.2f%%); Kernel code: %d of %d", c.same, c.pages, pct, c.codePages-uint64(len(c.codeDiffer)), c.codePages)
		if pct < 90 {
			t.Errorf("only %.2f%% of the pages are identical to QEMU's dump, want at least 90%%", pct)
		}
	})

	t.Run("kernel", func(t *testing.T) {
		checkKernel(t, c, banner, files[sourceEntry])
	})

	t.Run("cut", func(t *testing.T) {
		checkCut(t, e, bag)
	})

	t.Run("rate", func(t *testing.T) {
		reportRate(t, r, bag, c.records)
	})
}

// walkArchive decompresses the bag's archive with the zstd tool and calls
// fn for each regular entry, in archive order.
func walkArchive(t *testing.T, e env, bag string, fn func(name string, body io.Reader)) {
	t.Helper()
	cmd := exec.Command(e.tools["zstd"], "-dc", filepath.Join(bag, "evidence.tar.zst"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bufio.NewReaderSize(out, 1<<20))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("archive: %v", err)
		}
		// The bag's own folder, "evidence/", is the first element of
		// every name; the journal's names start below it.
		if name, ok := strings.CutPrefix(h.Name, "evidence/"); ok && h.Typeflag == tar.TypeReg {
			fn(name, tr)
		}
	}
	io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("zstd -dc: %v: %s", err, stderr.Bytes())
	}
}

// readEntry reads one chunk entry: LiME records, each checked against the
// dump as it streams by.
func (c *imageCheck) readEntry(t *testing.T, name string, body io.Reader) {
	t.Helper()
	br := bufio.NewReaderSize(body, 1<<20)
	hdr := make([]byte, 32)
	buf := make([]byte, 1<<20)
	other := make([]byte, 1<<20)
	for {
		if _, err := io.ReadFull(br, hdr); err == io.EOF {
			return
		} else if err != nil {
			t.Fatalf("%s: LiME header cut short: %v", name, err)
		}
		magic, version := binary.LittleEndian.Uint32(hdr[0:]), binary.LittleEndian.Uint32(hdr[4:])
		s := span{binary.LittleEndian.Uint64(hdr[8:]), binary.LittleEndian.Uint64(hdr[16:])}
		if magic != 0x4C694D45 || version != 1 || s.end < s.start || binary.LittleEndian.Uint64(hdr[24:]) != 0 {
			t.Fatalf("%s: not a LiME header: % x", name, hdr)
		}
		if n := len(c.records); n > 0 && s.start <= c.records[n-1].end {
			t.Fatalf("%s: record %v does not come after %v (%s)", name, s, c.records[n-1].span, c.records[n-1].entry)
		}
		h := sha256.New()
		for pa := s.start; pa <= s.end; {
			n := min(uint64(len(buf)), s.end-pa+1)
			if _, err := io.ReadFull(br, buf[:n]); err != nil {
				t.Fatalf("%s: record %v cut short at %#x: %v", name, s, pa, err)
			}
			h.Write(buf[:n])
			c.compare(t, pa, buf[:n], other)
			c.search(pa, buf[:n])
			pa += n
		}
		c.records = append(c.records, record{entry: name, span: s, sha256: hex.EncodeToString(h.Sum(nil))})
	}
}

// compare counts the whole pages of b (at physical address pa) that are
// the same in QEMU's dump.
func (c *imageCheck) compare(t *testing.T, pa uint64, b, other []byte) {
	t.Helper()
	if pa+uint64(len(b)) > guestRAM {
		t.Fatalf("image bytes at %#x, beyond the guest's %d bytes of RAM", pa, guestRAM)
	}
	o := other[:len(b)]
	if _, err := c.dump.ReadAt(o, int64(pa)); err != nil {
		t.Fatalf("dump at %#x: %v", pa, err)
	}
	code := c.kernelCode[0]
	for off := uint64(0); off < uint64(len(b)); off += page {
		p := pa + off
		if p%page != 0 || off+page > uint64(len(b)) {
			continue // not a whole page: the image's ranges are page-aligned in practice
		}
		eq := bytes.Equal(b[off:off+page], o[off:off+page])
		c.pages++
		if eq {
			c.same++
		}
		if p+page-1 >= code.start && p <= code.end {
			c.codePages++
			// Only the bytes of the page inside Kernel code count.
			lo, hi := max(p, code.start)-p, min(p+page-1, code.end)-p+1
			if !bytes.Equal(b[off+lo:off+hi], o[off+lo:off+hi]) {
				c.codeDiffer = append(c.codeDiffer, p)
			}
		}
	}
	// The VMCOREINFO note, once its bytes go by.
	if c.vmcoreAddr >= pa && c.vmcoreAddr < pa+uint64(len(b)) && c.vmcoreinfo == nil {
		c.vmcoreinfo = readNote(b[c.vmcoreAddr-pa:])
	}
	if c.utsAddr != 0 && c.utsAddr >= pa && c.utsAddr+65*4 <= pa+uint64(len(b)) && c.utsFromImage == nil {
		c.utsFromImage = slices.Clone(b[c.utsAddr-pa : c.utsAddr-pa+65*4])
	}
}

// search looks for the banner in b, and across the end of the bytes before.
func (c *imageCheck) search(pa uint64, b []byte) {
	if len(c.pendingCarry) > 0 && c.pendingCarryAt+uint64(len(c.pendingCarry)) == pa {
		joined := append(slices.Clone(c.pendingCarry), b[:min(len(b), len(c.banner))]...)
		if i := bytes.Index(joined, c.banner); i >= 0 && i < len(c.pendingCarry) {
			c.bannerAt = append(c.bannerAt, c.pendingCarryAt+uint64(i))
		}
	}
	for off := 0; ; {
		i := bytes.Index(b[off:], c.banner)
		if i < 0 {
			break
		}
		c.bannerAt = append(c.bannerAt, pa+uint64(off+i))
		off += i + 1
	}
	keep := min(len(b), len(c.banner)-1)
	c.pendingCarry = slices.Clone(b[len(b)-keep:])
	c.pendingCarryAt = pa + uint64(len(b)-keep)
}

// readNote returns the descriptor of the ELF note at the start of b (the
// VMCOREINFO note: name "VMCOREINFO", text KEY=VALUE lines), or an empty
// slice when b does not start with it.
func readNote(b []byte) []byte {
	if len(b) < 12 {
		return []byte{}
	}
	namesz, descsz := binary.LittleEndian.Uint32(b[0:]), binary.LittleEndian.Uint32(b[4:])
	nameEnd := 12 + uint64(namesz)
	descOff := (nameEnd + 3) &^ 3
	if namesz != 11 || nameEnd > uint64(len(b)) || string(b[12:nameEnd]) != "VMCOREINFO\x00" || descOff+uint64(descsz) > uint64(len(b)) {
		return []byte{}
	}
	return slices.Clone(b[descOff : descOff+uint64(descsz)])
}

// startKernelMap is x86-64's __START_KERNEL_map: the kernel image's
// symbols are at physical address va - startKernelMap + phys_base
// (__pa_symbol), KASLR included.
const startKernelMap = 0xffffffff80000000

// utsAddress returns the physical address of init_uts_ns.name from the
// VMCOREINFO text, or 0.
func utsAddress(note []byte) uint64 {
	info := map[string]string{}
	for _, l := range strings.Split(string(note), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			info[k] = v
		}
	}
	va, err1 := strconv.ParseUint(info["SYMBOL(init_uts_ns)"], 16, 64)
	base, err2 := strconv.ParseInt(info["NUMBER(phys_base)"], 10, 64)
	off, err3 := strconv.ParseUint(info["OFFSET(uts_namespace.name)"], 10, 64)
	if errors.Join(err1, err2, err3) != nil || va < startKernelMap {
		return 0
	}
	return va - startKernelMap + uint64(base) + off
}

// checkRanges checks the records against System RAM and ranges.jsonl.
func checkRanges(t *testing.T, recs []record, ram []span, lines []byte) {
	var total, covered uint64
	for _, r := range ram {
		total += r.size()
	}
	for _, rec := range recs {
		if !inside(rec.span, ram) {
			t.Errorf("%s: record %v is not inside System RAM %v", rec.entry, rec.span, ram)
		}
		covered += rec.size()
	}
	// What of System RAM the image leaves out.
	var gaps []span
	i := 0
	for _, r := range ram {
		pa := r.start
		for ; i < len(recs) && recs[i].start <= r.end; i++ {
			if recs[i].start > pa {
				gaps = append(gaps, span{pa, recs[i].start - 1})
			}
			pa = recs[i].end + 1
		}
		if pa <= r.end {
			gaps = append(gaps, span{pa, r.end})
		}
	}
	pct := 100 * float64(covered) / float64(total)
	t.Logf("image: %d records, %d of %d bytes of System RAM (%.3f%%); gaps: %v", len(recs), covered, total, pct, gaps)
	if pct < 95 {
		t.Errorf("the image covers %.2f%% of System RAM, want at least 95%%", pct)
	}

	// Each collected line of ranges.jsonl names an entry whose one record
	// is its range and whose bytes hash to its SHA-256; each gap line is a
	// gap of the image.
	byEntry := map[string]record{}
	for _, rec := range recs {
		if _, dup := byEntry[rec.entry]; dup {
			t.Errorf("%s holds more than one record", rec.entry)
		}
		byEntry[rec.entry] = rec
	}
	var lineGaps []span
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(lines))
	for sc.Scan() {
		var l rangeLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s: %q: %v", rangesEntry, sc.Text(), err)
		}
		start, err1 := strconv.ParseUint(strings.TrimPrefix(l.Start, "0x"), 16, 64)
		end, err2 := strconv.ParseUint(strings.TrimPrefix(l.End, "0x"), 16, 64)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatalf("%s: %q: %v", rangesEntry, sc.Text(), err)
		}
		switch l.Status {
		case "gap":
			lineGaps = append(lineGaps, span{start, end})
		case "collected":
			rec, ok := byEntry[l.Entry]
			switch {
			case !ok:
				t.Errorf("%s: %s %v names %q, which the archive does not hold", rangesEntry, l.Status, span{start, end}, l.Entry)
			case rec.span != span{start, end} || l.Bytes != rec.size():
				t.Errorf("%s: %s says %v (%d bytes), its record is %v", rangesEntry, l.Entry, span{start, end}, l.Bytes, rec.span)
			case rec.sha256 != l.SHA256:
				t.Errorf("%s: SHA-256 of %v is %s, its line says %s", l.Entry, rec.span, rec.sha256, l.SHA256)
			}
			if l.Source != "/proc/kcore" {
				t.Errorf("%s: source %q, want /proc/kcore", l.Entry, l.Source)
			}
			seen[l.Entry] = true
		default:
			t.Errorf("%s: %v is %s (%s): in a guest that idles, every range reads", rangesEntry, span{start, end}, l.Status, l.Reason)
		}
	}
	for entry := range byEntry {
		if !seen[entry] {
			t.Errorf("%s: no collected line for %s", rangesEntry, entry)
		}
	}
	if !slices.Equal(gaps, lineGaps) {
		t.Errorf("the gaps of the image %v are not the gaps %s lists %v", gaps, rangesEntry, lineGaps)
	}
}

// checkKernel finds the kernel's identity in the image: the VMCOREINFO
// note at the physical address /sys/kernel/vmcoreinfo gives, whose
// OSRELEASE is the banner's; the release and version strings of
// init_uts_ns at the physical address VMCOREINFO's SYMBOL(init_uts_ns)
// gives; and the whole banner (/proc/version is linux_banner, whose
// address VMCOREINFO does not give) by a search, inside the kernel's
// read-only data.
func checkKernel(t *testing.T, c *imageCheck, banner string, source []byte) {
	fields := strings.Fields(banner)
	release := fields[2]
	if len(c.vmcoreinfo) == 0 {
		t.Fatalf("no VMCOREINFO note in the image at %#x", c.vmcoreAddr)
	}
	info := map[string]string{}
	for _, l := range strings.Split(string(c.vmcoreinfo), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			info[k] = v
		}
	}
	if info["OSRELEASE"] != release {
		t.Errorf("VMCOREINFO at %#x in the image: OSRELEASE %q, the banner says %q", c.vmcoreAddr, info["OSRELEASE"], release)
	}
	var src struct {
		Kernel struct {
			Banner              string `json:"banner"`
			OSRelease           string `json:"osrelease"`
			VMCOREINFOAddress   string `json:"vmcoreinfo_address"`
			VMCOREINFOOSRelease string `json:"vmcoreinfo_osrelease"`
		} `json:"kernel"`
	}
	if err := json.Unmarshal(source, &src); err != nil {
		t.Fatalf("%s: %v", sourceEntry, err)
	}
	k := src.Kernel
	if k.Banner != banner || k.OSRelease != release || k.VMCOREINFOOSRelease != release || k.VMCOREINFOAddress != fmt.Sprintf("%#x", c.vmcoreAddr) {
		t.Errorf("%s kernel %+v; the guest: banner %q, release %q, VMCOREINFO at %#x", sourceEntry, k, banner, release, c.vmcoreAddr)
	}

	// init_uts_ns.name (struct new_utsname: six fields of 65 bytes:
	// sysname, nodename, release, version, ...) at the address VMCOREINFO
	// gives: the banner is "Linux version RELEASE (...) VERSION".
	if c.utsAddr == 0 || c.utsFromImage == nil {
		t.Errorf("init_uts_ns not located in the image (VMCOREINFO: SYMBOL(init_uts_ns)=%q NUMBER(phys_base)=%q OFFSET(uts_namespace.name)=%q)",
			info["SYMBOL(init_uts_ns)"], info["NUMBER(phys_base)"], info["OFFSET(uts_namespace.name)"])
	} else {
		field := func(i int) string {
			f := c.utsFromImage[65*i : 65*(i+1)]
			if j := bytes.IndexByte(f, 0); j >= 0 {
				f = f[:j]
			}
			return string(f)
		}
		sys, rel, ver := field(0), field(2), field(3)
		if sys != "Linux" || rel != release || !strings.HasSuffix(banner, ") "+ver) {
			t.Errorf("init_uts_ns at %#x in the image: sysname %q release %q version %q; the banner: %q", c.utsAddr, sys, rel, ver, banner)
		}
	}

	// The banner by search: found, and in Kernel rodata.
	if len(c.bannerAt) == 0 {
		t.Errorf("the banner %q is nowhere in the image", banner)
	}
	inRodata := false
	for _, at := range c.bannerAt {
		inRodata = inRodata || inside(span{at, at + uint64(len(banner)) - 1}, c.rodata)
	}
	if !inRodata {
		t.Errorf("the banner is at %#x in the image, not in Kernel rodata %v", c.bannerAt, c.rodata)
	}
	t.Logf("banner found at %#x; VMCOREINFO at %#x: OSRELEASE=%s SYMBOL(init_uts_ns)=%s NUMBER(phys_base)=%s KERNELOFFSET=%s",
		c.bannerAt, c.vmcoreAddr, info["OSRELEASE"], info["SYMBOL(init_uts_ns)"], info["NUMBER(phys_base)"], info["KERNELOFFSET"])
}

// reportRate logs the capture rate in the guest, from the chunk items'
// times in record.json, against dd of the same /proc/kcore ranges in the
// same guest, and scelle's peak RSS (the helper's wait4 maxrss: VmHWM).
// These are measures, not assertions: docs/performance.md keeps them.
func reportRate(t *testing.T, r run, bag string, recs []record) {
	b, err := os.ReadFile(filepath.Join(bag, "record.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Items []struct {
			Collector string    `json:"collector"`
			Path      string    `json:"path"`
			Size      int64     `json:"size"`
			Started   time.Time `json:"started"`
			Ended     time.Time `json:"ended"`
		} `json:"items"`
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatalf("record.json: %v", err)
	}
	var first, last time.Time
	var stored int64
	for _, it := range rec.Items {
		if !strings.Contains(it.Path, "live/memory/physical/") {
			continue
		}
		if first.IsZero() || it.Started.Before(first) {
			first = it.Started
		}
		if it.Ended.After(last) {
			last = it.Ended
		}
		stored += it.Size
	}
	var image uint64
	for _, rc := range recs {
		image += rc.size()
	}
	m := measures(r.log)
	capture := last.Sub(first).Seconds()
	if stored == 0 || capture <= 0 {
		t.Fatalf("record.json: no timed item of the image (%d bytes, %.1f s)", stored, capture)
	}
	mib := float64(image) / (1 << 20)
	t.Logf("capture in the guest: %.0f MiB in %.1f s (%.1f MiB/s); dd of the same kcore ranges: %.1f s (%.1f MiB/s); ratio %.2f",
		mib, capture, mib/capture, m["dd"].seconds, mib/m["dd"].seconds, capture/m["dd"].seconds)
	t.Logf("scelle collect: %.1f s in all, exit %d, peak RSS %.1f MiB", m["scelle"].seconds, m["scelle"].exit, float64(m["scelle"].maxRSSKiB)/1024)
}
