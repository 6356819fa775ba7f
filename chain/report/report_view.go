package report

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"rsc.io/qr"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/internal/units"
	"github.com/scelle/scelle/internal/visible"
	"github.com/scelle/scelle/seal"
)

// The report's content is built once, as a list of sections of blocks
// whose every label is bilingual, and rendered by report_html.go and
// report_pdf.go. Everything is sorted or kept in the order the record
// gives (witnesses, checks, custody lines), so the output is
// deterministic.
//
// Every string from the host, the bag, the record or the custody log is
// put in the view through shown (or shownPEM): visibly escaped, as the
// terminal shows it, so that neither rendering carries a control,
// bidirectional or invisible character from them. The view's own line
// feeds (between the lines of a cell) are the only ones left.

// bi is a text in French and in English.
type bi struct{ FR, EN string }

func (b bi) String() string {
	if b.EN == "" || b.EN == b.FR {
		return b.FR
	}
	return b.FR + " / " + b.EN
}

// Block kinds.
const (
	blockKV      = "kv"      // label, value rows
	blockTable   = "table"   // columns and rows
	blockPara    = "para"    // a paragraph, French then English
	blockSteps   = "steps"   // numbered steps with a command each
	blockSeal    = "seal"    // the root fingerprint and its QR code
	blockVerdict = "verdict" // the verification verdict
)

type rvKV struct {
	Label bi
	Value string
	Mono  bool
}

type rvCol struct {
	Label bi
	W     float64 // PDF width, mm
	Mono  bool
	Right bool
}

type rvStep struct {
	Text bi
	Cmd  string
}

type rvSeal struct {
	Root    string   // 64 hex digits
	Lines   []string // the root in groups of four, four groups a line
	Grouped string   // the root in groups of four, one line
	Key     string   // the signing key's fingerprint, grouped
	QR      *qr.Code // nil when there is no root
}

type rvVerdict struct {
	Label  bi
	Class  string // ok, fail, none
	Detail bi
}

type rvBlock struct {
	Kind    string
	Title   bi
	KV      []rvKV
	Cols    []rvCol
	Rows    [][]string
	Para    bi
	Steps   []rvStep
	Seal    *rvSeal
	Verdict *rvVerdict
}

type rvSection struct {
	N      int
	Title  bi
	Blocks []rvBlock
}

type reportView struct {
	Title     bi
	Tool      string
	Case      string
	Host      string
	Root      string // grouped, or "absent"
	Generated string
	Sections  []rvSection
}

const dash = "—"

var (
	yes = "oui / yes"
	no  = "non / no"
)

func yesNo(b bool) string {
	if b {
		return yes
	}
	return no
}

// shown is a string from the host, the bag or the custody log as the
// report writes it (package visible).
func shown(s string) string { return visible.String(s) }

// shownPEM is shown for a public key in PEM: one PEM block without
// headers keeps its lines (written anew, so that only its type and base64
// are shown); anything else is shown on one line.
func shownPEM(s string) string {
	b, rest := pem.Decode([]byte(s))
	if b == nil || len(b.Headers) > 0 || len(bytes.TrimSpace(rest)) > 0 || b.Type != "PUBLIC KEY" {
		return shown(strings.TrimSpace(s))
	}
	return strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: b.Bytes})))
}

// shownAll is shown for each of ss.
func shownAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = shown(s)
	}
	return out
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return dash
	}
	return s
}

