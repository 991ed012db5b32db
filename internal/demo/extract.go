package demo

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
)

// Text encodings of CSV files.
const (
	encBOM     = iota // UTF-8 with BOM, as sheet.Create writes it
	encUTF8           // UTF-8 without BOM
	encGB18030        // what Excel on Chinese Windows saves
)

// Date forms of DOMAIN §4.
const (
	dateISO     = iota // 2017-06-30
	dateSlash          // 2017/6/30
	dateCompact        // 20170630
	dateSerial         // Excel serial number (xlsx only)
)

// Canonical columns of each kind, in file order (DOMAIN §4). Index 0 is
// always the ID and index 1 the name.
var kindColumns = map[string][]string{
	KindHukou:      {"公民身份号码", "姓名", "性别", "民族", "出生日期", "户号", "与户主关系", "户籍地址", "户籍地区划代码", "人口状态"},
	KindResidence:  {"公民身份号码", "姓名", "性别", "出生日期", "居住地址", "居住地区划代码", "户籍地区划代码"},
	KindEnrollment: {"公民身份号码", "姓名", "险种类型", "参保地区划代码", "参保状态", "缴费状态", "参保日期", "单位名称"},
	KindDeath:      {"公民身份号码", "姓名", "死亡日期"},
	KindStudent:    {"公民身份号码", "姓名", "学校名称"},
}

// fileSpec describes how one extract looks on disk.
type fileSpec struct {
	kind, suffix string
	scheme       int // scheme of a 参保信息 file, -1 otherwise
	xlsx         bool
	source       string // the extract's own name when the county has two of its kind
	enc          int
	titles       []string          // rows above the header
	dateForm     int               // the file's usual date form
	codes        bool              // schemes and statuses as codes
	aliasNames   bool              // scheme names drawn from the aliases
	headers      map[string]string // canonical column → header actually used
	front, back  []string          // columns the importer must ignore
	omit         []string          // canonical columns the system does not export
	empties      int               // empty rows in the middle
	invalid      int               // rows with neither ID nor name
}

// Cell values that are rendered per file style.
type (
	schemeCell int    // a scheme index
	statusCell string // a 参保状态 or 缴费状态 word
)

// row is one data row of an extract.
type row struct {
	who      int   // person index, -1 for an unusable row
	enr      int   // enrollment index for 参保信息 rows, else -1
	vals     []any // canonical values; vals[0] the ID as printed, vals[1] the name
	damage   string
	noise    string // normalization-only noise, for the rate statistics
	identity bool   // the row the person's identity comes from; kept clean
	line     int    // spreadsheet row number
}

// extract is one file being generated.
type extract struct {
	spec fileSpec
	cols []string // header titles in file order
	keys []string // canonical key (or extra column name) per header
	rows []*row
	gaps []int // data row indices preceded by an empty row
	path string
}

// fileName is <kind>_<suffix>.<ext>.
func (x *extract) fileName() string {
	ext := "csv"
	if x.spec.xlsx {
		ext = "xlsx"
	}
	return x.spec.kind + "_" + x.spec.suffix + "." + ext
}

