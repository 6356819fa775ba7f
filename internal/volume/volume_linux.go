package volume

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// The magic numbers of statfs(2) named here (linux/magic.h).
var magics = map[int64]string{
	unix.MSDOS_SUPER_MAGIC:     "vfat",
	unix.EXFAT_SUPER_MAGIC:     "exfat",
	unix.EXT4_SUPER_MAGIC:      "ext4",
	unix.TMPFS_MAGIC:           "tmpfs",
	unix.BTRFS_SUPER_MAGIC:     "btrfs",
	unix.XFS_SUPER_MAGIC:       "xfs",
	0x5346544e:                 "ntfs",
	0x7366746e:                 "ntfs3",
	unix.FUSE_SUPER_MAGIC:      "fuse",
	unix.NFS_SUPER_MAGIC:       "nfs",
	unix.OVERLAYFS_SUPER_MAGIC: "overlay",
}

func of(dir string) (Info, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return Info{}, fmt.Errorf("statfs %s: %w", dir, err)
	}
	magic := int64(st.Type)
	info := Info{FS: magics[magic]}
	if info.FS == "" {
		info.FS = fmt.Sprintf("magic 0x%x", uint32(magic))
	}
	if magic == unix.MSDOS_SUPER_MAGIC {
		info.MaxFile = FATMaxFile
	}
	return info, nil
}
