package survey

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// A publish and a top-up are the same merge of a run into a round: a new
// round is an empty one. Every step is one statement over whole sets (a
// county's round is some 100,000 households), in the publish's
// transaction, through temporary tables dropped at commit: the targets,
// their households and every member of those. A top-up then merges them
// into the round with the statements below; a new round's rows are
// written from Go into partitions of their own (round_new.go).
const qTempTables = `
	CREATE TEMP TABLE pub_target (id_number text COLLATE "C", household text COLLATE "C", place text COLLATE "C",
		name text, relation text) ON COMMIT DROP;
	CREATE TEMP TABLE pub_household (id bigint, household text COLLATE "C", place text COLLATE "C", single text COLLATE "C", new boolean) ON COMMIT DROP;
	CREATE TEMP TABLE pub_member (household_id bigint, id_number text COLLATE "C", name text, relation text, target boolean) ON COMMIT DROP`

// The comparison run's results (run_persons) are read here only: by
// qTargets, qInsertMembers, qNewMembers and qUpdateMembers, through the
// columns id_number, survey, region_code, name, pension, medical and
// flags.
const (
	// The run's targets in the region ($2), each with its household key: a
	// 户号 in the region, or none (a household of one at the person's
	// region); with their name and relation, so a household of one needs
	// no second look at the registry.
	qTargets = `
		INSERT INTO pub_target (id_number, household, place, name, relation)
		SELECT rp.id_number,
		       CASE WHEN coalesce(p.household, '') <> '' AND p.hukou_region LIKE $2 || '%' THEN p.household ELSE '' END,
		       CASE WHEN coalesce(p.household, '') <> '' AND p.hukou_region LIKE $2 || '%' THEN p.hukou_region ELSE rp.region_code END,
		       coalesce(nullif(p.name, ''), rp.name, ''), coalesce(p.relation, '')
		FROM run_persons($1) rp LEFT JOIN person p ON p.id_number = rp.id_number
		WHERE rp.survey AND rp.region_code LIKE $2 || '%'`

	// Households the round ($1) must hold: those of the targets' 户号
	// (already in the round or new) and a new household of one for each
	// target without 户号 the round does not list yet. A target already
	// listed stays where it is. A household of one has no 户号 (NULL, not
	// ''): were a seventh of the rows '' the planner would take the key for
	// skewed and hash the million persons instead of these households.
	qHouseholds = `
		INSERT INTO pub_household (id, household, place, single, new)
		SELECT coalesce(h.id, nextval('survey_household_id_seq')), k.household, k.place, NULL, h.id IS NULL
		FROM (SELECT DISTINCT household, place FROM pub_target WHERE household <> '') k
		LEFT JOIN survey_household h ON h.round_id = $1 AND h.household = k.household AND h.region_code = k.place
		UNION ALL
		SELECT nextval('survey_household_id_seq'), NULL, t.place, t.id_number, true
		FROM pub_target t
		WHERE t.household = '' AND NOT EXISTS (SELECT 1 FROM survey_member m WHERE m.round_id = $1 AND m.id_number = t.id_number)`

	// Every member of those households by the registry ($1 region): the
	// register's current members, and the targets themselves whatever their
	// status. Their run's statuses join them on the way into the round.
	qMembers = `
		INSERT INTO pub_member (household_id, id_number, name, relation, target)
		SELECT h.id, p.id_number, p.name, coalesce(p.relation, ''), t.id_number IS NOT NULL
		FROM pub_household h
		JOIN person p ON p.household = h.household AND p.hukou_region = h.place
		LEFT JOIN pub_target t ON t.id_number = p.id_number
		WHERE h.single IS NULL AND p.hukou_region LIKE $1 || '%'
		  AND (coalesce(p.pop_status, '正常') = '正常' OR t.id_number IS NOT NULL)
		UNION ALL
		SELECT h.id, t.id_number, t.name, t.relation, true
		FROM pub_household h JOIN pub_target t ON t.id_number = h.single`

	// A top-up's new households of round $1 from run $2 with their counts,
	// their head (户主, else a member) and the team their village is
	// assigned to whole.
	qInsertHouseholds = `
		INSERT INTO survey_household (id, round_id, code, household, region_code, added_run, persons, targets, head_name, team_id)
		SELECT h.id, $1, survey_task_code(h.id), coalesce(h.household, ''), h.place, $2, c.persons, c.targets, c.head, v.team_id
		FROM pub_household h
		JOIN (SELECT household_id, count(*) AS persons, count(*) FILTER (WHERE target) AS targets,
		             coalesce(min(name) FILTER (WHERE relation = '户主'), min(name)) AS head
		      FROM pub_member GROUP BY household_id) c ON c.household_id = h.id
		LEFT JOIN survey_team_village v ON v.round_id = $1 AND v.village_code = h.place
		WHERE h.new ORDER BY h.id`

	// A top-up's new members of round $1 from run $2: someone the round
	// lists already (in this or another household) keeps their row. In
	// household order, the order of their ids: a household's members lie
	// together.
	qInsertMembers = `
		INSERT INTO survey_member (household_id, round_id, id_number, name, relation, target, pension, medical, flags, added_run)
		SELECT m.household_id, $1, m.id_number, coalesce(nullif(m.name, ''), rp.name, ''), m.relation, m.target,
		       coalesce(rp.pension, ''), coalesce(rp.medical, ''), coalesce(rp.flags, 0), $2
		FROM pub_member m LEFT JOIN run_persons($2) rp ON rp.id_number = m.id_number
		ORDER BY m.household_id
		ON CONFLICT (round_id, id_number) DO NOTHING`

	// A new round's members with run $1's statuses, to be written from Go
	// (newRound).
	qNewMembers = `
		SELECT m.household_id, m.id_number, coalesce(nullif(m.name, ''), rp.name, ''), m.relation, m.target,
		       coalesce(rp.pension, ''), coalesce(rp.medical, ''), coalesce(rp.flags, 0)
		FROM pub_member m LEFT JOIN run_persons($1) rp ON rp.id_number = m.id_number`

	// Members of round $1 listed before run $2: the later run's statuses,
	// target or not now. A member no longer a target is marked dropped by
	// this run; one that is a target again is no longer dropped. Members
	// found at the door are the survey's own and stay as entered.
	qUpdateMembers = `
		UPDATE survey_member m
		SET target = n.target, pension = n.pension, medical = n.medical, flags = n.flags,
		    dropped_run = CASE WHEN n.target THEN NULL WHEN m.target THEN $2::bigint ELSE m.dropped_run END
		FROM (SELECT x.id, t.id_number IS NOT NULL AS target, coalesce(rp.pension, x.pension) AS pension,
		             coalesce(rp.medical, x.medical) AS medical, coalesce(rp.flags, x.flags) AS flags
		      FROM survey_member x
		      LEFT JOIN pub_target t ON t.id_number = x.id_number
		      LEFT JOIN run_persons($2) rp ON rp.id_number = x.id_number
		      WHERE x.round_id = $1 AND NOT x.found AND x.added_run <> $2) n
		WHERE m.id = n.id AND (m.target, m.pension, m.medical, m.flags) IS DISTINCT FROM (n.target, n.pension, n.medical, n.flags)`

	// Household counts of round $1 after a top-up, where they changed.
	qHouseholdCounts = `
		UPDATE survey_household h
		SET targets = c.targets, persons = c.persons, head_name = c.head
		FROM (SELECT household_id, count(*) FILTER (WHERE target) AS targets, count(*) AS persons,
		             coalesce(min(name) FILTER (WHERE relation = '户主'), min(name)) AS head
		      FROM survey_member WHERE round_id = $1 GROUP BY household_id) c
		WHERE h.id = c.household_id AND h.round_id = $1
		  AND (h.targets, h.persons, h.head_name) IS DISTINCT FROM (c.targets, c.persons, c.head)`

	qRoundCounts = `
		UPDATE survey_round r SET households = c.households, persons = c.persons, targets = c.targets, updated_at = now()
		FROM (SELECT count(*) AS households, coalesce(sum(persons), 0) AS persons, coalesce(sum(targets), 0) AS targets
		      FROM survey_household WHERE round_id = $1) c
		WHERE r.id = $1
		RETURNING r.households, r.persons, r.targets`
)