// specs lays out the county's extracts. In "mixed" mode each file keeps
// the format the department would really send.
func (w *world) specs() []fileSpec {
	o := w.opt
	year := o.AsOf.Year()
	all := []fileSpec{
		{kind: KindHukou, suffix: o.County, scheme: -1, xlsx: true, dateForm: dateSerial, front: []string{"序号"}},
		{kind: KindResidence, suffix: o.County, scheme: -1, enc: encGB18030, dateForm: dateSlash,
			headers: map[string]string{"公民身份号码": "身份证号码", "户籍地区划代码": "户籍区划"}, back: []string{"联系电话"}},
		{kind: KindEnrollment, suffix: "企业职工养老", scheme: schEnterprise, enc: encBOM, dateForm: dateCompact, codes: true,
			headers: map[string]string{"险种类型": "险种", "参保地区划代码": "参保地"}, front: []string{"个人编号"}, invalid: 2},
		{kind: KindEnrollment, suffix: "机关事业养老", scheme: schPublic, enc: encUTF8, dateForm: dateISO, invalid: 1},
		{kind: KindEnrollment, suffix: "城乡居民养老", scheme: schRural, xlsx: true, dateForm: dateSerial, aliasNames: true,
			titles:  []string{fmt.Sprintf("%s%d年城乡居民养老保险参保人员名单", o.CountyName, year), fmt.Sprintf("制表单位：%s社会保险基金管理局", o.CountyName)},
			headers: map[string]string{"公民身份号码": "身份证号码", "参保日期": "参保时间"}, front: []string{"序号"}, back: []string{"备注"},
			omit: []string{"单位名称"}, empties: 2, invalid: 3},
		{kind: KindEnrollment, suffix: "职工医疗", scheme: schWorkerMed, enc: encBOM, dateForm: dateISO, codes: true,
			headers: map[string]string{"公民身份号码": "证件号码", "单位名称": "单位"}, front: []string{"个人编号"}, invalid: 1},
		{kind: KindEnrollment, suffix: "居民医疗", scheme: schResidentMed, enc: encGB18030, dateForm: dateSlash,
			titles:  []string{fmt.Sprintf("%s%d年城乡居民基本医疗保险参保名册", o.CountyName, year)},
			headers: map[string]string{"参保地区划代码": "参保地"}, front: []string{"序号"}, omit: []string{"单位名称"}, invalid: 2},
		{kind: KindEnrollment, suffix: "新农合", scheme: schNCMS, enc: encBOM, dateForm: dateCompact, aliasNames: true,
			headers: map[string]string{"公民身份号码": "身份证号码", "险种类型": "险种", "参保地区划代码": "参保地", "参保日期": "参保时间"},
			omit:    []string{"单位名称"}, back: []string{"联系电话"}, invalid: 2},
		{kind: KindDeath, suffix: "民政", scheme: -1, enc: encUTF8, dateForm: dateISO,
			headers: map[string]string{"公民身份号码": "身份证号"}, back: []string{"性别", "火化地点"}, invalid: 1},
		{kind: KindStudent, suffix: "教育局", scheme: -1, xlsx: true, dateForm: dateISO,
			titles:  []string{fmt.Sprintf("%s%d年在校学生名单", o.CountyName, year)},
			headers: map[string]string{"公民身份号码": "证件号码"}, back: []string{"年级"}, invalid: 1},
	}
	for i := range all {
		w.adaptFormat(&all[i])
	}
	return all
}

// adaptFormat forces every file to CSV or XLSX when Options.Format asks.
func (w *world) adaptFormat(s *fileSpec) {
	switch w.opt.Format {
	case "csv":
		if s.xlsx {
			s.xlsx, s.enc = false, encBOM
		}
	case "xlsx":
		s.xlsx = true
	}
	if !s.xlsx && s.dateForm == dateSerial {
		s.dateForm = dateISO
	}
}

// buildExtracts turns the world into file rows.
func (w *world) buildExtracts() []*extract {
	var out []*extract
	for _, s := range w.specs() {
		x := &extract{spec: s}
		x.layoutColumns()
		switch s.kind {
		case KindHukou:
			w.hukouRows(x)
		case KindResidence:
			w.residenceRows(x)
		case KindEnrollment:
			w.enrollmentRows(x)
		case KindDeath:
			w.deathRows(x)
		case KindStudent:
			w.studentRows(x)
		}
		w.addInvalidRows(x)
		w.placeGaps(x)
		out = append(out, x)
	}
	return out
}

// layoutColumns fixes the header titles: extras in front, canonical
// columns under their aliases, extras at the back.
func (x *extract) layoutColumns() {
	add := func(key string) {
		title := key
		if t, ok := x.spec.headers[key]; ok {
			title = t
		}
		x.keys, x.cols = append(x.keys, key), append(x.cols, title)
	}
	for _, k := range x.spec.front {
		add(k)
	}
	for _, k := range kindColumns[x.spec.kind] {
		if !slices.Contains(x.spec.omit, k) {
			add(k)
		}
	}
	for _, k := range x.spec.back {
		add(k)
	}
}

// newRow starts a row of person i with the true ID and name.
func (w *world) newRow(x *extract, i int, rest ...any) *row {
	p := w.persons[i]
	vals := append([]any{p.id, p.name}, rest...)
	r := &row{who: i, enr: -1, vals: vals}
	x.rows = append(x.rows, r)
	return r
}

// sex is the 性别 word.
func sex(male bool) string {
	if male {
		return "男"
	}
	return "女"
}

// hukouRows lists every local hukou member household by household.
func (w *world) hukouRows(x *extract) {
	for _, h := range w.households {
		v := w.opt.Villages[h.village]
		for _, i := range h.members {
			p := w.persons[i]
			w.newRow(x, i, sex(p.male), p.nation, p.birth, h.no, p.relation, h.address, v.Code, p.hukou)
		}
	}
}

