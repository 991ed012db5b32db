package dynamic

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/audit"
	"github.com/canbao/canbao/internal/job"
	"github.com/canbao/canbao/internal/source"
)

// Derived counts what Derive found and did.
type Derived struct {
	Batch, Prev int64 // the newer batch and the one it superseded (0: none, nothing derived)
	Events      int   // events found
	Auto        int   // applied at once
	Pending     int   // held for a clerk
	Duration    time.Duration
	Find, Apply time.Duration // finding the events; applying the clear ones
}

// batchPair is a newer batch and the one it superseded.
type batchPair struct {
	id, prev         int64
	kind, region     string
	newDate, oldDate time.Time // the days the extracts were taken (数据日期)
}

// Derive finds what changed between batch and the batch of the same kind,
// region and source it superseded, stores the events and applies the
// unambiguous ones to the registry, all in one transaction, as actor a
// (the importer). A batch that superseded nothing or already derived
// yields nothing.
func (s *Store) Derive(ctx context.Context, a actor.Actor, batch int64, p *job.Progress) (Derived, error) {
	return s.derive(ctx, a, batch, p, nil)
}

// derive is Derive, recording e (when not nil) with the events.
func (s *Store) derive(ctx context.Context, a actor.Actor, batch int64, p *job.Progress, e *audit.Entry) (Derived, error) {
	start := time.Now()
	res := Derived{Batch: batch}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return res, err
	}
	defer tx.Rollback(ctx)
	// One derivation of a batch at a time: a second would find no events
	// yet and derive them twice.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7011, $1::int)`, int32(batch)); err != nil {
		return res, fmt.Errorf("derive %d: %w", batch, err)
	}
	pair, ok, err := findPair(ctx, tx, batch, false)
	if err != nil || !ok {
		return res, err
	}
	res.Prev = pair.prev
	q, args, ok, err := prepareDerive(ctx, tx, pair)
	if err != nil || !ok {
		return res, err
	}
	p.Set(job.Status{Message: "正在比较新旧两版数据，找出变化"})
	found := time.Now()
	tag, err := tx.Exec(ctx, q, args)
	if err != nil {
		return res, fmt.Errorf("derive events of batch %d: %w", batch, err)
	}
	res.Events = int(tag.RowsAffected())
	res.Find = time.Since(found)
	// The registry's reads by ID do want their nested loops back.
	if _, err := tx.Exec(ctx, `SET LOCAL enable_nestloop = on; SET LOCAL enable_mergejoin = on; SET LOCAL work_mem = DEFAULT`); err != nil {
		return res, fmt.Errorf("derive %d: %w", batch, err)
	}
	p.Set(job.Status{Message: fmt.Sprintf("发现 %d 项变化，正在写入登记库", res.Events)})
	events, err := loadEvents(ctx, tx, `e.batch_id = $1 AND e.state = 'auto'`, batch)
	if err != nil {
		return res, err
	}
	applied := time.Now()
	if err := applyEvents(ctx, tx, events, a.UserID); err != nil {
		return res, err
	}
	res.Apply = time.Since(applied)
	res.Auto = len(events)
	res.Pending = res.Events - res.Auto
	if _, err := tx.Exec(ctx, `UPDATE import_batch SET derived_at = now() WHERE id = $1`, batch); err != nil {
		return res, fmt.Errorf("derive %d: %w", batch, err)
	}
	if e != nil {
		e.Detail = fmt.Sprintf("%d 项变化，%d 项已自动入库，%d 项待确认", res.Events, res.Auto, res.Pending)
		if err := audit.Record(ctx, tx, *e); err != nil {
			return res, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("derive %d: %w", batch, err)
	}
	res.Duration = time.Since(start)
	p.Set(job.Status{Done: int64(res.Events), Total: int64(res.Events), Unit: "项变化",
		Message: fmt.Sprintf("完成：%d 项变化，%d 项已自动入库，%d 项待确认（查找 %.1f 秒，入库 %.1f 秒）",
			res.Events, res.Auto, res.Pending, res.Find.Seconds(), res.Apply.Seconds())})
	return res, nil
}

