package sheet

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Writer writes rows of text cells to a .csv or .xlsx file, streaming, so
// that exports of millions of rows never sit in memory.
type Writer interface {
	// Write appends one row of text cells.
	Write(row []string) error
	// WriteValues appends one row whose cells keep their Go type in .xlsx
	// (numbers stay numbers, e.g. Excel date serials); .csv prints them.
	WriteValues(row []any) error
	// Close flushes and closes the file.
	Close() error
}

// Create opens a writer for path; the extension (.csv or .xlsx) picks the format.
// CSV is written as UTF-8 with a BOM so that Excel on Chinese Windows opens it right.
func Create(path string) (Writer, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return createCSV(path)
	case ".xlsx":
		return createXLSX(path, "Sheet1")
	}
	return nil, fmt.Errorf("sheet: unsupported output type %q (use .csv or .xlsx)", filepath.Ext(path))
}

type csvWriter struct {
	f  *os.File
	bw *bufio.Writer
	w  *csv.Writer
}

func createCSV(path string) (*csvWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	_, _ = bw.WriteString("\uFEFF") // a failed write shows at Flush
	return &csvWriter{f: f, bw: bw, w: csv.NewWriter(bw)}, nil
}

func (c *csvWriter) Write(row []string) error { return c.w.Write(row) }

func (c *csvWriter) WriteValues(row []any) error {
	rec := make([]string, len(row))
	for i, v := range row {
		rec[i] = fmt.Sprint(v)
	}
	return c.w.Write(rec)
}

func (c *csvWriter) Close() error {
	c.w.Flush()
	err := c.w.Error()
	if ferr := c.bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := c.f.Close(); err == nil {
		err = cerr
	}
	return err
}

type xlsxWriter struct {
	path string
	f    *excelize.File
	sw   *excelize.StreamWriter
	row  int
	buf  []any
}

func createXLSX(path, sheetName string) (*xlsxWriter, error) {
	f := excelize.NewFile()
	if sheetName != "Sheet1" {
		if err := f.SetSheetName("Sheet1", sheetName); err != nil {
			_ = f.Close()
			return nil, err
		}
	}
	sw, err := f.NewStreamWriter(sheetName)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return &xlsxWriter{path: path, f: f, sw: sw}, nil
}

func (x *xlsxWriter) Write(row []string) error {
	x.buf = x.buf[:0]
	for _, v := range row {
		x.buf = append(x.buf, v)
	}
	return x.WriteValues(x.buf)
}

func (x *xlsxWriter) WriteValues(row []any) error {
	x.row++
	cell, err := excelize.CoordinatesToCellName(1, x.row)
	if err != nil {
		return err
	}
	return x.sw.SetRow(cell, row)
}

func (x *xlsxWriter) Close() error {
	err := x.sw.Flush()
	if err == nil {
		err = x.f.SaveAs(x.path)
	}
	if cerr := x.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Escape keeps a value that starts like a formula (= + - @) from being run
// as one when the file is opened in a spreadsheet.
func Escape(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
