package demo

import "time"

// Enrollment shares, per person of the group concerned. They put about
// 5–10% of adults outside any pension scheme and 2–5% outside medical.
const (
	shareNoPensionWorker  = 0.06  // employees whose firm never enrolled them
	shareNoPensionFarmer  = 0.09  // farmers and jobless adults never enrolled
	shareEndedOnlyFarmer  = 0.02  // farmers whose only pension record was ended
	shareNoPensionElder   = 0.06  // rural elderly without the residents' pension
	shareNoMedical        = 0.03  // adults without any medical scheme
	shareNoMedicalChild   = 0.04  // children, mostly newborns not yet enrolled
	shareInterrupted      = 0.04  // active contributors' records suspended
	shareDualPension      = 0.015 // employees also active in 城乡居民养老
	shareSwitchedPension  = 0.08  // employees with an old, ended 城乡居民养老 record
	shareDualMedical      = 0.015 // residents active in both 居民医疗 and 新农合
	shareDualWorkerMed    = 0.01  // employees also active in 居民医疗
	shareSwitchedMedical  = 0.03  // residents with an ended record of the other scheme
	shareCrossRegionMed   = 0.008 // same medical scheme active in a second county
	shareCrossRegionPens  = 0.003 // same pension scheme active in a second county
	shareTownshipRegion   = 0.3   // residents' schemes kept at township level (9-digit 参保地)
	shareMigrantEmployed  = 0.65  // migrants working for a local firm
	shareMigrantInsured   = 0.9   // of those, insured here
	shareMigrantChildCare = 0.5   // migrants' children in local 居民医疗
)

// enrollPerson creates the enrollments of person i.
func (w *world) enrollPerson(i int) {
	p := w.persons[i]
	first := len(w.enrollments)
	switch p.origin {
	case fromHukou, fromNeighbour:
		w.pension(i)
		w.medical(i)
	case fromMigrant:
		w.migrantEnrollment(i)
	case fromCommuter:
		w.add(i, schEnterprise, w.opt.County, true)
		w.add(i, schWorkerMed, w.opt.County, true)
	}
	if p.endAll {
		for k := first; k < len(w.enrollments); k++ {
			e := &w.enrollments[k]
			e.ins = insEnded
			if w.r.IntN(2) == 0 {
				e.pay = payEnded
			}
		}
	}
}

// homeRegion is the county where person i is normally insured.
func (w *world) homeRegion(i int) string {
	if w.persons[i].origin == fromNeighbour {
		return w.persons[i].home
	}
	return w.opt.County
}

// pension adds the pension records that fit person i's job.
func (w *world) pension(i int) {
	p, home := w.persons[i], w.homeRegion(i)
	switch p.job {
	case jobEnterprise:
		if chance(w.r, shareNoPensionWorker) {
			return
		}
		w.add(i, schEnterprise, home, true)
		if chance(w.r, shareDualPension) {
			w.add(i, schRural, home, true)
		} else if chance(w.r, shareSwitchedPension) {
			w.ended(w.add(i, schRural, home, false))
		}
	case jobPublic:
		if !chance(w.r, 0.02) {
			w.add(i, schPublic, home, true)
		}
	case jobFarmer, jobJobless:
		switch x := w.r.Float64(); {
		case x < shareNoPensionFarmer:
			return
		case x < shareNoPensionFarmer+shareEndedOnlyFarmer:
			w.ended(w.add(i, schRural, home, false))
			return
		}
		w.add(i, schRural, home, true)
	case jobRetiredEnterprise:
		w.retired(w.add(i, schEnterprise, home, false))
	case jobRetiredPublic:
		w.retired(w.add(i, schPublic, home, false))
	case jobElder:
		if !chance(w.r, shareNoPensionElder) {
			w.retired(w.add(i, schRural, home, false))
		}
	default:
		return
	}
	if chance(w.r, shareCrossRegionPens) {
		w.crossRegion(i, groupPension)
	}
}

// medical adds the medical records that fit person i.
func (w *world) medical(i int) {
	p, home := w.persons[i], w.homeRegion(i)
	if p.job == jobChild && chance(w.r, shareNoMedicalChild) || p.job != jobChild && chance(w.r, shareNoMedical) {
		return
	}
	switch p.job {
	case jobEnterprise, jobPublic, jobRetiredEnterprise, jobRetiredPublic:
		w.add(i, schWorkerMed, home, p.job == jobEnterprise || p.job == jobPublic)
		if chance(w.r, shareDualWorkerMed) {
			w.add(i, schResidentMed, home, true)
		}
	default:
		main, other := schResidentMed, schNCMS
		if !w.urbanPerson(i) && w.r.IntN(100) < 55 {
			main, other = schNCMS, schResidentMed
		}
		w.add(i, main, home, true)
		if chance(w.r, shareDualMedical) {
			w.add(i, other, home, true)
		} else if chance(w.r, shareSwitchedMedical) {
			w.ended(w.add(i, other, home, false))
		}
	}
	if chance(w.r, shareCrossRegionMed) {
		w.crossRegion(i, groupMedical)
	}
}

