package demo

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/canbao/canbao/internal/sheet"
)

// EnrollmentFile writes a single 参保信息 file of n rows (realistic, light
// dirt) for import benchmarks; returns rows written.
func EnrollmentFile(path string, county string, villages []Village, n int, seed int64) (int, error) {
	opt := Options{County: county, Villages: villages, Seed: seed, Households: 1}
	if err := opt.normalize(); err != nil {
		return 0, err
	}
	out, err := sheet.Create(path)
	if err != nil {
		return 0, err
	}
	g := newBenchGen(opt, strings.EqualFold(filepath.Ext(path), ".xlsx"))
	if err := out.Write(kindColumns[KindEnrollment]); err != nil {
		_ = out.Close()
		return 0, err
	}
	written := 0
	for written < n {
		for _, rec := range g.personRows() {
			if written == n {
				break
			}
			if err := out.WriteValues(rec); err != nil {
				_ = out.Close()
				return written, err
			}
			written++
		}
	}
	return written, out.Close()
}

// benchGen streams throw-away people and their records without keeping
// them, so that files of millions of rows cost little memory.
type benchGen struct {
	w    *world
	x    *extract // only its style is used, for rendering cells
	seqs map[int]int
}

// newBenchGen prepares the generator of EnrollmentFile.
func newBenchGen(opt Options, xlsx bool) *benchGen {
	w := newWorld(opt)
	// Without a county name, employers are named without one.
	w.firms, w.agencies = w.firms[:0], agencyTail
	for range 300 {
		w.firms = append(w.firms, pick(w.r, firmWords)+pick(w.r, firmTrades)+pick(w.r, firmForms))
	}
	spec := fileSpec{kind: KindEnrollment, scheme: -1, xlsx: xlsx, dateForm: dateISO, codes: true}
	return &benchGen{w: w, x: &extract{spec: spec}, seqs: map[int]int{}}
}

// personRows draws one person and renders their pension and medical rows.
func (g *benchGen) personRows() [][]any {
	w := g.w
	age := w.r.IntN(90)
	male := w.r.IntN(2) == 0
	birth := w.opt.AsOf.AddDate(-age, 0, -w.r.IntN(365))
	p := &person{male: male, birth: birth, origin: fromBenchmark, hh: -1, resVillage: -1}
	p.id = g.nextID(birth, male)
	p.name = randomSurname(w.r) + randomGiven(w.r, male)
	p.job = w.pickJob(age, male)
	var rows [][]any
	for _, sch := range g.schemesFor(p) {
		rows = append(rows, g.render(p, sch))
	}
	return rows
}

// nextID hands out sequence numbers per birth day and sex, which keeps IDs
// unique without remembering them (up to 499 people per day and sex).
func (g *benchGen) nextID(birth time.Time, male bool) string {
	key := int(birth.Unix()/86400) * 2
	if male {
		key++
	}
	k := g.seqs[key] % 499
	g.seqs[key]++
	seq := 2*k + 2
	if male {
		seq--
	}
	return makeID(g.w.opt.County, birth, seq)
}

// schemesFor picks a pension and a medical scheme by job.
func (g *benchGen) schemesFor(p *person) []int {
	var out []int
	switch p.job {
	case jobEnterprise, jobRetiredEnterprise:
		out = append(out, schEnterprise, schWorkerMed)
	case jobPublic, jobRetiredPublic:
		out = append(out, schPublic, schWorkerMed)
	case jobFarmer, jobJobless, jobElder:
		out = append(out, schRural, schResidentMed+g.w.r.IntN(2))
	default:
		out = append(out, schResidentMed+g.w.r.IntN(2))
	}
	return out
}

// render builds one row with light dirt at the documented rates.
func (g *benchGen) render(p *person, sch int) []any {
	w, rr := g.w, g.w.r
	e := enrollment{scheme: sch, region: w.opt.County, ins: insNormal, pay: payNormal}
	switch x := rr.IntN(100); {
	case x < 3:
		e.pay = paySuspended
	case x < 5:
		e.ins = insEnded
	}
	if sch == schRural || sch == schNCMS {
		e.region = pick(rr, w.opt.Villages).Code[:9]
	}
	if sch == schEnterprise || sch == schPublic || sch == schWorkerMed {
		e.employer = w.employer(p)
	}
	e.date = w.enrollDate(p, sch)
	id, name := g.dirtyID(p), p.name
	if chance(rr, rateNameTypo) {
		name, _ = nameTypo(name, rr)
	}
	vals := []any{id, name, schemeCell(sch), e.region, statusCell(e.ins), statusCell(e.pay), e.date, e.employer}
	for i := 2; i < len(vals); i++ {
		vals[i] = g.x.cell(vals[i], rr)
	}
	return vals
}

// dirtyID applies ID damage and noise without the ambiguity checks of
// Generate: benchmarks measure speed, not linking.
func (g *benchGen) dirtyID(p *person) any {
	rr := g.w.r
	switch x := rr.Float64(); {
	case x < rateWrongDigit:
		return idWrongDigit(p.id, rr)
	case x < rateWrongDigit+rateSwap:
		return idSwap(p.id, rr)
	case x < rateWrongDigit+rateSwap+rateBlankID:
		return ""
	case x < rateWrongDigit+rateSwap+rateBlankID+rateNumeric && allDigits(p.id):
		if g.x.spec.xlsx {
			return idAsNumber(p.id)
		}
		return idScientific(p.id)
	case x < 0.03 && p.id[6:8] == "19":
		return idOld(p.id)
	case x < 0.035:
		return fullWidth(p.id)
	}
	return p.id
}
