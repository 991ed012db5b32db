package compare

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/batchdiff"
	"github.com/canbao/canbao/internal/source"
)

// A run reads each record of its batches once, in one pass, and does the
// linking and the gathering of facts in memory: a million persons take
// about a hundred bytes each, and no record is written back unless it
// needs a word of explanation (run_link).

// noDate marks an absent date in the day counts below.
const noDate = math.MinInt32

// pgEpoch is day 0 of PostgreSQL's binary dates.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func dayTime(d int32) time.Time {
	if d == noDate {
		return time.Time{}
	}
	return pgEpoch.AddDate(0, 0, int(d))
}

// dict numbers the few distinct values of a column (regions, sexes,
// statuses) so a person holds 4-byte ids instead of strings; 0 is NULL.
type dict struct {
	ids  map[string]uint32
	vals []string
}

func newDict() *dict { return &dict{ids: map[string]uint32{"": 0}, vals: []string{""}} }

func (d *dict) id(b []byte) uint32 {
	if id, ok := d.ids[string(b)]; ok { // no allocation for a known value
		return id
	}
	s := string(b)
	d.ids[s] = uint32(len(d.vals))
	d.vals = append(d.vals, s)
	return uint32(len(d.vals) - 1)
}

// text is a string kept in the state's arena: persons hold no pointers,
// so the garbage collector never scans the million of them.
type text struct{ off, n uint32 }

// person is an identity of the run (one per valid ID) with the facts of
// the records linked to it so far.
type person struct {
	id        uint64 // packed ID, see pack
	name      text
	household text
	birth     int32  // days since pgEpoch, or noDate
	sex       uint32 // dict ids
	relation  uint32
	hukou     uint32
	pop       uint32
	batch     int32 // the identity's record: its batch (so its kind and tier) ...
	line      int32 // ... and line
	unnamed   bool  // the identity's record has no name
	merged    bool  // a mangled copy of another person's ID, merged into that person (see mergeMangled)
	ghost     bool  // an incremental run's untouched person: ID and name only, result reused (see incremental.go)
	links     int32 // records linked

	mask             uint16 // the fact bits (bitHukouLocal ...) ORed over the linked records
	pension, medical uint8  // active schemes of each group, one bit each
	death            int32  // earliest 死亡信息 date, or noDate
	homeRank         uint8  // 1 hukou, 2 residence, 3 local enrollment; 0 none
	home             uint32 // dict id of the region home came from
	county           uint32 // dict id of the first active enrollment's county (参保地)
	schemes          uint16 // schemes with an active enrollment, one bit each
}

// runBatch is a batch of the run with what the pass needs of it.
type runBatch struct {
	batch
	tier int // 1 户籍人口, 2 居住人口, 3 the rest: identity priority
}

// bytes returns a text of the arena, valid until the next store.
func (s *state) bytes(t text) []byte { return s.arena[t.off : t.off+t.n] }

func (s *state) str(t text) string { return string(s.bytes(t)) }

func (s *state) store(b []byte) text {
	t := text{uint32(len(s.arena)), uint32(len(b))}
	s.arena = append(s.arena, b...)
	return t
}

// state is a run's working memory.
type state struct {
	region  string
	regionB []byte // region, for prefix tests on raw bytes
	batches []runBatch
	dict    *dict
	schemes map[string]int8 // scheme key → bit position
	pension []string
	medical []string

	persons  []person
	sorted   int                           // the first persons are in ID order (an incremental run's ghosts; see known)
	index    map[uint64]int32              // packed ID → persons index, but for the ghosts: find looks up any
	ghostIDs []uint64                      // an incremental run's ghosts' IDs: those of the first persons while they are ghosts (see find)
	emptied  []int32                       // the first persons no longer ghosts (see resetGhosts), in order
	ghostIdx sortedIDs                     // finds a ghost's slot by its ID in ghostIDs
	arena    []byte                        // the persons' names and households
	multi    map[int32]*[maxSchemes]uint32 // persons enrolled in two counties: each scheme's first county

	// Links, one entry per linked record, in three columns.
	linkPerson []int32
	linkBatch  []int32
	linkLine   []int32

	pending   []*pending
	decisions map[recordKey]decision
	records   int
	// ghostHits are the ghosts that took an exact link or a merge: an
	// incremental run must re-read them (see incremental.go).
	ghostHits []int32
}

