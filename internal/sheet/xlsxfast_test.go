package sheet

import (
	"archive/zip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// forEachReader runs f once with the fast xlsx reader and once with excelize.
func forEachReader(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, slow := range []bool{false, true} {
		name := map[bool]string{false: "fast", true: "excelize"}[slow]
		t.Run(name, func(t *testing.T) {
			useExcelize = slow
			defer func() { useExcelize = false }()
			f(t)
		})
	}
}

// writeZip writes an xlsx package from part name → content.
func writeZip(t *testing.T, parts map[string]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "crafted.xlsx")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(out)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range parts {
			if !yield(n) {
				return
			}
		}
	})
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(parts[n])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

const (
	nsMain = `http://schemas.openxmlformats.org/spreadsheetml/2006/main`
	nsRel  = `http://schemas.openxmlformats.org/officeDocument/2006/relationships`
	relDoc = `http://schemas.openxmlformats.org/officeDocument/2006/relationships/`
)

// craftedParts is a workbook in the style of other tools: prefixed
// namespaces, absolute targets, a hidden first sheet, rich and phonetic
// strings, entities, CDATA, comments, cells and rows without references.
func craftedParts(sheetXML string) map[string]string {
	return map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
			`<Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
			`<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
			`<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>` +
			`</Types>`,
		"_rels/.rels": `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="` + relDoc + `officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml": `<?xml version="1.0"?><x:workbook xmlns:x="` + nsMain + `" xmlns:r="` + nsRel + `"><x:sheets>` +
			`<x:sheet name="代码表" sheetId="1" state="hidden" r:id="rId1"/>` +
			`<x:sheet name="数据" sheetId="2" r:id="rId2"/></x:sheets></x:workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="` + relDoc + `worksheet" Target="/xl/worksheets/sheet1.xml"/>` +
			`<Relationship Id="rId2" Type="` + relDoc + `worksheet" Target="worksheets/sheet2.xml"/>` +
			`<Relationship Id="rId3" Type="` + relDoc + `sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
		"xl/sharedStrings.xml": `<?xml version="1.0"?><sst xmlns="` + nsMain + `" count="4" uniqueCount="4">` +
			`<si><t>姓名</t></si>` +
			`<si><r><rPr><b/></rPr><t>张</t></r><r><t xml:space="preserve">三 </t></r><rPh sb="0" eb="1"><t>ZHANG</t></rPh></si>` +
			`<si><t>A&amp;B &#20013;&#x6587;_x000D_</t></si>` +
			`<si/>` +
			`</sst>`,
		"xl/worksheets/sheet1.xml": `<worksheet xmlns="` + nsMain + `"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>隐藏</t></is></c></row></sheetData></worksheet>`,
		"xl/worksheets/sheet2.xml": sheetXML,
	}
}