// prepareDerive picks the pair's query and arguments and sets the
// transaction up for it; ok is false for a kind without events.
func prepareDerive(ctx context.Context, tx pgx.Tx, pair batchPair) (string, pgx.NamedArgs, bool, error) {
	d, ok := deriveSQL[source.Kind(pair.kind)]
	if !ok {
		return "", nil, false, nil
	}
	args := pgx.NamedArgs{"new": pair.id, "prev": pair.prev, "new_day": pair.newDate, "old_day": pair.oldDate, "region": pair.region}
	if d.hold != "" {
		current, err := currentBatches(ctx, tx, pair.region, d.hold)
		if err != nil {
			return "", nil, false, err
		}
		args["hold"] = current
	}
	// Every join here is of two extracts or of their changes with one:
	// bulk work, where a nested loop chosen on a misjudged estimate would
	// take minutes, and so would a merge join's sorts of two extracts by a
	// collated ID (the newer batch is fresh, without statistics, and looks
	// small to the planner). Memory enough to hash a county's extract
	// without spilling.
	for _, q := range []string{`SET LOCAL enable_nestloop = off`, `SET LOCAL enable_mergejoin = off`, `SET LOCAL work_mem = '256MB'`} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return "", nil, false, fmt.Errorf("derive %d: %w", pair.id, err)
		}
	}
	return d.q, args, true, nil
}

// findPair reads the batch and the newest batch it superseded; ok is
// false when there is none or (unless again) the batch was derived before
// (derived_at; events, for a batch derived before derived_at existed).
func findPair(ctx context.Context, tx pgx.Tx, batch int64, again bool) (batchPair, bool, error) {
	const q = `
		SELECT b.id, p.id, b.kind, b.region_code, b.extract_date, p.extract_date
		FROM import_batch b
		JOIN LATERAL (SELECT id, extract_date FROM import_batch WHERE superseded_by = b.id ORDER BY id DESC LIMIT 1) p ON true
		WHERE b.id = $1 AND b.status = 'done'
		  AND ($2 OR (b.derived_at IS NULL AND NOT EXISTS (SELECT 1 FROM extract_event e WHERE e.batch_id = b.id)))`
	var pair batchPair
	err := tx.QueryRow(ctx, q, batch, again).Scan(&pair.id, &pair.prev, &pair.kind, &pair.region, &pair.newDate, &pair.oldDate)
	if errors.Is(err, pgx.ErrNoRows) {
		return pair, false, nil
	}
	if err != nil {
		return pair, false, fmt.Errorf("derive %d: %w", batch, err)
	}
	return pair, true, nil
}

// currentBatches are the extracts of a kind in force (done, not
// superseded) whose region contains the region or lies inside it: what
// the holds are checked against.
func currentBatches(ctx context.Context, tx pgx.Tx, region string, kind source.Kind) ([]int64, error) {
	q := `
		SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM import_batch
		WHERE kind = $2 AND status = 'done' AND superseded_by IS NULL
		  AND (` + actor.InScope("region_code", "$1") + ` OR ` + actor.InScope("$1", "region_code") + `)`
	var ids []int64
	if err := tx.QueryRow(ctx, q, region, kind).Scan(&ids); err != nil {
		return nil, fmt.Errorf("current batches: %w", err)
	}
	return ids, nil
}

// deriveSQL derives a kind's events set-based. Parameters: @new the
// newer batch, @prev the older, @new_day and @old_day the days they were
// taken (数据日期), @region the batch's region, @hold the batches in force of the
// kind the holds are checked against (hold).
// Each side is read once and the two are joined on the ID in one hash
// join (an ID listed twice in a hukou extract, which happens, gives one
// event per person and kind all the same); only records with valid IDs on
// the side that changed give events, so a damaged ID never reads as a move.
var deriveSQL = map[source.Kind]struct {
	q    string
	hold source.Kind
}{
	source.Hukou:      {hukouSQL, source.Enrollment},
	source.Death:      {deathSQL, source.Hukou},
	source.Enrollment: {enrollmentSQL, ""},
	source.Resident:   {residentSQL, source.Enrollment},
	source.Student:    {studentSQL, ""},
}

// insertEvents ends every query: the events with their region (for
// deaths and school events, whose records carry none, the person's:
// looked up by index for those few, where a join would read the whole
// registry), their hold and state.
const insertEvents = `
	INSERT INTO extract_event (batch_id, prev_batch, kind, id_number, name, region_code, effective, scheme, old_value, new_value,
	                           hold_reason, state)
	SELECT @new, @prev, d.kind, d.id, coalesce(d.name, ''),
	       coalesce(CASE WHEN d.kind IN ('death', 'death_fix', 'school_start', 'school_end') THEN (SELECT p.region_code FROM person p WHERE p.id_number = d.id) END,
	                d.region, @region),
	       d.effective, d.scheme, d.old_value, d.new_value, coalesce(h.reason, ''), CASE WHEN h.reason IS NULL THEN 'auto' ELSE 'pending' END
	FROM d LEFT JOIN holds h ON h.id = d.id AND h.kind = d.kind
	ORDER BY d.id, d.kind`

