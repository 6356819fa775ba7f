package seal

// FormatVersion is the version of the bag format this package writes
// (docs/format.md), recorded in bag-info.txt as Scelle-Bag-Format.
const FormatVersion = "1"

// Names of the files in an output folder. These names are a contract with
// docs/format.md, the tests and the users.
const (
	ArchiveFile    = "evidence.tar.zst"
	ArchiveSumFile = "evidence.tar.zst.sha256"
	RecordFile     = "record.json"
	RootFile       = "root.txt"
	SigFile        = "root.sig"
	PubFile        = "root.pub.pem"
	JournalFile    = "journal.jsonl"
	// EncryptedArchiveFile replaces ArchiveFile in a bag encrypted with age
	// (Options.Recipients); EncryptedArchiveSumFile holds its SHA-256.
	// ArchiveSumFile keeps the plaintext archive's.
	EncryptedArchiveFile    = ArchiveFile + ".age"
	EncryptedArchiveSumFile = EncryptedArchiveFile + ".sha256"
	// PartialSuffix marks an output folder that is not (yet) sealed.
	PartialSuffix = ".partial"
)

// Names inside the bag. BagDir is the archive's top folder; the others are
// relative to it.
const (
	BagDir          = "evidence"
	BagitFile       = "bagit.txt"
	BagInfoFile     = "bag-info.txt"
	ManifestFile    = "manifest-sha256.txt"
	TagManifestFile = "tagmanifest-sha256.txt"
	PayloadDir      = "data"
	TagDir          = "scelle"
	BagRecordFile   = TagDir + "/record.json"
	BagJournalFile  = TagDir + "/journal.jsonl"
)

// bagitDeclaration is the content of bagit.txt (RFC 8493 section 2.1.1).
const bagitDeclaration = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
