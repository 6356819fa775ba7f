package collect

import "github.com/scelle/scelle/internal/evidence"

// Outcome is the record of one planned item: what was looked for, where it
// went and how it ended. Outcomes are what the collection record lists, as
// they are: an Outcome is an evidence.Item, whose Class is the name of the
// collector's volatility class (Class.String).
type Outcome = evidence.Item

// FileStat is a file's metadata, taken before and after reading it.
type FileStat = evidence.Stat

// Item kinds.
const (
	KindFile      = evidence.KindFile
	KindDir       = evidence.KindDir
	KindSymlink   = evidence.KindSymlink
	KindFIFO      = evidence.KindFIFO
	KindSocket    = evidence.KindSocket
	KindDevice    = evidence.KindDevice
	KindGenerated = evidence.KindGenerated // produced by scelle from kernel data (JSON Lines, listings)
	KindKernel    = evidence.KindKernel    // a kernel interface file read as is (/proc, /sys)
)
