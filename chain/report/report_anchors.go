package report

import (
	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/seal"
)

// What the report states of the anchors: the bag's own checks prove only
// that it agrees with itself; the anchors are what it was compared with
// outside itself (package verdict).

var anchorLabels = map[verdict.AnchorKind]bi{
	verdict.AnchorRoot:        {"Empreinte racine (procès-verbal)", "Root fingerprint (procès-verbal)"},
	verdict.AnchorSigner:      {"Clé de signature relevée au début", "Signing key noted at the start"},
	verdict.AnchorCustodyHead: {"Tête du journal de possession relevée", "Custody head noted"},
	verdict.AnchorTPM:         {"Attestation TPM", "TPM quote"},
	verdict.AnchorTimestamp:   {"Horodatage RFC 3161", "RFC 3161 time stamp"},
}

var anchorStatusLabels = map[verdict.AnchorStatus]bi{
	verdict.AnchorHeld:       {"concordant", "held"},
	verdict.AnchorFailed:     {"ÉCHEC", "FAILED"},
	verdict.AnchorNotChecked: {"non vérifié", "not checked"},
}

// anchorNotChecked says, for each kind, what was not done.
var anchorNotChecked = map[verdict.AnchorKind]bi{
	verdict.AnchorRoot: {"Non comparée : l'empreinte racine n'a pas été comparée avec celle du procès-verbal (scelle verify --root).",
		"Not compared: the root fingerprint was not compared with the procès-verbal's (scelle verify --root)."},
	verdict.AnchorSigner: {"Non comparée : l'empreinte de la clé n'a pas été comparée avec celle relevée au début de la collecte (--signer).",
		"Not compared: the key fingerprint was not compared with the one noted when the collection started (--signer)."},
	verdict.AnchorCustodyHead: {"Non comparée : aucune tête du journal de possession relevée par un détenteur n'a été donnée (--custody-head).",
		"Not compared: no custody head noted by a holder was given (--custody-head)."},
	verdict.AnchorTPM:       {"Aucune attestation TPM : le sac n'est pas rattaché à une machine.", "No TPM quote: the bag is not bound to a machine."},
	verdict.AnchorTimestamp: {"Aucun jeton d'horodatage RFC 3161 à côté du sac.", "No RFC 3161 time-stamp token beside the bag."},
}

// anchorBlocks states which anchors were checked and which were not, says
// in words when the verdict shows self-consistency only, and leaves a
// line for the procès-verbal's reference.
func anchorBlocks(r *Report) []rvBlock {
	anchors, notChecked := r.Anchors, anchorNotChecked
	if anchors == nil {
		// Verified without the verdict's anchors: none was checked.
		for _, k := range verdict.AnchorKinds() {
			anchors = append(anchors, verdict.Anchor{Kind: k, Status: verdict.AnchorNotChecked})
		}
		notChecked = map[verdict.AnchorKind]bi{}
		for k, v := range anchorNotChecked {
			notChecked[k] = v
		}
		notChecked[verdict.AnchorTPM] = bi{"Non vérifiée pour ce rapport.", "Not checked for this report."}
		notChecked[verdict.AnchorTimestamp] = notChecked[verdict.AnchorTPM]
	}
	t := rvBlock{Kind: blockTable, Title: bi{"Ancrages : ce avec quoi le sac a été comparé hors de lui-même", "Anchors: what the bag was compared with outside itself"}, Cols: []rvCol{
		{Label: bi{"Ancrage", "Anchor"}, W: 45},
		{Label: bi{"Résultat", "Result"}, W: 25},
		{Label: bi{"Valeur comparée", "Value compared"}, W: 40, Mono: true},
		{Label: bi{"Détail", "Detail"}, W: 70},
	}}
	anchored := false
	for _, a := range anchors {
		label, status := bi{string(a.Kind), ""}, bi{string(a.Status), ""}
		if l, ok := anchorLabels[a.Kind]; ok {
			label = l
		}
		if l, ok := anchorStatusLabels[a.Status]; ok {
			status = l
		}
		detail := checkDetailCell(seal.Check{OK: a.Status != verdict.AnchorFailed, Detail: a.Detail})
		if a.Status == verdict.AnchorNotChecked {
			if l, ok := notChecked[a.Kind]; ok {
				detail = l.String()
			}
		}
		given := a.Given
		if isRoot(given) {
			given = groupHex(given)
		}
		t.Rows = append(t.Rows, []string{label.String(), status.String(), orDash(shown(given)), detail})
		anchored = anchored || (a.Kind == verdict.AnchorRoot || a.Kind == verdict.AnchorSigner) && a.Status == verdict.AnchorHeld
	}
	blocks := []rvBlock{t}
	if !anchored {
		blocks = append(blocks, para("Ce résultat établit seulement la cohérence interne du sac : un sac modifié puis scellé à nouveau avec une nouvelle clé serait lui aussi cohérent. Il doit être comparé avec le procès-verbal : l'empreinte racine ci-dessus doit être celle qui y est consignée.",
			"This result shows self-consistency only: a bag changed and sealed again with a new key would be consistent too. It must be compared with the procès-verbal: the root fingerprint above must be the one recorded there."))
	}
	return append(blocks, rvBlock{Kind: blockKV, Title: bi{"À compléter à la main", "To be filled in by hand"}, KV: []rvKV{
		{bi{"Référence du procès-verbal", "Procès-verbal reference"}, "______________________________________________", false},
	}})
}