type recordKey struct {
	batch int64
	line  int32
}

// decision is a reviewer's choice for a record; id "" means nobody.
type decision struct{ id string }

func newState(region string, batches []batch, decisions map[recordKey]decision) *state {
	// Room for the persons up front: growing a slice and a map of a
	// million entries step by step copies them over and over. Nearly
	// every person has a 户籍 or 居住 row; the other kinds mostly repeat them.
	hint, rows := 0, 0
	for _, b := range batches {
		rows += b.Rows
		if kindPriority(b.Kind) < 3 {
			hint += b.Rows
		} else {
			hint += b.Rows / 8
		}
	}
	return newStateSized(region, batches, decisions, hint, rows)
}

// newStateSized is newState with room for hint persons and rows links.
func newStateSized(region string, batches []batch, decisions map[recordKey]decision, hint, rows int) *state {
	s := &state{region: region, regionB: []byte(region), dict: newDict(), schemes: map[string]int8{},
		persons: make([]person, 0, hint), index: make(map[uint64]int32, hint), arena: make([]byte, 0, 24*hint),
		linkPerson: make([]int32, 0, rows), linkBatch: make([]int32, 0, rows), linkLine: make([]int32, 0, rows),
		multi: map[int32]*[maxSchemes]uint32{}, decisions: decisions,
		pension: schemeKeys(source.GroupPension), medical: schemeKeys(source.GroupMedical)}
	for i, sc := range source.Schemes() {
		s.schemes[sc.Key] = int8(i)
	}
	for _, b := range batches {
		s.batches = append(s.batches, runBatch{b, kindPriority(b.Kind)})
	}
	// Identity priority: 户籍人口 first, then 居住人口, then the rest, each
	// in batch order (stable sort keeps currentBatches' id order).
	slices.SortStableFunc(s.batches, func(a, b runBatch) int { return a.tier - b.tier })
	return s
}

// errUnordered reports a batch whose rows did not come back in line order.
var errUnordered = errors.New("records out of line order")

// recordColumns are read for every record, in this order (see rawRecord).
const recordColumns = `line, id_norm, id_damage, name, sex, birth, household, relation,
	region_code, hukou_region, pop_status, scheme, enroll_status, pay_status, death_date`

