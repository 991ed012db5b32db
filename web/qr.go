package web

import (
	"fmt"
	"strings"

	"github.com/a-h/templ"
	qrcode "github.com/skip2/go-qrcode"
)

// QR renders text as a QR code in inline SVG: one path of the dark
// modules, crisp at any print resolution and a few hundred bytes for a
// task code, with no image request (the page works offline once loaded).
func QR(text, testID string) templ.Component {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return templ.Raw("") // only text too long for any QR version fails; task codes are 7 characters
	}
	bits := q.Bitmap() // includes the quiet zone
	var path strings.Builder
	for y, row := range bits {
		for x := 0; x < len(row); x++ {
			if !row[x] {
				continue
			}
			start := x
			for x < len(row) && row[x] {
				x++
			}
			fmt.Fprintf(&path, "M%d %dh%dv1h-%dz", start, y, x-start, x-start)
		}
	}
	n := len(bits)
	return templ.Raw(fmt.Sprintf(`<svg class="qr" data-testid="%s" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="%s"><rect width="%d" height="%d" fill="#fff"/><path d="%s" fill="#000"/></svg>`,
		templ.EscapeString(testID), n, n, templ.EscapeString(text), n, n, path.String()))
}