// urbanPerson reports whether person i lives in a 居委会; people of other
// counties count as urban half the time.
func (w *world) urbanPerson(i int) bool {
	if hh := w.persons[i].hh; hh >= 0 {
		return w.households[hh].urban
	}
	return w.persons[i].id[len(w.persons[i].id)-2]%2 == 0
}

// migrantEnrollment insures employed migrants here; the others are insured
// at home, which the county's extracts do not show.
func (w *world) migrantEnrollment(i int) {
	p := w.persons[i]
	age := ageOn(p.birth, w.opt.AsOf)
	switch {
	case age < 16:
		if chance(w.r, shareMigrantChildCare) {
			w.add(i, schResidentMed, w.opt.County, true)
		}
	case age < 60 && chance(w.r, shareMigrantEmployed):
		p.job = jobEnterprise
		if chance(w.r, shareMigrantInsured) {
			w.add(i, schEnterprise, w.opt.County, true)
			w.add(i, schWorkerMed, w.opt.County, true)
		}
	}
}

// crossRegion copies one of person i's active records of the group into
// a second county: the same scheme paid twice in two places.
func (w *world) crossRegion(i int, group string) {
	for k := len(w.enrollments) - 1; k >= 0 && w.enrollments[k].who == i; k-- {
		e := w.enrollments[k]
		if schemes[e.scheme].group != group || !isActive(e.ins, e.pay) {
			continue
		}
		region := w.otherCounty(true)
		if e.region[:6] != w.opt.County {
			region = w.opt.County
		}
		w.add(i, e.scheme, region, true)
		return
	}
}

// add appends an active enrollment and returns its index. contributing
// says whether the person still pays; drawn records may get suspended.
func (w *world) add(i, sch int, region string, contributing bool) int {
	p := w.persons[i]
	e := enrollment{who: i, scheme: sch, region: region, ins: insNormal, pay: payNormal}
	if region == w.opt.County && (sch == schRural || sch == schNCMS) && p.hh >= 0 && chance(w.r, shareTownshipRegion) {
		e.region = w.opt.Villages[w.households[p.hh].village].Code[:9]
	}
	if contributing && chance(w.r, shareInterrupted) {
		if w.r.IntN(3) == 0 {
			e.ins = insSuspended
		} else {
			e.pay = paySuspended
		}
	}
	if sch == schEnterprise || sch == schPublic || sch == schWorkerMed {
		e.employer = w.employer(p)
	}
	e.date = w.enrollDate(p, sch)
	w.enrollments = append(w.enrollments, e)
	return len(w.enrollments) - 1
}

// employer returns the person's employer, choosing one on first use.
func (w *world) employer(p *person) string {
	if p.employer == "" && p.origin == fromNeighbour {
		// Firms of another county do not carry this county's name.
		p.employer = pick(w.r, firmWords) + pick(w.r, firmTrades) + pick(w.r, firmForms)
	}
	if p.employer == "" {
		if p.job == jobPublic || p.job == jobRetiredPublic {
			p.employer = pick(w.r, w.agencies)
		} else {
			p.employer = pick(w.r, w.firms)
		}
	}
	return p.employer
}

// ended marks enrollment k as ended.
func (w *world) ended(k int) {
	e := &w.enrollments[k]
	e.ins = insEnded
	if w.r.IntN(2) == 0 {
		e.pay = payEnded
	}
}

// retired marks enrollment k as drawing benefits: nothing more is paid,
// so systems leave 缴费状态 blank or keep 参保缴费.
func (w *world) retired(k int) {
	if w.r.IntN(3) > 0 {
		w.enrollments[k].pay = payNone
	}
}

// enrollDate draws a start date after the scheme began and, for pensions,
// after the 16th birthday; never after the as-of date.
func (w *world) enrollDate(p *person, sch int) time.Time {
	from := schemes[sch].start
	if schemes[sch].group == groupPension {
		from = later(from, p.birth.AddDate(16, 0, 0))
	} else {
		from = later(from, p.birth)
	}
	days := int(w.opt.AsOf.Sub(from).Hours() / 24)
	if days <= 0 {
		return w.opt.AsOf
	}
	return from.AddDate(0, 0, w.r.IntN(days+1))
}

// later returns the later of two dates.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
