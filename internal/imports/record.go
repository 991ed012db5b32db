package imports

import (
	"strings"
	"time"
	"unicode"

	"github.com/canbao/canbao/internal/batchdiff"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/pgcopy"
	"github.com/canbao/canbao/internal/region"
	"github.com/canbao/canbao/internal/source"
)

// copyColumns are source_record's columns in the order convert writes them.
var copyColumns = []string{
	"batch_id", "line", "id_norm", "id_damage", "name", "sex", "birth", "household", "relation",
	"region_code", "hukou_region", "pop_status", "scheme", "enroll_status", "pay_status",
	"enroll_date", "death_date", "row_hash", "id_key", "raw",
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
	kind     source.Kind
	batchID  int64
	region   string // the batch's region, the default where a file has no region column
	header   []string
	colOf    [numFields]int // field number → column index, -1 when unmapped
	width    int            // number of header columns
	today    time.Time      // now in China: an ID born after its date there is damaged
	schemes  map[string]bool
	issues   *issueLog
	rejected int
	marked   int
	rows     []batchdiff.Row // every accepted record's line, digest and ID, to match with the batch it supersedes
}

func newConverter(kind source.Kind, batchID int64, batchRegion string, header []string, m source.Mapping, issues *issueLog) *converter {
	c := &converter{kind: kind, batchID: batchID, region: batchRegion, header: header, issues: issues,
		width: len(header), today: time.Now().In(source.China), schemes: map[string]bool{}}
	for i := range c.colOf {
		c.colOf[i] = -1
	}
	for k, i := range m {
		if f, ok := fieldNum[k]; ok {
			c.colOf[f] = i
		}
	}
	return c
}

// Field numbers, so the per-row lookups index an array instead of a map.
const (
	fID = iota
	fName
	fSex
	fEthnic
	fBirth
	fHousehold
	fRelation
	fAddress
	fHukouRegion
	fPopStatus
	fResAddress
	fResRegion
	fScheme
	fInsuredRegion
	fEnrollStatus
	fPayStatus
	fEnrollDate
	fEmployer
	fDeathDate
	fSchool
	numFields
)

var fieldNum = map[string]int{
	source.KeyID: fID, source.KeyName: fName, source.KeySex: fSex, source.KeyEthnic: fEthnic,
	source.KeyBirth: fBirth, source.KeyHousehold: fHousehold, source.KeyRelation: fRelation,
	source.KeyAddress: fAddress, source.KeyHukouRegion: fHukouRegion, source.KeyPopStatus: fPopStatus,
	source.KeyResAddress: fResAddress, source.KeyResRegion: fResRegion, source.KeyScheme: fScheme,
	source.KeyInsuredRegion: fInsuredRegion, source.KeyEnrollStatus: fEnrollStatus,
	source.KeyPayStatus: fPayStatus, source.KeyEnrollDate: fEnrollDate, source.KeyEmployer: fEmployer,
	source.KeyDeathDate: fDeathDate, source.KeySchool: fSchool,
}

// cell returns the value of field f in vals, or "".
func (c *converter) cell(vals []string, f int) string {
	i := c.colOf[f]
	if i < 0 || i >= len(vals) {
		return ""
	}
	return vals[i]
}

func (c *converter) colName(f int) string {
	if f >= 0 {
		if i := c.colOf[f]; i >= 0 && i < len(c.header) {
			return c.header[i]
		}
	}
	return ""
}

func (c *converter) warn(line, f int, value, reason string) {
	c.issues.add(Issue{Line: line, Column: c.colName(f), Value: value, Reason: reason})
}

func (c *converter) reject(line, f int, value, reason string) {
	c.rejected++
	c.issues.add(Issue{Line: line, Rejected: true, Column: c.colName(f), Value: value, Reason: reason})
}

// convert encodes one row for COPY and reports whether it was accepted.
// A row is rejected only when nothing usable remains; everything else is
// kept, with a warning for what could not be read.
func (c *converter) convert(line int, vals []string, e *pgcopy.Encoder) bool {
	if extra := lastNonBlank(vals) + 1; extra > c.width {
		c.reject(line, -1, strings.Join(vals[c.width:extra], ","), "本行列数（"+itoa(extra)+"）多于表头（"+itoa(c.width)+"），数据可能错位")
		return false
	}
	if !c.checkLengths(line, vals) {
		return false
	}
	rawID := c.cell(vals, fID)
	name := cleanName(c.cell(vals, fName))
	id := idcard.ParseAt(rawID, c.today)
	if name == "" && !usableID(id) {
		c.reject(line, fID, rawID, "身份证号码和姓名均为空或无法识别，该行无可用信息")
		return false
	}
	before := c.issues.Len()
	if id.Damage != idcard.OK {
		c.warn(line, fID, rawID, "身份证号码有误（"+id.Damage.String()+"），已接收并标记，比对时将尝试关联")
	}
	own, hukou := c.regions(line, vals)
	r := typed{id: id.Norm, damage: damageCode(id.Damage), name: name, sex: c.sex(line, vals, id),
		birth: c.date(line, vals, fBirth, id), household: c.cell(vals, fHousehold), relation: c.cell(vals, fRelation),
		region: own, hukou: hukou, pop: c.popStatus(line, vals), scheme: c.scheme(line, vals),
		enroll: c.status(line, vals, fEnrollStatus, source.ParseEnrollStatus), pay: c.status(line, vals, fPayStatus, source.ParsePayStatus),
		enrollDate: c.date(line, vals, fEnrollDate, idcard.Number{}), death: c.date(line, vals, fDeathDate, idcard.Number{})}
	e.Row(len(copyColumns))
	e.Int64(c.batchID)
	e.Int32(int32(line))
	e.Text(r.id)
	e.Text(r.damage)
	e.Text(r.name)
	e.Text(r.sex)
	e.Date(r.birth)
	e.Text(r.household)
	e.Text(r.relation)
	e.Text(r.region)
	e.Text(r.hukou)
	e.Text(r.pop)
	e.Text(r.scheme)
	e.Int16(r.enroll)
	e.Int16(r.pay)
	e.Date(r.enrollDate)
	e.Date(r.death)
	h := int64(r.hash())
	e.Int64(h)
	if key, ok := batchdiff.Key(r.id, r.damage); ok {
		e.Int64(key)
	} else {
		e.Null()
	}
	e.Joined(vals, rawSep)
	packed, _ := batchdiff.Pack([]byte(r.id))
	c.rows = append(c.rows, batchdiff.Row{Line: int32(line), Hash: h, ID: packed})
	if c.issues.Len() > before {
		c.marked++
	}
	return true
}