// A move out is held while the person is still enrolled here.
const holdEnrolled = `
	holds AS MATERIALIZED (` + enrolledHere + `)`

const enrolledHere = `
		SELECT DISTINCT s.id_norm AS id, 'move_out' AS kind, '仍在本地参保，请核实后确认' AS reason
		FROM source_record s
		WHERE s.batch_id = ANY(@hold::bigint[]) AND s.id_norm IN (SELECT id FROM d WHERE kind = 'move_out')
		  AND coalesce(s.enroll_status, 1) <> 4 AND coalesce(s.pay_status, 1) <> 3 AND ` + `s.region_code LIKE @region || '%'`

// A resident's move out is held while still enrolled here; a move in of
// someone the registry records as dead, too.
const holdResident = `
	holds AS MATERIALIZED (` + enrolledHere + `
		UNION ALL
		-- a scalar subquery: an index probe per move in, never a join that
		-- (nested loops being off) would hash the whole registry
		SELECT d.id, 'move_in', '登记库记载该人员已死亡，请核实后确认'
		FROM d WHERE d.kind = 'move_in'
		  AND (SELECT p.pop_status = '死亡' OR p.death_date IS NOT NULL FROM person p WHERE p.id_number = d.id))`

const hukouSQL = `
	WITH o AS (
		SELECT id_norm, row_hash, id_damage IS NULL AS valid, name, household, region_code, coalesce(pop_status, '正常') AS pop
		FROM source_record WHERE batch_id = @prev AND id_norm IS NOT NULL),
	n AS (
		SELECT id_norm, row_hash, id_damage IS NULL AS valid, name, birth, household, region_code, coalesce(pop_status, '正常') AS pop
		FROM source_record WHERE batch_id = @new AND id_norm IS NOT NULL),
	j AS MATERIALIZED (
		SELECT coalesce(n.id_norm, o.id_norm) AS id, o.valid AS o_valid, o.name AS o_name, o.household AS o_household,
		       o.region_code AS o_region, o.pop AS o_pop, n.valid AS n_valid, n.name AS n_name, n.birth AS n_birth,
		       n.household AS n_household, n.region_code AS n_region, n.pop AS n_pop
		FROM o FULL JOIN n ON n.id_norm = o.id_norm
		WHERE o.id_norm IS NULL OR n.id_norm IS NULL
		   OR (o.row_hash IS DISTINCT FROM n.row_hash -- equal digests: nothing typed changed
		       AND (o.pop, o.household, o.region_code) IS DISTINCT FROM (n.pop, n.household, n.region_code))),
	d AS (
		SELECT id, n_name AS name, n_region AS region, NULL::text AS scheme,
		       CASE WHEN n_birth >= @old_day::date THEN 'birth' ELSE 'move_in' END AS kind,
		       CASE WHEN n_birth >= @old_day::date THEN n_birth ELSE @new_day::date END AS effective,
		       NULL::text AS old_value, n_region AS new_value
		FROM j WHERE o_pop IS NULL AND n_valid AND n_pop = '正常'
		UNION ALL
		SELECT id, o_name, o_region, NULL, 'move_out', @new_day::date, o_pop, '不在新户籍数据中'
		FROM j WHERE n_pop IS NULL AND o_valid AND o_pop = '正常'
		UNION ALL
		SELECT id, n_name, n_region, NULL, c.kind, @new_day::date, c.old_value, c.new_value
		FROM j CROSS JOIN LATERAL (VALUES
			(CASE WHEN o_pop = '正常' AND n_pop = '死亡' THEN 'death'
			      WHEN o_pop = '正常' AND n_pop IN ('迁出', '注销') THEN 'move_out'
			      WHEN o_pop <> '正常' AND n_pop = '正常' THEN 'move_in' END, o_pop, n_pop),
			(CASE WHEN o_pop = '正常' AND n_pop = '正常' AND o_household IS DISTINCT FROM n_household THEN 'household' END,
			 o_household, n_household),
			(CASE WHEN o_pop = '正常' AND n_pop = '正常' AND o_region IS DISTINCT FROM n_region THEN 'region' END,
			 o_region, n_region)
		) AS c(kind, old_value, new_value)
		WHERE o_pop IS NOT NULL AND n_pop IS NOT NULL AND n_valid AND c.kind IS NOT NULL),
	` + holdEnrolled + insertEvents

