package survey

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/canbao/canbao/internal/pgcopy"
)

// A new round is written from Go: its households (pub_household) and
// their members (pub_member) with the run's statuses are read once,
// grouped, and copied into the round's fresh partitions, each household's
// counts, head and task code made on the way. A county's round is some
// 400,000 members: inserted by INSERT … SELECT they were hashed, sorted
// and written row by row, and the households counted from them again.

// newHousehold is a household of a new round as written.
type newHousehold struct {
	id               int64
	household, place string // household is '' for a household of one
	members          []newMember
}

// newMember is a member of a new round as written.
type newMember struct {
	idNumber, name, relation, pension, medical string
	target                                     bool
	flags                                      int32
}

// qNewRoundCounts writes a new round's kept counts (survey_count) from
// its households (partition %s): what countsOf gives for a round with no
// forms yet, one row per village and team (team 0: none; a new round has
// none yet) whose progress persons are its targets, every household with
// one among them.
const qNewRoundCounts = `
	INSERT INTO survey_count (round_id, region_code, team_id, clerk_id, households, persons, targets, assigned, p_persons, hh)
	SELECT round_id, region_code, coalesce(team_id, 0), -1, count(*), sum(persons), sum(targets), count(team_id), sum(targets),
	       count(*) FILTER (WHERE targets > 0)
	FROM %s GROUP BY round_id, region_code, coalesce(team_id, 0)`

