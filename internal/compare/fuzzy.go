package compare

import (
	"context"
	"encoding/binary"
	"hash/maphash"
	"slices"
	"sort"

	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/names"
)

// Link decisions need a clear winner: a name at least this close (a
// homophone or look-alike typo or better) ...
const linkScore = 0.8

// ... and ahead of the runner-up by this much; closer calls go to review.
const clearMargin = 0.15

// pending is a record the exact step could not link, then what became of
// it: every pending record is written to run_link with its outcome.
type pending struct {
	batchID  int64
	bi       int32 // index into the run's batches
	line     int32
	kind     string
	id       string // normalized (or recovered) ID
	damage   string // idcard damage code; "ok" for a valid ID whose name disagrees
	name     string
	region   string
	c        contrib
	decision *decision

	linked     string // the person's ID, "" when none
	method     string // exact, fuzzy, name, reviewed, review, unmatched
	nameDiff   bool
	reason     string
	candidates []candidate // for review
}

func (s *state) newPending(b *runBatch, bi int32, r *rawRecord) *pending {
	damage := string(r.damage)
	if r.damage == nil {
		damage = "ok"
	}
	return &pending{batchID: b.ID, bi: bi, line: r.line, kind: b.Kind, id: string(r.id), damage: damage,
		name: string(r.name), region: string(r.region), c: s.contrib(b, r)}
}

// candidate is a person a pending record may belong to.
type candidate struct {
	id    string
	score float64
}

