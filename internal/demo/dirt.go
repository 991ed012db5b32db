package demo

import (
	"math/rand/v2"
	"strings"
)

// Dirt rates, as shares of the data rows of the non-户籍 files (police data
// arrives clean). They follow what department extracts of the 2017
// campaign looked like and keep ID damage at 1.4% of rows, so a linker
// that repairs it can link well over 99.5% of rows with an ID correctly.
const (
	rateWrongDigit  = 0.006 // one digit mistyped
	rateSwap        = 0.003 // two neighbouring digits swapped
	rateNumeric     = 0.003 // ID turned into a spreadsheet number (15 digits kept)
	rateBlankID     = 0.002 // ID left empty, the name kept
	rateNameTypo    = 0.005 // one name character replaced by a homophone or look-alike
	rateNumericFull = 0.002 // a spreadsheet number written back as text in full digits (…000)
	rateNamePoly    = 0.002 // one name character replaced by one sharing a rarer reading (亮/靓)
	rateNameOrder   = 0.001 // the given name's characters typed in the wrong order (张丰三)
	rateSeqTwo      = 0.001 // two wrong digits in the sequence part, region and birth date intact

	// Normalization-only noise (DOMAIN §1): not damage, not 信息有误.
	rateOldID     = 0.02  // 15-digit pre-1999 form, only for people born 1900–1999
	rateFullWidth = 0.005 // full-width digits and Ｘ
	rateSpaces    = 0.005 // spaces inside or around the ID
	rateLowerX    = 0.25  // share of rows whose ID ends in X that write x
)

// Labels of truth/records.csv's 记录损坏 column.
const (
	damageWrongDigit  = "号码错一位"
	damageSwap        = "号码相邻两位互换"
	damageNumeric     = "号码被转为数值"
	damageBlankID     = "号码为空"
	damageNameTypo    = "姓名错字"
	damageNumericFull = "号码被转为补零整数"
	damageNamePoly    = "姓名多音字"
	damageNameOrder   = "姓名字序颠倒"
	damageSeqTwo      = "号码顺序码错两位"
	damageRounded     = "号码被舍入为数值"
	damageInvalid     = "无效行"
)

// Noise labels, kept on rows for statistics only.
const (
	noiseOldID     = "15位"
	noiseFullWidth = "全角"
	noiseSpaces    = "空格"
	noiseLowerX    = "小写x"
)

// dirtKind is one kind of dirt with its rate and its applier, which
// reports false when the row cannot take it without becoming ambiguous.
type dirtKind struct {
	label string
	rate  float64
	apply func(x *extract, r *row) bool
}

// dirtier applies dirt over all files, carrying over dirt that a row
// could not take to the next row that can, so that rates hold.
type dirtier struct {
	w        *world
	r        *rand.Rand
	known    map[string]int // true ID → person, of persons with rows
	prefix15 map[string]int // first 15 digits → number of known IDs
	names    map[string]int // name → number of known persons
	// name + birth date (yyyymmdd) → known persons; first 14 digits + name → known persons
	nameBirth, prefix14Name map[string]int
	named                   map[int]bool // persons whose identity comes from 户籍/居住
	damages                 []dirtKind
	noises                  []dirtKind
	pending                 map[string]int
	scale                   float64 // rows per row that may be damaged (identity rows may not)
}

// applyDirt damages and blurs rows of the non-户籍 files.
func (w *world) applyDirt(files []*extract) {
	d := w.newDirtier(files)
	for _, x := range files {
		if x.spec.kind == KindHukou {
			continue
		}
		for _, r := range x.rows {
			if r.who >= 0 {
				d.dirty(x, r)
			}
		}
	}
}

// newDirtier indexes the known persons and marks identity rows.
func (w *world) newDirtier(files []*extract) *dirtier {
	d := &dirtier{
		w: w, r: rand.New(rand.NewPCG(uint64(w.opt.Seed), 0xd1e7)),
		known: map[string]int{}, prefix15: map[string]int{}, names: map[string]int{},
		nameBirth: map[string]int{}, prefix14Name: map[string]int{},
		named: map[int]bool{}, pending: map[string]int{},
	}
	first := map[int]*row{}
	for _, x := range files {
		for _, r := range x.rows {
			if r.who < 0 {
				continue
			}
			if _, ok := first[r.who]; !ok {
				first[r.who] = r
				p := w.persons[r.who]
				d.known[p.id] = r.who
				d.prefix15[p.id[:15]]++
				d.names[p.name]++
				d.nameBirth[p.name+p.id[6:14]]++
				d.prefix14Name[p.id[:14]+p.name]++
			}
			if x.spec.kind == KindHukou || x.spec.kind == KindResidence {
				d.named[r.who] = true
			}
		}
	}
	// Files come in kind order 户籍, 居住, then the others, so the first
	// row of a person is exactly where DOMAIN §5 takes their identity from.
	for _, r := range first {
		r.identity = true
	}
	d.scale = damageScale(files)
	d.setKinds()
	return d
}

