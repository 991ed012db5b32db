package sheet

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// errFallback means the fast reader does not handle this workbook and
// excelize should read it instead.
var errFallback = errors.New("fallback to excelize")

// fastRows streams a worksheet straight from the zip with xmlScanner.
// excelize decodes every cell through encoding/xml at about 2 µs a cell,
// which caps a 20-column extract below the 25,000 rows/s the import needs;
// this reader is several times faster and never unzips a sheet to memory or
// disk. Values match excelize's Columns with RawCellValue (tests check it).
type fastRows struct {
	zr      *zip.ReadCloser
	rc      io.ReadCloser
	sc      *xmlScanner
	sst     []string
	sheet   string
	line    int
	vals    []string
	buf     []byte // value of the cell being read
	inData  bool   // inside <sheetData>
	done    bool
	pending bool
	err     error
}

// wbSheet is a worksheet entry of workbook.xml.
type wbSheet struct {
	Name  string     `xml:"name,attr"`
	State string     `xml:"state,attr"`
	Attrs []xml.Attr `xml:",any,attr"` // r:id, whatever the namespace
}

// rid returns the relationship id of the sheet.
func (s wbSheet) rid() string {
	for _, a := range s.Attrs {
		if a.Name.Local == "id" {
			return a.Value
		}
	}
	return ""
}

// relationship is one entry of a .rels part.
type relationship struct {
	ID     string `xml:"Id,attr"`
	Type   string `xml:"Type,attr"`
	Target string `xml:"Target,attr"`
}

// pkg indexes the zip entries by lower-case name, as Office matches part
// names case-insensitively.
type pkg map[string]*zip.File

// openFast opens path with the fast reader, or returns errFallback.
func openFast(path string, opt Options) (*fastRows, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, errFallback
	}
	p, err := indexZip(zr, opt)
	if err != nil {
		_ = zr.Close()
		return nil, err
	}
	x, err := p.firstSheetWithData(zr, opt)
	if err != nil {
		_ = zr.Close()
		return nil, err
	}
	return x, nil
}

