package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// job is what a person does; it decides the schemes they are in.
type job int

const (
	jobChild job = iota
	jobStudent
	jobEnterprise // employed by a firm
	jobPublic     // 机关事业单位
	jobFarmer     // farming or flexible work
	jobJobless
	jobRetiredEnterprise
	jobRetiredPublic
	jobElder // rural elderly drawing the residents' pension
)

// origin says how a person comes to be in the extracts.
type origin int

const (
	fromHukou     origin = iota // local hukou household member
	fromMigrant                 // 居住人口: lives here, hukou elsewhere
	fromCommuter                // insured here by an employer, lives and is registered elsewhere
	fromNeighbour               // another county's insured, seen in city-level extracts
	fromFuneral                 // died here, registered elsewhere: only a 死亡信息 row
	fromBenchmark               // EnrollmentFile's throw-away people
)

// Life events of local hukou members.
const (
	deathNone       = iota
	deathCancelled  // hukou 死亡 and a 死亡信息 record
	deathPending    // hukou still 正常 although dead by the as-of date (户口待注销)
	deathAfterAsOf  // died after the as-of date; hukou still 正常
	deathPoliceOnly // hukou 死亡 but civil affairs sent no record
)

// person is one true person of the synthetic county.
type person struct {
	id, name    string
	male        bool
	birth       time.Time
	nation      string
	origin      origin
	hh          int    // household index, -1 without a local hukou
	relation    string // 与户主关系
	hukou       string // 人口状态 in 户籍人口
	home        string // 6-digit county of the hukou or of the insurance
	resVillage  int    // village of the 居住人口 record, -1 without one
	resAddress  string
	job         job
	employer    string
	school      string
	death       time.Time
	deathCase   int
	deathRecord bool
	endAll      bool // every enrollment was ended (death, move, cancellation)
}

// household is one 户 of 户籍人口.
type household struct {
	no      string
	village int
	address string
	urban   bool
	members []int
}

// enrollment is one true insurance record.
type enrollment struct {
	who      int
	scheme   int
	region   string // 参保地区划代码
	ins, pay string
	date     time.Time
	employer string
}

// world holds the synthetic county while it is generated.
type world struct {
	opt         Options
	r           *rand.Rand
	persons     []*person
	households  []household
	enrollments []enrollment
	ids         map[string]bool
	hhSeq       map[int]int
	firms       []string
	agencies    []string
	sameCity    []string // other counties of the same city
	elsewhere   []string // counties of other cities and provinces
}

// newWorld prepares an empty world; every random choice flows from Seed.
func newWorld(opt Options) *world {
	w := &world{
		opt:   opt,
		r:     rand.New(rand.NewPCG(uint64(opt.Seed), 0x5eed_da7a)),
		ids:   make(map[string]bool),
		hhSeq: make(map[int]int),
	}
	for _, c := range opt.OtherCounties {
		if c[:4] == opt.County[:4] {
			w.sameCity = append(w.sameCity, c)
		} else {
			w.elsewhere = append(w.elsewhere, c)
		}
	}
	for range 160 {
		w.firms = append(w.firms, opt.CountyName+pick(w.r, firmWords)+pick(w.r, firmTrades)+pick(w.r, firmForms))
	}
	for _, t := range agencyTail {
		w.agencies = append(w.agencies, opt.CountyName+t)
	}
	return w
}

// pick returns a random element of list.
func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// chance reports true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// ageOn is the age in completed years on day; someone born on 29 February
// becomes a year older on 1 March in common years.
func ageOn(birth, day time.Time) int {
	age := day.Year() - birth.Year()
	if day.Month() < birth.Month() || day.Month() == birth.Month() && day.Day() < birth.Day() {
		age--
	}
	return age
}

// populate creates every person, household and enrollment.
func (w *world) populate() {
	for range w.opt.Households {
		w.addHousehold()
	}
	w.addMigrants(w.opt.Households * 12 / 100)
	w.addCommuters(w.opt.Households * 3 / 100)
	w.addNeighbours(w.opt.Households * 18 / 100)
	w.addFuneralDeaths(w.opt.Households * 3 / 1000)
	w.lifeEvents()
	for i := range w.persons {
		w.enrollPerson(i)
	}
}

