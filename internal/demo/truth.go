package demo

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/canbao/canbao/internal/sheet"
)

// Statuses of the comparison export (DOMAIN §5).
const (
	statusInsured     = "已参保"
	statusInterrupted = "缴费中断"
	statusMissing     = "应参未参"
	statusNA          = "不适用"
)

// Flags of DOMAIN §5, in the fixed order of the export.
const (
	flagDualPension  = "跨制度重复参保-养老"
	flagDualMedical  = "跨制度重复参保-医疗"
	flagCrossRegion  = "制度内跨地区重复参保"
	flagDeadEnrolled = "死亡仍参保"
	flagHukouPending = "户口待注销"
	flagWrongInfo    = "信息有误"
	flagNonLocal     = "非本地户籍参保"
)

// flagOrder is the order flags are joined in.
var flagOrder = []string{flagDualPension, flagDualMedical, flagCrossRegion, flagDeadEnrolled, flagHukouPending, flagWrongInfo, flagNonLocal}

// evidence is one record linked to a person, reduced to what DOMAIN §5
// looks at.
type evidence struct {
	kind     string
	region   string    // 户籍地区划代码, 居住地区划代码 or 参保地区划代码
	hukou    string    // 人口状态 of a 户籍人口 record
	scheme   int       // scheme of a 参保信息 record
	ins, pay string    // 参保状态 and 缴费状态 words
	death    time.Time // 死亡日期 of a 死亡信息 record
	faulty   bool      // damaged ID, or a name that disagrees with the person's
}

// verdict is what the comparison must find for one person.
type verdict struct {
	universe         bool
	pension, medical string
	flags            []string
	survey           bool
}

// facts gathers what the records of one person say.
type facts struct {
	viaHukou, viaResidence, viaEnrollment bool
	livingHukou, dead, diedByAsOf         bool
	student, faulty                       bool
	pensionActive, pensionRunning         int
	medicalActive                         int
	schemesActive                         map[int]map[string]bool // scheme → counties
	anyActive                             bool
}

// classify applies DOMAIN §5 literally to one person born on birth with
// the given linked records, for the region (a code prefix) and as-of date.
func classify(birth time.Time, ev []evidence, region string, asOf time.Time) verdict {
	f := gather(ev, region, asOf)
	v := verdict{
		universe: !f.diedByAsOf && (f.viaHukou || f.viaResidence || f.viaEnrollment),
		pension:  statusNA, medical: statusNA,
	}
	if v.universe {
		v.pension = pensionStatus(f, ageOn(birth, asOf) >= 16)
		v.medical = statusMissing
		if f.medicalActive > 0 {
			v.medical = statusInsured
		}
	}
	v.flags = f.flags(v.universe)
	local := f.viaHukou || f.viaResidence
	v.survey = v.universe && local &&
		(v.pension == statusMissing || v.medical == statusMissing || f.faulty)
	return v
}

// gather reads the records of one person.
func gather(ev []evidence, region string, asOf time.Time) facts {
	f := facts{schemesActive: map[int]map[string]bool{}}
	for _, e := range ev {
		f.faulty = f.faulty || e.faulty
		switch e.kind {
		case KindHukou:
			if e.hukou == hukouNormal || e.hukou == "管理中" {
				f.livingHukou = true
				f.viaHukou = f.viaHukou || strings.HasPrefix(e.region, region)
			}
		case KindResidence:
			f.viaResidence = f.viaResidence || strings.HasPrefix(e.region, region)
		case KindDeath:
			f.dead = true
			f.diedByAsOf = f.diedByAsOf || !e.death.After(asOf)
		case KindStudent:
			f.student = true
		case KindEnrollment:
			f.addEnrollment(e, region)
		}
	}
	return f
}

// addEnrollment counts one 参保信息 record if it is active.
func (f *facts) addEnrollment(e evidence, region string) {
	if !isActive(e.ins, e.pay) {
		return
	}
	f.anyActive = true
	f.viaEnrollment = f.viaEnrollment || strings.HasPrefix(e.region, region)
	if f.schemesActive[e.scheme] == nil {
		f.schemesActive[e.scheme] = map[string]bool{}
	}
	f.schemesActive[e.scheme][countyOf(e.region)] = true
	switch schemes[e.scheme].group {
	case groupPension:
		f.pensionActive++
		if !isInterrupted(e.ins, e.pay) {
			f.pensionRunning++
		}
	case groupMedical:
		f.medicalActive++
	}
}

// countyOf is the county part of a division code.
func countyOf(code string) string {
	if len(code) > 6 {
		return code[:6]
	}
	return code
}

