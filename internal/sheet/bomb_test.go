package sheet

import (
	"errors"
	"strings"
	"testing"
)

// TestWhitespaceBombRefused: a text-only workbook whose sheet unzips to
// 47 MB of whitespace is refused before it is read, by its ratio.
func TestWhitespaceBombRefused(t *testing.T) {
	sheet := `<worksheet xmlns="` + nsMain + `"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>` +
		strings.Repeat(" ", 47<<20) + `</t></is></c></row></sheetData></worksheet>`
	path := writeZip(t, craftedParts(sheet))
	forEachReader(t, func(t *testing.T) {
		if _, _, err := Open(path, Options{}); !errors.Is(err, ErrTooLarge) {
			t.Errorf("err = %v, want ErrTooLarge", err)
		}
	})
}

// TestLongTextRunRefused: a text run longer than any cell (here text that
// compresses normally, so the ratio guard does not see it) stops the fast
// reader instead of filling memory.
func TestLongTextRunRefused(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 2<<20; i++ {
		b.WriteString(strings.Repeat(string(rune('a'+i*7%26)), 1+i%13))
		b.WriteString(strings.Repeat(string(rune('A'+i*11%26)), 1+i%5))
	}
	sheet := `<worksheet xmlns="` + nsMain + `"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>` +
		b.String() + `</t></is></c></row></sheetData></worksheet>`
	path := writeZip(t, craftedParts(sheet))
	r, _, err := Open(path, Options{})
	if err == nil {
		for r.Next() {
		}
		err = r.Err()
		r.Close()
	}
	if !errors.Is(err, ErrTextTooLong) {
		t.Errorf("err = %v, want ErrTextTooLong", err)
	}
}
