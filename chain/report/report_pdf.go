package report

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
)

// The PDF uses the core fonts (Helvetica, Courier), which need text in
// Windows-1252: French accents are translated, anything else becomes '?'.
// Nothing is embedded or loaded at run time.

// Page geometry, mm (A4 portrait).
const (
	pdfMarginL   = 15.0
	pdfMarginR   = 15.0
	pdfMarginT   = 16.0
	pdfMarginB   = 22.0 // room for the two-line footer
	pdfWidth     = 180.0
	pdfPadX      = 1.5
	pdfPadY      = 1.0
	pdfLabelCol  = 58.0
	pdfPtToMM    = 25.4 / 72
	pdfLineRatio = 1.22
)

type pdfDoc struct {
	f    *fpdf.Fpdf
	tr   func(string) string
	view *reportView
	// escaped: some text had characters the core fonts lack, written
	// <U+XXXX> (the end of the report says so).
	escaped bool
}

// pdfLine is one line of text with its font.
type pdfLine struct {
	text       string // already in cp1252
	family     string
	style      string
	size       float64
	grey       bool
	lineHeight float64
}

// WritePDF writes the report as a PDF (A4, core fonts, no embedded file).
// The creation date in its metadata is Generated, else the end of the
// collection, so that the same input gives the same bytes.
func (r *Report) WritePDF(w io.Writer) error {
	v := r.view()
	f := fpdf.New("P", "mm", "A4", "")
	d := &pdfDoc{f: f, view: v}
	tr := f.UnicodeTranslatorFromDescriptor("")
	d.tr = func(s string) string { return toCP1252(tr, s, &d.escaped) }

	created := r.Generated
	if created.IsZero() {
		created = r.Record.Ended
	}
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	f.SetCreationDate(created.UTC())
	f.SetModificationDate(created.UTC())
	f.SetCatalogSort(true)
	f.SetCompression(true)
	f.SetTitle(v.Title.FR+" / "+v.Title.EN+" - "+v.Case, true)
	f.SetSubject(v.Case, true)
	f.SetAuthor(operatorName(r.Record), true)
	f.SetCreator(v.Tool, true)
	f.SetProducer(v.Tool, true)
	f.SetLang("fr")
	f.SetMargins(pdfMarginL, pdfMarginT, pdfMarginR)
	f.SetAutoPageBreak(true, pdfMarginB)
	f.AliasNbPages("{nb}")
	f.SetHeaderFunc(d.header)
	f.SetFooterFunc(d.footer)
	f.AddPage()
	d.title()
	for _, s := range v.Sections {
		d.section(s)
	}
	d.end()
	if err := f.Error(); err != nil {
		return fmt.Errorf("report: pdf: %w", err)
	}
	if err := f.Output(w); err != nil {
		return fmt.Errorf("report: pdf: %w", err)
	}
	return nil
}

// pdfTranslator returns the text translation WritePDF uses.
func (r *Report) pdfTranslator() func(string) string {
	tr := fpdf.New("P", "mm", "A4", "").UnicodeTranslatorFromDescriptor("")
	var escaped bool
	return func(s string) string { return toCP1252(tr, s, &escaped) }
}

// toCP1252 translates s for the core fonts. A rune Windows-1252 lacks is
// written as the screen writes a character that does not show as itself
// (internal/visible): \uXXXX, or \UXXXXXXXX above U+FFFF; a control
// character other than a line feed or a tab, and a byte that is not
// UTF-8, \xXX. So a name in the report is never silently changed (a
// Cyrillic path must not read "/home/????"), and escaped is then set.
// Host text comes here already shown (visible.String), with every
// backslash of its own doubled: an escape never reads as a name.
func toCP1252(tr func(string) string, s string, escaped *bool) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
			*escaped = true
		case c == '\n' || c == '\t':
			b.WriteRune(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
			*escaped = true
		case c < 0x80:
			b.WriteRune(c)
		default:
			t := tr(string(c))
			switch {
			case t != "." && t != "":
			case c > 0xffff:
				t = fmt.Sprintf(`\U%08x`, c)
				*escaped = true
			default:
				t = fmt.Sprintf(`\u%04x`, c)
				*escaped = true
			}
			b.WriteString(t)
		}
		i += n
	}
	return b.String()
}

