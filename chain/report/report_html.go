package report

import (
	"bufio"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"rsc.io/qr"
)

//go:embed templates/report.html.tmpl
var reportHTML string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"bi":    func(fr, en string) bi { return bi{fr, en} },
	"qrsvg": qrSVG,
}).Parse(reportHTML))

// WriteHTML writes the report as one self-contained HTML file: the style
// is inline, the QR code an inline SVG; it loads nothing.
func (r *Report) WriteHTML(w io.Writer) error {
	bw := bufio.NewWriter(w)
	if err := reportTemplate.Execute(bw, r.view()); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	return bw.Flush()
}

// qrSVG draws a QR code as an SVG of its dark modules, with a quiet zone
// of four modules.
func qrSVG(c *qr.Code) template.HTML {
	n := c.Size + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="QR">`, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for _, r := range qrRuns(c) {
		fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", r[0], r[1], r[2], r[2])
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String())
}
