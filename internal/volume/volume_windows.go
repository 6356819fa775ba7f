package volume

import (
	"fmt"
	"strings"

	"golang.org/x/sys/windows"
)

func of(dir string) (Info, error) {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return Info{}, err
	}
	root := make([]uint16, windows.MAX_LONG_PATH)
	if err := windows.GetVolumePathName(p, &root[0], uint32(len(root))); err != nil {
		return Info{}, fmt.Errorf("volume of %s: %w", dir, err)
	}
	name := make([]uint16, windows.MAX_PATH+1)
	if err := windows.GetVolumeInformation(&root[0], nil, 0, nil, nil, nil, &name[0], uint32(len(name))); err != nil {
		return Info{}, fmt.Errorf("file system of %s: %w", windows.UTF16ToString(root), err)
	}
	info := Info{FS: windows.UTF16ToString(name)}
	switch strings.ToUpper(info.FS) {
	case "FAT", "FAT12", "FAT16", "FAT32":
		info.MaxFile = FATMaxFile
	}
	return info, nil
}
