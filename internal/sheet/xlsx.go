package sheet

import (
	"errors"
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"
)

// rawCells asks excelize for stored values, not formatted text: it is faster
// and keeps dates as serial numbers, which source.ParseDate understands,
// instead of a display format that depends on the cell style and locale.
var rawCells = []excelize.Options{{RawCellValue: true}}

// xlsxRows streams one worksheet through excelize, for workbooks the fast
// reader leaves alone. excelize's iterator yields a (cell-less) row for every
// row number, including gaps missing from the XML, as long as Columns is
// called after each Next; so counting Next calls gives the real row number,
// and Next always calls Columns to keep that true.
type xlsxRows struct {
	f       *excelize.File
	rows    *excelize.Rows
	sheet   string
	line    int
	vals    []string
	pending bool // the first row was read while choosing the sheet
	err     error
}

// useExcelize forces the excelize reader; tests compare both readers.
var useExcelize bool

// openXLSX opens the workbook with the fast reader, falling back to excelize
// for workbooks the fast reader does not handle.
func openXLSX(path string, opt Options) (Rows, error) {
	if err := checkRatio(path); err != nil {
		return nil, err
	}
	if !useExcelize {
		x, err := openFast(path, opt)
		if err == nil {
			return x, nil
		}
		if !errors.Is(err, errFallback) {
			return nil, err
		}
	}
	return openExcelize(path, opt)
}

// openExcelize opens the workbook with excelize and positions on the first
// sheet with data.
func openExcelize(path string, opt Options) (*xlsxRows, error) {
	f, err := excelize.OpenFile(path, excelize.Options{
		UnzipSizeLimit:    opt.MaxUnzipSize,
		UnzipXMLSizeLimit: opt.MaxUnzipXMLSize,
		RawCellValue:      true,
	})
	if err != nil {
		if f != nil {
			_ = f.Close()
		}
		return nil, xlsxOpenError(err)
	}
	x, err := firstSheetWithData(f)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return x, nil
}

// xlsxOpenError turns excelize's English errors into ones a user can act on.
func xlsxOpenError(err error) error {
	if strings.Contains(err.Error(), "unzip size exceeds") {
		return fmt.Errorf("%w：%v", ErrTooLarge, err)
	}
	if errors.Is(err, excelize.ErrWorkbookFileFormat) {
		return fmt.Errorf("%w（%v）", ErrUnknownFormat, err)
	}
	return fmt.Errorf("无法打开 Excel 文件，文件可能已损坏：%w", err)
}

// firstSheetWithData tries visible sheets first, in workbook order, then
// hidden ones: a hidden sheet is usually a lookup list, not the data. With no
// data anywhere it returns an empty reader on the first sheet.
func firstSheetWithData(f *excelize.File) (*xlsxRows, error) {
	var visible, hidden []string
	for _, name := range f.GetSheetList() {
		if v, err := f.GetSheetVisible(name); err == nil && !v {
			hidden = append(hidden, name)
		} else {
			visible = append(visible, name)
		}
	}
	var empty *xlsxRows
	for _, name := range append(visible, hidden...) {
		rows, err := f.Rows(name)
		if err != nil {
			continue // a chart sheet or a broken part: look at the others
		}
		x := &xlsxRows{f: f, rows: rows, sheet: name}
		if x.Next() {
			x.pending = true
			return x, nil
		}
		if x.err != nil {
			_ = rows.Close()
			return nil, x.err
		}
		if empty == nil {
			empty = x
			continue
		}
		_ = rows.Close()
	}
	if empty == nil {
		return nil, fmt.Errorf("%w（工作簿中没有可读取的工作表）", ErrUnknownFormat)
	}
	// Exhausted, it yields nothing but still names its sheet.
	empty.line = 0
	return empty, nil
}

// Next advances to the next row with a non-blank cell.
func (x *xlsxRows) Next() bool {
	if x.pending {
		x.pending = false
		return true
	}
	for x.err == nil && x.rows != nil && x.rows.Next() {
		x.line++
		cols, err := x.rows.Columns(rawCells...)
		if err != nil {
			x.err = fmt.Errorf("读取工作表“%s”第 %d 行出错：%w", x.sheet, x.line, err)
			return false
		}
		if trimAll(cols) {
			x.vals = cols
			return true
		}
	}
	if x.err == nil && x.rows != nil {
		if err := x.rows.Error(); err != nil {
			x.err = fmt.Errorf("读取工作表“%s”出错：%w", x.sheet, err)
		}
	}
	return false
}

// Values returns the current row's cells.
func (x *xlsxRows) Values() []string { return x.vals }

// Line returns the worksheet row number of the current row.
func (x *xlsxRows) Line() int { return x.line }

// Sheet returns the worksheet name.
func (x *xlsxRows) Sheet() string { return x.sheet }

// Err returns the error that stopped Next, if any.
func (x *xlsxRows) Err() error { return x.err }

// Close closes the sheet iterator and the workbook, removing temp files.
func (x *xlsxRows) Close() error {
	var err error
	if x.rows != nil {
		err = x.rows.Close()
		x.rows = nil
	}
	if x.f != nil {
		if cerr := x.f.Close(); err == nil {
			err = cerr
		}
		x.f = nil
	}
	return err
}