// A death record is held while the hukou extract in force still lists the
// person as living; so is a correction of its date.
const deathSQL = `
	WITH o AS (
		SELECT DISTINCT ON (id_norm) id_norm, death_date
		FROM source_record WHERE batch_id = @prev AND id_norm IS NOT NULL AND id_damage IS NULL
		ORDER BY id_norm, death_date DESC NULLS LAST, line),
	n AS (
		SELECT DISTINCT ON (id_norm) id_norm, name, region_code, death_date
		FROM source_record WHERE batch_id = @new AND id_norm IS NOT NULL AND id_damage IS NULL
		ORDER BY id_norm, death_date DESC NULLS LAST, line),
	j AS MATERIALIZED (
		SELECT n.id_norm AS id, n.name, n.region_code, n.death_date AS n_date, o.id_norm IS NOT NULL AS known, o.death_date AS o_date
		FROM n LEFT JOIN o ON o.id_norm = n.id_norm
		WHERE o.id_norm IS NULL OR (n.death_date IS NOT NULL AND o.death_date IS DISTINCT FROM n.death_date)),
	d AS (
		SELECT id, name, region_code AS region, NULL::text AS scheme, CASE WHEN known THEN 'death_fix' ELSE 'death' END AS kind,
		       coalesce(n_date, @new_day::date) AS effective, to_char(o_date, 'YYYY-MM-DD') AS old_value,
		       to_char(n_date, 'YYYY-MM-DD') AS new_value
		FROM j),
	holds AS MATERIALIZED (
		SELECT DISTINCT s.id_norm AS id, k.kind, '户籍数据仍为正常，请核实后确认' AS reason
		FROM source_record s CROSS JOIN (VALUES ('death'), ('death_fix')) AS k(kind)
		WHERE s.batch_id = ANY(@hold::bigint[]) AND s.id_norm IN (SELECT id FROM d)
		  AND coalesce(s.pop_status, '正常') = '正常')` + insertEvents

// Enrollment: one state per person and scheme (normal before paused
// before ended); no holds.
const enrollmentSQL = `
	WITH o AS (
		SELECT DISTINCT ON (id_norm, scheme) id_norm, scheme, name, region_code,
		       CASE WHEN coalesce(enroll_status, 1) = 4 OR coalesce(pay_status, 1) = 3 THEN '参保终止'
		            WHEN enroll_status = 2 OR pay_status = 2 THEN '参保中断' ELSE '正常参保' END AS st
		FROM source_record WHERE batch_id = @prev AND id_norm IS NOT NULL AND id_damage IS NULL AND scheme IS NOT NULL
		ORDER BY id_norm, scheme, coalesce(enroll_status, 1) = 4 OR coalesce(pay_status, 1) = 3,
		         (enroll_status = 2 OR pay_status = 2) IS TRUE, line),
	n AS (
		SELECT DISTINCT ON (id_norm, scheme) id_norm, scheme, name, region_code, enroll_date,
		       CASE WHEN coalesce(enroll_status, 1) = 4 OR coalesce(pay_status, 1) = 3 THEN '参保终止'
		            WHEN enroll_status = 2 OR pay_status = 2 THEN '参保中断' ELSE '正常参保' END AS st
		FROM source_record WHERE batch_id = @new AND id_norm IS NOT NULL AND id_damage IS NULL AND scheme IS NOT NULL
		ORDER BY id_norm, scheme, coalesce(enroll_status, 1) = 4 OR coalesce(pay_status, 1) = 3,
		         (enroll_status = 2 OR pay_status = 2) IS TRUE, line),
	c AS (
		SELECT coalesce(n.id_norm, o.id_norm) AS id, coalesce(n.name, o.name) AS name,
		       coalesce(n.region_code, o.region_code) AS region, coalesce(n.scheme, o.scheme) AS scheme, n.enroll_date,
		       o.st AS old_st, n.st AS new_st,
		       CASE WHEN coalesce(o.st, '参保终止') = '参保终止' AND n.st IN ('正常参保', '参保中断') THEN 'enroll_start'
		            WHEN o.st = '正常参保' AND n.st = '参保中断' THEN 'enroll_pause'
		            WHEN o.st = '参保中断' AND n.st = '正常参保' THEN 'enroll_resume'
		            WHEN o.st IN ('正常参保', '参保中断') AND coalesce(n.st, '参保终止') = '参保终止' THEN 'enroll_end' END AS kind
		FROM o FULL JOIN n ON n.id_norm = o.id_norm AND n.scheme = o.scheme
		WHERE o.st IS DISTINCT FROM n.st),
	d AS (
		SELECT id, name, region, scheme, kind,
		       CASE WHEN kind = 'enroll_start' THEN coalesce(enroll_date, @new_day::date) ELSE @new_day::date END AS effective,
		       old_st AS old_value, coalesce(new_st, '不在新参保数据中') AS new_value
		FROM c WHERE kind IS NOT NULL),
	holds AS (SELECT NULL::text AS id, NULL::text AS kind, NULL::text AS reason WHERE false)` + insertEvents