func (d *pdfDoc) ink()  { d.f.SetTextColor(17, 17, 17) }
func (d *pdfDoc) grey() { d.f.SetTextColor(85, 85, 85) }

func lineHeight(size float64) float64 { return size * pdfPtToMM * pdfLineRatio }

func (d *pdfDoc) header() {
	if d.f.PageNo() == 1 {
		return
	}
	f := d.f
	f.SetFont("Helvetica", "", 7.5)
	d.grey()
	f.SetXY(pdfMarginL, 8)
	f.CellFormat(pdfWidth/2, 4, d.tr(d.view.Title.FR+" / "+d.view.Title.EN), "", 0, "L", false, 0, "")
	f.CellFormat(pdfWidth/2, 4, d.tr("Affaire / Case : "+d.view.Case), "", 0, "R", false, 0, "")
	f.SetDrawColor(150, 150, 150)
	f.SetLineWidth(0.2)
	f.Line(pdfMarginL, 12.5, pdfMarginL+pdfWidth, 12.5)
	f.SetXY(pdfMarginL, pdfMarginT)
	d.ink()
}

func (d *pdfDoc) footer() {
	f := d.f
	_, ph := f.GetPageSize()
	y := ph - 16
	f.SetDrawColor(17, 17, 17)
	f.SetLineWidth(0.3)
	f.Line(pdfMarginL, y, pdfMarginL+pdfWidth, y)
	d.ink()
	label := d.tr("Empreinte racine / Root fingerprint : ")
	f.SetFont("Helvetica", "B", 7)
	lw := f.GetStringWidth(label)
	f.SetFont("Courier", "B", 7.5)
	rw := f.GetStringWidth(d.view.Root)
	x := pdfMarginL + (pdfWidth-lw-rw)/2
	f.SetXY(x, y+1)
	f.SetFont("Helvetica", "B", 7)
	f.CellFormat(lw, 4, label, "", 0, "L", false, 0, "")
	f.SetFont("Courier", "B", 7.5)
	f.CellFormat(rw, 4, d.view.Root, "", 0, "L", false, 0, "")
	f.SetFont("Helvetica", "", 7.5)
	d.grey()
	f.SetXY(pdfMarginL, y+5.5)
	f.CellFormat(pdfWidth*2/3, 4, d.tr(d.view.Tool+" - Affaire / Case : "+d.view.Case), "", 0, "L", false, 0, "")
	d.ink()
	f.SetFont("Helvetica", "B", 8)
	f.CellFormat(pdfWidth/3, 4, fmt.Sprintf("page %d / {nb}", f.PageNo()), "", 0, "R", false, 0, "")
}

func (d *pdfDoc) title() {
	f := d.f
	v := d.view
	d.ink()
	f.SetFont("Helvetica", "B", 17)
	f.MultiCell(pdfWidth, 8, d.tr(v.Title.FR), "", "L", false)
	d.grey()
	f.SetFont("Helvetica", "I", 13)
	f.MultiCell(pdfWidth, 6.5, d.tr(v.Title.EN), "", "L", false)
	f.Ln(1.5)
	f.SetFont("Helvetica", "", 9)
	line := "Affaire / Case : " + v.Case + "    -    Hôte / Host : " + v.Host + "    -    Établi avec / Made with " + v.Tool
	if v.Generated != "" {
		line += "    -    Édité le / Issued " + v.Generated
	}
	f.MultiCell(pdfWidth, 4.5, d.tr(line), "", "L", false)
	d.ink()
	f.SetLineWidth(0.6)
	f.SetDrawColor(17, 17, 17)
	y := f.GetY() + 1.5
	f.Line(pdfMarginL, y, pdfMarginL+pdfWidth, y)
	f.SetY(y + 3)
}

// room starts a new page unless h mm fit above the bottom margin.
func (d *pdfDoc) room(h float64) {
	_, ph := d.f.GetPageSize()
	if d.f.GetY()+h > ph-pdfMarginB {
		d.f.AddPage()
	}
}

