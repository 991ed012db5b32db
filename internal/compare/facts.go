package compare

import (
	"bytes"
	"math/bits"

	"github.com/canbao/canbao/internal/source"
)

// Bits of a person's fact mask, ORed over their linked records.
const (
	bitHukouLocal = 1 << iota
	bitHukouNormal
	bitResidentLocal
	bitDeath
	bitStudent
	bitPensionOK
	bitLocalActive
	bitAnyActive
	bitInfoError
	bitCrossRegion
)

// maxSchemes bounds the schemes a person's bit sets can hold.
const maxSchemes = 16

func init() {
	if len(source.Schemes()) > maxSchemes {
		panic("compare: more schemes than maxSchemes")
	}
}

// contrib is what one record adds to its person's facts (DOMAIN §5).
type contrib struct {
	mask             uint16
	pension, medical uint8
	death            int32
	homeRank         uint8
	home             uint32
	scheme           int8   // an active enrollment's scheme bit, or -1
	county           uint32 // and its county (参保地), 0 when unknown
}

// contrib computes a record's facts. A record is an active enrollment
// unless 终止参保 (4) or 停止缴费 (3); interrupted when 暂停 (2) in either.
func (s *state) contrib(b *runBatch, r *rawRecord) contrib {
	kind := source.Kind(b.Kind)
	c := contrib{death: noDate, scheme: -1}
	local := r.region != nil && bytes.HasPrefix(r.region, s.regionB)
	hukou := kind == source.Hukou && string(r.pop) == source.PopNormal
	active := kind == source.Enrollment && r.enroll != 4 && r.pay != 3
	interrupted := r.enroll == 2 || r.pay == 2
	switch {
	case hukou && r.hukou != nil && bytes.HasPrefix(r.hukou, s.regionB):
		c.mask |= bitHukouLocal
		c.homeRank, c.home = 1, s.dict.id(r.hukou)
	case kind == source.Resident && local:
		c.mask |= bitResidentLocal
		c.homeRank, c.home = 2, s.dict.id(r.region)
	case active && local:
		c.homeRank, c.home = 3, s.dict.id(r.region)
	}
	if hukou {
		c.mask |= bitHukouNormal
	}
	switch kind {
	case source.Death:
		c.mask |= bitDeath
		c.death = r.death
	case source.Student:
		c.mask |= bitStudent
	}
	if !active {
		return c
	}
	c.mask |= bitAnyActive
	if local {
		c.mask |= bitLocalActive
	}
	if i := position(s.pension, r.scheme); i >= 0 {
		c.pension = 1 << i
		if !interrupted {
			c.mask |= bitPensionOK
		}
	}
	if i := position(s.medical, r.scheme); i >= 0 {
		c.medical = 1 << i
	}
	if sc, ok := s.schemes[string(r.scheme)]; ok && r.region != nil {
		c.scheme = sc
		c.county = s.dict.id(r.region[:min(6, len(r.region))])
	}
	return c
}

func position(keys []string, v []byte) int {
	for i, k := range keys {
		if string(v) == k {
			return i
		}
	}
	return -1
}

// addFacts adds a record's facts to its person.
func (s *state) addFacts(pi int32, p *person, c *contrib) {
	p.mask |= c.mask
	p.pension |= c.pension
	p.medical |= c.medical
	if c.death != noDate && (p.death == noDate || c.death < p.death) {
		p.death = c.death
	}
	if c.homeRank != 0 && (p.homeRank == 0 || c.homeRank < p.homeRank ||
		c.homeRank == p.homeRank && s.dict.vals[c.home] < s.dict.vals[p.home]) {
		p.homeRank, p.home = c.homeRank, c.home
	}
	if c.scheme >= 0 && c.county != 0 {
		s.enrolledIn(pi, p, c)
	}
}

// enrolledIn notes an active enrollment's county to find one scheme active
// in two counties (制度内跨地区重复参保). Nearly everyone's enrollments are
// in one county, so a person holds one county and the schemes seen there;
// only a person with a second county gets a county per scheme, on the side.
func (s *state) enrolledIn(pi int32, p *person, c *contrib) {
	m, ok := s.multi[pi]
	switch {
	case !ok && (p.county == 0 || p.county == c.county):
		p.county = c.county
		p.schemes |= 1 << c.scheme
		return
	case !ok:
		m = new([maxSchemes]uint32)
		for sc := range maxSchemes {
			if p.schemes&(1<<sc) != 0 {
				m[sc] = p.county
			}
		}
		s.multi[pi] = m
	}
	switch first := m[c.scheme]; {
	case first == 0:
		m[c.scheme] = c.county
	case first != c.county:
		p.mask |= bitCrossRegion
	}
	p.schemes |= 1 << c.scheme
}

// facts turns a person's accumulated bits into Classify's Facts.
func (p *person) facts() Facts {
	m := p.mask
	return Facts{
		Birth: dayTime(p.birth), HukouLocal: m&bitHukouLocal != 0, HukouNormal: m&bitHukouNormal != 0,
		ResidentLocal: m&bitResidentLocal != 0, HasDeath: m&bitDeath != 0, DeathDate: dayTime(p.death),
		Student: m&bitStudent != 0, PensionSchemes: bits.OnesCount8(p.pension), PensionOK: m&bitPensionOK != 0,
		MedicalSchemes: bits.OnesCount8(p.medical), CrossRegion: m&bitCrossRegion != 0,
		LocalActive: m&bitLocalActive != 0, AnyActive: m&bitAnyActive != 0, InfoError: m&bitInfoError != 0,
	}
}