// typed is a record's typed columns, as stored.
type typed struct {
	id, damage, name, sex                   string
	birth                                   time.Time
	household, relation, region, hukou, pop string
	scheme                                  string
	enroll, pay                             int
	enrollDate, death                       time.Time
}

// hash is the record's row_hash: FNV-1a (64 bit) over its typed columns,
// each prefixed by its length, so two records hash alike only when every
// typed column is alike (up to a 2^-64 chance). raw is left out: a column
// no event reads (an address) changing is no change. Records of one
// person with equal hashes in two batches are taken as unchanged when
// events are derived.
func (r *typed) hash() uint64 {
	h := uint64(fnvOffset)
	for _, s := range [...]string{r.id, r.damage, r.name, r.sex, r.household, r.relation, r.region, r.hukou, r.pop, r.scheme} {
		h = fnvInt(h, uint64(len(s)))
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * fnvPrime
		}
	}
	for _, t := range [...]time.Time{r.birth, r.enrollDate, r.death} {
		var days uint64 // 0 for an absent date, the epoch day + 1 otherwise
		if !t.IsZero() {
			days = uint64(t.Unix()/86400) + 1
		}
		h = fnvInt(h, days)
	}
	return fnvInt(fnvInt(h, uint64(r.enroll)), uint64(r.pay))
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnvInt mixes the 8 bytes of v into h.
func fnvInt(h, v uint64) uint64 {
	for range 8 {
		h = (h ^ (v & 0xff)) * fnvPrime
		v >>= 8
	}
	return h
}

// rawSep joins a row's original cells in source_record.raw: the ASCII unit
// separator, which no spreadsheet cell contains.
const rawSep = "\x1f"

// damageCode is NULL (empty) for a valid ID, the common case.
func damageCode(d idcard.Damage) string {
	if d == idcard.OK {
		return ""
	}
	return d.Code()
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
	v := c.cell(vals, fSex)
	if s, ok := source.ParseSex(v); ok {
		return s
	}
	if v != "" {
		c.warn(line, fSex, v, "无法识别的性别")
	}
	if id.Valid() {
		if idcard.Male(id.Norm) {
			return "男"
		}
		return "女"
	}
	return ""
}

// date parses a date column (zero when absent); for the birth date a valid
// ID fills a blank.
func (c *converter) date(line int, vals []string, key int, id idcard.Number) time.Time {
	v := c.cell(vals, key)
	if v != "" {
		if t, ok := source.ParseDate(v); ok {
			return t
		}
		c.warn(line, key, v, "无法识别的日期")
	}
	if key == fBirth && id.Valid() {
		if t, ok := idcard.Birth(id.Norm); ok {
			return t
		}
	}
	return time.Time{}
}

// regions returns the record's own region (hukou, residence or insured
// region by kind, the batch region where the file has none) and its hukou region.
func (c *converter) regions(line int, vals []string) (string, string) {
	hukou := c.regionCell(line, vals, fHukouRegion)
	var own string
	switch c.kind {
	case source.Hukou:
		own = hukou
	case source.Resident:
		own = c.regionCell(line, vals, fResRegion)
	case source.Enrollment:
		own = c.regionCell(line, vals, fInsuredRegion)
	}
	if own == "" {
		own = c.region
	}
	if c.kind == source.Hukou && hukou == "" {
		hukou = own
	}
	return own, hukou
}

func (c *converter) regionCell(line int, vals []string, key int) string {
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
	v := c.cell(vals, fPopStatus)
	if v == "" {
		if c.kind == source.Hukou {
			return source.PopNormal // a police extract lists living residents unless it says otherwise
		}
		return ""
	}
	s, ok := source.ParsePopStatus(v)
	if !ok {
		c.warn(line, fPopStatus, v, "无法识别的人口状态")
	}
	return s
}

func (c *converter) scheme(line int, vals []string) string {
	v := c.cell(vals, fScheme)
	if v == "" {
		if c.kind == source.Enrollment {
			c.warn(line, fScheme, v, "险种类型为空")
		}
		return ""
	}
	s, ok := source.ParseScheme(v)
	if !ok {
		c.warn(line, fScheme, v, "无法识别的险种类型")
		return ""
	}
	c.schemes[s.Key] = true
	return s.Key
}

// status parses a status code column (0 when absent or unreadable).
func (c *converter) status(line int, vals []string, key int, parse func(string) (int, bool)) int {
	v := c.cell(vals, key)
	if v == "" {
		return 0
	}
	n, ok := parse(v)
	if !ok {
		c.warn(line, key, v, "无法识别的状态")
		return 0
	}
	return n
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