// bilingual writes FR in style and size, then " / EN" in grey italic,
// on one line at the current position.
func (d *pdfDoc) bilingual(b bi, style string, size, h float64) {
	f := d.f
	d.ink()
	f.SetFont("Helvetica", style, size)
	fr := d.tr(b.FR)
	f.CellFormat(f.GetStringWidth(fr)+0.5, h, fr, "", 0, "L", false, 0, "")
	if b.EN != "" && b.EN != b.FR {
		d.grey()
		f.SetFont("Helvetica", strings.ReplaceAll(style, "B", "")+"I", size)
		en := d.tr(" / " + b.EN)
		f.CellFormat(f.GetStringWidth(en)+0.5, h, en, "", 0, "L", false, 0, "")
		d.ink()
	}
	f.Ln(h)
}

func (d *pdfDoc) section(s rvSection) {
	f := d.f
	d.room(30)
	f.Ln(2)
	y := f.GetY()
	f.SetFillColor(232, 236, 242)
	f.Rect(pdfMarginL, y, pdfWidth, 7.5, "F")
	f.SetFillColor(17, 17, 17)
	f.Rect(pdfMarginL, y, 1, 7.5, "F")
	f.SetXY(pdfMarginL+2.5, y+0.5)
	d.bilingual(bi{fmt.Sprintf("%d. %s", s.N, s.Title.FR), s.Title.EN}, "B", 11.5, 6.5)
	f.SetY(y + 9.5)
	for _, b := range s.Blocks {
		d.block(b)
	}
}

func (d *pdfDoc) block(b rvBlock) {
	f := d.f
	if b.Title.FR != "" {
		d.room(18)
		f.Ln(1)
		f.SetX(pdfMarginL)
		d.bilingual(b.Title, "B", 9.5, 5)
		f.Ln(0.5)
	}
	switch b.Kind {
	case blockKV:
		d.kv(b.KV)
	case blockTable:
		d.table(b.Cols, b.Rows)
	case blockPara:
		d.para(b.Para)
	case blockSeal:
		d.seal(b.Seal)
	case blockVerdict:
		d.verdict(b.Verdict)
	case blockSteps:
		d.steps(b.Steps)
	}
}

// lines wraps text to width w in the given font.
func (d *pdfDoc) lines(text, family, style string, size, w float64, grey bool) []pdfLine {
	d.f.SetFont(family, style, size)
	var out []pdfLine
	for _, l := range d.f.SplitLines([]byte(d.tr(text)), w) {
		out = append(out, pdfLine{text: string(l), family: family, style: style, size: size, grey: grey, lineHeight: lineHeight(size)})
	}
	if len(out) == 0 {
		out = append(out, pdfLine{family: family, style: style, size: size, lineHeight: lineHeight(size)})
	}
	return out
}

func linesHeight(ls []pdfLine) float64 {
	h := 0.0
	for _, l := range ls {
		h += l.lineHeight
	}
	return h
}

// pdfCell is one cell of a row: its width and its lines.
type pdfCell struct {
	w     float64
	lines []pdfLine
	right bool
	fill  bool
}

// row draws one row of cells with borders, on a new page (after calling
// again, when given, the header) when it does not fit.
func (d *pdfDoc) row(cells []pdfCell, header func()) {
	f := d.f
	_, ph := f.GetPageSize()
	maxH := ph - pdfMarginB - pdfMarginT - 20
	h := 0.0
	for i := range cells {
		// A cell taller than a page is cut, and says so.
		for linesHeight(cells[i].lines)+2*pdfPadY > maxH && len(cells[i].lines) > 1 {
			cells[i].lines = cells[i].lines[:len(cells[i].lines)-2]
			last := cells[i].lines[0]
			last.text = d.tr("[…] (voir / see record.json)")
			cells[i].lines = append(cells[i].lines, last)
		}
		h = max(h, linesHeight(cells[i].lines)+2*pdfPadY)
	}
	if f.GetY()+h > ph-pdfMarginB {
		f.AddPage()
		if header != nil {
			header()
		}
	}
	x, y := pdfMarginL, f.GetY()
	f.SetDrawColor(150, 150, 150)
	f.SetLineWidth(0.2)
	for _, c := range cells {
		style := "D"
		if c.fill {
			style = "FD"
		}
		f.Rect(x, y, c.w, h, style)
		ly := y + pdfPadY
		for _, l := range c.lines {
			f.SetFont(l.family, l.style, l.size)
			if l.grey {
				d.grey()
			} else {
				d.ink()
			}
			f.SetXY(x, ly)
			align := "L"
			if c.right {
				align = "R"
			}
			f.CellFormat(c.w, l.lineHeight, l.text, "", 0, align, false, 0, "")
			ly += l.lineHeight
		}
		x += c.w
	}
	d.ink()
	f.SetXY(pdfMarginL, y+h)
}