// qNewPartitions makes a new round's partitions (names and round twice):
// empty tables shaped as the survey's, that take only the round's rows.
const qNewPartitions = `
	CREATE TABLE %s (LIKE survey_household INCLUDING DEFAULTS, CHECK (round_id = %d));
	CREATE TABLE %s (LIKE survey_member INCLUDING DEFAULTS, CHECK (round_id = %d))`

// partition is the name of table's partition of round.
func partition(table string, round int64) string {
	return table + "_r" + strconv.FormatInt(round, 10)
}

// merging is a publish or top-up of a round from req.RunID under way, in
// its transaction.
type merging struct {
	tx    pgx.Tx
	req   PublishRequest
	round int64
	step  func(string)
	res   *PublishResult
}

// exec runs a statement of the merge, telling step its label if any.
func (m *merging) exec(ctx context.Context, label, q string, args ...any) (int64, error) {
	if label != "" {
		m.step(label)
	}
	tag, err := m.tx.Exec(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("publish round %d: %s: %w", m.round, label, err)
	}
	return tag.RowsAffected(), nil
}

// merge runs the steps of a publish or top-up of round from req.RunID.
func merge(ctx context.Context, tx pgx.Tx, req PublishRequest, round int64, step func(string), res *PublishResult) error {
	m := &merging{tx: tx, req: req, round: round, step: step, res: res}
	// The temporary tables have no statistics until analysed; without
	// them the planner guesses a few rows and loops over a million
	// persons where it should hash.
	steps := []struct {
		label string
		q     string
		args  []any
	}{
		// Every step is a join of whole sets; a nested loop, which the
		// planner picks when it underestimates a join's rows, costs a
		// random read per row (400,000 of them for a county).
		{"", `SET LOCAL enable_nestloop = off`, nil},
		// A county's joins hash a million persons: in the default 4 MB
		// they spill to disk in batches and sorts go external.
		{"", `SET LOCAL work_mem = '256MB'`, nil},
		// A new round's indexes are built when its partitions are
		// attached: a county's member partition sorts in memory, and
		// PostgreSQL lends each build parallel workers only when every
		// one of them gets 32 MB.
		{"", `SET LOCAL maintenance_work_mem = '256MB'`, nil},
		// The temporary tables need rough statistics only (their sizes,
		// how distinct their keys are): a sample of 3,000 rows, not
		// 30,000, costs a county's publish a quarter of a second less.
		{"", `SET LOCAL default_statistics_target = 10`, nil},
		{"", qTempTables, nil},
		{"读取调查对象", qTargets, []any{req.RunID, req.Region}},
		{"", `ANALYZE pub_target`, nil},
		{"归户", qHouseholds, []any{round}},
		{"", `ANALYZE pub_household`, nil},
		{"列出户内成员", qMembers, []any{req.Region}},
		{"", `ANALYZE pub_member`, nil},
	}
	for _, s := range steps {
		if _, err := m.exec(ctx, s.label, s.q, s.args...); err != nil {
			return err
		}
	}
	var err error
	if req.Round == 0 {
		err = m.newRound(ctx)
	} else {
		err = m.topUp(ctx)
	}
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SET LOCAL enable_nestloop = on`); err != nil {
		return err
	}
	return tx.QueryRow(ctx, qRoundCounts, round).Scan(&res.Households, &res.Persons, &res.Target)
}

// topUp adds the round's new households and members through the shared
// tables, brings the members listed before up to the run, and recounts
// the round.
func (m *merging) topUp(ctx context.Context) error {
	n, err := m.exec(ctx, "写入调查户", qInsertHouseholds, m.round, m.req.RunID)
	if err != nil {
		return err
	}
	m.res.NewHouseholds = int(n)
	if n, err = m.exec(ctx, "写入户内成员", qInsertMembers, m.round, m.req.RunID); err != nil {
		return err
	}
	m.res.NewMembers = int(n)
	if _, err := m.exec(ctx, "更新已列成员", qUpdateMembers, m.round, m.req.RunID); err != nil {
		return err
	}
	const q = `SELECT count(*) FROM survey_member WHERE round_id = $1 AND dropped_run = $2`
	if err := m.tx.QueryRow(ctx, q, m.round, m.req.RunID).Scan(&m.res.Dropped); err != nil {
		return fmt.Errorf("publish round %d: %w", m.round, err)
	}
	if _, err := m.exec(ctx, "统计各户人数", qHouseholdCounts, m.round); err != nil {
		return err
	}
	m.step("汇总")
	return recount(ctx, m.tx, m.round)
}
