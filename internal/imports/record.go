package imports

import (
	"strings"
	"time"
	"unicode"

	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/region"
	"github.com/canbao/canbao/internal/source"
)

// copyColumns are source_record's columns in the order rowValues fills them.
var copyColumns = []string{
	"batch_id", "line", "id_raw", "id_norm", "id_damage", "name", "sex", "birth", "ethnic",
	"household", "relation", "address", "region_code", "hukou_region", "pop_status", "scheme",
	"enroll_status", "pay_status", "enroll_date", "employer", "death_date", "school", "raw",
}

// Issue is a rejected row, or a warning on an accepted one.
type Issue struct {
	Line     int
	Rejected bool
	Column   string // header text of the column concerned
	Value    string
	Reason   string
}

// converter turns one spreadsheet row into a source_record row. It is built
// once per file from the column mapping, so the per-row work is lookups.
type converter struct {
	kind      source.Kind
	batchID   int64
	region    string // the batch's region, the default where a file has no region column
	header    []string
	col       map[string]int // field key → column index
	width     int            // number of header columns
	today     time.Time
	schemes   map[string]bool
	issues    []Issue
	rejected  int
	marked    int
	maxIssues int
}

func newConverter(kind source.Kind, batchID int64, batchRegion string, header []string, m source.Mapping) *converter {
	c := &converter{kind: kind, batchID: batchID, region: batchRegion, header: header, col: map[string]int{},
		width: len(header), today: time.Now(), schemes: map[string]bool{}, maxIssues: 1_000_000}
	for k, i := range m {
		c.col[k] = i
	}
	return c
}

// cell returns the value of field key in vals, or "".
func (c *converter) cell(vals []string, key string) string {
	i, ok := c.col[key]
	if !ok || i >= len(vals) {
		return ""
	}
	return vals[i]
}

func (c *converter) colName(key string) string {
	if i, ok := c.col[key]; ok && i < len(c.header) {
		return c.header[i]
	}
	return key
}

func (c *converter) warn(line int, key, value, reason string) {
	if len(c.issues) < c.maxIssues {
		c.issues = append(c.issues, Issue{Line: line, Column: c.colName(key), Value: value, Reason: reason})
	}
}

func (c *converter) reject(line int, key, value, reason string) {
	c.rejected++
	if len(c.issues) < c.maxIssues {
		c.issues = append(c.issues, Issue{Line: line, Rejected: true, Column: c.colName(key), Value: value, Reason: reason})
	}
}

// convert returns the row's values for COPY, or nil when the row is rejected.
// A row is rejected only when nothing usable remains; everything else is
// kept, with a warning for what could not be read.
func (c *converter) convert(line int, vals []string) []any {
	if extra := lastNonBlank(vals) + 1; extra > c.width {
		c.reject(line, "", strings.Join(vals[c.width:extra], ","), "本行列数（"+itoa(extra)+"）多于表头（"+itoa(c.width)+"），数据可能错位")
		return nil
	}
	rawID := c.cell(vals, source.KeyID)
	name := cleanName(c.cell(vals, source.KeyName))
	id := idcard.ParseAt(rawID, c.today)
	if name == "" && !usableID(id) {
		c.reject(line, source.KeyID, rawID, "身份证号码和姓名均为空或无法识别，该行无可用信息")
		return nil
	}
	before := len(c.issues)
	if id.Damage != idcard.OK {
		c.warn(line, source.KeyID, rawID, "身份证号码有误（"+id.Damage.String()+"），已接收并标记，比对时将尝试关联")
	}
	row := make([]any, len(copyColumns))
	row[0], row[1] = c.batchID, int32(line)
	row[2], row[3], row[4], row[5] = rawID, id.Norm, id.Damage.Code(), name
	row[6] = c.sex(line, vals, id)
	row[7] = c.date(line, vals, source.KeyBirth, id)
	row[8] = c.cell(vals, source.KeyEthnic)
	row[9] = c.cell(vals, source.KeyHousehold)
	row[10] = c.cell(vals, source.KeyRelation)
	row[11] = c.address(vals)
	row[12], row[13] = c.regions(line, vals)
	row[14] = c.popStatus(line, vals)
	row[15] = c.scheme(line, vals)
	row[16] = c.status(line, vals, source.KeyEnrollStatus, source.ParseEnrollStatus)
	row[17] = c.status(line, vals, source.KeyPayStatus, source.ParsePayStatus)
	row[18] = c.date(line, vals, source.KeyEnrollDate, idcard.Number{})
	row[19] = c.cell(vals, source.KeyEmployer)
	row[20] = c.date(line, vals, source.KeyDeathDate, idcard.Number{})
	row[21] = c.cell(vals, source.KeySchool)
	row[22] = append([]string(nil), vals...)
	if len(c.issues) > before {
		c.marked++
	}
	return row
}

