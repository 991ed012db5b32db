package sheet

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/xuri/excelize/v2"
)

// benchRows is the size of the generated benchmark files.
const benchRows = 200_000

// writeBenchFile writes a header and benchRows rows of 8 realistic columns
// with the package's own writer; numbers stay numbers in .xlsx.
func writeBenchFile(b *testing.B, ext string) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench"+ext)
	w, err := Create(path)
	if err != nil {
		b.Fatal(err)
	}
	header := []any{"公民身份号码", "姓名", "险种类型", "参保地区划代码", "参保状态", "缴费状态", "参保日期", "单位名称"}
	if err := w.WriteValues(header); err != nil {
		b.Fatal(err)
	}
	row := make([]any, 8)
	for i := range benchRows {
		row[0] = "44098119900101" + strconv.Itoa(1000+i%9000)
		row[1] = "张三" + strconv.Itoa(i%100)
		row[2] = "110"
		row[3] = 440981000000 + i%50
		row[4] = 1
		row[5] = 1
		row[6] = 42916 + i%3000
		row[7] = "广东省茂名市某某有限公司"
		if err := w.WriteValues(row); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// benchRead times reading every row of path with Open.
func benchRead(b *testing.B, path string) {
	b.ResetTimer()
	for b.Loop() {
		r, _, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for r.Next() {
			n += len(r.Values()[0]) & 1 // touch the values
			n++
		}
		if err := r.Err(); err != nil {
			b.Fatal(err)
		}
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
		if n != benchRows+1 { // data rows plus the header
			b.Fatalf("read %d rows, want %d", n, benchRows+1)
		}
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkCSV reads a 200,000-row UTF-8 BOM CSV.
func BenchmarkCSV(b *testing.B) {
	benchRead(b, writeBenchFile(b, ".csv"))
}

// BenchmarkXLSX reads a 200,000-row xlsx through Open.
func BenchmarkXLSX(b *testing.B) {
	benchRead(b, writeBenchFile(b, ".xlsx"))
}

// BenchmarkXLSXBare reads the same xlsx with plain excelize, the baseline our
// reader must stay close to.
func BenchmarkXLSXBare(b *testing.B) {
	path := writeBenchFile(b, ".xlsx")
	b.ResetTimer()
	for b.Loop() {
		f, err := excelize.OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		rows, err := f.Rows("Sheet1")
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rows.Next() {
			cols, err := rows.Columns(excelize.Options{RawCellValue: true})
			if err != nil {
				b.Fatal(err)
			}
			n += len(cols) & 1
			n++
		}
		if err := rows.Close(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		if n != benchRows+1 {
			b.Fatalf("read %d rows, want %d", n, benchRows+1)
		}
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkXLSXSharedStrings reads a workbook whose text sits in the shared
// string table, as Excel and WPS save it (the writer above uses inline
// strings); 50,000 rows keep the excelize-based setup short.
func BenchmarkXLSXSharedStrings(b *testing.B) {
	const rows = 50_000
	path := filepath.Join(b.TempDir(), "sst.xlsx")
	f := excelize.NewFile()
	for i := 1; i <= rows; i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i)
		row := []any{"44098119900101" + strconv.Itoa(1000+i%9000), "张三" + strconv.Itoa(i%100), "110",
			440981000000 + i%50, 1, 1, 42916 + i%3000, "广东省茂名市某某有限公司" + strconv.Itoa(i)}
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.SaveAs(path); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		r, _, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for r.Next() {
			n++
		}
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
		if n != rows {
			b.Fatalf("read %d rows, want %d", n, rows)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