// setKinds lists the damage and noise kinds with their appliers.
func (d *dirtier) setKinds() {
	d.damages = []dirtKind{
		{damageWrongDigit, rateWrongDigit, d.wrongDigit},
		{damageSwap, rateSwap, d.swap},
		{damageNumeric, rateNumeric, d.numeric},
		{damageBlankID, rateBlankID, d.blank},
		{damageNameTypo, rateNameTypo, d.nameTypo},
		{damageNumericFull, rateNumericFull, d.numericFull},
		{damageNamePoly, rateNamePoly, d.namePoly},
		{damageNameOrder, rateNameOrder, d.nameOrder},
		{damageSeqTwo, rateSeqTwo, d.seqTwo},
	}
	d.noises = []dirtKind{
		{noiseOldID, rateOldID, d.oldID},
		{noiseFullWidth, rateFullWidth, d.fullWidth},
		{noiseSpaces, rateSpaces, d.spaces},
	}
}

// damageScale is the number of data rows of the non-户籍 files per row that
// may be damaged. Damage is drawn on damageable rows only, at rates scaled
// up by it, so that it does not pile up behind runs of identity rows (a
// whole 居住人口 file) while the rates still hold over all rows.
func damageScale(files []*extract) float64 {
	rows, free := 0, 0
	for _, x := range files {
		if x.spec.kind == KindHukou {
			continue
		}
		for _, r := range x.rows {
			if r.who >= 0 {
				rows++
				if !r.identity {
					free++
				}
			}
		}
	}
	if free == 0 {
		return 1
	}
	return float64(rows) / float64(free)
}

// dirty draws the dirt of one row.
func (d *dirtier) dirty(x *extract, r *row) {
	if !r.identity {
		d.accrue(d.damages, d.scale)
		r.damage = d.applyOne(x, r, d.damages)
	}
	d.accrue(d.noises, 1)
	if r.damage != "" && r.damage != damageNameTypo {
		return
	}
	if r.noise = d.applyOne(x, r, d.noises); r.noise != "" {
		return
	}
	if id := r.vals[0].(string); strings.HasSuffix(id, "X") && chance(d.r, rateLowerX) {
		r.vals[0], r.noise = strings.ToLower(id), noiseLowerX
	}
}

// accrue adds each kind's share of one row, times scale, to what is pending.
func (d *dirtier) accrue(kinds []dirtKind, scale float64) {
	for _, k := range kinds {
		if d.r.Float64() < k.rate*scale {
			d.pending[k.label]++
		}
	}
}

// applyOne applies the first pending kind the row can take and returns
// its label; the starting kind rotates so that none starves.
func (d *dirtier) applyOne(x *extract, r *row, kinds []dirtKind) string {
	start := d.r.IntN(len(kinds))
	for n := range kinds {
		k := kinds[(start+n)%len(kinds)]
		if d.pending[k.label] > 0 && k.apply(x, r) {
			d.pending[k.label]--
			return k.label
		}
	}
	return ""
}

// trueID is the row's person's ID.
func (d *dirtier) trueID(r *row) string { return d.w.persons[r.who].id }

// recoverable reports whether damaged is invalid and leads back to id
// alone: no other known person is one typo or one swap away from it.
func (d *dirtier) recoverable(damaged, id string) bool {
	if damaged == id || checksumOK(damaged) {
		return false
	}
	ok := true
	idNeighbours(damaged, func(c string) {
		if _, known := d.known[c]; known && c != id {
			ok = false
		}
	})
	return ok
}

// typo applies an ID typo drawn by f, redrawing when it is ambiguous.
func (d *dirtier) typo(r *row, f func(string, *rand.Rand) string) bool {
	id := d.trueID(r)
	for range 10 {
		if c := f(id, d.r); d.recoverable(c, id) {
			r.vals[0] = c
			return true
		}
	}
	return false
}

// wrongDigit mistypes one character.
func (d *dirtier) wrongDigit(_ *extract, r *row) bool { return d.typo(r, idWrongDigit) }

// swap exchanges two neighbouring characters.
func (d *dirtier) swap(_ *extract, r *row) bool { return d.typo(r, idSwap) }

