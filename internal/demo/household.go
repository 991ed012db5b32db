package demo

import "fmt"

// maxMembers caps a household, as the brief asks (1–7 members).
const maxMembers = 7

// addHousehold creates one hukou household in a random village.
func (w *world) addHousehold() {
	v := w.r.IntN(len(w.opt.Villages))
	w.hhSeq[v]++
	urban := isUrban(w.opt.Villages[v])
	h := household{
		no:      fmt.Sprintf("%s%04d", w.opt.Villages[v].Code[6:], w.hhSeq[v]),
		village: v,
		address: w.villageAddress(v, urban),
		urban:   urban,
	}
	w.households = append(w.households, h)
	hi := len(w.households) - 1
	switch x := w.r.IntN(100); {
	case x < 9:
		w.member(hi, "户主", 62+w.r.IntN(33), w.r.IntN(2) == 0, "")
	case x < 22:
		w.elderCouple(hi)
	case x < 28:
		w.member(hi, "户主", 20+w.r.IntN(26), w.r.IntN(3) > 0, "")
	case x < 70:
		w.nuclearFamily(hi)
	case x < 88:
		w.grandparentsFamily(hi)
	default:
		w.parentsLivingIn(hi)
	}
}

// member adds a person to household hi and returns the person index.
func (w *world) member(hi int, relation string, age int, male bool, surname string) int {
	age = max(0, min(age, 100))
	i := w.newPerson(fromHukou, age, male, surname, w.localArea(age))
	p := w.persons[i]
	p.hh, p.relation, p.hukou = hi, relation, hukouNormal
	w.households[hi].members = append(w.households[hi].members, i)
	return i
}

// surnameOf returns the surname part of a person's name.
func (w *world) surnameOf(i int) string {
	rs := []rune(w.persons[i].name)
	if len(rs) >= 3 && isCompound(string(rs[:2])) {
		return string(rs[:2])
	}
	return string(rs[:1])
}

// isCompound reports whether s is one of the two-character surnames used.
func isCompound(s string) bool { return s == "欧阳" || s == "司徒" }

// ageOf is the person's age on the as-of date.
func (w *world) ageOf(i int) int { return ageOn(w.persons[i].birth, w.opt.AsOf) }

// spouseAge is a plausible age for the wife of a man of age a.
func (w *world) spouseAge(a int) int { return a - 4 + w.r.IntN(7) }

// elderCouple is an old couple living on their own.
func (w *world) elderCouple(hi int) {
	head := w.member(hi, "户主", 58+w.r.IntN(32), true, "")
	w.member(hi, "配偶", w.spouseAge(w.ageOf(head)), false, "")
}

// nuclearFamily is a couple with up to three children.
func (w *world) nuclearFamily(hi int) {
	head := w.member(hi, "户主", 24+w.r.IntN(32), true, "")
	a := w.ageOf(head)
	if chance(w.r, 0.92) {
		w.member(hi, "配偶", w.spouseAge(a), false, "")
	}
	w.children(hi, head, a-22-w.r.IntN(14), w.r.IntN(3), "子", "女")
}

// children adds n children of the given surname owner, the eldest aged eldest.
func (w *world) children(hi, parent, eldest, n int, son, daughter string) {
	age := eldest
	for range n {
		if age < 0 || len(w.households[hi].members) >= maxMembers {
			return
		}
		male := w.r.IntN(2) == 0
		rel := daughter
		if male {
			rel = son
		}
		w.member(hi, rel, age, male, w.surnameOf(parent))
		age -= 1 + w.r.IntN(4)
	}
}

// grandparentsFamily is an older head with a married son and grandchildren.
func (w *world) grandparentsFamily(hi int) {
	head := w.member(hi, "户主", 48+w.r.IntN(28), true, "")
	a := w.ageOf(head)
	if chance(w.r, 0.85) {
		w.member(hi, "配偶", w.spouseAge(a), false, "")
	}
	son := w.member(hi, "子", a-22-w.r.IntN(9), true, w.surnameOf(head))
	s := w.ageOf(son)
	if s >= 20 && chance(w.r, 0.85) {
		w.member(hi, "儿媳", w.spouseAge(s), false, "")
	}
	if s >= 20 {
		w.children(hi, head, s-20-w.r.IntN(12), 1+w.r.IntN(2), "孙子", "孙女")
	}
	if chance(w.r, 0.25) && len(w.households[hi].members) < maxMembers {
		w.member(hi, "女", s-2-w.r.IntN(6), false, w.surnameOf(head))
	}
}

// parentsLivingIn is a couple with children and one or two of the
// husband's parents.
func (w *world) parentsLivingIn(hi int) {
	head := w.member(hi, "户主", 30+w.r.IntN(22), true, "")
	a := w.ageOf(head)
	w.member(hi, "配偶", w.spouseAge(a), false, "")
	father := a + 22 + w.r.IntN(10)
	if chance(w.r, 0.6) {
		w.member(hi, "父亲", father, true, w.surnameOf(head))
	}
	w.member(hi, "母亲", w.spouseAge(father), false, "")
	w.children(hi, head, a-22-w.r.IntN(12), 1+w.r.IntN(3), "子", "女")
}