// labelLines is a bilingual label: French in bold, English below in grey
// italic.
func (d *pdfDoc) labelLines(b bi, w float64) []pdfLine {
	ls := d.lines(b.FR, "Helvetica", "B", 8.5, w, false)
	if b.EN != "" && b.EN != b.FR {
		ls = append(ls, d.lines(b.EN, "Helvetica", "I", 7.5, w, true)...)
	}
	return ls
}

func (d *pdfDoc) valueLines(text string, mono bool, w float64) []pdfLine {
	if mono {
		return d.lines(text, "Courier", "", 8, w, false)
	}
	return d.lines(text, "Helvetica", "", 8.5, w, false)
}

func (d *pdfDoc) kv(rows []rvKV) {
	d.f.SetFillColor(246, 247, 249)
	for _, r := range rows {
		d.row([]pdfCell{
			{w: pdfLabelCol, lines: d.labelLines(r.Label, pdfLabelCol), fill: true},
			{w: pdfWidth - pdfLabelCol, lines: d.valueLines(r.Value, r.Mono, pdfWidth-pdfLabelCol)},
		}, nil)
	}
	d.f.Ln(2.5)
}

func (d *pdfDoc) table(cols []rvCol, rows [][]string) {
	f := d.f
	header := func() {
		f.SetFillColor(232, 236, 242)
		var cells []pdfCell
		for _, c := range cols {
			cells = append(cells, pdfCell{w: c.W, lines: d.labelLines(c.Label, c.W), fill: true})
		}
		d.row(cells, nil)
	}
	d.room(20)
	header()
	for _, r := range rows {
		var cells []pdfCell
		for i, c := range cols {
			text := ""
			if i < len(r) {
				text = r[i]
			}
			cells = append(cells, pdfCell{w: c.W, lines: d.valueLines(text, c.Mono, c.W), right: c.Right})
		}
		d.row(cells, header)
	}
	f.Ln(2.5)
}

func (d *pdfDoc) para(b bi) {
	f := d.f
	d.room(12)
	f.SetX(pdfMarginL)
	d.ink()
	f.SetFont("Helvetica", "", 8.5)
	f.MultiCell(pdfWidth, lineHeight(8.5), d.tr(b.FR), "", "L", false)
	if b.EN != "" {
		d.grey()
		f.SetFont("Helvetica", "I", 8)
		f.MultiCell(pdfWidth, lineHeight(8), d.tr(b.EN), "", "L", false)
		d.ink()
	}
	f.Ln(2)
}

func (d *pdfDoc) seal(s *rvSeal) {
	f := d.f
	const boxH, qrSide = 54.0, 46.0
	d.room(boxH + 4)
	x, y := pdfMarginL, f.GetY()+1
	f.SetDrawColor(17, 17, 17)
	f.SetLineWidth(0.6)
	f.Rect(x, y, pdfWidth, boxH, "D")
	tx := x + 5
	if s.QR != nil {
		n := float64(s.QR.Size + 8)
		m := qrSide / n
		qx, qy := x+4, y+(boxH-qrSide)/2
		f.SetFillColor(0, 0, 0)
		for _, r := range qrRuns(s.QR) {
			f.Rect(qx+float64(r[0])*m, qy+float64(r[1])*m, float64(r[2])*m, m, "F")
		}
		tx = qx + qrSide + 6
	}
	tw := x + pdfWidth - tx - 4
	f.SetXY(tx, y+4)
	d.bilingual(bi{"Empreinte racine (SHA-256)", "Root fingerprint (SHA-256)"}, "B", 9.5, 5)
	f.SetY(f.GetY() + 1.5)
	if len(s.Lines) > 0 {
		f.SetFont("Courier", "B", 19)
		for _, l := range s.Lines {
			f.SetX(tx)
			f.CellFormat(tw, 8, l, "", 1, "L", false, 0, "")
		}
	} else {
		f.SetFont("Helvetica", "B", 14)
		f.SetX(tx)
		f.CellFormat(tw, 8, "absent", "", 1, "L", false, 0, "")
	}
	f.SetXY(tx, f.GetY()+1.5)
	d.bilingual(bi{"Clé de signature (empreinte SHA-256)", "Signing key (SHA-256 fingerprint)"}, "", 7.5, 3.5)
	f.SetX(tx)
	f.SetFont("Courier", "", 6.8)
	f.MultiCell(tw, 3.3, s.Key, "", "L", false)
	f.SetXY(pdfMarginL, y+boxH+3)
}

