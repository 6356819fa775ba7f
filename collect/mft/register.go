package mft

import "github.com/scelle/scelle/collect"

func init() {
	collect.Register(collect.Native{Name: "ntfs.timeline", Family: "mft",
		Class: collect.ClassDisk, OS: []string{"windows"},
		Description: "timeline of each NTFS volume's $MFT: bodyfile and JSON Lines, $STANDARD_INFORMATION and $FILE_NAME times, deleted entries",
		New:         func(collect.NativeOptions) collect.Collector { return TimelineCollector{} }})
}

// Collectors returns the family's collectors.
func Collectors() []collect.Collector { return []collect.Collector{TimelineCollector{}} }
