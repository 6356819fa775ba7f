package ntfs

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// makeDisk puts the volume image vol into a disk image with a partition
// table made by sfdisk ("dos" or "gpt"), as its second partition after
// a 1 MiB Linux one, and returns the disk image's path and the volume's
// offset.
func makeDisk(t testing.TB, vol []byte, label string) (string, int64) {
	t.Helper()
	need(t, "sfdisk")
	disk := filepath.Join(t.TempDir(), label+".img")
	at := int64(2 << 20)
	f, err := os.Create(disk)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(at + int64(len(vol)) + 1<<20); err != nil {
		t.Fatal(err)
	}
	types := map[string][2]string{"dos": {"83", "7"},
		"gpt": {"0FC63DAF-8483-4772-8E79-3D69D8477DE4", "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"}}[label]
	script := fmt.Sprintf("label: %s\nstart=2048, size=2048, type=%s\nstart=%d, size=%d, type=%s\n",
		label, types[0], at/512, len(vol)/512, types[1])
	cmd := exec.Command("sfdisk", "--no-reread", "--no-tell-kernel", "-q", disk)
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	if _, err := f.WriteAt(vol, at); err != nil {
		t.Fatal(err)
	}
	return disk, at
}

func TestPartitions(t *testing.T) {
	vol := baseImage(t)
	for _, label := range []string{"dos", "gpt"} {
		t.Run(label, func(t *testing.T) {
			disk, at := makeDisk(t, vol, label)
			f, err := os.Open(disk)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fi, _ := f.Stat()
			parts, err := Partitions(f, fi.Size())
			if err != nil {
				t.Fatal(err)
			}
			if len(parts) != 2 || parts[0].NTFS || !parts[1].NTFS || parts[1].Offset != at || parts[1].Size != int64(len(vol)) || parts[1].Index != 2 {
				t.Fatalf("partitions %+v", parts)
			}
			v, err := Open(context.Background(), f, parts[1].Offset, parts[1].Size)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Lookup(context.Background(), "Users/Alice/NTUSER.DAT"); err != nil {
				t.Fatal(err)
			}
		})
	}
	// A partition image (no table) is one volume at offset 0.
	parts, err := Partitions(bytes.NewReader(vol), int64(len(vol)))
	if err != nil || len(parts) != 1 || parts[0].Scheme != "none" || !parts[0].NTFS {
		t.Fatalf("partition image: %+v, %v", parts, err)
	}
}

// mbrSeed returns a 64 KiB disk with an MBR whose entries are given.
func mbrSeed(entries ...[3]uint32) []byte {
	d := make([]byte, 64<<10)
	for i, e := range entries {
		p := d[446+16*i:]
		p[4] = byte(e[0])
		binary.LittleEndian.PutUint32(p[8:], e[1])
		binary.LittleEndian.PutUint32(p[12:], e[2])
	}
	d[510], d[511] = 0x55, 0xAA
	return d
}

func TestPartitionsHostile(t *testing.T) {
	// A primary partition past the disk's end is listed with an error.
	parts, err := Partitions(bytes.NewReader(mbrSeed([3]uint32{7, 2048, 1 << 30})), 64<<10)
	if err != nil || len(parts) != 1 || !strings.Contains(parts[0].Error, "outside the disk") {
		t.Errorf("partition past the end: %+v, %v", parts, err)
	}
	// An extended partition whose EBR links to itself.
	d := mbrSeed([3]uint32{5, 8, 100})
	ebr := d[8*512:]
	ebr[446+4], ebr[462+4] = 7, 5
	binary.LittleEndian.PutUint32(ebr[446+8:], 1)
	binary.LittleEndian.PutUint32(ebr[446+12:], 4)
	binary.LittleEndian.PutUint32(ebr[462+8:], 0) // the next EBR is this one
	ebr[510], ebr[511] = 0x55, 0xAA
	parts, err = Partitions(bytes.NewReader(d), int64(len(d)))
	if err == nil || !strings.Contains(err.Error(), "loops") || len(parts) != 1 {
		t.Errorf("looping EBR chain: %+v, %v", parts, err)
	}
	// Neither a table nor a file system.
	if _, err := Partitions(bytes.NewReader(make([]byte, 4096)), 4096); err != ErrNoPartitions {
		t.Errorf("blank disk: %v", err)
	}
	if _, err := Partitions(bytes.NewReader(make([]byte, 100)), 100); err == nil {
		t.Error("a 100-byte disk has partitions")
	}
}

func FuzzPartitions(f *testing.F) {
	f.Add(mbrSeed([3]uint32{7, 2048, 1 << 30}))
	f.Add(mbrSeed([3]uint32{5, 8, 100}, [3]uint32{0x0F, 9, 100}))
	g := mbrSeed([3]uint32{0xEE, 1, 0xFFFFFFFF})
	copy(g[512:], "EFI PART")
	binary.LittleEndian.PutUint64(g[512+72:], 2)
	binary.LittleEndian.PutUint32(g[512+80:], 128)
	binary.LittleEndian.PutUint32(g[512+84:], 128)
	binary.LittleEndian.PutUint64(g[1024+32:], 1<<40) // first LBA past the end
	binary.LittleEndian.PutUint64(g[1024+40:], 1<<41)
	g[1024] = 1
	f.Add(g)
	f.Fuzz(func(t *testing.T, d []byte) {
		parts, _ := Partitions(bytes.NewReader(d), int64(len(d)))
		for _, p := range parts {
			if p.Error == "" && (p.Offset < 0 || p.Size <= 0 || p.Offset+p.Size > int64(len(d))) {
				t.Fatalf("partition outside the disk without an error: %+v", p)
			}
		}
	})
}
