package export

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/scelle/scelle/chain"
	"github.com/scelle/scelle/internal/evidence"
	"github.com/scelle/scelle/seal"
)

// The case-uco export: the collection described in CASE 1.x / UCO 1.x
// (https://caseontology.org), as one JSON-LD document with an @context
// and an @graph of nodes:
//
//   - the collection, a case-investigation:InvestigativeAction: start and
//     end time, performer (the operator), participants (the witnesses),
//     instruments (scelle, a uco-tool:Tool with its version, and the
//     executable that ran, a uco-observable:File with its SHA-256),
//     location (the host, a uco-location:Location), object (the host, a
//     uco-observable:Computer) and results (the bag, its provenance
//     record and every payload file);
//   - the evidence bag, a uco-observable:File (evidence.tar.zst) with its
//     size and SHA-256, and the tag manifest contained in it, whose
//     SHA-256 is the root fingerprint;
//   - every payload file, a uco-observable:File with a FileFacet (the
//     original path, size and times from stat_before) and a
//     ContentDataFacet (size and SHA-256 as sealed);
//   - a case-investigation:ProvenanceRecord for the collection, and, for
//     each custody event, a case-investigation:InvestigativeAction
//     (acquired, sealed, transferred, received, verified, timestamped,
//     note) by its actor, whose result is a new ProvenanceRecord of the
//     bag, so that the records chain as the custody log does;
//   - the people named (uco-identity:Person).
//
// Node identifiers are stable: "kb:" (urn:scelle:kb:) followed by the
// collection id and what the node is, so that the same bag always gives
// the same graph and graphs of different bags never share a node.

// caseUCOContext is the JSON-LD context of the export.
var caseUCOContext = map[string]string{
	"kb":                 "urn:scelle:kb:",
	"case-investigation": "https://ontology.caseontology.org/case/investigation/",
	"uco-action":         "https://ontology.unifiedcyberontology.org/uco/action/",
	"uco-core":           "https://ontology.unifiedcyberontology.org/uco/core/",
	"uco-identity":       "https://ontology.unifiedcyberontology.org/uco/identity/",
	"uco-location":       "https://ontology.unifiedcyberontology.org/uco/location/",
	"uco-observable":     "https://ontology.unifiedcyberontology.org/uco/observable/",
	"uco-tool":           "https://ontology.unifiedcyberontology.org/uco/tool/",
	"uco-types":          "https://ontology.unifiedcyberontology.org/uco/types/",
	"uco-vocabulary":     "https://ontology.unifiedcyberontology.org/uco/vocabulary/",
	"xsd":                "http://www.w3.org/2001/XMLSchema#",
}

type ucoNode map[string]any

func ucoRef(id string) ucoNode { return ucoNode{"@id": id} }

func ucoTime(t time.Time) ucoNode {
	return ucoNode{"@type": "xsd:dateTime", "@value": t.UTC().Format(time.RFC3339Nano)}
}

func ucoInt(n int64) ucoNode { return ucoNode{"@type": "xsd:integer", "@value": n} }

func ucoSHA256(id, hexSum string) ucoNode {
	return ucoNode{"@id": id, "@type": "uco-types:Hash",
		"uco-types:hashMethod": ucoNode{"@type": "uco-vocabulary:HashNameVocab", "@value": "SHA256"},
		"uco-types:hashValue":  ucoNode{"@type": "xsd:hexBinary", "@value": hexSum}}
}

type caseUCOExport struct {
	prefix  string // "kb:<collection>-"
	nodes   int
	files   int
	persons map[string]bool
}

func (x *caseUCOExport) id(kind string, n ...int) string {
	s := x.prefix + kind
	for _, v := range n {
		s += fmt.Sprintf("-%d", v)
	}
	return s
}

func (x *caseUCOExport) write(b *exportBag, n ucoNode) error {
	out, err := marshalNoEscape(n, "  ", " ")
	if err != nil {
		return err
	}
	if x.nodes > 0 {
		b.w.WriteString(",\n  ")
	} else {
		b.w.WriteString("  ")
	}
	x.nodes++
	b.stats.Records++
	_, err = b.w.Write(out)
	return err
}

func marshalNoEscape(v any, prefix, indent string) ([]byte, error) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, indent)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(sb.String(), "\n")), nil
}