// usableID: a damaged ID still links when enough of it is there (a typo, a
// swap, a spreadsheet-mangled number); text without 15 digits does not.
func usableID(n idcard.Number) bool {
	if n.Damage == idcard.OK || n.Damage == idcard.Mangled || n.Damage == idcard.BadCheck || n.Damage == idcard.BadDate {
		return true
	}
	digits := 0
	for _, r := range n.Norm {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	return digits >= 15
}

func (c *converter) sex(line int, vals []string, id idcard.Number) string {
	v := c.cell(vals, source.KeySex)
	if s, ok := source.ParseSex(v); ok {
		return s
	}
	if v != "" {
		c.warn(line, source.KeySex, v, "无法识别的性别")
	}
	if id.Valid() {
		if idcard.Male(id.Norm) {
			return "男"
		}
		return "女"
	}
	return ""
}

// date parses a date column; for the birth date a valid ID fills a blank.
func (c *converter) date(line int, vals []string, key string, id idcard.Number) any {
	v := c.cell(vals, key)
	if v != "" {
		if t, ok := source.ParseDate(v); ok {
			return t
		}
		c.warn(line, key, v, "无法识别的日期")
	}
	if key == source.KeyBirth && id.Valid() {
		if t, ok := idcard.Birth(id.Norm); ok {
			return t
		}
	}
	return nil
}

func (c *converter) address(vals []string) string {
	if a := c.cell(vals, source.KeyAddress); a != "" {
		return a
	}
	return c.cell(vals, source.KeyResAddress)
}

// regions returns the record's own region (hukou, residence or insured
// region by kind, the batch region where the file has none) and its hukou region.
func (c *converter) regions(line int, vals []string) (string, string) {
	hukou := c.regionCell(line, vals, source.KeyHukouRegion)
	var own string
	switch c.kind {
	case source.Hukou:
		own = hukou
	case source.Resident:
		own = c.regionCell(line, vals, source.KeyResRegion)
	case source.Enrollment:
		own = c.regionCell(line, vals, source.KeyInsuredRegion)
	}
	if own == "" {
		own = c.region
	}
	if c.kind == source.Hukou && hukou == "" {
		hukou = own
	}
	return own, hukou
}

func (c *converter) regionCell(line int, vals []string, key string) string {
	v := c.cell(vals, key)
	if v == "" {
		return ""
	}
	code, ok := source.ParseRegion(v)
	if !ok {
		c.warn(line, key, v, "区划代码无效（应为6、9或12位数字）")
		return ""
	}
	return region.Short(code)
}

func (c *converter) popStatus(line int, vals []string) string {
	v := c.cell(vals, source.KeyPopStatus)
	if v == "" {
		if c.kind == source.Hukou {
			return source.PopNormal // a police extract lists living residents unless it says otherwise
		}
		return ""
	}
	s, ok := source.ParsePopStatus(v)
	if !ok {
		c.warn(line, source.KeyPopStatus, v, "无法识别的人口状态")
	}
	return s
}

func (c *converter) scheme(line int, vals []string) string {
	v := c.cell(vals, source.KeyScheme)
	if v == "" {
		if c.kind == source.Enrollment {
			c.warn(line, source.KeyScheme, v, "险种类型为空")
		}
		return ""
	}
	s, ok := source.ParseScheme(v)
	if !ok {
		c.warn(line, source.KeyScheme, v, "无法识别的险种类型")
		return ""
	}
	c.schemes[s.Key] = true
	return s.Key
}

func (c *converter) status(line int, vals []string, key string, parse func(string) (int, bool)) any {
	v := c.cell(vals, key)
	if v == "" {
		return nil
	}
	n, ok := parse(v)
	if !ok {
		c.warn(line, key, v, "无法识别的状态")
		return nil
	}
	return int16(n)
}

// cleanName removes the spaces clerks put inside two-character names
// ("王  芳") and full-width spaces; the name is otherwise kept as given.
func cleanName(s string) string {
	if !strings.ContainsFunc(s, unicode.IsSpace) {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), "")
}

func lastNonBlank(vals []string) int {
	for i := len(vals) - 1; i >= 0; i-- {
		if vals[i] != "" {
			return i
		}
	}
	return -1
}