// otherCounty returns a county other than the run's, preferring near ones.
func (w *world) otherCounty(near bool) string {
	switch {
	case near && len(w.sameCity) > 0:
		return pick(w.r, w.sameCity)
	case !near && len(w.elsewhere) > 0:
		return pick(w.r, w.elsewhere)
	case len(w.opt.OtherCounties) > 0:
		return pick(w.r, w.opt.OtherCounties)
	}
	// Without other counties, invent a neighbour so cross-region cases
	// still exist; the code is a syntactically valid county code.
	if w.opt.County[4:] == "99" {
		return w.opt.County[:4] + "98"
	}
	return w.opt.County[:4] + "99"
}

// newPerson creates a person of the given age and registers a unique ID.
func (w *world) newPerson(o origin, age int, male bool, surname, area string) int {
	birth := w.opt.AsOf.AddDate(-age, 0, -w.r.IntN(365))
	p := &person{
		male: male, birth: birth, nation: randomNation(w.r), origin: o,
		hh: -1, resVillage: -1, home: area,
	}
	if surname == "" {
		surname = randomSurname(w.r)
	}
	p.name = surname + randomGiven(w.r, male)
	p.id = w.newID(area, birth, male)
	p.job = w.pickJob(age, male)
	if p.job == jobStudent {
		p.school = w.pickSchool(age)
	}
	w.persons = append(w.persons, p)
	return len(w.persons) - 1
}

// newID draws a free sequence number with the right sex parity.
func (w *world) newID(area string, birth time.Time, male bool) string {
	for {
		seq := 2*w.r.IntN(499) + 2
		if male {
			seq--
		}
		id := makeID(area, birth, seq)
		if !w.ids[id] {
			w.ids[id] = true
			return id
		}
	}
}

// pickJob chooses an occupation that fits the age.
func (w *world) pickJob(age int, male bool) job {
	retire := 50
	if male {
		retire = 60
	}
	switch {
	case age < 16:
		return jobChild
	case age <= 18 && chance(w.r, 0.7), age >= 19 && age <= 22 && chance(w.r, 0.4):
		return jobStudent
	case age >= retire:
		switch x := w.r.IntN(100); {
		case x < 15:
			return jobRetiredEnterprise
		case x < 19:
			return jobRetiredPublic
		}
		return jobElder
	}
	switch x := w.r.IntN(100); {
	case x < 32:
		return jobEnterprise
	case x < 37:
		return jobPublic
	case x < 91:
		return jobFarmer
	}
	return jobJobless
}

// pickSchool names a senior school for teenagers and a college after.
func (w *world) pickSchool(age int) string {
	if age <= 18 {
		if chance(w.r, 0.2) {
			return strings.TrimRight(w.opt.CountyName, "市县区") + "中学"
		}
		return w.opt.CountyName + pick(w.r, schools)
	}
	return pick(w.r, colleges)
}

// localArea is the address code in a local person's ID: older people were
// often born in another county before moving here.
func (w *world) localArea(age int) string {
	if age >= 32 && len(w.opt.OtherCounties) > 0 && chance(w.r, 0.12) {
		return pick(w.r, w.opt.OtherCounties)
	}
	return w.opt.County
}

// villageAddress makes a street address inside village v.
func (w *world) villageAddress(v int, urban bool) string {
	name := w.opt.Villages[v].Name
	base := strings.TrimSuffix(strings.TrimSuffix(name, "委会"), "居")
	if urban {
		return fmt.Sprintf("%s%s社区%s路%d号", w.opt.CountyName, base, pick(w.r, firmWords), 1+w.r.IntN(180))
	}
	return fmt.Sprintf("%s%s第%d村民小组%d号", w.opt.CountyName, base, 1+w.r.IntN(15), 1+w.r.IntN(90))
}

// isUrban tells 居委会 (urban) from 村委会 (rural) by name or code.
func isUrban(v Village) bool {
	if strings.Contains(v.Name, "居委会") || strings.Contains(v.Name, "社区") {
		return true
	}
	return len(v.Code) == 12 && v.Code[9] < '2'
}