// addMigrants adds about n residents with hukou elsewhere (居住人口): single
// workers and some families with children.
func (w *world) addMigrants(n int) {
	for added := 0; added < n; {
		home := w.otherCounty(false)
		v := w.r.IntN(len(w.opt.Villages))
		addr := w.villageAddress(v, isUrban(w.opt.Villages[v]))
		adult := w.migrant(home, v, addr, 18+w.r.IntN(33), w.r.IntN(3) > 0, "")
		added++
		if !chance(w.r, 0.3) {
			continue
		}
		a := w.ageOf(adult)
		w.migrant(home, v, addr, w.spouseAge(a), !w.persons[adult].male, "")
		added++
		for k := range w.r.IntN(3) {
			w.migrant(home, v, addr, max(0, a-24-3*k), w.r.IntN(2) == 0, w.surnameOf(adult))
			added++
		}
	}
}

// migrant creates one 居住人口 person.
func (w *world) migrant(home string, v int, addr string, age int, male bool, surname string) int {
	i := w.newPerson(fromMigrant, max(0, age), male, surname, home)
	p := w.persons[i]
	p.resVillage, p.resAddress = v, addr
	return i
}

// addCommuters adds n people insured here by an employer but registered
// and living elsewhere (非本地户籍参保).
func (w *world) addCommuters(n int) {
	for range n {
		i := w.newPerson(fromCommuter, 20+w.r.IntN(36), w.r.IntN(3) > 0, "", w.otherCounty(w.r.IntN(2) == 0))
		w.persons[i].job = jobEnterprise
	}
}

// addNeighbours adds n insured persons of other counties of the city:
// city-level scheme extracts carry their rows too.
func (w *world) addNeighbours(n int) {
	for range n {
		w.newPerson(fromNeighbour, w.r.IntN(92), w.r.IntN(2) == 0, "", w.otherCounty(true))
	}
}

// addFuneralDeaths adds n people of other counties who died here; the
// funeral parlour reports them to local civil affairs.
func (w *world) addFuneralDeaths(n int) {
	for range n {
		i := w.newPerson(fromFuneral, 70+w.r.IntN(26), w.r.IntN(2) == 0, "", w.otherCounty(true))
		p := w.persons[i]
		p.deathRecord = true
		p.death = w.opt.AsOf.AddDate(0, 0, -1-w.r.IntN(900))
	}
}

// lifeEvents applies deaths, moves and cancellations to local hukou members.
func (w *world) lifeEvents() {
	pending, after := 0, 0
	for _, p := range w.persons {
		if p.origin != fromHukou {
			continue
		}
		age := ageOn(p.birth, w.opt.AsOf)
		switch {
		case chance(w.r, deathChance(age)):
			w.die(p, &pending, &after)
		case age >= 18 && age <= 50 && chance(w.r, 0.018):
			p.hukou = hukouMoved
			p.endAll = chance(w.r, 0.5)
		case age >= 18 && chance(w.r, 0.002):
			p.hukou = hukouRemoved
			p.endAll = true
		}
	}
}

// deathChance is the share of people of a given age who died within the
// window the extracts cover (about three years).
func deathChance(age int) float64 {
	switch {
	case age >= 75:
		return 0.06
	case age >= 60:
		return 0.025
	case age >= 18:
		return 0.002
	}
	return 0
}

// die records one death. The first pending death falls exactly on the
// as-of date and the first late one on the day after, so the boundary
// cases are always present.
func (w *world) die(p *person, pending, after *int) {
	asOf := w.opt.AsOf
	switch x := w.r.IntN(100); {
	case x < 60:
		p.deathCase, p.hukou, p.deathRecord = deathCancelled, hukouDead, true
		p.death = asOf.AddDate(0, 0, -1-w.r.IntN(1100))
		p.endAll = !chance(w.r, 0.25)
	case x < 80:
		p.deathCase, p.deathRecord = deathPending, true
		p.death = asOf.AddDate(0, 0, -w.r.IntN(700))
		if *pending == 0 {
			p.death = asOf
		}
		*pending++
		p.endAll = !chance(w.r, 0.6)
	case x < 92:
		p.deathCase, p.deathRecord = deathAfterAsOf, true
		p.death = asOf.AddDate(0, 0, 1+w.r.IntN(200))
		if *after == 0 {
			p.death = asOf.AddDate(0, 0, 1)
		}
		*after++
		p.endAll = !chance(w.r, 0.92)
	default:
		p.deathCase, p.hukou = deathPoliceOnly, hukouDead
		p.death = asOf.AddDate(0, 0, -1-w.r.IntN(1100))
		p.endAll = true
	}
	if p.death.Before(p.birth) {
		p.death = p.birth
	}
}