// person writes a Person node the first time it is named and returns its
// id; "" for nobody.
func (x *caseUCOExport) person(b *exportBag, p *chain.Person) (string, error) {
	if p == nil || p.Name == "" {
		return "", nil
	}
	id := x.prefix + "person-" + hexSHA256([]byte(p.Name + "\x00" + p.Organisation))[:16]
	if x.persons[id] {
		return id, nil
	}
	x.persons[id] = true
	var about []string
	for _, s := range []struct{ label, v string }{{"organisation", p.Organisation}, {"role", p.Role}, {"reference", p.Reference}} {
		if s.v != "" {
			about = append(about, s.label+": "+s.v)
		}
	}
	n := ucoNode{"@id": id, "@type": "uco-identity:Person", "uco-core:name": p.Name}
	if len(about) > 0 {
		n["uco-core:description"] = strings.Join(about, "; ")
	}
	return id, x.write(b, n)
}

func (x *caseUCOExport) begin(b *exportBag) error {
	rec := b.rec
	x.prefix = "kb:" + rec.Collection + "-"
	x.persons = map[string]bool{}
	ctx, err := marshalNoEscape(caseUCOContext, " ", " ")
	if err != nil {
		return err
	}
	fmt.Fprintf(b.w, "{\n \"@context\": %s,\n \"@graph\": [\n", ctx)

	toolDesc := fmt.Sprintf("%s %s, revision %s, built for %s/%s", rec.Tool.Name, rec.Tool.Version, orNone(rec.Tool.Revision), rec.Tool.GoOS, rec.Tool.GoArch)
	if err := x.write(b, ucoNode{"@id": x.id("tool"), "@type": "uco-tool:Tool", "uco-core:name": rec.Tool.Name,
		"uco-tool:version": rec.Tool.Version, "uco-tool:toolType": "evidence collection and sealing",
		"uco-core:description": toolDesc}); err != nil {
		return err
	}
	exe := ucoNode{"@id": x.id("tool-executable"), "@type": "uco-observable:File",
		"uco-core:name":        "the " + rec.Tool.Name + " executable that made the collection",
		"uco-core:description": "SHA-256 of the running executable's file, read when the collection started"}
	facets := []ucoNode{}
	if rec.Tool.Path != "" {
		facets = append(facets, ucoNode{"@id": x.id("tool-executable-file-facet"), "@type": "uco-observable:FileFacet",
			"uco-observable:fileName": path.Base(rec.Tool.Path), "uco-observable:filePath": rec.Tool.Path})
	}
	if rec.Tool.SHA256 != "" {
		facets = append(facets, ucoNode{"@id": x.id("tool-executable-content-facet"), "@type": "uco-observable:ContentDataFacet",
			"uco-observable:hash": []ucoNode{ucoSHA256(x.id("tool-executable-hash"), rec.Tool.SHA256)}})
	}
	if len(facets) > 0 {
		exe["uco-core:hasFacet"] = facets
	}
	if err := x.write(b, exe); err != nil {
		return err
	}

	host := b.host()
	hostDesc := x.hostDescription(b)
	if err := x.write(b, ucoNode{"@id": x.id("host"), "@type": "uco-observable:Computer", "uco-core:name": orNone(host),
		"uco-core:description": hostDesc}); err != nil {
		return err
	}
	where := "live host"
	if !rec.Live {
		where = "image mounted at " + rec.Root
	}
	if err := x.write(b, ucoNode{"@id": x.id("location"), "@type": "uco-location:Location",
		"uco-core:name": fmt.Sprintf("host %s (%s)", orNone(host), where), "uco-core:description": hostDesc}); err != nil {
		return err
	}

	key := "a key made for this collection alone (ephemeral)"
	if !rec.Key.Ephemeral {
		key = "the operator's key"
	}
	bagDesc := fmt.Sprintf("scelle evidence bag %s: case %q, collection %s; root fingerprint %s (SHA-256 of tagmanifest-sha256.txt), signed with Ed25519 %s, fingerprint %s",
		b.folder, rec.Case, rec.Collection, b.root, key, rec.Key.Fingerprint)
	// The bag is the archive file on disk: for an encrypted bag, the
	// ciphertext, whose plaintext's SHA-256 the description gives.
	archive, sum := seal.ArchiveFile, b.archive
	if b.ageSum != "" {
		archive, sum = seal.EncryptedArchiveFile, b.ageSum
		bagDesc += fmt.Sprintf("; encrypted with age: the plaintext %s has SHA-256 %s", seal.ArchiveFile, b.archive)
	}
	if err := x.write(b, ucoNode{"@id": x.id("bag"), "@type": "uco-observable:File", "uco-core:name": b.folder + "/" + archive,
		"uco-core:description": bagDesc,
		"uco-core:hasFacet": []ucoNode{
			{"@id": x.id("bag-file-facet"), "@type": "uco-observable:FileFacet", "uco-observable:fileName": archive,
				"uco-observable:filePath": b.folder + "/" + archive, "uco-observable:sizeInBytes": ucoInt(b.size)},
			{"@id": x.id("bag-content-facet"), "@type": "uco-observable:ContentDataFacet", "uco-observable:sizeInBytes": ucoInt(b.size),
				"uco-observable:hash": []ucoNode{ucoSHA256(x.id("bag-hash"), sum)}},
		}}); err != nil {
		return err
	}
	if err := x.write(b, ucoNode{"@id": x.id("tag-manifest"), "@type": "uco-observable:File", "uco-core:name": "evidence/tagmanifest-sha256.txt",
		"uco-core:description": "the bag's tag manifest: its SHA-256 is the root fingerprint, which covers every file of the bag",
		"uco-core:hasFacet": []ucoNode{
			{"@id": x.id("tag-manifest-file-facet"), "@type": "uco-observable:FileFacet", "uco-observable:fileName": "tagmanifest-sha256.txt",
				"uco-observable:filePath": "evidence/tagmanifest-sha256.txt"},
			{"@id": x.id("tag-manifest-content-facet"), "@type": "uco-observable:ContentDataFacet",
				"uco-observable:hash": []ucoNode{ucoSHA256(x.id("root-fingerprint"), b.root)}},
		}}); err != nil {
		return err
	}
	return x.write(b, ucoNode{"@id": x.id("relationship-tag-manifest"), "@type": "uco-core:Relationship",
		"uco-core:source": ucoRef(x.id("tag-manifest")), "uco-core:target": ucoRef(x.id("bag")),
		"uco-core:kindOfRelationship": "Contained_Within", "uco-core:isDirectional": true})
}

