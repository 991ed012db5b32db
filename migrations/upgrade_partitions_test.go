package migrations_test

import (
	"context"
	"io/fs"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/db"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/migrations"
)

// partitionsVersion is the migration that makes a round's survey rows a
// partition of their own (000022).
const partitionsVersion = 22

// TestUpgradeSurveyPartitions migrates a database holding two published
// rounds (households, members, a form) to the partitioned tables: every
// row stays, in one partition of the old rounds; keys still hold; a
// top-up of an old round, a new round loaded and attached as the publish
// does, and a round made by hand all write where they should; and the
// down migration gives the rows back.
func TestUpgradeSurveyPartitions(t *testing.T) {
	dbURL := newDatabase(t, pgtest.ServerURL(t))
	before22 := versionBefore(t, partitionsVersion)
	if err := migrateTo(dbURL, migrations.FS, before22); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dbURL)
	mustExec(t, conn, `
		INSERT INTO region (code, name, level, parent_code) VALUES
			('44', '广东省', 1, ''), ('4409', '茂名市', 2, '44'), ('440981', '高州市', 3, '4409');
		INSERT INTO comparison_run (region_code, as_of, status, batches, records, linked, unmatched, persons)
		VALUES ('440981', '2026-11-01', 'done', '{}', 2, 2, 0, 2);
		INSERT INTO survey_round (region_code, title, run_id) VALUES ('440981', '第一批', 1), ('440981', '第二批', 1);
		INSERT INTO survey_household (round_id, code, household, region_code, added_run) VALUES
			(1, survey_task_code(1), 'H1', '440981', 1), (2, survey_task_code(2), 'H1', '440981', 1);
		INSERT INTO survey_member (household_id, round_id, id_number, name, target, added_run) VALUES
			(1, 1, '`+idA+`', '张三', true, 1), (1, 1, '`+idB+`', '李四', false, 1), (2, 2, '`+idA+`', '张三', true, 1);
		INSERT INTO survey_form (member_id, household_id, round_id, state) VALUES (1, 1, 1, 'draft'), (3, 2, 2, 'submitted')`)
	tables := []string{"survey_household", "survey_member", "survey_form"}
	before := counts3(t, conn, tables)

	if err := db.Migrate(dbURL); err != nil {
		t.Fatal(err)
	}
	if after := counts3(t, conn, tables); after != before {
		t.Errorf("rows before %v, after %v", before, after)
	}
	var old int
	if err := conn.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM survey_household_old) + (SELECT count(*) FROM survey_member_old)`).Scan(&old); err != nil {
		t.Fatal(err)
	}
	if old != before[0]+before[1] {
		t.Errorf("%d rows in the old rounds' partitions, want all %d", old, before[0]+before[1])
	}
	refused := func(what, sql string) {
		t.Helper()
		if _, err := conn.Exec(context.Background(), sql); err == nil {
			t.Errorf("%s was accepted", what)
		}
	}
	refused("a second member of round 1 for one person", `INSERT INTO survey_member (household_id, round_id, id_number, name, target, added_run)
		VALUES (1, 1, '`+idA+`', '张三', true, 1)`)
	refused("a form of round 2 for a member of round 1", `INSERT INTO survey_form (member_id, household_id, round_id, state) VALUES (2, 1, 2, 'draft')`)
	refused("a second household H1 in round 1", `INSERT INTO survey_household (round_id, code, household, region_code, added_run)
		VALUES (1, 'X', 'H1', '440981', 1)`)

	// A top-up of round 1 writes into the old rounds' partition; a round
	// made by hand into the default one; a publish's new round into a
	// table of its own, attached with its indexes built.
	mustExec(t, conn, `
		INSERT INTO survey_member (household_id, round_id, id_number, name, target, added_run) VALUES (1, 1, '`+idC+`', '王五', true, 1);
		INSERT INTO survey_round (region_code, title, run_id) VALUES ('440981', '手工', 1), ('440981', '发布', 1);
		INSERT INTO survey_household (round_id, code, household, region_code, added_run) VALUES (3, survey_task_code(3), 'H1', '440981', 1);
		CREATE TABLE survey_household_r4 (LIKE survey_household INCLUDING DEFAULTS, CHECK (round_id = 4));
		CREATE TABLE survey_member_r4 (LIKE survey_member INCLUDING DEFAULTS, CHECK (round_id = 4));
		INSERT INTO survey_household_r4 (round_id, code, household, region_code, added_run) VALUES (4, 'R4', 'H1', '440981', 1);
		INSERT INTO survey_member_r4 (household_id, round_id, id_number, name, target, added_run)
		SELECT id, 4, '`+idA+`', '张三', true, 1 FROM survey_household_r4;
		ALTER TABLE survey_household ATTACH PARTITION survey_household_r4 FOR VALUES IN (4);
		ALTER TABLE survey_member ATTACH PARTITION survey_member_r4 FOR VALUES IN (4);
		INSERT INTO survey_form (member_id, household_id, round_id, state) SELECT id, household_id, 4, 'draft' FROM survey_member WHERE round_id = 4`)
	var where string
	if err := conn.QueryRow(context.Background(), `
		SELECT string_agg(m.round_id || ':' || m.tableoid::regclass::text, ' ' ORDER BY m.id) FROM survey_member m`).Scan(&where); err != nil {
		t.Fatal(err)
	}
	if want := "1:survey_member_old 1:survey_member_old 2:survey_member_old 1:survey_member_old 4:survey_member_r4"; where != want {
		t.Errorf("members lie in %q, want %q", where, want)
	}
	if bad := partitionDrift(t, conn); len(bad) > 0 {
		t.Errorf("partitions differ from their tables: %v", bad)
	}
	refused("a second member of round 4 for one person", `INSERT INTO survey_member (household_id, round_id, id_number, name, target, added_run)
		SELECT household_id, 4, id_number, name, true, 1 FROM survey_member WHERE round_id = 4`)

	after := counts3(t, conn, tables)
	if err := migrateTo(dbURL, migrations.FS, before22); err != nil {
		t.Fatal(err)
	}
	if down := counts3(t, conn, tables); down != after {
		t.Errorf("rows before the down migration %v, after %v", after, down)
	}
	refused("a second member of round 1 for one person after the down migration", `INSERT INTO survey_member (household_id, round_id, id_number, name, target, added_run)
		VALUES (1, 1, '`+idA+`', '张三', true, 1)`)
}

// counts3 is the row count of each of three tables, in order.
func counts3(t *testing.T, conn *pgx.Conn, tables []string) [3]int {
	t.Helper()
	var n [3]int
	for i, table := range tables {
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n[i]); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// versionBefore is the number of the last migration before v (numbers may
// have gaps while branches land).
func versionBefore(t *testing.T, v uint) uint {
	t.Helper()
	names, err := fs.Glob(migrations.FS, "*.up.sql")
	if err != nil {
		t.Fatal(err)
	}
	var last uint
	for _, n := range names {
		if u, err := strconv.ParseUint(strings.SplitN(n, "_", 2)[0], 10, 32); err == nil && uint(u) < v && uint(u) > last {
			last = uint(u)
		}
	}
	return last
}
