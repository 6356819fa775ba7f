package report

import (
	"strings"

	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/seal"
)

// What the report says, in both languages, of the English technical texts
// it reproduces: why an item was not collected whole (the record's
// reasons, written by the collectors), and why a verification check
// failed (the checks' details, written by seal and chain/verdict). Each
// text is put in a class by its wording and shown after the class's
// French and English label, kept as it is. The texts are informative,
// not normative (docs/format.md, section 7.3): a text no rule knows is
// shown under "autre motif / other reason", never dropped.
//
// report does not import collect, so the collectors' texts are matched
// here as text; report_reasons_source_test.go reads the collectors'
// source and fails on a reason no rule classifies.

// reasonClass is the kind of reason an item was not collected whole.
type reasonClass int

const (
	reasonOther       reasonClass = iota
	reasonAbsent                  // nothing there to collect
	reasonExited                  // the process ended before it was read
	reasonLimit                   // a cap set for the collection (files, size, depth)
	reasonBudget                  // --max-output would have been exceeded
	reasonTimeout                 // a time limit
	reasonInterrupted             // the run was stopped
	reasonPermission              // the system refused access
	reasonReadError               // reading failed
	reasonChanged                 // the source changed while it was collected
	reasonTruncated               // the source held more than it announced
	reasonUnavailable             // not available on this host (OS, dead box, kernel)
	reasonByDesign                // deliberately left unread (special files, mounts, links)
)

var reasonLabels = map[reasonClass]bi{
	reasonOther:       {"autre motif", "other reason"},
	reasonAbsent:      {"absent ou vide", "not present or empty"},
	reasonExited:      {"processus terminé", "process exited"},
	reasonLimit:       {"limite de collecte atteinte", "collection limit reached"},
	reasonBudget:      {"volume de sortie maximal atteint (--max-output)", "output budget reached (--max-output)"},
	reasonTimeout:     {"délai dépassé", "time limit reached"},
	reasonInterrupted: {"collecte interrompue", "collection interrupted"},
	reasonPermission:  {"accès refusé", "access denied"},
	reasonReadError:   {"erreur de lecture", "read error"},
	reasonChanged:     {"modifié pendant la collecte", "changed during the collection"},
	reasonTruncated:   {"copie tronquée", "copy cut short"},
	reasonUnavailable: {"non disponible sur ce système", "not available on this host"},
	reasonByDesign:    {"écarté par conception", "left out by design"},
}

// A textRule matches a text by its wording: its pattern is the whole
// text, where each "*" stands for any run of characters (none included).
// Rules are tried in order; the first that matches wins.
type textRule struct {
	pattern string
	class   reasonClass
}

func (r textRule) match(s string) bool { return wildcard(r.pattern, s) }

// wildcard reports whether s is pattern, each "*" of pattern standing for
// any run of characters.
func wildcard(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return s == pattern
	}
	first, last := parts[0], parts[len(parts)-1]
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}