func (x *caseUCOExport) hostDescription(b *exportBag) string {
	var h struct {
		MachineID string            `json:"machine_id"`
		BootID    string            `json:"boot_id"`
		OS        map[string]string `json:"os_release"`
		Kernel    map[string]string `json:"kernel"`
		DMI       map[string]string `json:"dmi"`
	}
	if len(b.rec.Host) > 0 {
		_ = json.Unmarshal(b.rec.Host, &h)
	}
	var parts []string
	add := func(label, v string) {
		if v != "" {
			parts = append(parts, label+" "+v)
		}
	}
	add("machine-id", h.MachineID)
	add("boot id", h.BootID)
	add("OS", h.OS["PRETTY_NAME"])
	add("kernel", strings.TrimSpace(h.Kernel["sysname"]+" "+h.Kernel["release"]+" "+h.Kernel["machine"]))
	add("vendor", h.DMI["sys_vendor"])
	add("product", h.DMI["product_name"])
	add("serial", h.DMI["product_serial"])
	return strings.Join(parts, "; ")
}

func (x *caseUCOExport) item(b *exportBag, it *evidence.Item) error {
	if it.Path == "" {
		return nil
	}
	x.files++
	n := x.files
	fp := it.Path
	if (it.Kind == "file" || it.Kind == "kernel") && strings.HasPrefix(it.Source, "/") {
		fp = itemHostPath(it)
	}
	ff := ucoNode{"@id": x.id("file", n) + "-file-facet", "@type": "uco-observable:FileFacet",
		"uco-observable:fileName": path.Base(fp), "uco-observable:filePath": fp}
	if st := it.Before; st != nil {
		ff["uco-observable:sizeInBytes"] = ucoInt(st.Size)
		ff["uco-observable:modifiedTime"] = ucoTime(st.Mtime)
		ff["uco-observable:accessedTime"] = ucoTime(st.Atime)
		ff["uco-observable:metadataChangeTime"] = ucoTime(st.Ctime)
		if bt := btime(st); !bt.IsZero() {
			ff["uco-observable:observableCreatedTime"] = ucoTime(bt)
		}
	} else {
		ff["uco-observable:sizeInBytes"] = ucoInt(it.Size)
	}
	desc := fmt.Sprintf("stored as %s by collector %s (class %s, kind %s), status %s", it.Path, it.Collector, it.Class, it.Kind, it.Status)
	if it.Reason != "" {
		desc += ": " + it.Reason
	}
	if it.Source != "" {
		desc += "; source " + it.Source
	}
	return x.write(b, ucoNode{"@id": x.id("file", n), "@type": "uco-observable:File", "uco-core:name": it.Path,
		"uco-core:description": desc,
		"uco-core:hasFacet": []ucoNode{ff,
			{"@id": x.id("file", n) + "-content-facet", "@type": "uco-observable:ContentDataFacet", "uco-observable:sizeInBytes": ucoInt(it.Size),
				"uco-observable:hash": []ucoNode{ucoSHA256(x.id("file", n)+"-hash", it.SHA256)}},
		}})
}

func (x *caseUCOExport) wants(string) bool { return false }