// Residence: a person new to the residence extract moved in, one gone
// from it moved out (held while still enrolled here, as a hukou move out
// is; see holdResident), one listed in another residence region changed
// region. A region that contains the old one is no move: a blank or
// invalid 居住地区划代码 is read as the batch's region (the county), and a
// village in the older extract, a blank cell in the newer, is the same
// place said less precisely.
var residentSQL = `
	WITH o AS (` + residentSide("@prev") + `),
	n AS (` + residentSide("@new") + `),
	j AS MATERIALIZED (
		SELECT coalesce(n.id_norm, o.id_norm) AS id, o.valid AS o_valid, o.name AS o_name, o.region_code AS o_region,
		       n.valid AS n_valid, n.name AS n_name, n.region_code AS n_region
		FROM o FULL JOIN n ON n.id_norm = o.id_norm
		WHERE o.id_norm IS NULL OR n.id_norm IS NULL
		   OR (o.region_code IS DISTINCT FROM n.region_code AND NOT coalesce(o.region_code LIKE n.region_code || '%', false))),
	d AS (
		SELECT id, n_name AS name, n_region AS region, NULL::text AS scheme, 'move_in' AS kind, @new_day::date AS effective,
		       NULL::text AS old_value, n_region AS new_value
		FROM j WHERE o_valid IS NULL AND n_valid
		UNION ALL
		SELECT id, o_name, o_region, NULL, 'move_out', @new_day::date, o_region, '不在新居住人口数据中'
		FROM j WHERE n_valid IS NULL AND o_valid
		UNION ALL
		SELECT id, n_name, n_region, NULL, 'region', @new_day::date, o_region, n_region
		FROM j WHERE o_valid IS NOT NULL AND n_valid),
	` + holdResident + insertEvents

// residentSide is one residence extract (batch: @prev or @new), a row per
// ID: a person listed twice counts once, by their first valid line.
func residentSide(batch string) string {
	return `
		SELECT DISTINCT ON (id_norm) id_norm, id_damage IS NULL AS valid, name, region_code
		FROM source_record WHERE batch_id = ` + batch + ` AND id_norm IS NOT NULL
		ORDER BY id_norm, id_damage IS NOT NULL, line`
}

// Students: a person new to the student extract started school, one gone
// from it left, one listed at another school (or at a school where the
// older extract named none) started there: a school_start whose old
// value is the school left. A blank school in the newer extract is no
// change.
var studentSQL = `
	WITH o AS (` + studentSide("@prev") + `),
	n AS (` + studentSide("@new") + `),
	d AS (
		SELECT coalesce(n.id_norm, o.id_norm) AS id, coalesce(n.name, o.name) AS name, NULL::text AS region, NULL::text AS scheme,
		       CASE WHEN n.id_norm IS NULL THEN 'school_end' ELSE 'school_start' END AS kind, @new_day::date AS effective,
		       o.school AS old_value, CASE WHEN n.id_norm IS NULL THEN '不在新在校学生数据中' ELSE n.school END AS new_value
		FROM o FULL JOIN n ON n.id_norm = o.id_norm
		WHERE (o.id_norm IS NULL AND n.valid) OR (n.id_norm IS NULL AND o.valid)
		   OR (o.valid AND n.valid AND n.school IS NOT NULL AND o.school IS DISTINCT FROM n.school)),
	holds AS (SELECT NULL::text AS id, NULL::text AS kind, NULL::text AS reason WHERE false)` + insertEvents

// studentSide is one student extract (batch: @prev or @new), a row per ID
// with the school's name as given (学校名称 is kept in raw, at the batch's
// mapped column).
func studentSide(batch string) string {
	return `
		SELECT DISTINCT ON (id_norm) id_norm, id_damage IS NULL AS valid, name,
		       nullif(btrim(split_part(raw, chr(31), (SELECT (mapping ->> 'school')::int + 1 FROM import_batch WHERE id = ` + batch + `))), '') AS school
		FROM source_record WHERE batch_id = ` + batch + ` AND id_norm IS NOT NULL
		ORDER BY id_norm, id_damage IS NOT NULL, line`
}