// load reads every record of the run's batches. Identities and exact links
// are decided as the records stream in, which needs each batch in line
// order: a batch's table is written once by one COPY and never updated,
// so a plain sequential scan from its first page (synchronize_seqscans is
// off and parallel scans are disabled on a run's connection) returns the
// lines in order without a sort. The order is checked all the same, and
// with ordered a sort is asked for.
func (s *state) load(ctx context.Context, tx pgx.Tx, ordered bool) error {
	q := `SELECT ` + recordColumns + ` FROM source_record WHERE batch_id = $1`
	if ordered {
		q += ` ORDER BY line`
	}
	var r rawRecord
	for bi := range s.batches {
		b := &s.batches[bi]
		rows, err := tx.Query(ctx, q, pgx.QueryResultFormats{pgx.BinaryFormatCode}, b.ID)
		if err != nil {
			return fmt.Errorf("read batch %d: %w", b.ID, err)
		}
		last := int32(math.MinInt32)
		for rows.Next() {
			r.parse(rows.RawValues())
			if r.line < last { // equal lines (a malformed sheet) are tolerated, as a sort would
				rows.Close()
				return errUnordered
			}
			last = r.line
			s.add(int32(bi), b, &r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read batch %d: %w", b.ID, err)
		}
	}
	return nil
}

// rawRecord is one source_record row as read, its text fields pointing
// into the connection's buffer until the next row (nil for NULL).
type rawRecord struct {
	line                                    int32
	id, damage, name, sex                   []byte
	household, relation, region, hukou, pop []byte
	scheme                                  []byte
	birth, death                            int32
	enroll, pay                             int16
}

func (r *rawRecord) parse(v [][]byte) {
	r.line = int32(binary.BigEndian.Uint32(v[0]))
	r.id, r.damage, r.name, r.sex = v[1], v[2], v[3], v[4]
	r.birth = binDate(v[5])
	r.household, r.relation, r.region, r.hukou, r.pop, r.scheme = v[6], v[7], v[8], v[9], v[10], v[11]
	r.enroll, r.pay = binInt16(v[12]), binInt16(v[13])
	r.death = binDate(v[14])
}

func binDate(b []byte) int32 {
	if b == nil {
		return noDate
	}
	return int32(binary.BigEndian.Uint32(b))
}

func binInt16(b []byte) int16 {
	if b == nil {
		return 0
	}
	return int16(binary.BigEndian.Uint16(b))
}

// add takes one record: it may found or improve an identity, and is linked
// right away when its ID is valid and its name agrees with (or is blank
// against) the person's; everything else waits for fuzzyLinks.
func (s *state) add(bi int32, b *runBatch, r *rawRecord) {
	s.records++
	pi := int32(-1)
	if r.damage == nil && r.id != nil {
		pi = s.identify(bi, b, r)
	}
	d, decided := s.decisions[recordKey{b.ID, r.line}]
	if !decided && pi >= 0 && s.nameAgrees(r.name, &s.persons[pi]) {
		if s.persons[pi].ghost {
			s.ghostHits = append(s.ghostHits, pi)
		}
		c := s.contrib(b, r)
		s.link(pi, bi, r.line, &c)
		return
	}
	p := s.newPending(b, bi, r)
	if decided {
		p.decision = &d
	}
	s.pending = append(s.pending, p)
}

// nameAgrees tells whether a record's name agrees with its person's: a
// blank on either side cannot disagree.
func (s *state) nameAgrees(name []byte, p *person) bool {
	return name == nil || p.name.n == 0 || string(name) == string(s.bytes(p.name))
}

// identify returns the person of a valid ID, founding it from this record
// if it is the first, or taking this record as the identity when it ranks
// higher. Identities rank by tier, then named before unnamed, then batch
// and line; records arrive in that order, so the only later record that
// can outrank an identity is a named one of the same tier when the
// identity is unnamed. Earlier records of that ID in the tier were all
// unnamed, and an unnamed record links whatever the person's name, so no
// link made so far changes.
func (s *state) identify(bi int32, b *runBatch, r *rawRecord) int32 {
	key, ok := batchdiff.Pack(r.id)
	if !ok {
		return -1
	}
	pi, found := s.find(key)
	if !found {
		pi = int32(len(s.persons))
		s.persons = append(s.persons, person{id: key, death: noDate})
		s.index[key] = pi
		s.setIdentity(&s.persons[pi], bi, r)
		return pi
	}
	p := &s.persons[pi]
	if !p.ghost && p.unnamed && r.name != nil && s.batches[p.batch].tier == b.tier {
		s.setIdentity(p, bi, r)
	}
	return pi
}

// find looks up the person of a packed ID: in the index, else among the
// ghosts by binary search (a slot emptied between rounds is no longer a
// ghost, and its ID founds a person of its own in the index).
func (s *state) find(key uint64) (int32, bool) {
	if pi, ok := s.index[key]; ok {
		return pi, true
	}
	if len(s.ghostIDs) == 0 {
		return 0, false
	}
	if i, ok := s.ghostIdx.search(key); ok && s.persons[i].ghost {
		return int32(i), true
	}
	return 0, false
}

func (s *state) setIdentity(p *person, bi int32, r *rawRecord) {
	p.name, p.household = s.store(r.name), s.store(r.household)
	p.birth = r.birth
	p.sex, p.relation, p.hukou, p.pop = s.dict.id(r.sex), s.dict.id(r.relation), s.dict.id(r.hukou), s.dict.id(r.pop)
	p.batch, p.line, p.unnamed = bi, r.line, r.name == nil
}

// link adds a record to a person with its facts.
func (s *state) link(pi int32, bi int32, line int32, c *contrib) {
	s.linkPerson = append(s.linkPerson, pi)
	s.linkBatch = append(s.linkBatch, bi)
	s.linkLine = append(s.linkLine, line)
	p := &s.persons[pi]
	p.links++
	s.addFacts(pi, p, c)
}