// reasonRules classify the reasons the collectors, the runner and the
// sink write (collect, collect/..., internal/acquire). Errors from the
// system end with their errno's text ("open /x: permission denied"):
// they are matched by their end, so a host path cannot change the class.
// The more telling classes come first: "read failed after 0 bytes: read
// /proc/1/mem: permission denied" is a refusal before a read error.
var reasonRules = []textRule{
	// The run was stopped: the runner, the session, the sink.
	{"interrupted*", reasonInterrupted},
	{"time limit of *", reasonTimeout},
	{"*context deadline exceeded", reasonTimeout},
	{"output budget:*", reasonBudget},
	{"no room: *", reasonBudget}, // physical memory (collect/memory, internal/acquire)
	{"process exited*", reasonExited},
	{"*no such process", reasonExited},
	{"*permission denied", reasonPermission},
	{"*operation not permitted", reasonPermission},
	// The source changed between its listing, its stat and its read.
	{"changed while read*", reasonChanged},
	{"source ended * bytes early*", reasonChanged},
	{"replaced by *", reasonChanged},
	{"*replaced after its raw copy*", reasonChanged},
	{"vanished during *", reasonChanged},
	{"truncated at *", reasonTruncated},
	// Caps and limits of the collection.
	{"* cap of *", reasonLimit},
	{"size cap*", reasonLimit},
	{"* limit of *", reasonLimit},
	{"*links in a row*", reasonLimit},
	{"*: larger than * bytes", reasonLimit},
	{"above --max-*", reasonLimit},
	// Not available on this host.
	{"dead-box collection*", reasonUnavailable},
	{"*not supported on *", reasonUnavailable},
	{"*is implemented for * only", reasonUnavailable},
	{"item for * only; the host collected runs *", reasonUnavailable},
	{"the kernel does not report it*", reasonUnavailable},
	{"not collected: the kernel exposes *", reasonUnavailable},
	{"no physical memory source*", reasonUnavailable},
	// Nothing there.
	{"not present*", reasonAbsent},
	{"* not present*", reasonAbsent},
	{"*no such file or directory", reasonAbsent},
	{"empty*", reasonAbsent},
	{"no folders to walk", reasonAbsent},
	{"no bpf file system mounted*", reasonAbsent},
	{"no user address space*", reasonAbsent},
	// Deliberately not read: special files are never opened, links not
	// followed, mounts and loops not entered, a parse not made.
	{"*: recorded, never opened", reasonByDesign},
	{"directory", reasonByDesign},
	{"folder: not descended", reasonByDesign},
	{"excluded*", reasonByDesign},
	{"*not entered*", reasonByDesign},
	{"*not followed*", reasonByDesign},
	{"write-only control file", reasonByDesign},
	{"not a regular file*", reasonByDesign},
	{"not listed: *", reasonByDesign},
	{"not parsed: *", reasonByDesign},
	{"*-compressed: stored raw, not parsed", reasonByDesign},
	{"*: not read", reasonByDesign},
	{"--no-ram", reasonByDesign},
	// Reading failed.
	{"read failed after *", reasonReadError},
	{"read error at *", reasonReadError},
	{"*input/output error", reasonReadError},
	{"*could not be read", reasonReadError},
	{"not made: neither * could be read", reasonReadError},
	{"*cannot be read", reasonReadError},
}

// classifyReason returns the class of a reason (possibly cut to 4 KiB by
// ItemDigest: its start is kept).
func classifyReason(reason string) reasonClass {
	for _, r := range reasonRules {
		if r.match(reason) {
			return r.class
		}
	}
	return reasonOther
}

// reasonCell is a reason as the report's tables show it: its class's
// label, then the text as it is, shown; a dash when there is none.
func reasonCell(reason string) string {
	if reason == "" || reason == dash {
		return dash
	}
	return reasonLabels[classifyReason(reason)].String() + "\n" + shown(reason)
}

// detailRule gives a failed check's detail a lead-in, by its wording.
type detailRule struct {
	pattern string
	lead    bi
}

var (
	leadNotSealed      = bi{"non scellé", "not sealed"}
	leadNotGiven       = bi{"ne correspond pas à la valeur relevée", "does not match the value noted"}
	leadTagManifest    = bi{"ne correspond pas au manifeste des métadonnées", "does not match the tag manifest"}
	leadManifest       = bi{"ne correspond pas au manifeste", "does not match the manifest"}
	leadNotListed      = bi{"absent du manifeste", "not in the manifest"}
	leadNotJournaled   = bi{"absent du journal", "not recorded by the journal"}
	leadNotInArchive   = bi{"absent de l'archive", "not in the archive"}
	leadMissing        = bi{"manquant", "missing"}
	leadSignature      = bi{"signature non valide", "signature does not verify"}
	leadOtherKey       = bi{"signé avec une autre clé", "signed with another key"}
	leadChainBroken    = bi{"chaîne rompue", "chain broken"}
	leadJournal        = bi{"journal incomplet ou incohérent", "journal incomplete or inconsistent"}
	leadHash           = bi{"empreinte différente", "fingerprint differs"}
	leadDiffers        = bi{"diffère de la copie scellée", "differs from the sealed copy"}
	leadOxum           = bi{"volume du contenu différent", "payload size differs"}
	leadArchiveDamaged = bi{"archive endommagée", "archive damaged"}
	leadNotChecked     = bi{"non vérifiable", "could not be checked"}
)