// residenceRows lists the 居住证 holders.
func (w *world) residenceRows(x *extract) {
	for i, p := range w.persons {
		if p.resVillage >= 0 {
			w.newRow(x, i, sex(p.male), p.birth, p.resAddress, w.opt.Villages[p.resVillage].Code, p.home)
		}
	}
}

// enrollmentRows lists one scheme's records in the order the system
// exports them, which is no order the generator knows.
func (w *world) enrollmentRows(x *extract) {
	for k, e := range w.enrollments {
		if e.scheme != x.spec.scheme {
			continue
		}
		r := w.newRow(x, e.who, schemeCell(e.scheme), e.region, statusCell(e.ins), statusCell(e.pay), e.date, e.employer)
		r.enr = k
	}
	w.r.Shuffle(len(x.rows), func(a, b int) { x.rows[a], x.rows[b] = x.rows[b], x.rows[a] })
}

// deathRows lists civil affairs' death records by date.
func (w *world) deathRows(x *extract) {
	var who []int
	for i, p := range w.persons {
		if p.deathRecord {
			who = append(who, i)
		}
	}
	slices.SortStableFunc(who, func(a, b int) int { return w.persons[a].death.Compare(w.persons[b].death) })
	for _, i := range who {
		w.newRow(x, i, w.persons[i].death)
	}
}

// studentRows lists the students school by school.
func (w *world) studentRows(x *extract) {
	var who []int
	for i, p := range w.persons {
		if p.school != "" {
			who = append(who, i)
		}
	}
	slices.SortStableFunc(who, func(a, b int) int { return cmp.Compare(w.persons[a].school, w.persons[b].school) })
	for _, i := range who {
		w.newRow(x, i, w.persons[i].school)
	}
}

// RoundedStudentsFile is the file name of the extract Options.RoundedStudents adds.
const RoundedStudentsFile = KindStudent + "_" + roundedSuffix + ".csv"

const roundedSuffix = "职业学校数值"

// roundedStudents lists every student named by 户籍人口 or 居住人口 again,
// as a second school would, with each ID turned into a rounded number.
func (w *world) roundedStudents() *extract {
	x := &extract{spec: fileSpec{kind: KindStudent, suffix: roundedSuffix, scheme: -1, enc: encUTF8, dateForm: dateISO, source: "职业学校"}}
	x.layoutColumns()
	rr := rand.New(rand.NewPCG(uint64(w.opt.Seed), hashName(roundedSuffix))) // its own stream: dirt elsewhere leaves it be
	for i, p := range w.persons {
		if p.school != "" && (p.hh >= 0 || p.resVillage >= 0) && allDigits(p.id) {
			r := w.newRow(x, i, w.opt.CountyName+pick(rr, schools))
			r.vals[0], r.damage = idRounded(p.id), damageRounded
		}
	}
	return x
}

// addInvalidRows inserts rows with neither ID nor name: leftovers of
// subtotals and half-deleted lines that an importer must reject.
func (w *world) addInvalidRows(x *extract) {
	for range x.spec.invalid {
		vals := make([]any, len(kindColumns[x.spec.kind]))
		vals[0], vals[1] = "", ""
		for c := 2; c < len(vals); c++ {
			vals[c] = ""
		}
		switch x.spec.kind {
		case KindEnrollment:
			vals[2], vals[3], vals[4] = schemeCell(x.spec.scheme), w.opt.County, statusCell(insNormal)
		case KindDeath:
			vals[2] = w.opt.AsOf.AddDate(0, 0, -w.r.IntN(300))
		case KindStudent:
			vals[2] = w.opt.CountyName + pick(w.r, schools)
		case KindResidence:
			vals[4] = w.villageAddress(w.r.IntN(len(w.opt.Villages)), true)
		}
		r := &row{who: -1, enr: -1, vals: vals, damage: damageInvalid}
		at := 1 + w.r.IntN(max(1, len(x.rows)))
		x.rows = slices.Insert(x.rows, min(at, len(x.rows)), r)
	}
}

// placeGaps chooses the data rows that an empty row precedes.
func (w *world) placeGaps(x *extract) {
	for range x.spec.empties {
		if len(x.rows) > 2 {
			x.gaps = append(x.gaps, 1+w.r.IntN(len(x.rows)-1))
		}
	}
	slices.Sort(x.gaps)
}
