package sheet

import (
	"errors"
	"fmt"
)

// Format of an input file, detected from content, never from the name.
type Format string

// Input formats that Open can read.
const (
	// CSV is delimited text (comma, tab, semicolon or pipe) in UTF-8, GB18030 or UTF-16.
	CSV Format = "csv"
	// XLSX is an Office Open XML workbook (Excel 2007+, WPS).
	XLSX Format = "xlsx"
)

// Errors returned by Detect and Open; their text is shown to users as is.
var (
	// ErrLegacyXLS means an old binary .xls (OLE2 compound file), which we do not parse.
	ErrLegacyXLS = errors.New("不支持旧版 Excel 97-2003 格式（.xls）文件，请用 Excel 或 WPS 打开后另存为 .xlsx 或 .csv 格式再导入")
	// ErrEncrypted means a password-protected workbook; Office stores those as OLE2 files too.
	ErrEncrypted = errors.New("文件设置了打开密码（已加密），请用 Excel 或 WPS 打开并取消密码后另存为 .xlsx 或 .csv 格式再导入")
	// ErrUnknownFormat means the content is neither an .xlsx workbook nor CSV text.
	ErrUnknownFormat = errors.New("无法识别的文件格式：不是 Excel .xlsx 文件，也不是文本 CSV 文件，请另存为 .xlsx 或 .csv 格式再导入")
	// ErrEmptyFile means the file has zero bytes.
	ErrEmptyFile = errors.New("文件是空的（0 字节）")
	// ErrTooLarge means the workbook unzips to more than Options.MaxUnzipSize (corrupt file or zip bomb).
	ErrTooLarge = errors.New("Excel 文件解压后超过大小上限，可能已损坏或不是正常的表格文件")
	// ErrTextTooLong means a text run in the workbook is longer than any
	// cell can hold (a damaged file, or whitespace padding to exhaust memory).
	ErrTextTooLong = errors.New("Excel 文件中有超出单元格上限的超长文本，可能已损坏或不是正常的表格文件")
)

// Rows is a streaming iterator over the rows of the first worksheet that has
// data (xlsx) or over CSV records. Rows whose cells are all blank are skipped;
// Line still reports the true row number of each row returned.
type Rows interface {
	// Next advances to the next row that has at least one non-blank cell.
	Next() bool
	// Values returns the cells of the current row, trimmed of surrounding
	// white space (including full-width spaces). The slice, not the strings,
	// may be overwritten by the next call to Next: copy it to keep it.
	// Trailing empty cells may be missing, so rows can differ in length.
	Values() []string
	// Line returns the row number a user sees in Excel, 1-based: for xlsx the
	// real worksheet row; for CSV the record number counting blank lines,
	// with a quoted multi-line cell counting as one row (as Excel shows it).
	Line() int
	// Sheet returns the worksheet name ("" for CSV).
	Sheet() string
	// Err returns the error that stopped Next, if any.
	Err() error
	// Close releases the file and any temporary files; it is safe to call twice.
	Close() error
}

// Options limits what Open accepts; zero values mean the defaults.
type Options struct {
	// MaxUnzipSize caps the total uncompressed size of an .xlsx (zip bomb
	// guard); larger workbooks fail with ErrTooLarge. Default 4 GiB.
	MaxUnzipSize int64
	// MaxUnzipXMLSize caps the shared string table the fast reader holds in
	// memory. A workbook with a larger table is read by excelize instead,
	// which then unzips worksheets and the table above this size to
	// temporary files. Default 256 MiB.
	MaxUnzipXMLSize int64
}

// Defaults for Options.
const (
	// DefaultMaxUnzipSize is 4 GiB, far above any real extract.
	DefaultMaxUnzipSize int64 = 4 << 30
	// DefaultMaxUnzipXMLSize is 256 MiB: the shared strings of a
	// multi-million-row extract fit, memory stays bounded.
	DefaultMaxUnzipXMLSize int64 = 256 << 20
)

// withDefaults fills zero fields and keeps the XML limit within the total limit,
// which excelize otherwise rejects.
func (o Options) withDefaults() Options {
	if o.MaxUnzipSize <= 0 {
		o.MaxUnzipSize = DefaultMaxUnzipSize
	}
	if o.MaxUnzipXMLSize <= 0 {
		o.MaxUnzipXMLSize = DefaultMaxUnzipXMLSize
	}
	o.MaxUnzipXMLSize = min(o.MaxUnzipXMLSize, o.MaxUnzipSize)
	return o
}

// Open detects the format of path and returns a streaming reader over its rows.
func Open(path string, opt Options) (Rows, Format, error) {
	format, err := Detect(path)
	if err != nil {
		return nil, format, err
	}
	var r Rows
	switch format {
	case XLSX:
		r, err = openXLSX(path, opt.withDefaults())
	case CSV:
		r, err = openCSV(path)
	default:
		err = fmt.Errorf("%w（%s）", ErrUnknownFormat, format)
	}
	if err != nil {
		return nil, format, err
	}
	return r, format, nil
}