// detailRules lead the most common failure details of seal's checks and
// chain/verdict's (the custody log, the timestamps, the TPM evidence, the
// anchors); a detail no rule knows is shown without a lead-in.
var detailRules = []detailRule{
	{"not sealed*", leadNotSealed},
	{"*not the one given*", leadNotGiven},
	{"no line of * hashes to the head given*", leadNotGiven},
	{"*does not match the tag manifest*", leadTagManifest},
	{"tag files do not match*", leadTagManifest},
	{"*not in the tag manifest*", leadNotListed},
	{"*does not match the manifest*", leadManifest},
	{"*payload problems", leadManifest},
	{"does not list the payload*", leadManifest},
	{"*do not make the manifest*", leadManifest},
	{"*not in the manifest*", leadNotListed},
	{"*no journal line records it*", leadNotJournaled},
	{"not recorded by the journal*", leadNotJournaled},
	{"*not in the archive*", leadNotInArchive},
	{"missing*", leadMissing},
	{"*is not there*", leadMissing},
	{"*signature does not verify*", leadSignature},
	{"*signature over the tag manifest does not verify*", leadSignature},
	{"*signed with another key*", leadOtherKey},
	{"*lines before it hold", leadChainBroken},
	{"*prev does not match*", leadChainBroken},
	{"last line cut short*", leadJournal},
	{"does not end with a seal line*", leadJournal},
	{"seal line does not name *", leadJournal},
	{"*no sealed event after line*", leadJournal},
	{"*SHA-256 is *", leadHash},
	{"*hashes to *", leadHash},
	{"differs from *", leadDiffers},
	{"*differs from the record's*", leadDiffers},
	{"Payload-Oxum is *", leadOxum},
	{"*entries before it decode whole", leadArchiveDamaged},
	{"*not checked:*", leadNotChecked},
	{"*cannot be checked*", leadNotChecked},
}

func (r detailRule) match(s string) bool { return wildcard(r.pattern, s) }

// checkLead returns the lead-in of a failed check's detail, if a rule
// knows it.
func checkLead(c seal.Check) (bi, bool) {
	if c.OK {
		return bi{}, false
	}
	for _, r := range detailRules {
		if r.match(c.Detail) {
			return r.lead, true
		}
	}
	return bi{}, false
}

// checkDetailCell is a check's detail as the verification table shows
// it: the lead-in of a failed check, then the detail as it is, shown.
func checkDetailCell(c seal.Check) string {
	cell := orDash(shown(c.Detail))
	if lead, ok := checkLead(c); ok {
		return lead.String() + "\n" + cell
	}
	return cell
}

// verdictLabels are the verdicts chain/verdict writes (in the report's
// Verdict and in the custody log's verified events), in both languages.
var verdictLabels = map[string]bi{
	verdict.Verified.String():  {"VÉRIFIÉ", "VERIFIED"},
	verdict.Failed.String():    {"ÉCHEC", "FAILED"},
	verdict.NotSealed.String(): {"NON SCELLÉ", "NOT SEALED"},
	verdict.Encrypted.String(): {"CHIFFRÉ : intégrité du chiffré vérifiée ; contenu non vérifié", verdict.Encrypted.String()},
}

// verdictLabel is a verdict in both languages, or as it is, shown, when
// it is none of chain/verdict's.
func verdictLabel(v string) bi {
	if l, ok := verdictLabels[v]; ok {
		return l
	}
	return bi{shown(v), shown(v)}
}

// verdictWords is a verified event's verdict in both languages, or as it
// is when it is none of chain/verdict's; the caller shows it.
func verdictWords(v string) string {
	if l, ok := verdictLabels[v]; ok {
		return l.String()
	}
	return v
}

// checkNames is a verified event's failed checks, each with its label
// when it has one; the caller shows it.
func checkNames(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n
		if l, ok := checkLabels[n]; ok {
			out[i] = l.String() + " (" + n + ")"
		}
	}
	return strings.Join(out, ", ")
}
