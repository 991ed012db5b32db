package migrations_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/db"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/migrations"
)

// beforeFormRegion is the last version before a form kept its village
// (000024).
const beforeFormRegion = 23

// TestUpgradeFormRegion: the forms of a round already under way get their
// household's village, whatever their state; a form written afterwards
// gets its household's whatever it was given, and a household moved to
// another village takes its forms along, in every round.
func TestUpgradeFormRegion(t *testing.T) {
	dbURL := newDatabase(t, pgtest.ServerURL(t))
	if err := migrateTo(dbURL, migrations.FS, beforeFormRegion); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dbURL)
	// Two rounds; household 1 in village 204, 2 in 205 of round 1, 3 in
	// 204 of round 2. Forms: A approved, B returned, C superseded and a
	// draft, D submitted (round 2).
	mustExec(t, conn, `
		INSERT INTO region (code, name, level, parent_code) VALUES
			('44', '广东省', 1, ''), ('4409', '茂名市', 2, '44'), ('440981', '高州市', 3, '4409'),
			('440981107', '镇江镇', 4, '440981'), ('440981107204', '镇江村委会', 5, '440981107'),
			('440981107205', '新村村委会', 5, '440981107');
		INSERT INTO comparison_run (region_code, as_of, status, batches, records, linked, unmatched, persons)
		VALUES ('440981', '2026-11-01', 'done', '{}', 5, 5, 0, 5);
		INSERT INTO survey_round (region_code, title, run_id) VALUES ('440981', '第一批', 1), ('440981', '第二批', 1);
		INSERT INTO survey_household (id, round_id, code, household, region_code, added_run) VALUES
			(1, 1, 'K1', 'H1', '440981107204', 1), (2, 1, 'K2', 'H2', '440981107205', 1), (3, 2, 'K3', 'H1', '440981107204', 1);
		INSERT INTO survey_member (id, household_id, round_id, id_number, name, target, added_run) VALUES
			(1, 1, 1, 'A', 'A', true, 1), (2, 1, 1, 'B', 'B', false, 1), (3, 2, 1, 'C', 'C', true, 1), (4, 3, 2, 'D', 'D', true, 1),
			(5, 2, 1, 'E', 'E', true, 1);
		INSERT INTO survey_form (member_id, household_id, round_id, state) VALUES
			(1, 1, 1, 'approved'), (2, 1, 1, 'returned'), (3, 2, 1, 'superseded'), (3, 2, 1, 'draft'), (4, 3, 2, 'submitted')`)
	if err := db.Migrate(dbURL); err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{1: "440981107204", 2: "440981107204", 3: "440981107205", 4: "440981107205", 5: "440981107204"}
	checkFormRegions(t, conn, "backfilled", want)

	// A form written now, given no village or a wrong one, gets its
	// household's.
	mustExec(t, conn, `INSERT INTO survey_form (member_id, household_id, round_id, state) VALUES (5, 2, 1, 'draft');
		INSERT INTO survey_form (member_id, household_id, round_id, state, region_code) VALUES (4, 3, 2, 'superseded', '440981107205');
		UPDATE survey_form SET region_code = '' WHERE id = 1`)
	want[6], want[7] = "440981107205", "440981107204"
	checkFormRegions(t, conn, "written", want)

	// Household 1 of round 1 moves to village 205: its forms follow, the
	// forms of household 1's namesake in round 2 (id 3) stay.
	mustExec(t, conn, `UPDATE survey_household SET region_code = '440981107205' WHERE id = 1 AND round_id = 1`)
	want[1], want[2] = "440981107205", "440981107205"
	checkFormRegions(t, conn, "moved", want)
}

// checkFormRegions compares every form's region code with want (by form id).
func checkFormRegions(t *testing.T, conn *pgx.Conn, step string, want map[int64]string) {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT id, region_code FROM survey_form ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]string{}
	for rows.Next() {
		var id int64
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			t.Fatal(err)
		}
		got[id] = code
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if len(got) != len(want) {
		t.Errorf("%s: forms %v, want %v", step, got, want)
	}
	for id, code := range want {
		if got[id] != code {
			t.Errorf("%s: form %d in %q, want %q", step, id, got[id], code)
		}
	}
}