// pensionStatus is 养老参保状态 of a person in the universe.
func pensionStatus(f facts, adult bool) string {
	switch {
	case f.pensionRunning > 0:
		return statusInsured
	case f.pensionActive > 0:
		return statusInterrupted
	case adult && !f.student:
		return statusMissing
	}
	return statusNA
}

// flags lists 问题标记 in the export's order.
func (f facts) flags(universe bool) []string {
	var pensions, medicals int
	cross := false
	for sch, counties := range f.schemesActive {
		if schemes[sch].group == groupPension {
			pensions++
		} else {
			medicals++
		}
		cross = cross || len(counties) >= 2
	}
	on := map[string]bool{
		flagDualPension:  pensions >= 2,
		flagDualMedical:  medicals >= 2,
		flagCrossRegion:  cross,
		flagDeadEnrolled: f.dead && f.anyActive,
		flagHukouPending: f.dead && f.livingHukou,
		flagWrongInfo:    f.faulty,
		flagNonLocal:     universe && f.viaEnrollment && !f.viaHukou, // residents too (issue 9)
	}
	var out []string
	for _, fl := range flagOrder {
		if on[fl] {
			out = append(out, fl)
		}
	}
	return out
}

// evidenceOf reduces a row to the evidence DOMAIN §5 uses.
func (w *world) evidenceOf(x *extract, r *row) evidence {
	p := w.persons[r.who]
	e := evidence{kind: x.spec.kind, faulty: r.damage != ""}
	switch x.spec.kind {
	case KindHukou:
		e.region, e.hukou = w.opt.Villages[w.households[p.hh].village].Code, p.hukou
	case KindResidence:
		e.region = w.opt.Villages[p.resVillage].Code
	case KindEnrollment:
		en := w.enrollments[r.enr]
		e.region, e.scheme, e.ins, e.pay = en.region, en.scheme, en.ins, en.pay
	case KindDeath:
		e.death = p.death
	}
	return e
}

// writeTruthRecords writes truth/records.csv: one line per data row.
func writeTruthRecords(path string, w *world, files []*extract) error {
	return writeSheet(path, func(out sheet.Writer) error {
		if err := out.Write([]string{"文件名", "行号", "公民身份号码", "记录损坏"}); err != nil {
			return err
		}
		for _, x := range files {
			for _, r := range x.rows {
				id := ""
				if r.who >= 0 {
					id = w.persons[r.who].id
				}
				if err := out.Write([]string{x.fileName(), strconv.Itoa(r.line), id, r.damage}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// writeSheet creates path, lets fill write it and closes it.
func writeSheet(path string, fill func(sheet.Writer) error) error {
	out, err := sheet.Create(path)
	if err != nil {
		return err
	}
	err = fill(out)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("demo: write %s: %w", path, err)
	}
	return nil
}

// personTruth is one line of truth/persons.csv.
type personTruth struct {
	who     int
	refs    []string
	ev      []evidence
	verdict verdict
}

// truthPersons classifies every known person, ordered by ID.
func (w *world) truthPersons(files []*extract) []*personTruth {
	by := map[int]*personTruth{}
	var list []*personTruth
	for _, x := range files {
		name := x.fileName()
		for _, r := range x.rows {
			if r.who < 0 {
				continue
			}
			t := by[r.who]
			if t == nil {
				t = &personTruth{who: r.who}
				by[r.who] = t
				list = append(list, t)
			}
			t.refs = append(t.refs, name+":"+strconv.Itoa(r.line))
			t.ev = append(t.ev, w.evidenceOf(x, r))
		}
	}
	for _, t := range list {
		t.verdict = classify(w.persons[t.who].birth, t.ev, w.opt.County, w.opt.AsOf)
	}
	slices.SortFunc(list, func(a, b *personTruth) int {
		return cmp.Compare(w.persons[a.who].id, w.persons[b.who].id)
	})
	return list
}

// writeTruthPersons writes truth/persons.csv in the comparison export's
// columns and returns the number of persons.
func writeTruthPersons(path string, w *world, files []*extract) (int, error) {
	list := w.truthPersons(files)
	err := writeSheet(path, func(out sheet.Writer) error {
		head := []string{"公民身份号码", "姓名", "登记对象", "养老参保状态", "医疗参保状态", "问题标记", "入户调查", "来源记录"}
		if err := out.Write(head); err != nil {
			return err
		}
		for _, t := range list {
			p, v := w.persons[t.who], t.verdict
			rec := []string{p.id, p.name, yesNo(v.universe), v.pension, v.medical,
				strings.Join(v.flags, "、"), yesNo(v.survey), strings.Join(t.refs, ";")}
			if err := out.Write(rec); err != nil {
				return err
			}
		}
		return nil
	})
	return len(list), err
}

// yesNo is 是 or 否.
func yesNo(b bool) string {
	if b {
		return "是"
	}
	return "否"
}