// numeric turns an all-digit ID into a spreadsheet number; only when its
// first 15 digits still single out the person and the zero-padded number
// does not pass as a valid ID by chance (one time in eleven).
func (d *dirtier) numeric(x *extract, r *row) bool {
	id := d.trueID(r)
	if !allDigits(id) || d.prefix15[id[:15]] != 1 || checksumOK(id[:15]+"000") {
		return false
	}
	if x.spec.xlsx {
		r.vals[0] = idAsNumber(id)
	} else {
		r.vals[0] = idScientific(id)
	}
	return true
}

// numericFull writes the number a spreadsheet kept (15 digits and zeros)
// back out as text in full, as an export of a number column does. One in
// eleven passes its check character by chance; the linker must still take
// it for the person sharing its first 15 digits and name (issue 9.2), so
// the first 15 digits must single the person out.
func (d *dirtier) numericFull(_ *extract, r *row) bool {
	id := d.trueID(r)
	padded := id[:15] + "000"
	if !allDigits(id) || padded == id || d.prefix15[id[:15]] != 1 {
		return false
	}
	if _, taken := d.known[padded]; taken {
		return false
	}
	r.vals[0] = padded
	return true
}

// namePoly writes one character of the name as another that shares one
// of its rarer readings (孟亮 as 孟靓).
func (d *dirtier) namePoly(_ *extract, r *row) bool { return d.rename(r, namePolyphone) }

// nameOrder swaps the two characters of a two-character given name;
// only for persons named by 户籍人口 or 居住人口, and only when nobody of
// the new name shares the person's birth date (that person would win).
func (d *dirtier) nameOrder(_ *extract, r *row) bool {
	p := d.w.persons[r.who]
	rs := []rune(p.name)
	n := len(rs)
	if !d.named[r.who] || n < 3 || rs[n-1] == rs[n-2] {
		return false
	}
	rs[n-1], rs[n-2] = rs[n-2], rs[n-1]
	if d.nameBirth[string(rs)+p.id[6:14]] > 0 {
		return false
	}
	r.vals[1] = string(rs)
	return true
}

// seqTwo changes two digits of the sequence part (positions 15-17) so
// that the check fails; only when no known ID is one typo away (the
// linker would rightly try it) and the person is the only one of the
// name born that day in that county.
func (d *dirtier) seqTwo(_ *extract, r *row) bool {
	p := d.w.persons[r.who]
	if d.nameBirth[p.name+p.id[6:14]] != 1 || d.prefix14Name[p.id[:14]+p.name] != 1 {
		return false
	}
	for range 10 {
		b := []byte(p.id)
		i := 14 + d.r.IntN(2)
		j := i + 1 + d.r.IntN(16-i)
		b[i] = '0' + (b[i]-'0'+byte(1+d.r.IntN(9)))%10
		b[j] = '0' + (b[j]-'0'+byte(1+d.r.IntN(9)))%10
		if c := string(b); d.recoverable(c, "") {
			r.vals[0] = c
			return true
		}
	}
	return false
}

// blank empties the ID; only when the name alone still finds the person.
func (d *dirtier) blank(_ *extract, r *row) bool {
	if d.names[d.w.persons[r.who].name] != 1 {
		return false
	}
	r.vals[0] = ""
	return true
}

// nameTypo misspells the name.
func (d *dirtier) nameTypo(_ *extract, r *row) bool { return d.rename(r, nameTypo) }

// rename writes the row's name as change makes it; only for persons whose
// identity comes from 户籍人口 or 居住人口, so that the person's own name
// stays certain.
func (d *dirtier) rename(r *row, change func(string, *rand.Rand) (string, bool)) bool {
	if !d.named[r.who] {
		return false
	}
	name, ok := change(d.w.persons[r.who].name, d.r)
	if ok {
		r.vals[1] = name
	}
	return ok
}

// oldID writes the 15-digit form, which only people born in the 1900s had.
func (d *dirtier) oldID(_ *extract, r *row) bool {
	id := d.trueID(r)
	if id[6:8] != "19" {
		return false
	}
	r.vals[0] = idOld(id)
	return true
}

// fullWidth writes the ID in full-width characters.
func (d *dirtier) fullWidth(_ *extract, r *row) bool {
	r.vals[0] = fullWidth(d.trueID(r))
	return true
}

// spaces puts spaces into or around the ID.
func (d *dirtier) spaces(_ *extract, r *row) bool {
	r.vals[0] = idSpaced(d.trueID(r), d.r)
	return true
}