// fuzzyLinks decides every record the exact step left: reviewers'
// decisions first, then damaged IDs and valid IDs whose name disagrees
// with the person's. Each gets candidate persons (IDs one typo away, the
// first 15 digits of a spreadsheet-mangled number, or the same name when
// no ID is usable), scored by name.
func (r *run) fuzzyLinks(ctx context.Context) error {
	s := r.state
	known := s.known()
	if s.mergeMangled(known) {
		known = s.known()
	}
	var todo []*pending
	for _, p := range s.pending {
		if p.decision != nil {
			s.applyDecision(p)
			continue
		}
		if pi, ok := s.lookup(p.id); ok && p.damage == "ok" && unpack(s.persons[pi].id) != p.id {
			p.damage = "mangled" // its ID was merged away as a mangled copy
		}
		todo = append(todo, p)
	}
	cands := make([][]string, len(todo))
	sameName := map[string][]string{}
	memo := r.candidateMemo(known)
	for i, p := range todo {
		if memo.decidedBefore(p) {
			continue
		}
		cands[i] = memo.candidates(known, p)
		if p.name != "" && (p.damage == "ok" || len(cands[i]) == 0) {
			sameName[p.name] = nil
		}
	}
	s.personsNamed(sameName)
	for i, p := range todo {
		if memo.decideAgain(s, p) {
			continue
		}
		switch {
		case p.damage == "ok":
			// Another person of the record's name born on the ID's birth
			// date: an ID taken from a relative, say.
			for _, id := range sameName[p.name] {
				if id != p.id && id[6:14] == p.id[6:14] {
					cands[i] = append(cands[i], id)
				}
			}
		case len(cands[i]) == 0 && p.damage == "check":
			// Two or more wrong digits in the sequence part: the region,
			// birth date and name may still single the person out.
			if id, ok := s.sameBirthAndName(known, p); ok {
				cands[i] = []string{id}
			} else {
				cands[i] = sameName[p.name]
			}
		case len(cands[i]) == 0:
			cands[i] = sameName[p.name]
		}
		s.decide(p, cands[i])
		memo.remember(p)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// candMemo keeps, for an incremental run's later rounds, what the last
// round found for each pending record: its candidates by ID while the
// known IDs stay the same, and its decision while every person's ID and
// name (and where a merged ID leads) stay the same too. A later round adds
// the records of a few ghosts, persons known already, and would otherwise
// look every damaged ID's neighbours and every blank ID's namesakes up and
// score them again.
type candMemo struct {
	known   knownIDs
	names   [2]uint64 // see nameWorld and sealNames
	found   map[candKey][]string
	decided map[candKey]decided
}

type candKey struct {
	rec        recordKey
	id, damage string
}

// decided is what decide made of a record.
type decided struct {
	method, reason string
	candidates     []candidate
	linked         string
	nameDiff       bool
}

func keyOf(p *pending) candKey { return candKey{recordKey{p.batchID, p.line}, p.id, p.damage} }

// candidateMemo returns the memo for the state and its known IDs: an
// incremental run's, emptied of what no longer holds; none for a full run.
func (r *run) candidateMemo(known knownIDs) *candMemo {
	if r.inc == nil {
		return nil
	}
	m := &r.inc.cands
	if m.found == nil || !slices.Equal(m.known, known) {
		m.known, m.found, m.decided = known, map[candKey][]string{}, nil
	}
	// m.names is the last round's fingerprint, taken as it ended (see
	// sealNames): a run of one round never takes one.
	if m.decided == nil || r.state.nameWorld() != m.names {
		m.decided = map[candKey]decided{}
	}
	return m
}

// sealNames takes the fingerprint of the round that ended with state s,
// for the next round's candidateMemo. Nothing a round does after its
// candidateMemo changes a person's ID, name or merge (see nameWorld).
func (m *candMemo) sealNames(s *state) {
	if m.decided != nil {
		m.names = s.nameWorld()
	}
}

// candidates are known.candidates(p), remembered; a nil memo remembers
// nothing. The caller may append to what it returns.
func (m *candMemo) candidates(known knownIDs, p *pending) []string {
	if m == nil {
		return known.candidates(p)
	}
	k := keyOf(p)
	c, ok := m.found[k]
	if !ok {
		c = known.candidates(p)
		m.found[k] = c
	}
	return slices.Clip(c)
}

func (m *candMemo) decidedBefore(p *pending) bool {
	if m == nil {
		return false
	}
	_, ok := m.decided[keyOf(p)]
	return ok
}

// decideAgain gives p the decision remembered for it, as decide would,
// and reports whether there was one.
func (m *candMemo) decideAgain(s *state, p *pending) bool {
	if m == nil {
		return false
	}
	d, ok := m.decided[keyOf(p)]
	if !ok {
		return false
	}
	p.method, p.reason, p.candidates = d.method, d.reason, d.candidates
	if d.linked != "" {
		pi, ok := s.lookup(d.linked)
		if !ok { // cannot happen: the same persons are known
			p.method, p.reason = "unmatched", unmatchedReason(p)
			return true
		}
		p.nameDiff = d.nameDiff
		s.linkPending(p, pi)
	}
	return true
}

func (m *candMemo) remember(p *pending) {
	if m != nil {
		m.decided[keyOf(p)] = decided{p.method, p.reason, p.candidates, p.linked, p.nameDiff}
	}
}

// nameSeed keys nameWorld's hashes.
var nameSeed = maphash.MakeSeed()

// nameWorld fingerprints what a record's candidates, their scores and
// the persons they lead to depend on besides the known IDs: each person's
// ID and name, and the person a merged ID leads to. A ghost emptied for a
// later round (see resetGhosts) is left out: its ID is a person of its
// own again, or none. Two sums of 64-bit hashes, in any order of the
// persons.
func (s *state) nameWorld() [2]uint64 {
	var sum [2]uint64
	var buf []byte
	for i := range s.persons {
		p := &s.persons[i]
		to := p.id
		if p.merged {
			pi, ok := s.find(p.id)
			if !ok || s.persons[pi].id == p.id {
				continue
			}
			to = s.persons[pi].id
		}
		buf = binary.LittleEndian.AppendUint64(buf[:0], p.id)
		buf = binary.LittleEndian.AppendUint64(buf, to)
		buf = append(buf, s.bytes(p.name)...)
		h := maphash.Bytes(nameSeed, buf)
		sum[0] += h
		sum[1] ^= h * 0x9E3779B97F4A7C15
	}
	return sum
}

// sameBirthAndName finds the one person whose ID shares the record's
// region and birth date (its first 14 characters) and whose name is the
// record's.
func (s *state) sameBirthAndName(known knownIDs, p *pending) (string, bool) {
	if p.name == "" || len(p.id) != 18 {
		return "", false
	}
	found := ""
	for _, id := range known.withPrefix14(p.id[:14]) {
		if names.Compare(p.name, s.nameOf(id)) == names.Same {
			if found != "" {
				return "", false
			}
			found = id
		}
	}
	return found, found != ""
}

// applyDecision links a record as a reviewer decided.
func (s *state) applyDecision(p *pending) {
	p.method = "reviewed"
	pi, ok := s.lookup(p.decision.id)
	switch {
	case p.decision.id == "":
		p.reason = "审核认定无匹配人员"
	case !ok:
		p.reason = "审核认定的人员不在本次比对的数据中"
	default:
		p.nameDiff = s.namesDisagree(p.name, pi)
		s.linkPending(p, pi)
	}
}

// decide links, queues for review, or leaves a record unmatched.
func (s *state) decide(p *pending, ids []string) {
	if len(ids) == 0 {
		p.method, p.reason = "unmatched", unmatchedReason(p)
		return
	}
	cs := make([]candidate, len(ids))
	for i, id := range ids {
		cs[i] = candidate{id: id, score: nameScore(p.name, s.nameOf(id))}
		if p.damage == "ok" && id == p.id && cs[i].score < linkScore && names.SameCharacters(p.name, s.nameOf(id)) {
			cs[i].score = linkScore // a valid ID and the name's characters in another order (张丰三 for 张三丰)
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].score > cs[j].score })
	best := cs[0]
	clear := best.score >= linkScore && (len(cs) == 1 || best.score-cs[1].score >= clearMargin)
	if p.damage == "ok" && len(cs) > 1 && cs[1].id == p.id && cs[1].score >= linkScore && best.score-cs[1].score < clearMargin {
		clear = false // the record's own valid ID is about as good: a person must decide
	}
	if !clear {
		p.method, p.reason, p.candidates = "review", "候选人员相近，待人工审核", cs
		return
	}
	p.method = "fuzzy"
	if p.damage == "ok" && best.id == p.id {
		p.method = "exact"
	} else if p.damage != "ok" && !usableDamage(p.damage) {
		p.method = "name"
	}
	pi, ok := s.lookup(best.id)
	if !ok { // cannot happen: candidates are known persons
		p.method, p.reason = "unmatched", unmatchedReason(p)
		return
	}
	p.nameDiff = s.namesDisagree(p.name, pi)
	s.linkPending(p, pi)
}

// namesDisagree tells whether a record's name disagrees with person pi's
// (信息有误); a blank on either side says nothing.
func (s *state) namesDisagree(name string, pi int32) bool {
	own := s.str(s.persons[pi].name)
	return name != "" && own != "" && names.Compare(name, own) != names.Same
}

// linkPending links a pending record to person pi; a damaged ID or a name
// that disagrees is 信息有误 for the person.
func (s *state) linkPending(p *pending, pi int32) {
	p.linked = unpack(s.persons[pi].id)
	if p.damage != "ok" || p.nameDiff {
		p.c.mask |= bitInfoError
	}
	s.link(pi, p.bi, p.line, &p.c)
}

// lookup finds the person of an ID.
func (s *state) lookup(id string) (int32, bool) {
	key, ok := pack(id)
	if !ok {
		return 0, false
	}
	return s.find(key)
}

func (s *state) nameOf(id string) string {
	if pi, ok := s.lookup(id); ok {
		return s.str(s.persons[pi].name)
	}
	return ""
}

// personsNamed fills want (name → nil) with the IDs of the persons bearing
// each name, in ID order.
func (s *state) personsNamed(want map[string][]string) {
	if len(want) == 0 {
		return
	}
	// Most of a million names are none of the few wanted: a bit per
	// signature (see nameSig) rules them out before the map is asked.
	var sigs [1 << 16 / 64]uint64
	for name := range want {
		g := nameSig([]byte(name))
		sigs[g/64] |= 1 << (g % 64)
	}
	for i := range s.persons {
		p := &s.persons[i]
		name := s.bytes(p.name)
		if g := nameSig(name); sigs[g/64]&(1<<(g%64)) == 0 {
			continue
		}
		if ids, ok := want[string(name)]; ok {
			want[string(name)] = append(ids, unpack(p.id))
		}
	}
	for _, ids := range want {
		slices.Sort(ids)
	}
}

// nameSig is a 16-bit signature of a name: its length and last two
// bytes (a Chinese name's given name varies more than its surname).
func nameSig(b []byte) uint32 {
	h := uint32(len(b)) * 0x9E37
	if n := len(b); n >= 2 {
		h += uint32(b[n-1]) | uint32(b[n-2])<<8
	} else if n == 1 {
		h += uint32(b[0])
	}
	return (h ^ h>>16) & (1<<16 - 1)
}

// known lists every identity's packed ID in order, but for merged ones.
// The first s.sorted persons are in order already (an incremental run's
// million ghosts): only the others are sorted, then merged with them.
// Where the state knows the ghosts' IDs (s.ghostIDs) and which slots were
// emptied of them (s.emptied), the ghosts' IDs are copied in runs rather
// than read person by person.
func (s *state) known() knownIDs {
	sorted := min(s.sorted, len(s.persons))
	if len(s.ghostIDs) != sorted {
		return s.knownEach(sorted)
	}
	var rest knownIDs
	for i := sorted; i < len(s.persons); i++ {
		if !s.persons[i].merged {
			rest = append(rest, s.persons[i].id)
		}
	}
	slices.Sort(rest)
	if sorted == 0 {
		return rest
	}
	ghosts := make(knownIDs, 0, sorted+len(rest))
	from := 0
	for _, pi := range s.emptied {
		ghosts = append(ghosts, s.ghostIDs[from:pi]...)
		from = int(pi) + 1
	}
	ghosts = append(ghosts, s.ghostIDs[from:]...)
	if len(rest) == 0 || len(ghosts) == 0 || ghosts[len(ghosts)-1] < rest[0] {
		return append(ghosts, rest...)
	}
	out := make(knownIDs, 0, len(ghosts)+len(rest))
	for _, id := range rest {
		n, _ := slices.BinarySearch(ghosts, id)
		out = append(append(out, ghosts[:n]...), id)
		ghosts = ghosts[n:]
	}
	return append(out, ghosts...)
}

// knownEach is known reading every person.
func (s *state) knownEach(sorted int) knownIDs {
	k := make(knownIDs, 0, len(s.persons))
	add := func(ps []person) {
		for i := range ps {
			if !ps[i].merged {
				k = append(k, ps[i].id)
			}
		}
	}
	add(s.persons[:sorted])
	n := len(k)
	add(s.persons[sorted:])
	slices.Sort(k[n:])
	if n == 0 || n == len(k) || k[n-1] < k[n] {
		return k
	}
	out := make(knownIDs, 0, len(k))
	a, b := k[:n], k[n:]
	for len(a) > 0 && len(b) > 0 {
		if a[0] < b[0] {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// nameScore ranks a candidate; a record without a name neither helps nor
// hurts its candidates.
func nameScore(recName, personName string) float64 {
	if recName == "" {
		return linkScore
	}
	return names.Score(recName, personName)
}

func usableDamage(code string) bool {
	return code == "check" || code == "date" || code == "region" || code == "mangled"
}

func unmatchedReason(p *pending) string {
	switch {
	case p.damage == "blank" && p.name == "":
		return "无身份证号码和姓名"
	case p.damage == "blank":
		return "无身份证号码，且没有唯一的同名人员"
	case p.damage == "ok":
		return "姓名与身份证号码对应人员不符，且无其他候选"
	}
	return "身份证号码有误（" + damageLabel(p.damage) + "），未找到可能的人员"
}

func damageLabel(code string) string {
	if d, ok := idcard.ParseDamageCode(code); ok {
		return d.String()
	}
	return code
}
