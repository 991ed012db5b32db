package compare

import "slices"

// A spreadsheet that turned 440981195410113780 into 4.40981195410114E+17
// and back into text writes 440981195410113000: its first 15 digits and
// zeros. One such number in eleven passes its check character by chance
// and founds a person of its own. mergeMangled undoes that (issue 9.2).

// endsIn000 tells whether a packed ID ends in "000": check character 0
// and the 17 digits ending in 00.
func endsIn000(v uint64) bool { return v%11 == 0 && v/11%100 == 0 }

// mergeMangled merges every person whose valid ID ends in 000 into the one
// other person sharing its first 15 digits (or one less in the last place:
// rounded up) and its name, and reports
// whether it merged any. known must be the run's sorted IDs.
func (s *state) mergeMangled(known knownIDs) bool {
	into := map[int32]int32{}
	// The first s.sorted persons are an incremental run's ghosts (or
	// slots emptied of them): none has an ID ending in 000, a person
	// always touched (see remap).
	for pi := s.sorted; pi < len(s.persons); pi++ {
		p := &s.persons[pi]
		if !endsIn000(p.id) || p.links == 0 || p.name.n == 0 {
			continue
		}
		if real, ok := s.mangledOf(known, p); ok {
			s.merge(int32(pi), real)
			into[int32(pi)] = real
		}
	}
	if len(into) == 0 {
		return false
	}
	for li, pi := range s.linkPerson {
		if real, ok := into[pi]; ok {
			s.linkPerson[li] = real
		}
	}
	return true
}

// mangledOf finds the one other person whose ID shares p's first 15
// digits and whose name is p's.
// The number may also have been rounded up from one less in the 15th
// digit (see roundedFrom).
func (s *state) mangledOf(known knownIDs, p *person) (int32, bool) {
	// p.id is the first 15 digits then "000", the smallest ID sharing
	// them; those rounded up to them start 1100 below.
	lo, hi := p.id-min(p.id, 1100), p.id+1100
	i, _ := slices.BinarySearch(known, lo)
	found, n := int32(-1), 0
	for ; i < len(known) && known[i] < hi; i++ {
		if known[i] == p.id {
			continue
		}
		qi, _ := s.find(known[i])
		if q := &s.persons[qi]; !q.merged && string(s.bytes(q.name)) == string(s.bytes(p.name)) {
			found, n = qi, n+1
		}
	}
	return found, n == 1
}

// merge moves person pi's links and facts to person real: the records are
// real's, with a damaged ID (信息有误). Lookups of pi's ID find real.
func (s *state) merge(pi, real int32) {
	p, r := &s.persons[pi], &s.persons[real]
	if r.ghost {
		s.ghostHits = append(s.ghostHits, real)
	}
	c := contrib{mask: p.mask | bitInfoError, pension: p.pension, medical: p.medical, death: p.death,
		homeRank: p.homeRank, home: p.home, scheme: -1}
	s.addFacts(real, r, &c)
	m := s.multi[pi]
	for sc := range maxSchemes {
		if p.schemes&(1<<sc) == 0 {
			continue
		}
		county := p.county
		if m != nil {
			county = m[sc]
		}
		if county != 0 {
			s.enrolledIn(real, r, &contrib{scheme: int8(sc), county: county})
		}
	}
	delete(s.multi, pi)
	r.links += p.links
	p.links, p.merged, p.mask = 0, true, 0
	s.index[p.id] = real
}
