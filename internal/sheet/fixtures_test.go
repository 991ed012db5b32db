package sheet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// fixtureDir holds the committed dirty inputs and their .golden outputs.
var fixtureDir = filepath.Join("..", "..", "testdata", "import")

// Fixture file names, shared with the source package's header tests.
const (
	fixHukouGB   = "hukou_gb18030.csv"
	fixEnrollBOM = "enroll_utf8bom.csv"
	fixResident  = "resident_utf8.tsv"
	fixEnrollX   = "enroll_title.xlsx"
)

// writeFixtures regenerates the committed inputs; only run with -update.
func writeFixtures(t *testing.T) {
	t.Helper()
	writeGB18030CSV(t)
	writeFile(t, fixEnrollBOM, "\uFEFF"+enrollCSV)
	writeFile(t, fixResident, residentTSV)
	writeEnrollXLSX(t)
}

// writeFile writes content under fixtureDir.
func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(fixtureDir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// hukouCSV is a police extract: a title row, padded cells, a blank line, a
// quoted address with a comma and a name with a 4-byte GB18030 character.
const hukouCSV = "某某县公安局户籍人口信息（2024年6月）,,,,,,,,,,\r\n" +
	"序号,公民身份号码,姓 名,性别,民族,出生日期,户号,与户主关系,户籍地址,户籍区划,人员状态\r\n" +
	"1,440981199001011234, 张三 ,男,汉族,1990-01-01,000123,户主,\"广东省高州市某镇,某村1号\",440981,正常\r\n" +
	"2,44098119920202234X,王䶮,2,汉,1992/2/2,000123,妻,广东省高州市某镇某村1号,440981101,管理中\r\n" +
	"\r\n" +
	",,,,,,,,,,\r\n" +
	"3,440981201501015678,张小明,1,汉族,20150101,000123,子,广东省高州市某镇某村1号,440981101000,迁出\r\n"

// enrollCSV is a UTF-8 BOM enrollment extract with codes instead of names and
// a company name that spans two lines inside quotes.
const enrollCSV = "公民身份号码,姓名,险种类型,参保地区划代码,参保状态,缴费状态,参保日期,单位名称\n" +
	"440981199001011234,张三,110,440981,1,1,2017-06-30,茂名市某某有限公司\n" +
	"440981199001011234,张三,310,440981,1,2,2017.6.30,\"茂名市某某\n有限公司\"\n" +
	"\n" +
	"44098119920202234X,王二,390,440981,4,3,2017年6月30日,\n"

// residentTSV is tab separated, with an all-blank row and trailing spaces.
const residentTSV = "公民身份号码\t姓名\t性别\t出生日期\t居住地址\t居住地区划代码\t户籍地区划代码\n" +
	"440981199001011234\t张三\t男\t1990-01-01 00:00:00\t广州市天河区某路1号 \t440106\t440981\n" +
	"\t\t\t\t\t\t\n" +
	"44098119920202234X\t李四\t女\t19920202\t广州市天河区某路2号\t440106000\t440981000000\n"

// writeGB18030CSV encodes hukouCSV as GB18030, as the police systems export.
func writeGB18030CSV(t *testing.T) {
	t.Helper()
	s, err := simplifiedchinese.GB18030.NewEncoder().String(hukouCSV)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, fixHukouGB, s)
}

// writeEnrollXLSX builds an xlsx the way department staff hand them over: an
// empty first sheet, a merged title row, renamed headers, dates and an ID
// stored as numbers, and empty rows (missing from the XML, present without
// cells, and holding only spaces) in the middle of the data.
func writeEnrollXLSX(t *testing.T) {
	t.Helper()
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	const s = "参保明细"
	if _, err := f.NewSheet(s); err != nil {
		t.Fatal(err)
	}
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[int][]any{
		1: {"某某县2024年参保人员信息表"},
		3: {"序号", "证件号码", "姓  名", "*险种", "参保地", "参保状态", "缴费状态(必填)", "参保时间", "单位"},
		4: {1, "440981199001011234", "张三", "企业职工基本养老保险", "440981", "正常参保", "参保缴费", 42916, "茂名市某某有限公司"},
		5: {2, 440981900101123, "李四", "310", 440981, 1, 1, 43000.5, "  茂名市某某医院  "},
		8: {"   "},
		9: {3, "44098120000229002X", "王五", "城乡居民医保", "440981001", "暂停", "中断", "2020/2/29"},
	}
	for r, vals := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, r)
		if err := f.SetSheetRow(s, cell, &vals); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.MergeCell(s, "A1", "I1"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellStyle(s, "H4", "H9", dateStyle); err != nil {
		t.Fatal(err)
	}
	if err := f.SetRowHeight(s, 6, 30); err != nil { // a <row> element with no cells
		t.Fatal(err)
	}
	if err := f.SaveAs(filepath.Join(fixtureDir, fixEnrollX)); err != nil {
		t.Fatal(err)
	}
}

// readAll reads every row of path as golden text: a header naming format,
// encoding and sheet, then one "line values" line per row.
func readAll(t *testing.T, path string) string {
	t.Helper()
	r, format, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer r.Close()
	enc, err := Encoding(path)
	if err != nil {
		t.Fatalf("Encoding: %v", err)
	}
	var b strings.Builder
	b.WriteString("format: " + string(format) + "\nencoding: " + enc + "\nsheet: " + r.Sheet() + "\n")
	for r.Next() {
		b.WriteString(formatRow(r.Line(), r.Values()))
	}
	if err := r.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
	return b.String()
}