// newRound writes a new round's households and members into partitions
// of their own, attaches them and counts the round.
func (m *merging) newRound(ctx context.Context) error {
	m.step("归并各户成员")
	hs, err := m.readNewHouseholds(ctx)
	if err != nil {
		return fmt.Errorf("publish round %d: %w", m.round, err)
	}
	households, members := partition("survey_household", m.round), partition("survey_member", m.round)
	if _, err := m.exec(ctx, "", fmt.Sprintf(qNewPartitions, households, m.round, members, m.round)); err != nil {
		return err
	}
	m.step("写入调查户")
	n, err := pgcopy.FromFrozen(ctx, m.tx.Conn().PgConn(),
		households+" (id, round_id, code, household, region_code, added_run, persons, targets, head_name)",
		func(e *pgcopy.Encoder) error {
			for _, h := range hs {
				e.Row(9)
				e.Int64(h.id)
				e.Int64(m.round)
				e.Text(TaskCode(h.id))
				e.TextNotNull(h.household)
				e.TextNotNull(h.place)
				e.Int64(m.req.RunID)
				persons, targets, head := h.counts()
				e.Int32(int32(persons))
				e.Int32(int32(targets))
				e.TextNotNull(head)
				e.FlushIfFull()
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("publish round %d: %w", m.round, err)
	}
	m.res.NewHouseholds = int(n)
	m.step("写入户内成员")
	n, err = pgcopy.FromFrozen(ctx, m.tx.Conn().PgConn(),
		members+" (household_id, round_id, id_number, name, relation, target, pension, medical, flags, added_run)",
		func(e *pgcopy.Encoder) error {
			for _, h := range hs {
				for _, p := range h.members {
					e.Row(10)
					e.Int64(h.id)
					e.Int64(m.round)
					e.TextNotNull(p.idNumber)
					e.TextNotNull(p.name)
					e.TextNotNull(p.relation)
					e.Bool(p.target)
					e.TextNotNull(p.pension)
					e.TextNotNull(p.medical)
					e.Int32(p.flags)
					e.Int64(m.req.RunID)
					e.FlushIfFull()
				}
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("publish round %d: %w", m.round, err)
	}
	m.res.NewMembers = int(n)
	if _, err := m.exec(ctx, "汇总", fmt.Sprintf(qNewRoundCounts, households)); err != nil {
		return err
	}
	// Attaching builds each index of the round's partitions in one pass.
	// It locks the default partition (rounds made by hand) until commit,
	// so it comes last.
	attach := `ALTER TABLE survey_household ATTACH PARTITION %s FOR VALUES IN (%d);
		ALTER TABLE survey_member ATTACH PARTITION %s FOR VALUES IN (%d)`
	_, err = m.exec(ctx, "建立索引", fmt.Sprintf(attach, households, m.round, members, m.round))
	return err
}

// readNewHouseholds reads the new round's households with their members,
// in the order they are written: by village, 户号 (households of one
// first, by target); a household's 户主 first, then by ID. Their ids,
// drawn in no order, are handed out again in that order, so the pages of
// a village read its households and members from neighbouring rows.
func (m *merging) readNewHouseholds(ctx context.Context) ([]*newHousehold, error) {
	const q = `SELECT id, coalesce(household, ''), place FROM pub_household ORDER BY place, household NULLS FIRST, single`
	rows, err := m.tx.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	index := map[int64]int32{} // household id → position in all
	var ids []int64
	var all []*newHousehold
	for rows.Next() {
		h := &newHousehold{}
		if err := rows.Scan(&h.id, &h.household, &h.place); err != nil {
			rows.Close()
			return nil, err
		}
		index[h.id] = int32(len(all))
		ids = append(ids, h.id)
		all = append(all, h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	flat, of, err := m.readNewMembers(ctx, index)
	if err != nil {
		return nil, err
	}
	// Each household's members are a piece of one array, in its order.
	n := make([]int, len(all))
	for _, i := range of {
		n[i]++
	}
	buf := make([]newMember, len(flat))
	for i, h := range all {
		h.members, buf = buf[:0:n[i]], buf[n[i]:]
	}
	for k, p := range flat {
		h := all[of[k]]
		h.members = append(h.members, p)
	}
	hs := make([]*newHousehold, 0, len(all))
	for _, h := range all {
		if len(h.members) == 0 {
			continue // none: every household has its target (qInsertHouseholds joins them)
		}
		slices.SortFunc(h.members, func(a, b newMember) int {
			if (a.relation == headRelation) != (b.relation == headRelation) {
				if a.relation == headRelation {
					return -1
				}
				return 1
			}
			return cmp.Compare(a.idNumber, b.idNumber)
		})
		hs = append(hs, h)
	}
	slices.Sort(ids)
	for i, h := range hs {
		h.id = ids[i]
	}
	return hs, nil
}

// readNewMembers reads the new round's members with the run's statuses,
// and the position (in index) of each one's household. A county's round
// is some 400,000 rows: each is decoded from its raw values, and the few
// distinct relations and statuses are shared, not allocated per row.
func (m *merging) readNewMembers(ctx context.Context, index map[int64]int32) ([]newMember, []int32, error) {
	rows, err := m.tx.Query(ctx, qNewMembers, m.req.RunID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	shared := map[string]string{}
	intern := func(b []byte) string {
		if s, ok := shared[string(b)]; ok {
			return s
		}
		s := string(b)
		shared[s] = s
		return s
	}
	var flat []newMember
	var of []int32
	for rows.Next() {
		v := rows.RawValues()
		if len(v) != 8 || len(v[0]) != 8 || len(v[4]) != 1 || len(v[7]) != 4 {
			return nil, nil, fmt.Errorf("members: unexpected row format")
		}
		i, ok := index[int64(binary.BigEndian.Uint64(v[0]))]
		if !ok {
			return nil, nil, fmt.Errorf("member %s of no household", v[1])
		}
		flat = append(flat, newMember{idNumber: string(v[1]), name: string(v[2]), relation: intern(v[3]), target: v[4][0] != 0,
			pension: intern(v[5]), medical: intern(v[6]), flags: int32(binary.BigEndian.Uint32(v[7]))})
		of = append(of, i)
	}
	return flat, of, rows.Err()
}

// headRelation is the relation of a household's head.
const headRelation = "户主"

// counts are a household's persons, targets and head: its 户主's name
// (the least, were there several), else its least name, as
// qInsertHouseholds.
func (h *newHousehold) counts() (persons, targets int, head string) {
	var least string
	hasHead := false
	for i, p := range h.members {
		if p.target {
			targets++
		}
		if i == 0 || p.name < least {
			least = p.name
		}
		if p.relation == headRelation && (!hasHead || p.name < head) {
			head, hasHead = p.name, true
		}
	}
	if !hasHead {
		head = least
	}
	return len(h.members), targets, head
}
