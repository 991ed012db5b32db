package survey

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// A round's numbers are kept in survey_count (migration 000021) instead of
// being counted over its households, members and forms per request. A
// household's rows are what countsOf gives over that household alone, so
// the table is the sum of every household's rows and stays right when
// each change that moves a number reads its households' rows before it
// and adds their rows after it less those (holdCounts, counted.release)
// in its own transaction. A form's change (save, submission, review,
// revision) moves one member's numbers only and works them out from its
// household's members instead (holdHousehold, move). A top-up recounts
// the whole round; a new round's rows follow from its households alone
// (it has no forms, teams or clerks yet: round_new.go).

// countCols are survey_count's numbers, in countsOf's order.
const countCols = `households, persons, targets, assigned, p_persons, visited, confirmed, returned, hh, hh_visited, hh_confirmed`

// countsOf is the survey_count rows of the households meeting cond (an
// SQL condition over h): its progress persons (targets and members with
// a live form), per household, added up per village and
// team (clerk_id -1) and per village, team and clerk of the form.
func countsOf(cond string) string {
	return `
	WITH p AS (
		SELECT h.id AS hid, coalesce(f.entered_by, 0) AS clerk, f.id IS NOT NULL AS has_form,
		       coalesce(f.state IN ('submitted', 'approved', 'returned'), false) AS v,
		       coalesce(f.state = 'approved', false) AS c, coalesce(f.state = 'returned', false) AS r
		FROM survey_household h JOIN survey_member m ON m.household_id = h.id
		LEFT JOIN survey_form f ON f.member_id = m.id AND f.state <> 'superseded'
		WHERE ` + cond + ` AND (m.target OR f.id IS NOT NULL)),
	hp AS (SELECT hid, count(*) AS n, count(*) FILTER (WHERE v) AS nv, count(*) FILTER (WHERE c) AS nc, count(*) FILTER (WHERE r) AS nr
	       FROM p GROUP BY hid),
	cp AS (SELECT hid, clerk, count(*) AS n, count(*) FILTER (WHERE v) AS nv, count(*) FILTER (WHERE c) AS nc, count(*) FILTER (WHERE r) AS nr
	       FROM p WHERE has_form GROUP BY hid, clerk)
	SELECT h.round_id, h.region_code, coalesce(h.team_id, 0) AS team_id, -1::bigint AS clerk_id,
	       count(*) AS households, sum(h.persons) AS persons, sum(h.targets) AS targets, count(h.team_id) AS assigned,
	       coalesce(sum(hp.n), 0) AS p_persons, coalesce(sum(hp.nv), 0) AS visited, coalesce(sum(hp.nc), 0) AS confirmed,
	       coalesce(sum(hp.nr), 0) AS returned, count(hp.hid) AS hh, count(*) FILTER (WHERE hp.nv > 0) AS hh_visited,
	       count(*) FILTER (WHERE hp.nc = hp.n) AS hh_confirmed
	FROM survey_household h LEFT JOIN hp ON hp.hid = h.id
	WHERE ` + cond + `
	GROUP BY 1, 2, 3, 4
	UNION ALL
	SELECT h.round_id, h.region_code, coalesce(h.team_id, 0), cp.clerk, 0, 0, 0, 0, sum(cp.n), sum(cp.nv), sum(cp.nc), sum(cp.nr),
	       count(*), count(*) FILTER (WHERE cp.nv > 0), count(*) FILTER (WHERE cp.nc = cp.n)
	FROM cp JOIN survey_household h ON h.id = cp.hid
	GROUP BY 1, 2, 3, 4`
}

// onConflictAdd adds a row's numbers to survey_count's row of its key
// (alias s): n = n + x never loses a concurrent change's update.
const onConflictAdd = `
	ON CONFLICT (round_id, region_code, team_id, clerk_id) DO UPDATE SET
	       households = s.households + excluded.households, persons = s.persons + excluded.persons,
	       targets = s.targets + excluded.targets, assigned = s.assigned + excluded.assigned,
	       p_persons = s.p_persons + excluded.p_persons, visited = s.visited + excluded.visited,
	       confirmed = s.confirmed + excluded.confirmed, returned = s.returned + excluded.returned,
	       hh = s.hh + excluded.hh, hh_visited = s.hh_visited + excluded.hh_visited, hh_confirmed = s.hh_confirmed + excluded.hh_confirmed`

// qRecount writes round $1's rows, after its old ones are deleted: in key
// order, and adding to a row a concurrent change wrote meanwhile.
var qRecount = `
	INSERT INTO survey_count AS s (round_id, region_code, team_id, clerk_id, ` + countCols + `)
	SELECT round_id, region_code, team_id, clerk_id, ` + countCols + `
	FROM (` + countsOf("h.round_id = $1") + `) c
	ORDER BY round_id, region_code, team_id, clerk_id` + onConflictAdd