// groupHex writes hex in groups of four digits separated by spaces.
func groupHex(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// rootLines splits a grouped root into lines of four groups.
func rootLines(s string) []string {
	g := strings.Fields(groupHex(s))
	var out []string
	for i := 0; i < len(g); i += 4 {
		out = append(out, strings.Join(g[i:min(i+4, len(g))], " "))
	}
	return out
}

func isRoot(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func utc(t time.Time) string {
	if t.IsZero() {
		return dash
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func utcSeconds(t time.Time) string {
	if t.IsZero() {
		return dash
	}
	return t.UTC().Format(time.RFC3339)
}

func seconds(f float64) string {
	s := strconv.FormatFloat(f, 'f', 3, 64)
	if f > 0 {
		s = "+" + s
	}
	return s + " s"
}

func bytesText(n int64) string {
	v, p := units.IEC(n)
	if p == "" {
		return fmt.Sprintf("%d o/B", n)
	}
	return fmt.Sprintf("%.1f %sio/%siB (%d)", v, p, p, n)
}

var statusLabels = map[evidence.Status]bi{
	evidence.Collected: {"collecté", "collected"},
	evidence.Partial:   {"partiel", "partial"},
	evidence.Skipped:   {"écarté", "skipped"},
	evidence.Failed:    {"échec", "failed"},
}

func statusLabel(s evidence.Status) string {
	if l, ok := statusLabels[s]; ok {
		return l.String()
	}
	return string(s)
}

// classOrder is the order of volatility (collect.Class).
var classOrder = []string{"process", "network", "system", "temp", "disk"}

var classLabels = map[string]bi{
	"process": {"processus et mémoire", "processes and memory"},
	"network": {"réseau", "network"},
	"system":  {"système (heure, identité, noyau)", "system (time, identity, kernel)"},
	"temp":    {"systèmes de fichiers temporaires", "temporary file systems"},
	"disk":    {"disque (journaux, configuration)", "disk (logs, configuration)"},
}

func classRank(c string) int {
	for i, k := range classOrder {
		if k == c {
			return i
		}
	}
	return len(classOrder)
}

var checkLabels = map[string]bi{
	seal.CheckLayout:                      {"Fichiers du dossier", "Folder files"},
	seal.CheckArchiveHash:                 {"Empreinte de l'archive", "Archive SHA-256"},
	seal.CheckArchive:                     {"Structure de l'archive", "Archive structure"},
	seal.CheckPayload:                     {"Contenu contre le manifeste", "Payload against manifest"},
	seal.CheckOxum:                        {"Volume du contenu", "Payload-Oxum"},
	seal.CheckTagManifest:                 {"Manifeste des métadonnées", "Tag manifest"},
	seal.CheckRoot:                        {"Empreinte racine", "Root fingerprint"},
	seal.CheckSignature:                   {"Signature", "Signature"},
	seal.CheckRecord:                      {"Relevé de collecte", "Collection record"},
	seal.CheckJournalChain:                {"Journal chaîné et signé", "Chained, signed journal"},
	verdict.CheckRecordItems:              {"Éléments du relevé", "Record items"},
	"sealed":                              {"Scellé", "Sealed"},
	verdict.CheckCustody:                  {"Journal de possession", "Custody log"},
	"tpm":                                 {"Preuve TPM", "TPM evidence"},
	"tpm-start":                           {"TPM au début", "TPM at start"},
	"tpm-end":                             {"TPM à la fin", "TPM at end"},
	"tpm-continuity":                      {"Continuité TPM (sans redémarrage)", "TPM continuity (no reboot)"},
	verdict.AnchorRoot.CheckName():        {"Empreinte racine du procès-verbal", "Root fingerprint of the procès-verbal"},
	verdict.AnchorSigner.CheckName():      {"Clé relevée au début de la collecte", "Key noted when the collection started"},
	verdict.AnchorCustodyHead.CheckName(): {"Tête du journal de possession relevée", "Custody head noted"},
	// The checks of a bag verified in an S3 store (package chain/vault).
	"store-pinned":   {"Versions épinglées dans le coffre S3", "Versions pinned in the S3 store"},
	"store-lock":     {"Verrouillage des objets (Object Lock)", "Object Lock"},
	"store-versions": {"Autres versions dans le coffre S3", "Other versions in the S3 store"},
}

var eventLabels = map[string]bi{
	chain.EventAcquired:    {"Acquisition", "Acquired"},
	chain.EventSealed:      {"Mise sous scellé", "Sealed"},
	chain.EventTransferred: {"Remise", "Transferred"},
	chain.EventReceived:    {"Réception", "Received"},
	chain.EventVerified:    {"Vérification", "Verified"},
	chain.EventTimestamped: {"Horodatage", "Timestamped"},
	chain.EventNote:        {"Note", "Note"},
	chain.EventStored:      {"Dépôt au coffre S3", "Stored in S3"},
}

func verdictOf(r *Report) *rvVerdict {
	switch {
	case !r.Verified:
		return &rvVerdict{Label: bi{"NON VÉRIFIÉ", "NOT VERIFIED"}, Class: "none",
			Detail: bi{"La vérification n'a pas été exécutée pour ce rapport.", "Verification was not run for this report."}}
	case r.Verdict == "VERIFIED":
		return &rvVerdict{Label: bi{"VÉRIFIÉ", "VERIFIED"}, Class: "ok",
			Detail: bi{"Tous les contrôles sont satisfaits : le scellé est intact.", "Every check holds: the seal is intact."}}
	case r.Verdict == "FAILED":
		return &rvVerdict{Label: bi{"ÉCHEC", "FAILED"}, Class: "fail",
			Detail: bi{"Au moins un contrôle a échoué : des octets ont changé ou manquent (voir le tableau).", "At least one check failed: bytes changed or are missing (see the table)."}}
	case r.Verdict == "NOT SEALED":
		return &rvVerdict{Label: bi{"NON SCELLÉ", "NOT SEALED"}, Class: "fail",
			Detail: bi{"Le sac n'a jamais été scellé ; seul ce que le journal signé prouve est établi.", "The bag was never sealed; only what the signed journal proves holds."}}
	default:
		return &rvVerdict{Label: verdictLabel(r.Verdict), Class: "fail"}
	}
}

// view builds the report's content.
func (r *Report) view() *reportView {
	rec := r.Record
	var host reportHost
	hostErr := decodeLoose(rec.Host, &host)
	var c0, c1 reportClock
	c0Err := decodeLoose(rec.ClockStart, &c0)
	c1Err := decodeLoose(rec.ClockEnd, &c1)

	v := &reportView{
		Title: bi{"Rapport de collecte de preuves numériques", "Digital evidence collection report"},
		Tool:  shown(strings.TrimSpace(rec.Tool.Name + " " + rec.Tool.Version)),
		Case:  shown(rec.Case),
		Host:  orDash(shown(host.Hostname)),
		Root:  "absent",
	}
	if isRoot(r.Root) {
		v.Root = groupHex(r.Root)
	}
	if !r.Generated.IsZero() {
		v.Generated = utcSeconds(r.Generated)
	}
	add := func(title bi, blocks ...rvBlock) {
		v.Sections = append(v.Sections, rvSection{N: len(v.Sections) + 1, Title: title, Blocks: blocks})
	}

	// 1. Summary and seal.
	sum := rvBlock{Kind: blockKV, KV: []rvKV{
		{bi{"Affaire", "Case"}, orDash(shown(rec.Case)), false},
		{bi{"Identifiant de collecte", "Collection id"}, orDash(shown(rec.Collection)), true},
		{bi{"Système examiné", "Examined host"}, orDash(shown(host.Hostname)), false},
		{bi{"Début (UTC)", "Start (UTC)"}, utc(rec.Started), true},
		{bi{"Fin (UTC)", "End (UTC)"}, utc(rec.Ended), true},
		{bi{"Opérateur", "Operator"}, operatorName(rec), false},
		{bi{"Éléments", "Items"}, summaryText(&r.Items), false},
		{bi{"Verdict de vérification", "Verification verdict"}, verdictOf(r).Label.String(), false},
	}}
	sealBlock := rvBlock{Kind: blockSeal, Seal: &rvSeal{Root: shown(r.Root), Key: shown(groupHex(r.KeyFingerprint))}}
	if isRoot(r.Root) {
		sealBlock.Seal.Lines = rootLines(r.Root)
		sealBlock.Seal.Grouped = groupHex(r.Root)
		sealBlock.Seal.QR, _ = qr.Encode(r.Root, qr.M)
	}
	add(bi{"Synthèse", "Summary"}, sum, sealBlock,
		para("L'empreinte racine est le SHA-256 du manifeste des métadonnées du sac (tagmanifest-sha256.txt) ; elle identifie de façon unique l'ensemble des éléments scellés. Le code QR contient exactement ces 64 chiffres hexadécimaux.",
			"The root fingerprint is the SHA-256 of the bag's tag manifest (tagmanifest-sha256.txt); it uniquely identifies everything sealed. The QR code holds exactly these 64 hexadecimal digits."))

	// 2. Case and people.
	mode := bi{"sur système vivant", "live host"}
	if !rec.Live {
		mode = bi{"sur image (post mortem)", "image (dead box)"}
	}
	caseKV := rvBlock{Kind: blockKV, KV: []rvKV{
		{bi{"Affaire", "Case"}, orDash(shown(rec.Case)), false},
		{bi{"Mandant", "Mandating party"}, orDash(shown(mandator(rec))), false},
		{bi{"Dossier de sortie", "Output folder"}, shown(r.Folder), true},
		{bi{"Mode de collecte", "Collection mode"}, mode.String(), false},
		{bi{"Racine collectée", "Collected root"}, orDash(shown(rec.Root)), true},
		{bi{"Profil", "Profile"}, orDash(shown(rec.Profile)), false},
		{bi{"Ligne de commande", "Command line"}, orDash(strings.Join(shownAll(rec.Argv), " ")), true},
	}}
	people := rvBlock{Kind: blockTable, Title: bi{"Intervenants", "People"}, Cols: []rvCol{
		{Label: bi{"Qualité", "Capacity"}, W: 30},
		{Label: bi{"Nom", "Name"}, W: 40},
		{Label: bi{"Fonction", "Role"}, W: 40},
		{Label: bi{"Organisme", "Organisation"}, W: 35},
		{Label: bi{"Référence", "Reference"}, W: 35},
	}}
	if p := rec.Operator(); p != nil {
		people.Rows = append(people.Rows, append([]string{bi{"Opérateur", "Operator"}.String()}, personCells(p)...))
	}
	if rec.People != nil {
		for _, p := range rec.People.Witnesses {
			people.Rows = append(people.Rows, append([]string{bi{"Témoin", "Witness"}.String()}, personCells(&p)...))
		}
	}
	if len(people.Rows) == 0 {
		people.Rows = append(people.Rows, []string{dash, bi{"aucun enregistré", "none recorded"}.String(), dash, dash, dash})
	}
	add(bi{"Affaire et intervenants", "Case and people"}, caseKV, people)

	// 3. Host.
	add(bi{"Système examiné", "Examined host"}, hostBlocks(&host, hostErr)...)

	// 4. Time.
	add(bi{"Horodatage et horloge", "Time and clock"}, timeBlocks(rec, &c0, c0Err, &c1, c1Err)...)

	// 5. Tool.
	add(bi{"Outil de collecte", "Collection tool"}, rvBlock{Kind: blockKV, KV: []rvKV{
		{bi{"Nom", "Name"}, orDash(shown(rec.Tool.Name)), false},
		{bi{"Version", "Version"}, orDash(shown(rec.Tool.Version)), true},
		{bi{"Révision", "Revision"}, orDash(shown(rec.Tool.Revision)), true},
		{bi{"SHA-256 de l'exécutable", "SHA-256 of the executable"}, orDash(shown(groupHex(rec.Tool.SHA256))), true},
		{bi{"Chemin de l'exécutable", "Executable path"}, orDash(shown(rec.Tool.Path)), true},
		{bi{"Plateforme", "Platform"}, orDash(shown(strings.Trim(rec.Tool.GoOS+"/"+rec.Tool.GoArch, "/"))), true},
	}}, para("Le SHA-256 de l'exécutable a été calculé par l'outil sur son propre fichier au moment de la collecte ; il se compare à celui de la version publiée.",
		"The executable's SHA-256 was computed by the tool over its own file at collection time; compare it with the published release's."))

	// 6. Collected.
	add(bi{"Éléments collectés", "What was collected"}, collectedBlocks(rec, &r.Items)...)

	// 7. Not collected.
	add(bi{"Éléments non collectés", "What was not collected"}, notCollectedBlocks(&r.Items)...)

	// 8. Seal and signature.
	add(bi{"Scellé et signature", "Seal and signature"}, sealBlocks(r)...)

	// 9. Custody.
	add(bi{"Chaîne de possession", "Chain of custody"}, custodyBlocks(r)...)

	// 10. Verification.
	add(bi{"Vérification", "Verification"}, verificationBlocks(r)...)

	// 11. Manual verification.
	add(bi{"Vérification manuelle avec des outils standard", "Manual verification with standard tools"}, manualBlocks(r)...)

	// 12. Signatures.
	add(bi{"Signatures", "Signatures"}, signatureBlocks(rec)...)
	if v.escapes() {
		last := &v.Sections[len(v.Sections)-1]
		last.Blocks = append(last.Blocks, escapesNote)
	}
	return v
}

// escapesNote says how the report writes what shown escapes.
var escapesNote = para(`Les noms et textes venus du système examiné, du sac ou du journal de possession sont reproduits tels quels, `+
	`sauf les caractères qui ne s'affichent pas comme eux-mêmes (caractères de contrôle, de mise en forme ou de sens de l'écriture, `+
	`espaces invisibles) et les octets qui ne sont pas de l'UTF-8 : ils sont écrits \xHH (octet ou caractère de contrôle), `+
	`\uHHHH ou \UHHHHHHHH (code Unicode), \t, \n, \r, et la barre oblique inverse \\. scelle les affiche de la même façon à l'écran.`,
	`Names and text from the examined host, the bag or the custody log are given as they are, except characters that do not show `+
		`as themselves (control, formatting or text-direction characters, invisible spaces) and bytes that are not UTF-8: they are `+
		`written \xHH (a byte or a control character), \uHHHH or \UHHHHHHHH (a Unicode code point), \t, \n, \r, and a backslash \\. `+
		`scelle shows them the same way on screen.`)

// escapes reports whether a text of the view holds a backslash: one
// that shown wrote (the report's own text has none).
func (v *reportView) escapes() bool {
	texts := []string{v.Tool, v.Case, v.Host, v.Root}
	for _, s := range v.Sections {
		for _, b := range s.Blocks {
			texts = append(texts, b.Para.FR, b.Para.EN)
			for _, kv := range b.KV {
				texts = append(texts, kv.Value)
			}
			for _, row := range b.Rows {
				texts = append(texts, row...)
			}
			for _, st := range b.Steps {
				texts = append(texts, st.Text.FR, st.Text.EN, st.Cmd)
			}
			if b.Seal != nil {
				texts = append(texts, b.Seal.Root, b.Seal.Key)
			}
			if b.Verdict != nil {
				texts = append(texts, b.Verdict.Label.FR, b.Verdict.Detail.FR)
			}
		}
	}
	for _, t := range texts {
		if strings.Contains(t, `\`) {
			return true
		}
	}
	return false
}

func para(fr, en string) rvBlock { return rvBlock{Kind: blockPara, Para: bi{fr, en}} }

// operatorName is the operator's name, shown.
func operatorName(rec *chain.Record) string {
	if p := rec.Operator(); p != nil && p.Name != "" {
		return shown(p.Name)
	}
	return orDash(shown(rec.Examiner))
}

// personCells are a person's name, role, organisation and reference,
// shown, for the table of people.
// signatureBlocks leaves room for the operator and each witness to sign
// the printed report; with nobody recorded, two blank lines.
func signatureBlocks(rec *chain.Record) []rvBlock {
	t := rvBlock{Kind: blockTable, Cols: []rvCol{
		{Label: bi{"Qualité", "Capacity"}, W: 30},
		{Label: bi{"Nom", "Name"}, W: 50},
		{Label: bi{"Date et lieu", "Date and place"}, W: 45},
		{Label: bi{"Signature", "Signature"}, W: 55},
	}}
	// A signature needs room: three lines high.
	blank, room := " ", " \n \n "
	if p := rec.Operator(); p != nil {
		t.Rows = append(t.Rows, []string{bi{"Opérateur", "Operator"}.String(), orDash(shown(p.Name)), blank, room})
	}
	if rec.People != nil {
		for _, w := range rec.People.Witnesses {
			t.Rows = append(t.Rows, []string{bi{"Témoin", "Witness"}.String(), orDash(shown(w.Name)), blank, room})
		}
	}
	for len(t.Rows) < 2 {
		t.Rows = append(t.Rows, []string{blank, blank, blank, room})
	}
	return []rvBlock{para("Les signataires attestent avoir assisté à la collecte décrite dans ce rapport et avoir relevé l'empreinte racine ci-dessus.",
		"The signatories attest that they attended the collection this report describes and noted the root fingerprint above."), t}
}

func personCells(p *chain.Person) []string {
	return []string{orDash(shown(p.Name)), orDash(shown(p.Role)), orDash(shown(p.Organisation)), orDash(shown(p.Reference))}
}

func mandator(rec *chain.Record) string {
	if rec.People == nil {
		return ""
	}
	return rec.People.Mandator
}

func summaryText(d *ItemDigest) string {
	var parts []string
	for _, s := range evidence.Statuses() {
		parts = append(parts, fmt.Sprintf("%d %s", d.Count(s), statusLabel(s)))
	}
	return fmt.Sprintf("%d : %s", d.Total, strings.Join(parts, ", "))
}

func hostBlocks(h *reportHost, why string) []rvBlock {
	if why != "" {
		return []rvBlock{para("Identité du système non enregistrée ("+shown(why)+").", "Host identity not recorded ("+shown(why)+").")}
	}
	kv := []rvKV{
		{bi{"Nom d'hôte", "Host name"}, orDash(shown(h.Hostname)), false},
		{bi{"Source du nom", "Name source"}, orDash(shown(h.HostnameSource)), true},
		{bi{"Domaine NIS", "NIS domain"}, orDash(shown(h.Domainname)), true},
		{bi{"Identifiant machine", "Machine id"}, orDash(shown(h.MachineID)), true},
		{bi{"Identifiant de démarrage", "Boot id"}, orDash(shown(h.BootID)), true},
		{bi{"Système d'exploitation", "Operating system"}, orDash(shown(osText(h))), false},
	}
	if k := h.Kernel; k != nil {
		kv = append(kv, rvKV{bi{"Noyau", "Kernel"}, strings.Join(strings.Fields(strings.Join(shownAll([]string{k.Sysname, k.Release, k.Version, k.Machine}), " ")), " "), true})
	} else {
		kv = append(kv, rvKV{bi{"Noyau", "Kernel"}, dash, false})
	}
	var ifs []string
	for _, i := range h.Interfaces {
		var addrs []string
		for _, a := range i.Addresses {
			addrs = append(addrs, fmt.Sprintf("%s/%d", shown(a.Address), a.PrefixLen))
		}
		s := shown(i.Name)
		if i.MAC != "" {
			s += " " + shown(i.MAC)
		}
		if i.OperState != "" {
			s += " " + shown(i.OperState)
		}
		if len(addrs) > 0 {
			s += " " + strings.Join(addrs, " ")
		}
		ifs = append(ifs, s)
	}
	sort.Strings(ifs)
	if h.InterfacesError != "" {
		ifs = append(ifs, "error: "+shown(h.InterfacesError))
	}
	if len(ifs) > 0 {
		kv = append(kv, rvKV{bi{"Interfaces réseau", "Network interfaces"}, strings.Join(ifs, "\n"), true})
	}
	if len(h.NetworkUp) > 0 {
		kv = append(kv, rvKV{bi{"Réseau encore actif au début de la collecte", "Network still up when the collection began"},
			strings.Join(shownAll(h.NetworkUp), "\n"), true})
	}
	blocks := []rvBlock{{Kind: blockKV, KV: kv}}
	if len(h.DMI) > 0 {
		dmi := rvBlock{Kind: blockTable, Title: bi{"Matériel (SMBIOS / DMI)", "Hardware (SMBIOS / DMI)"}, Cols: []rvCol{
			{Label: bi{"Attribut", "Attribute"}, W: 50, Mono: true},
			{Label: bi{"Valeur", "Value"}, W: 130, Mono: true},
		}}
		keys := make([]string, 0, len(h.DMI))
		for k := range h.DMI {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			dmi.Rows = append(dmi.Rows, []string{shown(k), orDash(shown(h.DMI[k]))})
		}
		blocks = append(blocks, dmi)
	}
	if notes := append(append([]string(nil), h.Notes...), h.Errors...); len(notes) > 0 {
		blocks = append(blocks, rvBlock{Kind: blockKV, KV: []rvKV{{bi{"Remarques", "Notes"}, strings.Join(shownAll(notes), "\n"), false}}})
	}
	return blocks
}

func osText(h *reportHost) string {
	o := h.OSRelease
	if len(o) == 0 {
		return ""
	}
	s := o["PRETTY_NAME"]
	if s == "" {
		s = strings.TrimSpace(o["NAME"] + " " + o["VERSION"])
	}
	var ids []string
	for _, k := range []string{"ID", "VERSION_ID", "BUILD_ID"} {
		if o[k] != "" {
			ids = append(ids, k+"="+o[k])
		}
	}
	if len(ids) > 0 {
		s += " (" + strings.Join(ids, ", ") + ")"
	}
	return s
}

func timeBlocks(rec *chain.Record, c0 *reportClock, e0 string, c1 *reportClock, e1 string) []rvBlock {
	kv := []rvKV{
		{bi{"Début (UTC)", "Start (UTC)"}, utc(rec.Started), true},
		{bi{"Fin (UTC)", "End (UTC)"}, utc(rec.Ended), true},
	}
	if !rec.Started.IsZero() && !rec.Ended.IsZero() {
		kv = append(kv, rvKV{bi{"Durée", "Duration"}, rec.Ended.Sub(rec.Started).Round(time.Millisecond).String(), true})
	}
	if ref := rec.Reference; ref != nil {
		ahead := bi{"horloge de l'hôte en avance", "host clock ahead"}
		switch {
		case ref.SkewSeconds < 0:
			ahead = bi{"horloge de l'hôte en retard", "host clock behind"}
		case ref.SkewSeconds == 0:
			ahead = bi{"aucun écart", "no difference"}
		}
		kv = append(kv,
			rvKV{bi{"Heure de référence (opérateur)", "Reference time (operator)"}, utc(ref.Operator), true},
			rvKV{bi{"Horloge de l'hôte à la saisie", "Host clock when entered"}, utc(ref.Host), true},
			rvKV{bi{"Écart (hôte - référence)", "Skew (host - reference)"}, seconds(ref.SkewSeconds) + " (" + ahead.String() + ")", false})
	} else {
		kv = append(kv, rvKV{bi{"Heure de référence", "Reference time"}, bi{"non saisie par l'opérateur", "not entered by the operator"}.String(), false})
	}
	blocks := []rvBlock{{Kind: blockKV, KV: kv}}
	clk := rvBlock{Kind: blockTable, Title: bi{"État de l'horloge de l'hôte", "Host clock state"}, Cols: []rvCol{
		{Label: bi{"Mesure", "Reading"}, W: 56},
		{Label: bi{"Au début", "At start"}, W: 62, Mono: true},
		{Label: bi{"À la fin", "At end"}, W: 62, Mono: true},
	}}
	cell := func(c *reportClock, why string, f func(c *reportClock) string) string {
		if why != "" {
			return shown(why)
		}
		return orDash(f(c))
	}
	row := func(label bi, f func(c *reportClock) string) {
		clk.Rows = append(clk.Rows, []string{label.String(), cell(c0, e0, f), cell(c1, e1, f)})
	}
	row(bi{"Horloge système (UTC)", "System clock (UTC)"}, func(c *reportClock) string { return utc(c.WallClock) })
	row(bi{"Démarrage du système (UTC)", "Boot time (UTC)"}, func(c *reportClock) string { return utcSeconds(c.BootTime) })
	row(bi{"Durée de fonctionnement", "Uptime"}, func(c *reportClock) string {
		if c.UptimeSeconds == 0 {
			return ""
		}
		return strconv.FormatFloat(c.UptimeSeconds, 'f', 2, 64) + " s"
	})
	row(bi{"Fuseau horaire de l'hôte", "Host time zone"}, func(c *reportClock) string { return shown(c.Timezone) })
	row(bi{"Synchronisation NTP (noyau)", "NTP synchronised (kernel)"}, func(c *reportClock) string {
		if c.NTP == nil {
			return ""
		}
		return yesNo(c.NTP.Synchronised) + " (" + shown(c.NTP.State) + ")"
	})
	row(bi{"Décalage NTP estimé", "NTP offset"}, func(c *reportClock) string {
		if c.NTP == nil {
			return ""
		}
		return seconds(float64(c.NTP.OffsetNS) / 1e9)
	})
	row(bi{"Erreur maximale / estimée", "Maximum / estimated error"}, func(c *reportClock) string {
		if c.NTP == nil {
			return ""
		}
		return fmt.Sprintf("%s / %s", usText(c.NTP.MaxErrorUS), usText(c.NTP.EstErrorUS))
	})
	row(bi{"Drapeaux d'état", "Status flags"}, func(c *reportClock) string {
		if c.NTP == nil {
			return ""
		}
		s := shownAll(c.NTP.Status)
		sort.Strings(s)
		return strings.Join(s, " ")
	})
	row(bi{"Remarques", "Notes"}, func(c *reportClock) string {
		return strings.Join(shownAll(append(append([]string(nil), c.Notes...), c.Errors...)), "\n")
	})
	blocks = append(blocks, clk, para(
		"Toutes les heures sont en temps universel coordonné (UTC, RFC 3339). L'écart de l'horloge est consigné tel que mesuré ; il n'a été corrigé nulle part.",
		"All times are Coordinated Universal Time (UTC, RFC 3339). The clock skew is recorded as measured; it was corrected nowhere."))
	return blocks
}

func usText(us int64) string {
	if us >= 1000 || us <= -1000 {
		return strconv.FormatFloat(float64(us)/1000, 'f', 3, 64) + " ms"
	}
	return strconv.FormatInt(us, 10) + " µs"
}

// tallyTable is the table of the tallies ts, one row each, most volatile
// class first, then by key, with the row of the keys past the first
// maxListed (other) last.
func tallyTable(title, first bi, ts *tallies, other bi, label func(*tally) string) rvBlock {
	sorted := make([]*tally, 0, len(ts.by))
	for _, t := range ts.by {
		sorted = append(sorted, t)
	}
	sort.Slice(sorted, func(i, j int) bool {
		ri, rj := classRank(sorted[i].class), classRank(sorted[j].class)
		if ri != rj {
			return ri < rj
		}
		return sorted[i].key < sorted[j].key
	})
	tb := rvBlock{Kind: blockTable, Title: title, Cols: statusCols(first, 70)}
	for _, t := range sorted {
		tb.Rows = append(tb.Rows, t.row(label(t)))
	}
	if ts.other != nil {
		tb.Rows = append(tb.Rows, ts.other.row("… "+other.String()))
	}
	return tb
}

func (t *tally) row(label string) []string {
	total := 0
	row := []string{label}
	for _, n := range t.n {
		row = append(row, strconv.Itoa(n))
		total += n
	}
	return append(row, strconv.Itoa(total))
}

func statusCols(first bi, w float64) []rvCol {
	cols := []rvCol{{Label: first, W: w}}
	for _, s := range evidence.Statuses() {
		cols = append(cols, rvCol{Label: statusLabels[s], W: (180 - w) / 5, Right: true})
	}
	return append(cols, rvCol{Label: bi{"Total", "Total"}, W: (180 - w) / 5, Right: true})
}

func collectedBlocks(rec *chain.Record, d *ItemDigest) []rvBlock {
	var blocks []rvBlock
	if rec.Interrupted != "" {
		blocks = append(blocks, para("Collecte interrompue : "+shown(rec.Interrupted)+". Les éléments non exécutés sont comptés comme écartés.",
			"Collection interrupted: "+shown(rec.Interrupted)+". Items not run are counted as skipped."))
	}
	blocks = append(blocks, rvBlock{Kind: blockKV, KV: []rvKV{
		{bi{"Éléments prévus", "Planned items"}, strconv.Itoa(d.Total), false},
		{bi{"Volume conservé", "Bytes kept"}, bytesText(d.Bytes), false},
	}})
	st := rvBlock{Kind: blockTable, Title: bi{"Par statut", "By status"}, Cols: []rvCol{
		{Label: bi{"Statut", "Status"}, W: 60},
		{Label: bi{"Signification", "Meaning"}, W: 95},
		{Label: bi{"Nombre", "Count"}, W: 25, Right: true},
	}}
	meaning := map[evidence.Status]bi{
		evidence.Collected: {"conservé en entier", "stored whole"},
		evidence.Partial:   {"conservé en partie, avec le motif", "stored in part, with why"},
		evidence.Skipped:   {"volontairement non conservé (absent, plafond)", "deliberately not stored (absent, cap)"},
		evidence.Failed:    {"n'a pas pu être lu, avec l'erreur", "could not be read, with the error"},
	}
	for _, s := range evidence.Statuses() {
		st.Rows = append(st.Rows, []string{statusLabel(s), meaning[s].String(), strconv.Itoa(d.Count(s))})
	}
	blocks = append(blocks, st)

	ct := tallyTable(bi{"Par classe de volatilité (de la plus volatile à la moins volatile)", "By volatility class (most volatile first)"},
		bi{"Classe", "Class"}, &d.classes, bi{"autres classes", "other classes"}, func(t *tally) string {
			if l, ok := classLabels[t.key]; ok {
				return l.String()
			}
			return shown(t.key)
		})
	kt := tallyTable(bi{"Par collecteur", "By collector"}, bi{"Collecteur", "Collector"}, &d.collectors,
		bi{"autres collecteurs", "other collectors"}, func(t *tally) string { return orDash(shown(t.key)) })
	kt.Cols[0].Mono = true
	return append(blocks, ct, kt)
}

// maxListed bounds the rows of one list of items; the rest is counted.
const maxListed = 500

// itemName is what the report calls an item: its source (its bytes when
// they are not UTF-8, which the record keeps in source_raw), else its
// path in the bag, else its kind.
func itemName(it *evidence.Item) string {
	switch {
	case len(it.SourceRaw) > 0:
		return string(it.SourceRaw)
	case it.Source != "":
		return it.Source
	case it.Path != "":
		return it.Path
	case it.Kind != "":
		return "(" + it.Kind + ")"
	}
	return dash
}

func notCollectedBlocks(d *ItemDigest) []rvBlock {
	bad, nBad := d.failedAndPartial()
	var blocks []rvBlock
	ft := rvBlock{Kind: blockTable, Title: bi{"Échecs et éléments partiels", "Failed and partial items"}, Cols: []rvCol{
		{Label: bi{"Statut", "Status"}, W: 22},
		{Label: bi{"Collecteur", "Collector"}, W: 33, Mono: true},
		{Label: bi{"Élément", "Item"}, W: 60, Mono: true},
		{Label: bi{"Motif", "Reason"}, W: 65},
	}}
	for _, it := range bad {
		ft.Rows = append(ft.Rows, []string{statusLabel(it.status), shown(it.collector), shown(it.name), reasonCell(it.reason)})
	}
	if nBad > len(bad) {
		ft.Rows = append(ft.Rows, []string{dash, dash, fmt.Sprintf("… %d", nBad-len(bad)),
			bi{"autres éléments : voir record.json", "more items: see record.json"}.String()})
	}
	if nBad == 0 {
		blocks = append(blocks, para("Aucun élément en échec ni partiel.", "No failed or partial item."))
	} else {
		blocks = append(blocks, ft)
	}
	type group struct {
		reason string
		n      int
	}
	var groups []group
	total := d.otherReasons
	for r, n := range d.reasons {
		groups = append(groups, group{r, n})
		total += n
	}
	sort.Slice(groups, func(i, j int) bool {
		if groups[i].n != groups[j].n {
			return groups[i].n > groups[j].n
		}
		return groups[i].reason < groups[j].reason
	})
	if len(groups) == 0 {
		return append(blocks, para("Aucun élément écarté.", "No skipped item."))
	}
	st := rvBlock{Kind: blockTable, Title: bi{fmt.Sprintf("Éléments écartés (%d), par motif", total), fmt.Sprintf("Skipped items (%d), by reason", total)}, Cols: []rvCol{
		{Label: bi{"Motif", "Reason"}, W: 155},
		{Label: bi{"Nombre", "Count"}, W: 25, Right: true},
	}}
	for _, g := range groups {
		st.Rows = append(st.Rows, []string{reasonCell(g.reason), strconv.Itoa(g.n)})
	}
	if d.otherReasons > 0 {
		st.Rows = append(st.Rows, []string{"… " + bi{"autres motifs", "other reasons"}.String(), strconv.Itoa(d.otherReasons)})
	}
	return append(blocks, st)
}

func sealBlocks(r *Report) []rvBlock {
	rec := r.Record
	keyKind := bi{"clé fournie par l'opérateur", "operator's key"}
	if rec.Key.Ephemeral {
		keyKind = bi{"clé créée pour cette collecte, partie privée jamais écrite sur disque", "made for this collection; private half never written to disk"}
	}
	root := bi{"absente (root.txt manquant)", "absent (no root.txt)"}.String()
	if r.Root != "" {
		root = shown(groupHex(r.Root))
	}
	kv := rvBlock{Kind: blockKV, KV: []rvKV{
		{bi{"Empreinte racine", "Root fingerprint"}, root, true},
		{bi{"SHA-256 de l'archive", "Archive SHA-256"}, orDash(shown(groupHex(r.ArchiveSHA256))), true},
		{bi{"Empreinte de la clé de signature", "Signing key fingerprint"}, orDash(shown(groupHex(r.KeyFingerprint))), true},
		{bi{"Nature de la clé", "Key kind"}, "Ed25519, " + keyKind.String(), false},
		{bi{"Clé publique", "Public key"}, orDash(shownPEM(r.PublicKeyPEM)), true},
	}}
	if r.Record.Key.Fingerprint != "" && r.KeyFingerprint != r.Record.Key.Fingerprint {
		recKey := shown(groupHex(r.Record.Key.Fingerprint))
		kv.KV = append(kv.KV, rvKV{bi{"Attention", "Warning"}, bi{"la clé de root.pub.pem n'est pas celle du relevé de collecte (" + recKey + ")",
			"root.pub.pem's key is not the collection record's (" + recKey + ")"}.String(), false})
	}
	blocks := []rvBlock{kv}
	if len(r.Extras) > 0 {
		et := rvBlock{Kind: blockTable, Title: bi{"Pièces ajoutées à côté du sac", "Files added beside the bag"}, Cols: []rvCol{
			{Label: bi{"Fichier", "File"}, W: 50, Mono: true},
			{Label: bi{"Taille (octets)", "Size (bytes)"}, W: 30, Right: true},
			{Label: bi{"SHA-256", "SHA-256"}, W: 100, Mono: true},
		}}
		for _, e := range r.Extras {
			et.Rows = append(et.Rows, []string{shown(e.Name), strconv.FormatInt(e.Size, 10), orDash(groupHex(e.SHA256))})
		}
		blocks = append(blocks, et)
	}
	return blocks
}

func custodyBlocks(r *Report) []rvBlock {
	switch {
	case r.CustodyError != "":
		return []rvBlock{para("Le journal de possession (custody.jsonl) n'a pas pu être lu : "+shown(r.CustodyError),
			"The custody log (custody.jsonl) could not be read: "+shown(r.CustodyError))}
	case r.Custody == nil:
		return []rvBlock{para("Aucun journal de possession (custody.jsonl) dans le dossier.", "No custody log (custody.jsonl) in the folder.")}
	}
	c := r.Custody
	var blocks []rvBlock
	if c.Err == nil {
		blocks = append(blocks, para(fmt.Sprintf("Journal de possession intègre : %d événement(s) chaînés et signés, rattachés à la clé du sac. Tête du journal : %s.", len(c.Entries), c.Head()),
			fmt.Sprintf("Custody log intact: %d event(s) chained and signed, anchored to the bag's key. Log head: %s.", len(c.Entries), c.Head())))
	} else {
		why := shown(fmt.Sprint(c.Err.Err))
		blocks = append(blocks, para(fmt.Sprintf("JOURNAL DE POSSESSION ROMPU à la ligne %d (%s) : %s. Seules les %d lignes précédentes sont établies ; %d ligne(s) suivantes non vérifiées.", c.Err.Line, shown(c.Err.Kind), why, len(c.Entries), len(c.Rest)),
			fmt.Sprintf("CUSTODY LOG BROKEN at line %d (%s): %s. Only the %d lines before it hold; %d line(s) after it unchecked.", c.Err.Line, shown(c.Err.Kind), why, len(c.Entries), len(c.Rest))))
	}
	if len(r.Signers) > 0 && c.Err == nil {
		blocks = append(blocks, trustedKeysPara(r))
	}
	t := rvBlock{Kind: blockTable, Cols: []rvCol{
		{Label: bi{"N°", "Seq"}, W: 9, Right: true},
		{Label: bi{"Date (UTC)", "Time (UTC)"}, W: 25, Mono: true},
		{Label: bi{"Événement", "Event"}, W: 24},
		{Label: bi{"Acteur", "Actor"}, W: 32},
		{Label: bi{"Détails", "Details"}, W: 55},
		{Label: bi{"Signataire (empreinte)", "Signer (fingerprint)"}, W: 35, Mono: true},
	}}
	for i := range c.Entries {
		e := &c.Entries[i]
		ev := shown(e.Event)
		if l, ok := eventLabels[e.Event]; ok {
			ev = l.String()
		}
		signer := shown(groupHex(e.KeyFingerprint))
		switch s := signerOf(r, i, e); {
		case c.BagKey(e):
			signer += "\n(" + bi{"clé du sac", "bag key"}.String() + ")"
		case s != nil && s.Kind == verdict.SignerTrusted:
			signer += "\n(" + bi{"clé de confiance", "trusted key"}.String() + ")\n" + shown(filepath.Base(s.Source))
		case s != nil:
			signer += "\n(" + bi{"clé non identifiée", "unidentified key"}.String() + ")"
		}
		when := shown(e.Time)
		if at, err := time.Parse(time.RFC3339, e.Time); err == nil {
			when = at.UTC().Format("2006-01-02\n15:04:05Z")
		}
		t.Rows = append(t.Rows, []string{strconv.FormatInt(e.Seq, 10), when, ev, personText(e.Actor), eventDetails(&e.CustodyEvent), signer})
	}
	if len(t.Rows) > 0 {
		blocks = append(blocks, t)
	}
	return blocks
}

// signerOf returns the verification's signer of custody line i (entry e),
// or nil when the report was not given one for it.
func signerOf(r *Report, i int, e *chain.CustodyEntry) *verdict.Signer {
	if i >= len(r.Signers) || r.Signers[i].Line != i+1 || r.Signers[i].KeyFingerprint != e.KeyFingerprint {
		return nil
	}
	return &r.Signers[i]
}

// trustedKeysPara says which holders' keys the verification was given
// (--trusted-key), and how many custody lines a key that is neither the
// bag's nor one of them signed: those lines are attached to nobody.
func trustedKeysPara(r *Report) rvBlock {
	unknown := 0
	for _, s := range r.Signers {
		if s.Kind == verdict.SignerUnknown {
			unknown++
		}
	}
	var keys []string
	for _, k := range r.Trusted {
		keys = append(keys, shown(filepath.Base(k.Source))+" ("+groupHex(seal.KeyFingerprint(k.Key))+")")
	}
	given := bi{"Aucune clé de confiance n'a été donnée à la vérification (--trusted-key).",
		"No trusted key was given to the verification (--trusted-key)."}
	if len(keys) > 0 {
		list := strings.Join(keys, ", ")
		given = bi{fmt.Sprintf("Clés de confiance données à la vérification (--trusted-key) : %s.", list),
			fmt.Sprintf("Trusted keys given to the verification (--trusted-key): %s.", list)}
	}
	rest := bi{"Chaque événement est signé par la clé du sac ou par l'une d'elles.",
		"Every event is signed by the bag's key or one of them."}
	if len(keys) == 0 {
		rest = bi{"Chaque événement est signé par la clé du sac.", "Every event is signed by the bag's key."}
	}
	if unknown > 0 {
		rest = bi{fmt.Sprintf("%d événement(s) signés par une autre clé : leur signature tient, mais n'est rattachée à personne (n'importe qui peut créer une clé).", unknown),
			fmt.Sprintf("%d event(s) signed by another key: the signature holds, but is attached to nobody (anyone can make a key).", unknown)}
	}
	return para(given.FR+" "+rest.FR, given.EN+" "+rest.EN)
}

func personText(p *chain.Person) string {
	if p == nil {
		return dash
	}
	var parts []string
	for _, s := range []string{p.Name, p.Role, p.Organisation, p.Reference} {
		if s != "" {
			parts = append(parts, shown(s))
		}
	}
	return orDash(strings.Join(parts, ", "))
}

// eventDetails lists an event's fields, one a line, each shown.
func eventDetails(e *chain.CustodyEvent) string {
	var lines []string
	addf := func(label bi, v string) {
		if v != "" {
			lines = append(lines, label.String()+" : "+shown(v))
		}
	}
	addf(bi{"Affaire", "Case"}, e.Case)
	addf(bi{"Hôte", "Host"}, e.Host)
	addf(bi{"Collecte", "Collection"}, e.Collection)
	addf(bi{"Outil", "Tool"}, e.Tool)
	if e.Event != chain.EventAcquired {
		addf(bi{"Racine", "Root"}, abbrev(e.Root))
	}
	addf(bi{"Archive", "Archive"}, abbrev(e.ArchiveSHA256))
	if e.Items != nil {
		addf(bi{"Fichiers", "Files"}, strconv.Itoa(*e.Items))
	}
	if e.Octets != nil {
		addf(bi{"Octets", "Bytes"}, strconv.FormatInt(*e.Octets, 10))
	}
	if len(e.Summary) > 0 {
		var parts []string
		keys := make([]string, 0, len(e.Summary))
		for k := range e.Summary {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			ri, rj := statusRank(evidence.Status(keys[i])), statusRank(evidence.Status(keys[j]))
			if ri != rj {
				return ri < rj
			}
			return keys[i] < keys[j]
		})
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %d", k, e.Summary[k]))
		}
		addf(bi{"Statuts", "Statuses"}, strings.Join(parts, ", "))
	}
	addf(bi{"De", "From"}, e.From)
	addf(bi{"À", "To"}, e.To)
	addf(bi{"Support", "Medium"}, e.Medium)
	addf(bi{"N° de scellé", "Seal number"}, e.SealNumber)
	addf(bi{"Motif", "Reason"}, e.Reason)
	addf(bi{"Par", "By"}, e.By)
	if e.SealIntact != nil {
		addf(bi{"Scellé intact", "Seal intact"}, yesNo(*e.SealIntact))
	}
	addf(bi{"État", "Condition"}, e.Condition)
	addf(bi{"Verdict", "Verdict"}, verdictWords(e.Verdict))
	addf(bi{"Contrôles en échec", "Failed checks"}, checkNames(e.Failed))
	if len(e.Anchors) > 0 {
		addf(bi{"Ancrages vérifiés", "Anchors checked"}, custodyAnchors(e.Anchors))
	}
	addf(bi{"Autorité d'horodatage", "TSA"}, e.TSA)
	addf(bi{"Jeton", "Token"}, e.TokenFile)
	addf(bi{"SHA-256 du jeton", "Token SHA-256"}, abbrev(e.TokenSHA256))
	addf(bi{"Texte", "Text"}, e.Text)
	if st := e.Store; st != nil {
		addf(bi{"Coffre", "Store"}, st.Endpoint+" s3://"+st.Bucket+"/"+st.Prefix)
		addf(bi{"Objets", "Objects"}, strconv.Itoa(len(st.Objects)))
		if len(st.Objects) > 0 && st.Objects[0].RetainUntil != "" {
			addf(bi{"Conservation", "Retention"}, st.Objects[0].Retention+" "+st.Objects[0].RetainUntil)
		}
		if st.NoLock {
			addf(bi{"Verrou", "Lock"}, "aucun / none")
		}
	}
	return orDash(strings.Join(lines, "\n"))
}

// custodyAnchors names the anchors a verified event checked, each with
// what became of it, or says none was: self-consistency only.
func custodyAnchors(anchors []chain.CustodyAnchor) string {
	var parts []string
	for _, a := range anchors {
		if a.Status == chain.AnchorNotChecked {
			continue
		}
		label, status := bi{a.Kind, ""}, bi{a.Status, ""}
		if l, ok := anchorLabels[verdict.AnchorKind(a.Kind)]; ok {
			label = l
		}
		if l, ok := anchorStatusLabels[verdict.AnchorStatus(a.Status)]; ok {
			status = l
		}
		parts = append(parts, label.String()+" : "+status.String())
	}
	if len(parts) == 0 {
		return bi{"aucun : autocohérence seule", "none: self-consistency only"}.String()
	}
	return strings.Join(parts, " ; ")
}

func statusRank(s evidence.Status) int {
	statuses := evidence.Statuses()
	for i, k := range statuses {
		if k == s {
			return i
		}
	}
	return len(statuses)
}

// abbrev shortens a 64-digit hash to its first and last 8 digits; the
// full values are in the log and elsewhere in the report.
func abbrev(h string) string {
	if len(h) != 64 {
		return h
	}
	return h[:8] + "…" + h[56:]
}

func verificationBlocks(r *Report) []rvBlock {
	blocks := []rvBlock{{Kind: blockVerdict, Verdict: verdictOf(r)}}
	if !r.Verified {
		return blocks
	}
	t := rvBlock{Kind: blockTable, Cols: []rvCol{
		{Label: bi{"Contrôle", "Check"}, W: 45},
		{Label: bi{"Résultat", "Result"}, W: 20},
		{Label: bi{"Détail", "Detail"}, W: 80, Mono: true},
		{Label: bi{"Objet", "Where"}, W: 35, Mono: true},
	}}
	for _, c := range r.Checks {
		name := shown(c.Name)
		if l, ok := checkLabels[c.Name]; ok {
			name = l.String() + "\n(" + c.Name + ")"
		}
		res := "OK"
		if !c.OK {
			res = "ÉCHEC / FAIL"
		}
		t.Rows = append(t.Rows, []string{name, res, checkDetailCell(c), orDash(shown(c.Where))})
	}
	return append(append(append(blocks, t), storedBlocks(r)...), anchorBlocks(r)...)
}

// storedBlocks says where a bag read from an S3 store was read: the
// store, and each version read.
func storedBlocks(r *Report) []rvBlock {
	st := r.Stored
	if st == nil {
		return nil
	}
	kv := rvBlock{Kind: blockKV, Title: bi{"Sac lu dans un coffre S3", "Bag read from an S3 store"}, KV: []rvKV{
		{bi{"Point d'accès", "Endpoint"}, shown(st.Endpoint), true},
		{bi{"Emplacement", "Location"}, shown(st.Location), true},
		{bi{"Versions lues", "Versions read"}, bi{fmt.Sprintf("celles qu'épingle la ligne %d du journal de possession (événement « stored ») ; rien n'a été écrit sur disque", st.Line),
			fmt.Sprintf("those pinned by custody line %d (stored event); nothing was written to disk", st.Line)}.String(), false},
	}}
	t := rvBlock{Kind: blockTable, Cols: []rvCol{
		{Label: bi{"Objet", "Object"}, W: 45, Mono: true},
		{Label: bi{"Version", "Version id"}, W: 45, Mono: true},
		{Label: bi{"Taille (octets)", "Size (bytes)"}, W: 25, Right: true},
		{Label: bi{"SHA-256", "SHA-256"}, W: 65, Mono: true},
	}}
	for _, o := range st.Objects {
		t.Rows = append(t.Rows, []string{shown(o.Key), shown(o.VersionID), strconv.FormatInt(o.Size, 10), orDash(shown(groupHex(o.SHA256)))})
	}
	return []rvBlock{kv, t}
}

func manualBlocks(r *Report) []rvBlock {
	root := r.Root
	if !isRoot(root) {
		root = "<root.txt>"
	}
	key := shown(r.KeyFingerprint)
	if key == "" {
		key = "<…>"
	}
	steps := []rvStep{
		{bi{"Copier le dossier de sortie sur un poste d'analyse et travailler sur la copie. Vérifier l'intégrité de l'archive (attendu : « evidence.tar.zst: OK »).",
			"Copy the output folder to a workstation and work on the copy. Check the archive's integrity (expected: \"evidence.tar.zst: OK\")."},
			"sha256sum -c " + seal.ArchiveSumFile},
		{bi{"Extraire l'archive (GNU tar et zstd) ; elle crée le dossier evidence/.", "Extract the archive (GNU tar and zstd); it creates the folder evidence/."},
			"tar --zstd -xf " + seal.ArchiveFile + " && cd " + seal.BagDir},
		{bi{"Vérifier chaque fichier du contenu contre le manifeste (attendu : aucune ligne « FAILED »).", "Check every payload file against the manifest (expected: no \"FAILED\" line)."},
			"sha256sum -c --quiet " + seal.ManifestFile},
		{bi{"Vérifier les fichiers de métadonnées contre le manifeste des métadonnées.", "Check the tag files against the tag manifest."},
			"sha256sum -c --quiet " + seal.TagManifestFile},
		{bi{"Calculer l'empreinte racine : le SHA-256 du manifeste des métadonnées doit être égal au contenu de root.txt et à l'empreinte imprimée : " + groupHex(root) + ".",
			"Compute the root fingerprint: the tag manifest's SHA-256 must equal root.txt and the printed fingerprint: " + groupHex(root) + "."},
			"sha256sum " + seal.TagManifestFile + "; cat ../" + seal.RootFile},
		{bi{"Vérifier la signature Ed25519 du manifeste des métadonnées (OpenSSL 3 ; attendu : « Signature Verified Successfully »).",
			"Verify the Ed25519 signature over the tag manifest (OpenSSL 3; expected: \"Signature Verified Successfully\")."},
			"openssl pkeyutl -verify -pubin -inkey ../" + seal.PubFile + " -rawin -in " + seal.TagManifestFile + " -sigfile ../" + seal.SigFile},
		{bi{"Vérifier l'empreinte de la clé publique (attendu : " + groupHex(key) + ").", "Check the public key's fingerprint (expected: " + groupHex(key) + ")."},
			"openssl pkey -pubin -in ../" + seal.PubFile + " -outform DER | sha256sum"},
	}
	return []rvBlock{
		para("Chaque contrôle effectué par « scelle verify » peut être refait avec des outils standard (coreutils, GNU tar, zstd, OpenSSL), sans scelle. Les commandes s'exécutent dans le dossier de sortie.",
			"Every check \"scelle verify\" makes can be repeated with standard tools (coreutils, GNU tar, zstd, OpenSSL), without scelle. The commands run in the output folder."),
		{Kind: blockSteps, Steps: steps},
	}
}

// qrRuns returns the QR code's dark modules as runs per row, with a
// quiet zone of four modules around: x, y, width in modules.
func qrRuns(c *qr.Code) [][3]int {
	var runs [][3]int
	for y := 0; y < c.Size; y++ {
		for x := 0; x < c.Size; {
			if !c.Black(x, y) {
				x++
				continue
			}
			start := x
			for x < c.Size && c.Black(x, y) {
				x++
			}
			runs = append(runs, [3]int{start + 4, y + 4, x - start})
		}
	}
	return runs
}