func (x *caseUCOExport) entry(*exportBag, string, storedItem, io.Reader) error { return nil }

// fileRefs lists the payload files' ids.
func (x *caseUCOExport) fileRefs(extra ...string) []ucoNode {
	refs := make([]ucoNode, 0, len(extra)+x.files)
	for _, id := range extra {
		refs = append(refs, ucoRef(id))
	}
	for i := 1; i <= x.files; i++ {
		refs = append(refs, ucoRef(x.id("file", i)))
	}
	return refs
}

func (x *caseUCOExport) end(b *exportBag) error {
	rec := b.rec
	action := ucoNode{"@id": x.id("action-collection"), "@type": "case-investigation:InvestigativeAction",
		"uco-core:name": "scelle collection " + rec.Collection,
		"uco-core:description": fmt.Sprintf("live triage collection for case %q into %s: %s; root fingerprint %s",
			rec.Case, b.folder, summaryLine(rec.Summary), b.root),
		"uco-action:startTime":  ucoTime(rec.Started),
		"uco-action:endTime":    ucoTime(rec.Ended),
		"uco-action:instrument": []ucoNode{ucoRef(x.id("tool")), ucoRef(x.id("tool-executable"))},
		"uco-action:location":   ucoRef(x.id("location")),
		"uco-action:object":     []ucoNode{ucoRef(x.id("host"))},
		"uco-action:result":     x.fileRefs(x.id("bag"), x.id("provenance-collection")),
	}
	operator := rec.Operator()
	if id, err := x.person(b, operator); err != nil {
		return err
	} else if id != "" {
		action["uco-action:performer"] = ucoRef(id)
	}
	if rec.People != nil {
		var witnesses []ucoNode
		for i := range rec.People.Witnesses {
			id, err := x.person(b, &rec.People.Witnesses[i])
			if err != nil {
				return err
			}
			if id != "" {
				witnesses = append(witnesses, ucoRef(id))
			}
		}
		if len(witnesses) > 0 {
			action["uco-action:participant"] = witnesses
		}
	}
	if err := x.write(b, action); err != nil {
		return err
	}
	if err := x.write(b, ucoNode{"@id": x.id("provenance-collection"), "@type": "case-investigation:ProvenanceRecord",
		"case-investigation:exhibitNumber": b.folder,
		"uco-core:description":             fmt.Sprintf("the evidence bag and the %d files stored in it, as sealed under root %s", x.files, b.root),
		"uco-core:object":                  x.fileRefs(x.id("bag"), x.id("tag-manifest"))}); err != nil {
		return err
	}
	prev := x.id("provenance-collection")
	for i := range b.custody.Entries {
		ce := &b.custody.Entries[i]
		n := i + 1
		at, err := time.Parse(time.RFC3339, ce.Time)
		if err != nil {
			b.warn("%s line %d: time %q: %v; left out", chain.CustodyFile, n, ce.Time, err)
			continue
		}
		exhibit := b.folder
		if ce.SealNumber != "" {
			exhibit = ce.SealNumber
		}
		record := x.id("provenance-custody", n)
		act := ucoNode{"@id": x.id("action-custody", n), "@type": "case-investigation:InvestigativeAction",
			"uco-core:name":        "custody: " + ce.Event,
			"uco-core:description": fmt.Sprintf("%s line %d: %s; signed by Ed25519 key %s", chain.CustodyFile, n, custodyDetails(ce), ce.KeyFingerprint),
			"uco-action:startTime": ucoTime(at),
			"uco-action:object":    []ucoNode{ucoRef(x.id("bag")), ucoRef(prev)},
			"uco-action:result":    []ucoNode{ucoRef(record)},
		}
		if ce.Event == chain.EventVerified || ce.Event == chain.EventAcquired || ce.Event == chain.EventSealed {
			act["uco-action:instrument"] = ucoRef(x.id("tool"))
		}
		if id, err := x.person(b, ce.Actor); err != nil {
			return err
		} else if id != "" {
			act["uco-action:performer"] = ucoRef(id)
		}
		if err := x.write(b, act); err != nil {
			return err
		}
		if err := x.write(b, ucoNode{"@id": record, "@type": "case-investigation:ProvenanceRecord",
			"case-investigation:exhibitNumber": exhibit,
			"uco-core:description": fmt.Sprintf("the evidence bag after custody event %d (%s); custody log head %s",
				n, ce.Event, hexLineHash(b.custody.Lines[i])),
			"uco-core:object": []ucoNode{ucoRef(x.id("bag"))}}); err != nil {
			return err
		}
		prev = record
	}
	_, err := b.w.WriteString("\n ]\n}\n")
	return err
}

func hexLineHash(line []byte) string { return hexSHA256(line) }
