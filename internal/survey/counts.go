package survey

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// A round's numbers are kept in survey_count (migration 000021) instead of
// being counted over its households, members and forms per request. A
// household's rows are what countsOf gives over that household alone, so
// the table is the sum of every household's rows and stays right when
// each change that moves a number takes its households' rows out before
// it and puts them back after it (holdCounts, counted.release) in its own
// transaction. The publish and a top-up recount the whole round.

// countCols are survey_count's numbers, in countsOf's order.
const countCols = `households, persons, targets, assigned, p_persons, visited, confirmed, returned, hh, hh_visited, hh_confirmed`

// countsOf is the survey_count rows of the households meeting cond (an
// SQL condition over h): the progress persons of progressBase (targets
// and members with a live form), per household, added up per village and
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

// countsAdd adds sign times the rows of the households meeting cond to
// survey_count. The rows are written in key order, so two changes lock
// the rows they share in the same order; n = n + x never loses a
// concurrent change's update.
func countsAdd(sign, cond string) string {
	return `
	INSERT INTO survey_count AS s (round_id, region_code, team_id, clerk_id, ` + countCols + `)
	SELECT round_id, region_code, team_id, clerk_id, ` + sign + ` * households, ` + sign + ` * persons, ` + sign + ` * targets,
	       ` + sign + ` * assigned, ` + sign + ` * p_persons, ` + sign + ` * visited, ` + sign + ` * confirmed, ` + sign + ` * returned,
	       ` + sign + ` * hh, ` + sign + ` * hh_visited, ` + sign + ` * hh_confirmed
	FROM (` + countsOf(cond) + `) c
	ORDER BY round_id, region_code, team_id, clerk_id
	ON CONFLICT (round_id, region_code, team_id, clerk_id) DO UPDATE SET
	       households = s.households + excluded.households, persons = s.persons + excluded.persons,
	       targets = s.targets + excluded.targets, assigned = s.assigned + excluded.assigned,
	       p_persons = s.p_persons + excluded.p_persons, visited = s.visited + excluded.visited,
	       confirmed = s.confirmed + excluded.confirmed, returned = s.returned + excluded.returned,
	       hh = s.hh + excluded.hh, hh_visited = s.hh_visited + excluded.hh_visited, hh_confirmed = s.hh_confirmed + excluded.hh_confirmed`
}

// recount writes round's counts anew, at the end of a publish or top-up
// (in its transaction, after every household and member is written).
func recount(ctx context.Context, tx pgx.Tx, round int64) error {
	// A county's round joins some 100,000 households and 400,000 members
	// just written, whose statistics the planner has not seen yet: it
	// would loop over them where it must hash.
	var nestloop string
	if err := tx.QueryRow(ctx, `SELECT current_setting('enable_nestloop'), set_config('enable_nestloop', 'off', true)`).Scan(&nestloop, new(string)); err != nil {
		return fmt.Errorf("recount round %d: %w", round, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM survey_count WHERE round_id = $1`, round); err != nil {
		return fmt.Errorf("recount round %d: %w", round, err)
	}
	if _, err := tx.Exec(ctx, countsAdd("1", "h.round_id = $1"), round); err != nil {
		return fmt.Errorf("recount round %d: %w", round, err)
	}
	if _, err := tx.Exec(ctx, `SELECT set_config('enable_nestloop', $1, true)`, nestloop); err != nil {
		return fmt.Errorf("recount round %d: %w", round, err)
	}
	return nil
}

// Recount writes round's counts anew from its rows, in tx; for rows
// written around the survey's own changes (the demo's, tests' fixtures).
func Recount(ctx context.Context, tx pgx.Tx, round int64) error {
	return recount(ctx, tx, round)
}

// counted is households whose counts a change took out of survey_count
// and puts back when it is done.
type counted struct {
	ids []int64
}

// holdCounts locks the households sel selects (an SQL query of household
// ids over args) with their members, and takes their rows out of
// survey_count. The locks make every other change of those households
// wait until this one commits, so the rows taken out are the ones that
// were put in. Lock and subtraction go in one round trip; each statement
// of it sees what was committed before it ran.
func holdCounts(ctx context.Context, tx pgx.Tx, sel string, args ...any) (counted, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT id FROM survey_household WHERE id IN (`+sel+`) ORDER BY id FOR UPDATE`, args...)
	b.Queue(`SELECT 1 FROM survey_member WHERE household_id IN (`+sel+`) ORDER BY household_id, id FOR UPDATE`, args...)
	b.Queue(countsAdd("-1", "h.id IN ("+sel+")"), args...)
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
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return c, fmt.Errorf("hold counts: %w", err)
	}
	return c, nil
}

// release puts the held households' rows back as they are now.
func (c counted) release(ctx context.Context, tx pgx.Tx) error {
	if len(c.ids) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, countsAdd("1", "h.id = ANY($1)"), c.ids); err != nil {
		return fmt.Errorf("release counts: %w", err)
	}
	return nil
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
