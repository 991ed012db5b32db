package migrations_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/db"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/survey"
	"github.com/canbao/canbao/migrations"
)

// beforeCount is the last version before survey_count (000021).
const beforeCount = 20

// TestUpgradeBackfillsSurveyCount: a database with a round already under
// way gets its kept counts from its rows, equal to what the survey's own
// recount writes and to the numbers worked out by hand below.
func TestUpgradeBackfillsSurveyCount(t *testing.T) {
	dbURL := newDatabase(t, pgtest.ServerURL(t))
	if err := migrateTo(dbURL, migrations.FS, beforeCount); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dbURL)
	// Household 1 (team 1): A target, approved by clerk 1; B not a target
	// with a returned form by clerk 1; C a target with a superseded form
	// and a draft by the command line. Household 2 (no team): D a target,
	// no form; E not a target, no form.
	mustExec(t, conn, `
		INSERT INTO region (code, name, level, parent_code) VALUES
			('44', '广东省', 1, ''), ('4409', '茂名市', 2, '44'), ('440981', '高州市', 3, '4409'),
			('440981107', '镇江镇', 4, '440981'), ('440981107204', '镇江村委会', 5, '440981107');
		INSERT INTO app_user (username, display_name, role, region_code, password_hash)
		VALUES ('clerk', '录入员', 'township', '440981107', 'hash');
		INSERT INTO comparison_run (region_code, as_of, status, batches, records, linked, unmatched, persons)
		VALUES ('440981', '2026-11-01', 'done', '{}', 5, 5, 0, 5);
		INSERT INTO survey_round (region_code, title, run_id) VALUES ('440981', '第一批', 1);
		INSERT INTO survey_team (region_code, name) VALUES ('440981107', '第一组');
		INSERT INTO survey_household (round_id, code, household, region_code, added_run, persons, targets, team_id) VALUES
			(1, 'K1', 'H1', '440981107204', 1, 3, 2, 1), (1, 'K2', 'H2', '440981107204', 1, 2, 1, NULL);
		INSERT INTO survey_member (household_id, round_id, id_number, name, target, added_run) VALUES
			(1, 1, 'A', 'A', true, 1), (1, 1, 'B', 'B', false, 1), (1, 1, 'C', 'C', true, 1),
			(2, 1, 'D', 'D', true, 1), (2, 1, 'E', 'E', false, 1);
		INSERT INTO survey_form (member_id, household_id, round_id, state, entered_by) VALUES
			(1, 1, 1, 'approved', 1), (2, 1, 1, 'returned', 1), (3, 1, 1, 'superseded', 1), (3, 1, 1, 'draft', NULL)`)
	if err := db.Migrate(dbURL); err != nil {
		t.Fatal(err)
	}
	backfilled := countRows(t, conn)
	want := map[[3]int64][11]int{
		// households persons targets assigned p_persons visited confirmed returned hh hh_visited hh_confirmed
		{1, -1}: {1, 3, 2, 1, 3, 2, 1, 1, 1, 1, 0}, // team 1's household: A, B (has a form), C
		{0, -1}: {1, 2, 1, 0, 1, 0, 0, 0, 1, 0, 0}, // no team: D only
		{1, 1}:  {0, 0, 0, 0, 2, 2, 1, 1, 1, 1, 0}, // clerk 1: A and B
		{1, 0}:  {0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0}, // the command line: C's draft
	}
	if len(backfilled) != len(want) {
		t.Errorf("backfilled %v, want %v", backfilled, want)
	}
	for k, n := range want {
		if backfilled[k] != n {
			t.Errorf("team %d clerk %d: backfilled %v, want %v", k[0], k[1], backfilled[k], n)
		}
	}
	tx, err := conn.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := survey.Recount(context.Background(), tx, 1); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if recounted := countRows(t, conn); len(recounted) != len(backfilled) {
		t.Errorf("recounted %v, backfilled %v", recounted, backfilled)
	} else {
		for k, n := range recounted {
			if backfilled[k] != n {
				t.Errorf("team %d clerk %d: recounted %v, backfilled %v", k[0], k[1], n, backfilled[k])
			}
		}
	}
}

// countRows reads round 1's survey_count rows of the village by team and clerk.
func countRows(t *testing.T, conn *pgx.Conn) map[[3]int64][11]int {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT team_id, clerk_id, households, persons, targets, assigned,
		p_persons, visited, confirmed, returned, hh, hh_visited, hh_confirmed
		FROM survey_count WHERE round_id = 1 AND region_code = '440981107204'`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[[3]int64][11]int{}
	for rows.Next() {
		var k [3]int64
		var n [11]int
		if err := rows.Scan(&k[0], &k[1], &n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &n[6], &n[7], &n[8], &n[9], &n[10]); err != nil {
			t.Fatal(err)
		}
		out[k] = n
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	return out
}