// indexZip builds the part index and enforces the unzip size limit.
func indexZip(zr *zip.ReadCloser, opt Options) (pkg, error) {
	p := pkg{}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		p[strings.ToLower(strings.ReplaceAll(f.Name, `\`, "/"))] = f
	}
	if total > uint64(opt.MaxUnzipSize) {
		return nil, fmt.Errorf("%w（解压后 %d 字节，上限 %d 字节）", ErrTooLarge, total, opt.MaxUnzipSize)
	}
	return p, nil
}

// decodePart unmarshals a small XML part (workbook, relationships).
func (p pkg) decodePart(name string, v any) error {
	f := p[strings.ToLower(name)]
	if f == nil {
		return errFallback
	}
	rc, err := f.Open()
	if err != nil {
		return errFallback
	}
	defer func() { _ = rc.Close() }()
	if xml.NewDecoder(rc).Decode(v) != nil {
		return errFallback
	}
	return nil
}

// rels reads the relationships of part name, keyed by id.
func (p pkg) rels(name string) (map[string]relationship, error) {
	var doc struct {
		Rels []relationship `xml:"Relationship"`
	}
	relsName := path.Join(path.Dir(name), "_rels", path.Base(name)+".rels")
	if err := p.decodePart(relsName, &doc); err != nil {
		return nil, err
	}
	out := make(map[string]relationship, len(doc.Rels))
	for _, r := range doc.Rels {
		r.Target = resolvePart(name, r.Target)
		out[r.ID] = r
	}
	return out, nil
}

// resolvePart resolves a relationship target against the part that holds it.
func resolvePart(base, target string) string {
	if strings.HasPrefix(target, "/") {
		return target[1:]
	}
	return path.Join(path.Dir(base), target)
}

// workbookPath follows the package relationships to the workbook part.
func (p pkg) workbookPath() string {
	var doc struct {
		Rels []relationship `xml:"Relationship"`
	}
	if p.decodePart("_rels/.rels", &doc) == nil {
		for _, r := range doc.Rels {
			if strings.HasSuffix(r.Type, "/officeDocument") {
				return resolvePart("", r.Target)
			}
		}
	}
	return "xl/workbook.xml"
}

// firstSheetWithData loads the shared strings and positions on the first
// visible (then hidden) worksheet that has a non-blank row.
func (p pkg) firstSheetWithData(zr *zip.ReadCloser, opt Options) (*fastRows, error) {
	wb := p.workbookPath()
	var doc struct {
		Sheets []wbSheet `xml:"sheets>sheet"`
	}
	if err := p.decodePart(wb, &doc); err != nil || len(doc.Sheets) == 0 {
		return nil, errFallback
	}
	rels, err := p.rels(wb)
	if err != nil {
		return nil, err
	}
	sst, err := p.sharedStrings(rels, opt)
	if err != nil {
		return nil, err
	}
	var first *fastRows
	for _, s := range visibleFirst(doc.Sheets) {
		part := p[strings.ToLower(rels[s.rid()].Target)]
		if part == nil || !strings.HasSuffix(rels[s.rid()].Type, "/worksheet") {
			continue // chart sheets, dialog sheets, broken links
		}
		x, err := openSheet(zr, part, s.Name, sst)
		if err != nil {
			return nil, err
		}
		if x.Next() {
			x.pending = true
			return x, nil
		}
		if x.err != nil {
			_ = x.rc.Close()
			return nil, x.err
		}
		if first == nil {
			first = x
			continue
		}
		_ = x.rc.Close()
	}
	if first == nil {
		return nil, errFallback
	}
	first.line = 0
	return first, nil
}

// visibleFirst orders sheets visible first, then hidden, keeping workbook
// order: a hidden sheet is usually a lookup list, not the data.
func visibleFirst(sheets []wbSheet) []wbSheet {
	var visible, hidden []wbSheet
	for _, s := range sheets {
		if s.State == "hidden" || s.State == "veryHidden" {
			hidden = append(hidden, s)
		} else {
			visible = append(visible, s)
		}
	}
	return append(visible, hidden...)
}

// openSheet starts streaming one worksheet part.
func openSheet(zr *zip.ReadCloser, part *zip.File, name string, sst []string) (*fastRows, error) {
	rc, err := part.Open()
	if err != nil {
		return nil, fmt.Errorf("无法读取工作表“%s”：%w", name, err)
	}
	return &fastRows{zr: zr, rc: rc, sc: newXMLScanner(rc), sst: sst, sheet: name}, nil
}

// sharedStrings loads the shared string table. A table larger than
// MaxUnzipXMLSize is left to excelize, which keeps it in a temporary file.
func (p pkg) sharedStrings(rels map[string]relationship, opt Options) ([]string, error) {
	var part *zip.File
	for _, r := range rels {
		if strings.HasSuffix(r.Type, "/sharedStrings") {
			part = p[strings.ToLower(r.Target)]
		}
	}
	if part == nil {
		return nil, nil // a workbook of numbers and inline strings only
	}
	if part.UncompressedSize64 > uint64(opt.MaxUnzipXMLSize) {
		return nil, errFallback
	}
	rc, err := part.Open()
	if err != nil {
		return nil, fmt.Errorf("无法读取共享字符串表：%w", err)
	}
	defer func() { _ = rc.Close() }()
	sst, err := readSST(newXMLScanner(rc))
	if err != nil {
		return nil, fmt.Errorf("共享字符串表损坏：%w", err)
	}
	return sst, nil
}

// readSST collects the text of each <si>: its <t>, or the <t> of its rich
// text runs, but not phonetic guides (<rPh>), exactly as Excel displays it.
func readSST(sc *xmlScanner) ([]string, error) {
	var sst []string
	var buf []byte
	inSI, inT, inRPh := false, false, false
	for {
		kind, name, rest, err := sc.next()
		if err == io.EOF {
			return sst, nil
		}
		if err != nil {
			return nil, err
		}
		if inT {
			buf = appendText(buf, sc.text)
		}
		switch kind {
		case tokCDATA:
			if inT {
				buf = append(buf, rest...)
			}
		case tokStart:
			switch string(name) {
			case "si":
				inSI, buf = true, buf[:0]
			case "t":
				inT = inSI && !inRPh
			case "rPh":
				inRPh = true
			}
		case tokEnd:
			switch string(name) {
			case "si":
				sst = append(sst, unescapeBSTR(string(buf)))
				inSI = false
			case "t":
				inT = false
			case "rPh":
				inRPh = false
			}
		case tokSelfClose:
			if string(name) == "si" {
				sst = append(sst, "")
			}
		}
	}
}

// Next advances to the next row with a non-blank cell.
func (x *fastRows) Next() bool {
	if x.pending {
		x.pending = false
		return true
	}
	for x.err == nil && !x.done {
		found, err := x.readRow()
		if err != nil {
			x.err = fmt.Errorf("读取工作表“%s”第 %d 行附近出错，文件可能已损坏：%w", x.sheet, x.line+1, err)
			return false
		}
		if !found {
			x.done = true
			return false
		}
		if trimAll(x.vals) {
			return true
		}
	}
	return false
}

// readRow reads the next <row> into x.vals and x.line; false at the end of
// the sheet data.
func (x *fastRows) readRow() (bool, error) {
	for {
		kind, name, rest, err := x.sc.next()
		if err == io.EOF && !x.inData {
			return false, nil // no <sheetData> at all
		}
		if err != nil {
			return false, err
		}
		switch n := string(name); {
		case kind == tokStart && n == "sheetData":
			x.inData = true
		case kind == tokEnd && n == "sheetData", kind == tokSelfClose && n == "sheetData":
			return false, nil
		case x.inData && n == "row" && (kind == tokStart || kind == tokSelfClose):
			x.line = rowNumber(attrValue(rest, "r"), x.line)
			x.vals = x.vals[:0]
			if kind == tokSelfClose {
				return true, nil
			}
			return true, x.readCells()
		}
	}
}

// rowNumber parses a row's r attribute; rows without one follow the last.
func rowNumber(r []byte, last int) int {
	if n, ok := parseUint(r); ok && n > 0 {
		return n
	}
	return last + 1
}

// readCells reads the cells of the current row up to </row>.
func (x *fastRows) readCells() error {
	col := 0
	for {
		kind, name, rest, err := x.sc.next()
		if err != nil {
			return err
		}
		switch n := string(name); {
		case kind == tokEnd && n == "row":
			return nil
		case n == "c" && (kind == tokStart || kind == tokSelfClose):
			col = cellColumn(attrValue(rest, "r"), col)
			if kind == tokSelfClose {
				continue
			}
			v, hasF, err := x.readCell(string(attrValue(rest, "t")))
			if err != nil {
				return err
			}
			x.setCell(col, v, hasF)
		}
	}
}

// cellColumn returns the 1-based column of a cell reference such as "AB12";
// cells without one follow the previous cell.
func cellColumn(ref []byte, last int) int {
	col := 0
	for _, c := range ref {
		if c < 'A' || c > 'Z' {
			break
		}
		col = col*26 + int(c-'A'+1)
	}
	if col == 0 {
		return last + 1
	}
	return col
}

// setCell stores a value at 1-based column col, padding with "". Empty
// cells are left out unless they hold a formula, as excelize does, so both
// readers return rows of the same length.
func (x *fastRows) setCell(col int, v string, hasF bool) {
	if v == "" && !hasF {
		return
	}
	for len(x.vals) < col {
		x.vals = append(x.vals, "")
	}
	x.vals[col-1] = v
}

// readCell reads one cell's content up to </c> and returns its raw value:
// the shared string for t="s", the inline text for t="inlineStr", else the
// stored <v> text (numbers, booleans as 0/1, errors, formula results); and
// whether the cell has a formula.
func (x *fastRows) readCell(typ string) (v string, hasF bool, err error) {
	x.buf = x.buf[:0]
	capture, inIS, inRPh, hasV := false, false, false, false
	for {
		kind, name, rest, err := x.sc.next()
		if err != nil {
			return "", hasF, err
		}
		if capture {
			x.buf = appendText(x.buf, x.sc.text)
		}
		n := string(name)
		switch kind {
		case tokCDATA:
			if capture {
				x.buf = append(x.buf, rest...)
			}
		case tokSelfClose:
			hasF = hasF || n == "f"
		case tokStart:
			switch n {
			case "f":
				hasF = true
			case "v":
				capture, hasV = !inIS, true
			case "is":
				inIS = true
			case "rPh":
				inRPh = true
			case "t":
				capture = inIS && !inRPh
			}
		case tokEnd:
			switch n {
			case "c":
				v, err := x.cellValue(typ, hasV)
				return v, hasF, err
			case "v", "t":
				capture = false
			case "rPh":
				inRPh = false
			case "is":
				inIS = false
			}
		}
	}
}

// cellValue turns the captured text into the cell's value by type.
func (x *fastRows) cellValue(typ string, hasV bool) (string, error) {
	switch typ {
	case "s":
		if !hasV {
			return "", nil
		}
		i, ok := parseUint(trimBytes(x.buf))
		if !ok || i >= len(x.sst) {
			return "", fmt.Errorf("共享字符串编号 %q 无效", x.buf)
		}
		return x.sst[i], nil
	case "inlineStr":
		return unescapeBSTR(string(x.buf)), nil
	case "", "n":
		return numberText(x.buf), nil
	}
	return string(x.buf), nil
}

// numberText returns a numeric cell's stored text, except that a whole
// number of more than 15 digits is shown the way Excel holds it: a double
// with 15 significant digits (4.40981201006150E+17). Such a cell is an ID
// number a spreadsheet has already damaged, and writers that print the
// double's digits in full (440981201006150000) would hide that.
func numberText(b []byte) string {
	b = trimBytes(b)
	if len(b) <= 15 {
		return string(b)
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return string(b)
		}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return string(b)
	}
	return strconv.FormatFloat(f, 'E', 14, 64)
}

// trimBytes trims ASCII white space.
func trimBytes(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// parseUint parses a non-negative decimal without allocating.
func parseUint(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// Values returns the current row's cells; the slice is reused by Next.
func (x *fastRows) Values() []string { return x.vals }

// Line returns the worksheet row number of the current row.
func (x *fastRows) Line() int { return x.line }

// Sheet returns the worksheet name.
func (x *fastRows) Sheet() string { return x.sheet }

// Err returns the error that stopped Next, if any.
func (x *fastRows) Err() error { return x.err }

// Close closes the sheet stream and the zip file.
func (x *fastRows) Close() error {
	var err error
	if x.rc != nil {
		err = x.rc.Close()
		x.rc = nil
	}
	if x.zr != nil {
		if cerr := x.zr.Close(); err == nil {
			err = cerr
		}
		x.zr = nil
	}
	return err
}
