package system_test

import (
	"fmt"

	"github.com/scelle/scelle/collect/system"
)

func ExampleDecodeTaint() {
	t := system.DecodeTaint([]byte("12289\n"))
	fmt.Println(t.Letters)
	for _, f := range t.Flags {
		fmt.Println(f.Bit, f.Letter, f.Meaning)
	}
	// Output:
	// POE
	// 0 P proprietary module was loaded
	// 12 O externally-built (out-of-tree) module was loaded
	// 13 E unsigned module was loaded
}

func ExampleParseMountinfo() {
	ms := system.ParseMountinfo([]byte("41 22 0:5 /empty /proc/4242 ro,relatime - tmpfs none rw\n" +
		"40 1 8:2 / /mnt/my\\040disk rw master:3 - ext4 /dev/sdb1 rw\n"))
	for _, m := range ms {
		fmt.Printf("%q %s %v\n", m.MountPoint, m.FSType, m.Flags)
	}
	// Output:
	// "/proc/4242" tmpfs [proc_pid_overmount]
	// "/mnt/my disk" ext4 []
}
