package demo

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"github.com/canbao/canbao/internal/sheet"
)

// rowWriter is what both sheet.Writer and csvFile offer.
type rowWriter interface {
	WriteValues(row []any) error
	Close() error
}

// openWriter opens the file in the spec's format and encoding. BOM CSV and
// XLSX go through the sheet package; other encodings are written here.
func openWriter(path string, s fileSpec) (rowWriter, error) {
	if s.xlsx || s.enc == encBOM {
		return sheet.Create(path)
	}
	return createCSV(path, s.enc == encGB18030)
}

// csvFile writes CSV as UTF-8 without BOM or as GB18030 with CRLF line
// ends, as Excel on Chinese Windows saves it.
type csvFile struct {
	f   *os.File
	bw  *bufio.Writer
	enc io.WriteCloser // GB18030 encoder, nil for UTF-8
	w   *csv.Writer
}

// createCSV opens path for CSV output.
func createCSV(path string, gb bool) (*csvFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	c := &csvFile{f: f, bw: bufio.NewWriterSize(f, 1<<16)}
	var out io.Writer = c.bw
	if gb {
		c.enc = transform.NewWriter(c.bw, simplifiedchinese.GB18030.NewEncoder())
		out = c.enc
	}
	c.w = csv.NewWriter(out)
	c.w.UseCRLF = gb
	return c, nil
}

// WriteValues writes one row; cells are already text for CSV files.
func (c *csvFile) WriteValues(row []any) error {
	rec := make([]string, len(row))
	for i, v := range row {
		rec[i] = fmt.Sprint(v)
	}
	return c.w.Write(rec)
}

// Close flushes every layer and closes the file.
func (c *csvFile) Close() error {
	c.w.Flush()
	err := c.w.Error()
	if c.enc != nil {
		if cerr := c.enc.Close(); err == nil {
			err = cerr
		}
	}
	if ferr := c.bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := c.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeExtract writes one file and records each row's spreadsheet number.
func (w *world) writeExtract(x *extract) error {
	out, err := openWriter(x.path, x.spec)
	if err != nil {
		return err
	}
	err = w.writeRows(out, x)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeRows writes titles, header, data rows and the empty rows between.
func (w *world) writeRows(out rowWriter, x *extract) error {
	rr := rand.New(rand.NewPCG(uint64(w.opt.Seed), hashName(x.fileName())))
	line := 0
	emit := func(vals []any) error {
		line++
		return out.WriteValues(vals)
	}
	for _, t := range x.spec.titles {
		if err := emit(x.padded(t)); err != nil {
			return err
		}
	}
	if err := emit(anySlice(x.cols)); err != nil {
		return err
	}
	gaps := x.gaps
	for i, r := range x.rows {
		for len(gaps) > 0 && gaps[0] == i {
			gaps = gaps[1:]
			if err := emit(x.padded("")); err != nil {
				return err
			}
		}
		r.line = line + 1
		if err := emit(w.render(x, r, i+1, rr)); err != nil {
			return err
		}
	}
	return nil
}

// padded is a row holding text in its first cell; CSV rows get the full
// width, as a spreadsheet exports a merged title.
func (x *extract) padded(text string) []any {
	if x.spec.xlsx {
		if text == "" {
			return nil
		}
		return []any{text}
	}
	vals := make([]any, len(x.cols))
	vals[0] = text
	for i := 1; i < len(vals); i++ {
		vals[i] = ""
	}
	return vals
}

// anySlice converts strings to cells.
func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// hashName derives a per-file random stream, so a file's rendering does
// not depend on the files written before it.
func hashName(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

// render produces the cells of one row in file order.
func (w *world) render(x *extract, r *row, seq int, rr *rand.Rand) []any {
	canon := kindColumns[x.spec.kind]
	out := make([]any, len(x.keys))
	for c, key := range x.keys {
		if k := indexOf(canon, key); k >= 0 {
			out[c] = x.cell(r.vals[k], rr)
		} else {
			out[c] = w.extraCell(x, r, key, seq, rr)
		}
	}
	return out
}

// indexOf returns the position of s in list or -1.
func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// cell renders one canonical value in the file's style; one row in ten
// deviates, as files are glued together from several offices.
func (x *extract) cell(v any, rr *rand.Rand) any {
	switch v := v.(type) {
	case time.Time:
		return x.date(v, rr)
	case schemeCell:
		return x.schemeText(int(v), rr)
	case statusCell:
		codes := x.spec.codes != (rr.IntN(10) == 0)
		if code, ok := statusCodes[string(v)]; ok && codes {
			return code
		}
		return string(v)
	case float64:
		return v
	case string:
		return v
	}
	return fmt.Sprint(v)
}

// date renders a date; zero dates stay empty.
func (x *extract) date(t time.Time, rr *rand.Rand) any {
	if t.IsZero() {
		return ""
	}
	form := x.spec.dateForm
	if rr.IntN(10) == 0 {
		form = rr.IntN(3)
		if x.spec.xlsx {
			form = rr.IntN(4)
		}
	}
	switch form {
	case dateSlash:
		return fmt.Sprintf("%d/%d/%d", t.Year(), t.Month(), t.Day())
	case dateCompact:
		return t.Format("20060102")
	case dateSerial:
		return excelSerial(t)
	}
	return t.Format("2006-01-02")
}

// excelSerial is the Excel day number of t (1900 date system).
func excelSerial(t time.Time) int {
	return int(t.Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)).Hours() / 24)
}

// schemeText renders a scheme as its code, its name or an alias.
func (x *extract) schemeText(k int, rr *rand.Rand) string {
	s := schemes[k]
	codes := x.spec.codes != (rr.IntN(10) == 0)
	switch {
	case codes && s.code != "":
		return s.code
	case x.spec.aliasNames && len(s.aliases) > 0 && rr.IntN(2) == 0:
		return s.aliases[rr.IntN(len(s.aliases))]
	}
	return s.name
}

// extraCell fills the columns an importer must ignore.
func (w *world) extraCell(x *extract, r *row, key string, seq int, rr *rand.Rand) any {
	if key == "序号" {
		if x.spec.xlsx {
			return seq
		}
		return strconv.Itoa(seq)
	}
	if r.who < 0 {
		return ""
	}
	p := w.persons[r.who]
	switch key {
	case "个人编号":
		return fmt.Sprintf("%s%08d", w.opt.County[:4], 10000000+r.who*37%90000000)
	case "联系电话":
		return fmt.Sprintf("1%d%09d", 3+rr.IntN(6), rr.IntN(1000000000))
	case "性别":
		return sex(p.male)
	case "火化地点":
		return w.opt.CountyName + "殡仪馆"
	case "年级":
		return grade(ageOn(p.birth, w.opt.AsOf))
	}
	return ""
}

// grade guesses a class from the age.
func grade(age int) string {
	switch {
	case age <= 16:
		return "高一"
	case age == 17:
		return "高二"
	case age == 18:
		return "高三"
	}
	return [...]string{"大一", "大二", "大三", "大四"}[min(age-19, 3)]
}
