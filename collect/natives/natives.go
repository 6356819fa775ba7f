package natives

import (
	_ "github.com/scelle/scelle/collect/memory"  // memory.*
	_ "github.com/scelle/scelle/collect/mft"     // ntfs.timeline
	_ "github.com/scelle/scelle/collect/netstat" // net.*
	_ "github.com/scelle/scelle/collect/proc"    // proc.*
	_ "github.com/scelle/scelle/collect/system"  // system.*
	_ "github.com/scelle/scelle/collect/users"   // users.*
	_ "github.com/scelle/scelle/collect/winlive" // win.*
)
