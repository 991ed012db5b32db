package sheet

import (
	"archive/zip"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

var update = flag.Bool("update", false, "regenerate testdata/import fixtures and .golden files")

// formatRow renders one row for golden files.
func formatRow(line int, vals []string) string {
	return fmt.Sprintf("%d %q\n", line, vals)
}

// TestGolden reads each committed fixture and compares with its .golden file.
func TestGolden(t *testing.T) {
	if *update {
		writeFixtures(t)
	}
	for _, name := range []string{fixHukouGB, fixEnrollBOM, fixResident, fixEnrollX} {
		t.Run(name, func(t *testing.T) {
			got := readAll(t, filepath.Join(fixtureDir, name))
			golden := filepath.Join(fixtureDir, name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("mismatch (run go test ./internal/sheet -update after checking)\ngot:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// readLines returns Line() of every row and the first cell of each.
func readLines(t *testing.T, path string) (lines []int, first []string) {
	t.Helper()
	r, _, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for r.Next() {
		lines = append(lines, r.Line())
		first = append(first, r.Values()[0])
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return lines, first
}

// TestLineNumbers pins Line() semantics independently of the golden files:
// blank lines and empty rows count, a multi-line quoted cell does not.
func TestLineNumbers(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []int
	}{
		{"gb18030 title row, blank line and empty record", fixHukouGB, []int{1, 2, 3, 4, 7}},
		{"bom csv, multi-line cell then blank line", fixEnrollBOM, []int{1, 2, 3, 5}},
		{"tsv with all-blank record", fixResident, []int{1, 2, 4}},
		{"xlsx gaps, cell-less row and space-only row", fixEnrollX, []int{1, 3, 4, 5, 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachReader(t, func(t *testing.T) {
				got, _ := readLines(t, filepath.Join(fixtureDir, tt.file))
				if !slices.Equal(got, tt.want) {
					t.Errorf("lines = %v, want %v", got, tt.want)
				}
			})
		})
	}
}

// TestXLSXDetails checks sheet choice, raw numbers and trimming.
func TestXLSXDetails(t *testing.T) {
	forEachReader(t, testXLSXDetails)
}

// testXLSXDetails is TestXLSXDetails for one reader.
func testXLSXDetails(t *testing.T) {
	r, format, err := Open(filepath.Join(fixtureDir, fixEnrollX), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if format != XLSX || r.Sheet() != "参保明细" {
		t.Fatalf("format %q sheet %q, want xlsx 参保明细 (first sheet is empty)", format, r.Sheet())
	}
	var rows [][]string
	for r.Next() {
		rows = append(rows, slices.Clone(r.Values()))
	}
	checks := []struct {
		name      string
		row, col  int
		want      string
		rationale string
	}{
		{"header alias kept verbatim", 1, 2, "姓  名", "inner spaces are the source package's business"},
		{"numeric ID", 3, 1, "440981900101123", "raw value, no scientific notation"},
		{"date serial", 2, 7, "42916", "raw value, not the formatted date"},
		{"date serial with time", 3, 7, "43000.5", "raw value"},
		{"trimmed", 3, 8, "茂名市某某医院", "surrounding spaces removed"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if got := rows[c.row][c.col]; got != c.want {
				t.Errorf("row %d col %d = %q, want %q (%s)", c.row, c.col, got, c.want, c.rationale)
			}
		})
	}
}

// oleFile builds a minimal OLE2 header whose first directory sector holds name.
func oleFile(name string) []byte {
	b := make([]byte, 1024)
	copy(b, oleMagic)
	b[0x1E] = 9 // 512-byte sectors
	// first directory sector is 0, i.e. file offset 512
	copy(b[512:], utf16le(name))
	return b
}

// TestDetect covers each kind of input, including the refused ones.
func TestDetect(t *testing.T) {
	dir := t.TempDir()
	rnd := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rnd.Uint32())
	}
	utf16, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String("姓名\t性别\r\n张三\t男\r\n")
	gbOnly, _ := simplifiedchinese.GB18030.NewEncoder().String("姓名,性别\n张三,男\n")
	tests := []struct {
		name    string
		content []byte
		want    Format
		err     error
	}{
		{"xlsx", mustRead(t, fixEnrollX), XLSX, nil},
		{"gb18030 csv", mustRead(t, fixHukouGB), CSV, nil},
		{"utf-8 bom csv", mustRead(t, fixEnrollBOM), CSV, nil},
		{"tsv", mustRead(t, fixResident), CSV, nil},
		{"short gb18030", []byte(gbOnly), CSV, nil},
		{"utf-16 unicode text", []byte(utf16), CSV, nil},
		{"legacy xls", oleFile("Workbook"), "", ErrLegacyXLS},
		{"encrypted xlsx", oleFile("EncryptedPackage"), "", ErrEncrypted},
		{"random binary", random, "", ErrUnknownFormat},
		{"zip without workbook", zipWith(t, "word/document.xml"), "", ErrUnknownFormat},
		{"truncated zip", []byte("PK\x03\x04garbage"), "", ErrUnknownFormat},
		{"html disguised as xls", []byte("<html><table><tr><td>姓名</td></tr></table></html>"), "", ErrUnknownFormat},
		{"empty", nil, "", ErrEmptyFile},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("f%d.xls", i)) // the name must not matter
			if err := os.WriteFile(path, tt.content, 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := Detect(path)
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("Detect = %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
			if _, _, oerr := Open(path, Options{}); !errors.Is(oerr, tt.err) {
				t.Errorf("Open error = %v, want %v", oerr, tt.err)
			}
		})
	}
}

// mustRead reads a fixture.
func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEncodingLateNonASCII: a GB18030 file whose first 64 KiB are ASCII must
// still decode as GB18030, since the choice waits for the first Chinese byte.
func TestEncodingLateNonASCII(t *testing.T) {
	tests := []struct {
		name    string
		enc     func(string) string
		wantEnc string
	}{
		{"gb18030", func(s string) string { v, _ := simplifiedchinese.GB18030.NewEncoder().String(s); return v }, EncGB18030},
		{"utf-8", func(s string) string { return s }, EncUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("id,name\n")
			for i := range 5000 {
				fmt.Fprintf(&b, "%018d,abc\n", i)
			}
			b.WriteString("440981199001011234,张三\n")
			path := filepath.Join(t.TempDir(), "late.csv")
			if err := os.WriteFile(path, []byte(tt.enc(b.String())), 0o644); err != nil {
				t.Fatal(err)
			}
			if enc, err := Encoding(path); enc != tt.wantEnc || err != nil {
				t.Errorf("Encoding = %q, %v; want %q", enc, err, tt.wantEnc)
			}
			r, _, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var last []string
			for r.Next() {
				last = r.Values()
			}
			if len(last) != 2 || last[1] != "张三" || r.Line() != 5002 {
				t.Errorf("last row %q at line %d, want name 张三 at 5002", last, r.Line())
			}
		})
	}
}

// TestSniffDelimiter checks the delimiter choice on typical first lines.
func TestSniffDelimiter(t *testing.T) {
	tests := []struct {
		name   string
		sample string
		want   byte
	}{
		{"comma", "a,b,c\n1,2,3\n", ','},
		{"tab with commas in cells", "姓名\t地址\t区划\n张三\t某路1号,2栋\t440981\n李四\t某路2号\t440981\n", '\t'},
		{"semicolon", "a;b;c\n1;2;3\n", ';'},
		{"pipe", "a|b|c\n1|2|3\n", '|'},
		{"title row above comma header", "某某县名单\n序号,姓名,性别\n1,张三,男\n", ','},
		{"quoted commas ignored", "a;b\n\"x,y,z\";1\n\"p,q,r\";2\n", ';'},
		{"single column", "姓名\n张三\n", ','},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sniffDelimiter([]byte(tt.sample), true); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCloseTwice makes sure Close is idempotent for both readers.
func TestCloseTwice(t *testing.T) {
	for _, name := range []string{fixEnrollBOM, fixEnrollX} {
		t.Run(name, func(t *testing.T) {
			r, _, err := Open(filepath.Join(fixtureDir, name), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if err := r.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

// TestTooLarge checks the zip bomb guard turns into ErrTooLarge.
func TestTooLarge(t *testing.T) {
	forEachReader(t, func(t *testing.T) {
		_, _, err := Open(filepath.Join(fixtureDir, fixEnrollX), Options{MaxUnzipSize: 1000})
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("err = %v, want ErrTooLarge", err)
		}
	})
}

// TestValidGB18030 checks the structural validator used by Detect.
func TestValidGB18030(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		atEOF bool
		want  bool
	}{
		{"ascii", []byte("abc"), true, true},
		{"two-byte", []byte{0xD5, 0xC5}, true, true},
		{"four-byte", []byte{0x82, 0x35, 0x8F, 0x33}, true, true},
		{"cut two-byte mid-file", []byte{'a', 0xD5}, false, true},
		{"cut two-byte at EOF", []byte{'a', 0xD5}, true, false},
		{"0x80 lead", []byte{0x80, 0x41}, true, false},
		{"bad trail", []byte{0xD5, 0x20}, true, false},
		{"bad four-byte", []byte{0x82, 0x35, 0x20, 0x33}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := validGB18030(tt.in, tt.atEOF); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// zipWith returns a zip archive holding one empty file of the given name.
func zipWith(t *testing.T, name string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if _, err := zw.Create(name); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestXLSXLeadingGap checks Line when the XML starts at a later row and skips
// rows, as files written by other tools do.
func TestXLSXLeadingGap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gap.xlsx")
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	sw, err := f.NewStreamWriter("Sheet1") // sets only the rows written
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.SetRow("B3", []any{"姓名"}); err != nil {
		t.Fatal(err)
	}
	if err := sw.SetRow("C7", []any{"张三"}); err != nil {
		t.Fatal(err)
	}
	if err := sw.SetRow("A1048576", []any{"最后一行"}); err != nil {
		t.Fatal(err)
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	forEachReader(t, func(t *testing.T) {
		lines, first := readLines(t, path)
		if want := []int{3, 7, 1048576}; !slices.Equal(lines, want) {
			t.Errorf("lines = %v, want %v", lines, want)
		}
		if first[0] != "" || first[2] != "最后一行" {
			t.Errorf("first cells = %q", first)
		}
	})
}

// TestUTF16Text reads Excel's "Unicode text" export: UTF-16LE, tab separated.
func TestUTF16Text(t *testing.T) {
	content, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String("姓名\t性别\r\n\r\n张三\t男\r\n")
	path := filepath.Join(t.TempDir(), "unicode.txt")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, path)
	want := "format: csv\nencoding: UTF-16LE\nsheet: \n" + formatRow(1, []string{"姓名", "性别"}) + formatRow(3, []string{"张三", "男"})
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