// recount writes round's counts anew, at the end of a publish or top-up
// (in its transaction, after every household and member is written, and
// with nested loops off: a county's round joins some 100,000 households
// and 400,000 members just written, whose statistics the planner has not
// seen yet, and it would loop over them where it must hash).
func recount(ctx context.Context, tx pgx.Tx, round int64) error {
	if _, err := tx.Exec(ctx, `DELETE FROM survey_count WHERE round_id = $1`, round); err != nil {
		return fmt.Errorf("recount round %d: %w", round, err)
	}
	if _, err := tx.Exec(ctx, qRecount, round); err != nil {
		return fmt.Errorf("recount round %d: %w", round, err)
	}
	return nil
}

// Recount writes round's counts anew from its rows, in tx; for rows
// written around the survey's own changes (the demo's, tests' fixtures).
func Recount(ctx context.Context, tx pgx.Tx, round int64) error {
	return recount(ctx, tx, round)
}

// counted is households a change is about to move the numbers of, with
// their rows as they were before it.
type counted struct {
	ids    []int64
	before struct {
		round, team, clerk []int64
		region             []string
		n                  [11][]int64 // by countCols
	}
}

// holdCounts locks the households sel selects (an SQL query of household
// ids over args) with their members, and reads their rows. The locks make
// every other change of those households wait until this one commits, so
// what release writes is exactly what this change moved. Locks and read
// go in one round trip; each statement of it sees what was committed
// before it ran.
func holdCounts(ctx context.Context, tx batcher, sel string, args ...any) (counted, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT id FROM survey_household WHERE id IN (`+sel+`) ORDER BY id FOR UPDATE`, args...)
	b.Queue(`SELECT 1 FROM survey_member WHERE household_id IN (`+sel+`) ORDER BY household_id, id FOR UPDATE`, args...)
	b.Queue(countsOf("h.id IN ("+sel+")"), args...)
	br := tx.SendBatch(ctx, b)
	var c counted
	rows, err := br.Query()
	if err == nil {
		c.ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	}
	if err == nil {
		_, err = br.Exec()
	}
	if err == nil {
		err = c.read(br)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return c, fmt.Errorf("hold counts: %w", err)
	}
	return c, nil
}

// read reads the households' rows before the change.
func (c *counted) read(br pgx.BatchResults) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	b := &c.before
	for rows.Next() {
		var round, team, clerk int64
		var region string
		var n [11]int64
		if err := rows.Scan(&round, &region, &team, &clerk, &n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &n[6], &n[7], &n[8], &n[9], &n[10]); err != nil {
			return err
		}
		b.round, b.region, b.team, b.clerk = append(b.round, round), append(b.region, region), append(b.team, team), append(b.clerk, clerk)
		for i := range n {
			b.n[i] = append(b.n[i], n[i])
		}
	}
	return rows.Err()
}

// qRelease adds the households' rows as they are now ($1) less their rows
// before ($2-$16) to survey_count, only where a number moved, in key
// order: two changes lock the rows they share in the same order, and
// n = n + x never loses a concurrent change's update. Written last, the
// rows stay locked only while the change commits.
var qRelease = `
	INSERT INTO survey_count AS s (round_id, region_code, team_id, clerk_id, ` + countCols + `)
	SELECT round_id, region_code, team_id, clerk_id, sum(households), sum(persons), sum(targets), sum(assigned), sum(p_persons),
	       sum(visited), sum(confirmed), sum(returned), sum(hh), sum(hh_visited), sum(hh_confirmed)
	FROM (` + countsOf("h.id = ANY($1)") + `
	      UNION ALL
	      SELECT u.round_id, u.region_code COLLATE "C", u.team_id, u.clerk_id, -u.households, -u.persons, -u.targets, -u.assigned,
	             -u.p_persons, -u.visited, -u.confirmed, -u.returned, -u.hh, -u.hh_visited, -u.hh_confirmed
	      FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[],
	                  $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[])
	           AS u(round_id, region_code, team_id, clerk_id, ` + countCols + `)) d
	GROUP BY round_id, region_code, team_id, clerk_id
	HAVING abs(sum(households)) + abs(sum(persons)) + abs(sum(targets)) + abs(sum(assigned)) + abs(sum(p_persons)) + abs(sum(visited))
	     + abs(sum(confirmed)) + abs(sum(returned)) + abs(sum(hh)) + abs(sum(hh_visited)) + abs(sum(hh_confirmed)) > 0
	ORDER BY round_id, region_code, team_id, clerk_id` + onConflictAdd

// batcher sends a batch of statements in a transaction: a pgx.Tx, or a
// form save's pipeTx.
type batcher interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// release writes what the change moved: the households' rows now less
// their rows before it.
func (c counted) release(ctx context.Context, tx pgx.Tx) error {
	if len(c.ids) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, qRelease, c.releaseArgs()...); err != nil {
		return fmt.Errorf("release counts: %w", err)
	}
	return nil
}

// releaseArgs are qRelease's arguments.
func (c counted) releaseArgs() []any {
	b := c.before
	args := []any{c.ids, b.round, b.region, b.team, b.clerk}
	for _, n := range b.n {
		args = append(args, n)
	}
	return args
}

// Queries of the household ids a change touches, over its one argument.
const (
	qHousehold         = `SELECT $1::bigint`
	qHouseholdOfMember = `SELECT household_id FROM survey_member WHERE id = $1`
	qHouseholdOfForm   = `SELECT household_id FROM survey_form WHERE id = $1`
)

// counting wraps a change of the households sel selects over arg (a
// function run in a transaction) so that their counts are held before it
// and released after it.
func counting(ctx context.Context, sel string, arg any, change func(pgx.Tx) error) func(pgx.Tx) error {
	return func(tx pgx.Tx) error {
		held, err := holdCounts(ctx, tx, sel, arg)
		if err != nil {
			return err
		}
		if err := change(tx); err != nil {
			return err
		}
		return held.release(ctx, tx)
	}
}

// A form's change moves one member's live form only (a draft saved or
// submitted, a form approved, returned or revised): what it moves is
// worked out from its household's members before and after it, without
// countsOf. The household's row lock orders it after every other change
// of the household's counts that locks the household first (holdCounts,
// holdHousehold), so its members' forms read under the lock stay as read
// until it commits. A top-up changes members' targets before it locks
// their households: the members are read FOR SHARE, so a change waits for
// a top-up that changed them and a top-up waits for a change that read
// them. A change that moves no number writes no row.

// memberCount is what a member adds to its household's counts: whether a
// target, and its live form's state (Pending: none) and clerk.
type memberCount struct {
	id     int64
	target bool
	state  State
	clerk  int64 // the live form's entered_by, 0 for none
}

// heldHousehold is a locked household's key and its members as read
// under the lock.
type heldHousehold struct {
	id, round, team int64
	region          string
	members         []memberCount
}

// Statements of holdHousehold, over a query of one household id (%s).
// qMemberCounts finds each member's live form by its own index probe
// (liveFormOf): every save runs it, and a join the planner was free to
// turn into a hash join read the whole of survey_form each time.
const (
	qLockHousehold = `SELECT id, round_id, region_code, coalesce(team_id, 0) FROM survey_household WHERE id = (%s) FOR UPDATE`
	qMemberCounts  = `SELECT m.id, m.target, coalesce(f.state, 'pending'), coalesce(f.entered_by, 0)
		FROM survey_member m ` + liveFormOf + `
		WHERE m.household_id = (%s) FOR SHARE OF m`
)

// liveFormOf joins member m's live form f (state, entered_by, id,
// outcome, return_reason) as a lookup per member in survey_form_live.
// A plain join is planned from survey_form's statistics, and a survey
// starts with no forms: a plan made then (a hash join over the whole
// table) stays cached on the connection while thousands of forms are
// written before the next ANALYZE. A LATERAL subquery kept apart by
// OFFSET 0 can only be run per member, and a probe of the index costs
// less than reading even the smallest table the planner assumes.
const liveFormOf = `LEFT JOIN LATERAL (
		SELECT lf.id, lf.state, lf.entered_by, lf.outcome, lf.return_reason FROM survey_form lf
		WHERE lf.member_id = m.id AND lf.state <> 'superseded' OFFSET 0) f ON true`

// queueHold queues in b the lock of the household sel selects (a query
// of one household id over arg); queueMembers, queued after it, reads its
// members under the lock.
func queueHold(b *pgx.Batch, sel string, arg any) {
	b.Queue(fmt.Sprintf(qLockHousehold, sel), arg)
}

// queueMembers queues the read of the members of the household sel
// selects over arg.
func queueMembers(b *pgx.Batch, sel string, arg any) {
	b.Queue(fmt.Sprintf(qMemberCounts, sel), arg)
}

// readHold reads queueHold's answer: ok false when there is no such
// household.
func readHold(br pgx.BatchResults) (h heldHousehold, ok bool, err error) {
	err = br.QueryRow().Scan(&h.id, &h.round, &h.region, &h.team)
	if errors.Is(err, pgx.ErrNoRows) {
		return h, false, nil
	}
	return h, err == nil, err
}

// readMembers reads queueMembers' answer.
func readMembers(br pgx.BatchResults) ([]memberCount, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanMemberCount)
}

func scanMemberCount(r pgx.CollectableRow) (memberCount, error) {
	var m memberCount
	err := r.Scan(&m.id, &m.target, &m.state, &m.clerk)
	return m, err
}

// holdHousehold locks the household sel selects over arg and reads its
// members, in one round trip; ok false when there is no such household.
func holdHousehold(ctx context.Context, tx batcher, sel string, arg any) (h heldHousehold, ok bool, err error) {
	b := &pgx.Batch{}
	queueHold(b, sel, arg)
	queueMembers(b, sel, arg)
	br := tx.SendBatch(ctx, b)
	h, ok, err = readHold(br)
	if err == nil && ok {
		h.members, err = readMembers(br)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return h, false, fmt.Errorf("hold household: %w", err)
	}
	return h, ok, nil
}

// movedCols are the numbers a member's form moves, in countCols' order:
// p_persons through hh_confirmed.
const movedCols = `p_persons, visited, confirmed, returned, hh, hh_visited, hh_confirmed`

// memberRows are a household's movedCols by clerk_id (-1: the
// household's own row), as countsOf counts them.
func memberRows(ms []memberCount) map[int64][7]int64 {
	out := map[int64][7]int64{}
	add := func(clerk int64, m memberCount) {
		r := out[clerk]
		r[0]++
		if m.state == Submitted || m.state == Approved || m.state == Returned {
			r[1]++
		}
		if m.state == Approved {
			r[2]++
		}
		if m.state == Returned {
			r[3]++
		}
		out[clerk] = r
	}
	for _, m := range ms {
		if m.state != Pending {
			add(m.clerk, m)
		}
		if m.target || m.state != Pending {
			add(-1, m)
		}
	}
	for clerk, r := range out {
		r[4], r[5], r[6] = b2i(r[0] > 0), b2i(r[1] > 0), b2i(r[0] > 0 && r[2] == r[0])
		out[clerk] = r
	}
	return out
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// moved is what the household's rows move from its members before to
// after: the rows whose numbers changed, in clerk_id order, as qMove's
// arguments after the key.
func moved(before, after []memberCount) (clerks []int64, n [7][]int64) {
	was, is := memberRows(before), memberRows(after)
	for clerk := range was {
		if _, ok := is[clerk]; !ok {
			is[clerk] = [7]int64{}
		}
	}
	keys := make([]int64, 0, len(is))
	for clerk := range is {
		keys = append(keys, clerk)
	}
	slices.Sort(keys)
	for _, clerk := range keys {
		d, w := is[clerk], was[clerk]
		var any bool
		for i := range d {
			d[i] -= w[i]
			any = any || d[i] != 0
		}
		if !any {
			continue
		}
		clerks = append(clerks, clerk)
		for i := range d {
			n[i] = append(n[i], d[i])
		}
	}
	return clerks, n
}

// qMove adds a household's moved rows ($4-$11) to survey_count under its
// key ($1-$3), in key order as every writer of the rows does.
var qMove = `
	INSERT INTO survey_count AS s (round_id, region_code, team_id, clerk_id, ` + movedCols + `)
	SELECT $1, $2, $3, u.clerk_id, ` + movedCols + `
	FROM unnest($4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[])
	     AS u(clerk_id, ` + movedCols + `)
	ORDER BY u.clerk_id` + onConflictAdd

// move queues in b what the household's members moved from h.members to
// after; it tells whether it queued a statement (whose result the caller
// reads): a change that moved nothing writes nothing.
func (h heldHousehold) move(b *pgx.Batch, after []memberCount) bool {
	clerks, n := moved(h.members, after)
	if len(clerks) == 0 {
		return false
	}
	args := []any{h.round, h.region, h.team, clerks}
	for _, col := range n {
		args = append(args, col)
	}
	b.Queue(qMove, args...)
	return true
}

// with is the household's members with member id's live form as given.
func (h heldHousehold) with(id int64, state State, clerk int64) []memberCount {
	out := slices.Clone(h.members)
	for i := range out {
		if out[i].id == id {
			out[i].state, out[i].clerk = state, clerk
		}
	}
	return out
}

// countingForm wraps a change of form id's live form (a review or a
// revision, run in a transaction) so that its household is locked before
// it and what it moved is written after it.
func countingForm(ctx context.Context, formID int64, change func(pgx.Tx) error) func(pgx.Tx) error {
	return func(tx pgx.Tx) error {
		h, ok, err := holdHousehold(ctx, tx, qHouseholdOfForm, formID)
		if err != nil {
			return err
		}
		if err := change(tx); err != nil || !ok {
			return err
		}
		rows, err := tx.Query(ctx, fmt.Sprintf(qMemberCounts, qHousehold), h.id)
		if err != nil {
			return fmt.Errorf("counts after: %w", err)
		}
		after, err := pgx.CollectRows(rows, scanMemberCount)
		if err != nil {
			return fmt.Errorf("counts after: %w", err)
		}
		b := &pgx.Batch{}
		if !h.move(b, after) {
			return nil
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("move counts: %w", err)
		}
		return nil
	}
}