func (d *pdfDoc) verdict(v *rvVerdict) {
	f := d.f
	d.room(24)
	r, g, b := 85, 85, 85
	switch v.Class {
	case "ok":
		r, g, b = 29, 107, 42
	case "fail":
		r, g, b = 170, 17, 17
	}
	x, y := pdfMarginL, f.GetY()
	f.SetXY(x+4, y+3)
	f.SetFont("Helvetica", "B", 15)
	f.SetTextColor(r, g, b)
	f.CellFormat(pdfWidth-8, 7, d.tr(v.Label.String()), "", 1, "L", false, 0, "")
	if v.Detail.FR != "" {
		f.SetX(x + 4)
		d.ink()
		f.SetFont("Helvetica", "", 8.5)
		f.MultiCell(pdfWidth-8, lineHeight(8.5), d.tr(v.Detail.FR), "", "L", false)
		f.SetX(x + 4)
		d.grey()
		f.SetFont("Helvetica", "I", 8)
		f.MultiCell(pdfWidth-8, lineHeight(8), d.tr(v.Detail.EN), "", "L", false)
	}
	h := f.GetY() + 2.5 - y
	f.SetDrawColor(r, g, b)
	f.SetLineWidth(0.8)
	f.Rect(x, y, pdfWidth, h, "D")
	d.ink()
	f.SetXY(pdfMarginL, y+h+3)
}

func (d *pdfDoc) steps(steps []rvStep) {
	f := d.f
	const indent = 7.0
	for i, s := range steps {
		d.room(24)
		y := f.GetY()
		d.ink()
		f.SetFont("Helvetica", "B", 9)
		f.SetXY(pdfMarginL, y)
		f.CellFormat(indent, lineHeight(8.5), fmt.Sprintf("%d.", i+1), "", 0, "L", false, 0, "")
		f.SetXY(pdfMarginL+indent, y)
		f.SetFont("Helvetica", "", 8.5)
		f.MultiCell(pdfWidth-indent, lineHeight(8.5), d.tr(s.Text.FR), "", "L", false)
		f.SetX(pdfMarginL + indent)
		d.grey()
		f.SetFont("Helvetica", "I", 8)
		f.MultiCell(pdfWidth-indent, lineHeight(8), d.tr(s.Text.EN), "", "L", false)
		d.ink()
		f.Ln(0.8)
		f.SetX(pdfMarginL + indent)
		f.SetFillColor(243, 243, 243)
		f.SetDrawColor(200, 200, 200)
		f.SetLineWidth(0.2)
		f.SetFont("Courier", "", 8.5)
		f.MultiCell(pdfWidth-indent, 5, d.tr(s.Cmd), "1", "L", true)
		f.Ln(2.5)
	}
}

// end closes the document with a line that says it is complete.
func (d *pdfDoc) end() {
	f := d.f
	d.room(12)
	f.Ln(4)
	f.SetDrawColor(17, 17, 17)
	f.SetLineWidth(0.3)
	f.Line(pdfMarginL+60, f.GetY(), pdfMarginL+pdfWidth-60, f.GetY())
	f.Ln(2)
	if d.escaped {
		f.SetFont("Helvetica", "", 7.5)
		d.ink()
		f.MultiCell(pdfWidth, 3.6, d.tr("Les caractères absents des polices de ce PDF y sont écrits \\uXXXX (code Unicode), comme ceux qui "+
			"ne s'affichent pas ; report.html et record.json les donnent tels quels. / Characters the fonts of this PDF lack "+
			"are written \\uXXXX (their Unicode code point), as those that do not show as themselves; report.html and record.json give them as they are."), "", "C", false)
		f.Ln(1)
	}
	f.SetFont("Helvetica", "B", 8.5)
	d.ink()
	f.CellFormat(pdfWidth, 5, d.tr("Fin du rapport / End of report ({nb} pages)"), "", 1, "C", false, 0, "")
}