// craftedSheet exercises the cell forms; the comment lists the expected rows.
const craftedSheet = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<x:worksheet xmlns:x="` + nsMain + `"><x:dimension ref="A1:E9"/><x:sheetData>
<!-- a comment with <row> inside -->
<x:row r="2" spans="1:5" x14ac:dyDescent="0.25" customFormat="1" s="3"><x:c r="A2" t="s"><x:v>0</x:v></x:c><x:c r="C2" t="s"><x:v>1</x:v></x:c></x:row>
<x:row r="3"><x:c r="A3" s="1"><x:v>42916</x:v></x:c><x:c r="B3" t="s"><x:v> 2 </x:v></x:c><x:c r="C3" t="b"><x:v>1</x:v></x:c><x:c r="D3" t="e"><x:v>#N/A</x:v></x:c><x:c r="E3" t="str"><x:f>A3&amp;"x"</x:f><x:v>42916x</x:v></x:c></x:row>
<x:row r="4"><x:c r="A4"/><x:c r="B4" s="2"/></x:row>
<x:row r="5"/>
<x:row><x:c t="inlineStr"><x:is><x:r><x:t>内联</x:t></x:r><x:r><x:t><![CDATA[<富>文本]]></x:t></x:r></x:is></x:c><x:c><x:v>7</x:v></x:c><x:c r="D6" t="d"><x:v>2017-06-30T00:00:00</x:v></x:c></x:row>
<x:row r="9"><x:c r="AA9" t="s"><x:v>3</x:v></x:c><x:c r="B9" t="inlineStr" data="a>b"><x:is><x:t>  属性里有大于号  </x:t></x:is></x:c></x:row>
</x:sheetData><x:mergeCells count="0"/></x:worksheet>`

// TestFastReaderCrafted checks the fast reader on XML forms that excelize
// never writes but other tools do, against hand-written expectations.
func TestFastReaderCrafted(t *testing.T) {
	path := writeZip(t, craftedParts(craftedSheet))
	want := strings.Join([]string{
		formatRow(2, []string{"姓名", "", "张三"}),
		formatRow(3, []string{"42916", "A&B 中文", "1", "#N/A", "42916x"}),
		formatRow(6, []string{"内联<富>文本", "7", "", "2017-06-30T00:00:00"}),
		formatRow(9, []string{"", "属性里有大于号"}),
	}, "")
	r, _, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Sheet() != "数据" {
		t.Errorf("sheet %q, want the visible 数据", r.Sheet())
	}
	var got strings.Builder
	for r.Next() {
		got.WriteString(formatRow(r.Line(), r.Values()))
	}
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	if got.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", got.String(), want)
	}
}

// TestReadersAgree reads every xlsx fixture with both readers and demands
// identical output, so the fast reader keeps excelize's semantics.
func TestReadersAgree(t *testing.T) {
	files := map[string]string{
		"fixture":   filepath.Join(fixtureDir, fixEnrollX),
		"namespace": writeZip(t, craftedParts(strings.ReplaceAll(craftedSheet, "<x:row r=\"9\">", "<x:row r=\"9\" x:ht=\"20\">"))),
	}
	for name, path := range files {
		t.Run(name, func(t *testing.T) {
			var outs []string
			forEachReader(t, func(t *testing.T) {
				outs = append(outs, readAllRows(t, path))
			})
			if len(outs) == 2 && outs[0] != outs[1] {
				t.Errorf("fast:\n%s\nexcelize:\n%s", outs[0], outs[1])
			}
		})
	}
}

// readAllRows renders all rows of path with the sheet name.
func readAllRows(t *testing.T, path string) string {
	t.Helper()
	r, _, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var b strings.Builder
	b.WriteString(r.Sheet() + "\n")
	for r.Next() {
		b.WriteString(formatRow(r.Line(), r.Values()))
	}
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	return b.String()
}

// TestFallbackLargeSST: a shared string table above MaxUnzipXMLSize is read
// by excelize, with the same result.
func TestFallbackLargeSST(t *testing.T) {
	path := filepath.Join(fixtureDir, fixEnrollX)
	want := readAllRows(t, path)
	r, _, err := Open(path, Options{MaxUnzipXMLSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, ok := r.(*xlsxRows); !ok {
		t.Errorf("reader is %T, want the excelize reader", r)
	}
	var b strings.Builder
	b.WriteString(r.Sheet() + "\n")
	for r.Next() {
		b.WriteString(formatRow(r.Line(), r.Values()))
	}
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestFastReaderBroken: damaged sheet XML and a bad shared string index end
// with an error from Err, not silently.
func TestFastReaderBroken(t *testing.T) {
	tests := []struct {
		name, sheet string
	}{
		{"truncated inside a tag", `<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c></row><row r="2"><c r="A2" t="s"`},
		{"truncated inside a row", `<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c></row><row r="2"><c r="A2"><v>1</v></c>`},
		{"shared string out of range", `<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c></row><row r="2"><c r="A2" t="s"><v>99</v></c></row></sheetData></worksheet>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, err := Open(writeZip(t, craftedParts(tt.sheet)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for r.Next() {
			}
			if r.Err() == nil {
				t.Error("no error for a damaged sheet")
			}
		})
	}
}

// TestReadersAgreeGenerated cross-checks the readers on an excelize-written
// workbook with shared strings, formulas, booleans, floats, gaps and text
// that needs escaping.
func TestReadersAgreeGenerated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gen.xlsx")
	f := excelize.NewFile()
	texts := []string{"张三", " 前后空格 ", "a<b&c>\"d'", "换行\r\n第二行", "_x0008_字面", "", "  "}
	for r := 1; r <= 300; r++ {
		if r%17 == 0 {
			continue // a gap
		}
		cell, _ := excelize.CoordinatesToCellName(1+r%3, r)
		row := []any{texts[r%len(texts)], r * 7, float64(r) / 8, r%2 == 0, texts[(r+3)%len(texts)]}
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
		if r%5 == 0 {
			fc, _ := excelize.CoordinatesToCellName(9, r)
			if err := f.SetCellFormula("Sheet1", fc, "A1&B1"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var outs []string
	forEachReader(t, func(t *testing.T) {
		outs = append(outs, readAllRows(t, path))
	})
	if len(outs) == 2 && outs[0] != outs[1] {
		t.Errorf("readers differ\nfast:\n%s\nexcelize:\n%s", outs[0], outs[1])
	}
}
