package migrations_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/db"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/migrations"
)

// lastLanded is the schema version main ended at when these migrations
// were written (000016, commit 89a56b4); the ones after it change tables
// that hold survey, report and event data in deployed databases.
const lastLanded = 16

// TestUpgradeFromLastLanded fills the tables 000017–000020 touch at the
// last landed version and migrates to the latest: every row stays, the
// member key moved to its new index still refuses a second member of a
// round for one person, and batches that had events count as derived.
func TestUpgradeFromLastLanded(t *testing.T) {
	dbURL := newDatabase(t, pgtest.ServerURL(t))
	if err := migrateTo(dbURL, migrations.FS, lastLanded); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dbURL)
	mustExec(t, conn, `
		INSERT INTO region (code, name, level, parent_code) VALUES
			('44', '广东省', 1, ''), ('4409', '茂名市', 2, '44'), ('440981', '高州市', 3, '4409');
		INSERT INTO app_user (username, display_name, role, region_code, password_hash)
		VALUES ('gaozhou', '高州市管理员', 'county', '440981', 'hash');
		INSERT INTO import_batch (kind, region_code, source, file_name, file_sha256, file_size, status)
		VALUES ('hukou', '440981', '公安', 'old.csv', 'a1', 1, 'done'),
		       ('hukou', '440981', '公安', 'new.csv', 'a2', 1, 'done'),
		       ('death', '440981', '民政', 'death.csv', 'a3', 1, 'done');
		INSERT INTO extract_event (batch_id, prev_batch, kind, id_number, region_code, effective, state)
		VALUES (2, 1, 'death', '`+idA+`', '440981', '2026-10-01', 'auto');
		INSERT INTO comparison_run (region_code, as_of, status, batches, records, linked, unmatched, persons)
		VALUES ('440981', '2026-11-01', 'done', '{1}', 2, 2, 0, 2);
		INSERT INTO survey_round (region_code, title, run_id) VALUES ('440981', '第一批', 1);
		INSERT INTO survey_household (round_id, code, household, region_code, added_run) VALUES (1, 'K1', 'H1', '440981', 1);
		INSERT INTO survey_member (household_id, round_id, id_number, name, target, added_run) VALUES
			(1, 1, '`+idA+`', '张三', true, 1), (1, 1, '`+idB+`', '李四', false, 1);
		INSERT INTO survey_form (member_id, household_id, round_id, state) VALUES (1, 1, 1, 'draft');
		INSERT INTO report_person (run_id, id_number, region_code, hukou, local_active, schemes, emp, res, cross_groups, pension, medical, flags, survey)
		VALUES (1, '`+idA+`', '440981', true, false, 0, 0, 0, 0, 'none', 'none', 0, true)`)
	tables := []string{"survey_household", "survey_member", "survey_form", "report_person", "extract_event", "import_batch"}
	before := counts(t, conn, tables)

	if err := db.Migrate(dbURL); err != nil {
		t.Fatal(err)
	}
	if after := counts(t, conn, tables); after != before {
		t.Errorf("rows before %v, after %v", before, after)
	}
	var derived []int64
	rows, err := conn.Query(context.Background(), `SELECT id FROM import_batch WHERE derived_at IS NOT NULL ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		derived = append(derived, id)
	}
	if rows.Err() != nil || len(derived) != 1 || derived[0] != 2 {
		t.Errorf("derived batches %v (%v), want [2]: the one with events", derived, rows.Err())
	}
	_, err = conn.Exec(context.Background(), `INSERT INTO survey_member (household_id, round_id, id_number, name, target, added_run)
		VALUES (1, 1, '`+idA+`', '张三', true, 1)`)
	if err == nil {
		t.Error("a second member of round 1 for one person was accepted after 000017")
	}
}

// counts is the row count of each table, in order.
func counts(t *testing.T, conn *pgx.Conn, tables []string) [6]int {
	t.Helper()
	var n [6]int
	for i, table := range tables {
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n[i]); err != nil {
			t.Fatal(err)
		}
	}
	return n
}
