package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Progress describes simulated field work of a survey round: who was
// visited and approved, and when, drawn deterministically from each
// person's ID so the same data gives the same round.
type Progress struct {
	Region   string    // the round's region (a county)
	RunID    int64     // the run whose survey targets are visited
	Start    time.Time // when the round was published
	Now      time.Time // the last moment of field work
	Deadline time.Time
	// Recount writes the round's kept counts (survey.Recount) in the
	// round's transaction; the survey package imports this one's callers'
	// packages, so it is handed in.
	Recount func(ctx context.Context, tx pgx.Tx, round int64) error
}

// SurveyProgress writes a survey round for p.Region from the run's survey
// targets, as the survey module would (one household per 户号 and village,
// the targets as members), and field work spread between Start and Now: in
// each township a different share of targets was visited (form submitted,
// returned or approved) and approved, each on a day drawn from their ID,
// approved a day after the visit; approved forms of the not insured carry
// a 未参保原因. Nothing here is an indicator: the indicators are computed
// from these rows like from any others. It returns the round's id.
func SurveyProgress(ctx context.Context, db *pgxpool.Pool, p Progress) (int64, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var round int64
	const qRound = `
		INSERT INTO survey_round (region_code, title, run_id, deadline, created_at, created_name, updated_at)
		VALUES ($1, '演示：入户调查第一轮', $2, $3, $4, '演示', $4) RETURNING id`
	if err := tx.QueryRow(ctx, qRound, p.Region, p.RunID, p.Deadline, p.Start).Scan(&round); err != nil {
		return 0, fmt.Errorf("demo round: %w", err)
	}
	steps := []struct {
		what, q string
		args    []any
	}{
		{"households", `
		INSERT INTO survey_household (round_id, code, household, region_code, targets, added_run)
		SELECT $1::bigint, 'D' || $1::bigint || '-' || row_number() OVER (ORDER BY region_code, hh), hh, region_code, n, $2
		FROM (SELECT coalesce(nullif(pe.household, ''), rp.id_number) AS hh, rp.region_code, count(*) AS n
		      FROM run_persons($2) rp LEFT JOIN person pe ON pe.id_number = rp.id_number
		      WHERE rp.survey
		      GROUP BY 1, 2) t`, []any{round, p.RunID}},
		{"members", `
		INSERT INTO survey_member (household_id, round_id, id_number, name, target, pension, medical, flags, added_run)
		SELECT h.id, $1, rp.id_number, rp.name, true, rp.pension, rp.medical, rp.flags, $2
		FROM run_persons($2) rp LEFT JOIN person pe ON pe.id_number = rp.id_number
		JOIN survey_household h ON h.round_id = $1 AND h.household = coalesce(nullif(pe.household, ''), rp.id_number)
		     AND h.region_code = rp.region_code
		WHERE rp.survey`, []any{round, p.RunID}},
		// share: per township 35–85 % visited; of the visited, 80 % approved,
		// 5 % returned, the rest awaiting review.
		{"forms", `
		WITH m AS (
			SELECT sm.id, sm.household_id, sm.pension, sm.medical,
			       abs(hashtext(sm.id_number)) % 1000 AS r,
			       abs(hashtext('t' || left(h.region_code, 9))) % 51 + 35 AS share,
			       abs(hashtext('d' || sm.id_number)) % 1000 / 1000.0 AS at
			FROM survey_member sm JOIN survey_household h ON h.id = sm.household_id
			WHERE sm.round_id = $1)
		INSERT INTO survey_form (member_id, household_id, round_id, state, reason, surveyed_on, submitted_at,
		                         reviewed_at, entered_name, reviewed_name, created_at, updated_at)
		SELECT id, household_id, $1, state,
		       CASE WHEN state = 'approved' AND ('应参未参' IN (pension, medical))
		            THEN (ARRAY['个人未参保', '个人未参保', '缴费中断', '单位未予参保', '人户分离', '出国', '全日制在校生', '其他'])[r % 8 + 1]
		            ELSE '' END,
		       visit::date, visit, CASE WHEN state IN ('approved', 'returned') THEN least(visit + interval '1 day', $3) END,
		       '演示录入员', CASE WHEN state IN ('approved', 'returned') THEN '演示审核员' ELSE '' END, visit, visit
		FROM (SELECT m.*, $2::timestamptz + (($3::timestamptz - $2::timestamptz) * m.at) AS visit,
		             CASE WHEN r % 100 < 80 THEN 'approved' WHEN r % 100 < 85 THEN 'returned' ELSE 'submitted' END AS state
		      FROM m WHERE r < share * 10) v`, []any{round, p.Start, p.Now}},
		{"round counts", `
		UPDATE survey_round SET households = (SELECT count(*) FROM survey_household WHERE round_id = $1),
		       persons = (SELECT count(*) FROM survey_member WHERE round_id = $1),
		       targets = (SELECT count(*) FROM survey_member WHERE round_id = $1 AND target)
		WHERE id = $1`, []any{round}},
	}
	for _, s := range steps {
		if _, err := tx.Exec(ctx, s.q, s.args...); err != nil {
			return 0, fmt.Errorf("demo round %s: %w", s.what, err)
		}
	}
	if p.Recount != nil {
		if err := p.Recount(ctx, tx, round); err != nil {
			return 0, err
		}
	}
	return round, tx.Commit(ctx)
}
