package migrations_test

import (
	"context"
	"testing"

	"github.com/canbao/canbao/internal/db"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/migrations"
)

// beforeExtractDate is the last version before batches kept the day their
// extract was taken (000027).
const beforeExtractDate = 26

// TestUpgradeBackfillsExtractDate: batches imported before 000027 were
// taken, as far as anyone knows, on the day they were imported; their
// events and registry entries stay; the new event kinds are accepted and
// a batch inserted without a date is refused.
func TestUpgradeBackfillsExtractDate(t *testing.T) {
	dbURL := newDatabase(t, pgtest.ServerURL(t))
	if err := migrateTo(dbURL, migrations.FS, beforeExtractDate); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dbURL)
	mustExec(t, conn, `
		INSERT INTO region (code, name, level, parent_code) VALUES
			('44', '广东省', 1, ''), ('4409', '茂名市', 2, '44'), ('440981', '高州市', 3, '4409');
		INSERT INTO import_batch (kind, region_code, source, file_name, file_sha256, file_size, status, created_at)
		VALUES ('户籍人口', '440981', '户籍人口', 'old.csv', 'a1', 1, 'done', '2026-03-31 10:00:00+00'),
		       ('户籍人口', '440981', '户籍人口', 'new.csv', 'a2', 1, 'done', '2026-06-30 03:00:00+00'),
		       ('在校学生', '440981', '在校学生', 'school.csv', 'a3', 1, 'failed', '2025-09-01 12:00:00+00'),
		       ('居住人口', '440981', '居住人口', 'r1.csv', 'a5', 1, 'done', '2025-10-01 12:00:00+00'),
		       ('居住人口', '440981', '居住人口', 'r2.csv', 'a6', 1, 'done', '2025-11-01 12:00:00+00'),
		       ('户籍人口', '440981', '户籍人口', 'late.csv', 'a7', 1, 'failed', '2026-06-29 20:00:00+00');
		-- the migration's session keeps UTC: only an explicit China day is right
		DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET timezone = %L', current_database(), 'UTC'); END $$;
		UPDATE import_batch SET superseded_by = 2 WHERE id = 1;
		UPDATE import_batch SET superseded_by = 5 WHERE id = 4;
		INSERT INTO extract_event (batch_id, prev_batch, kind, id_number, region_code, effective, state)
		VALUES (2, 1, 'move_in', '`+idA+`', '440981', '2026-06-30', 'auto');
		INSERT INTO person (id_number, name, identity_kind, region_code, first_kind, first_source, last_kind, last_source)
		VALUES ('`+idA+`', '张三', '户籍人口', '440981', 'extract', 2, 'extract', 2)`)
	if err := db.Migrate(dbURL); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The day in China: 2026-06-29 20:00 UTC is 2026-06-30 04:00 there.
	rows, err := conn.Query(ctx, `SELECT id, extract_date::text FROM import_batch ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2026-03-31", "2026-06-30", "2025-09-01", "2025-10-01", "2025-11-01", "2026-06-30"}
	var n int
	for rows.Next() {
		var id int64
		var date string
		if err := rows.Scan(&id, &date); err != nil {
			t.Fatal(err)
		}
		if n >= len(want) || date != want[n] {
			t.Errorf("batch %d: extract date %s, want the import day in China", id, date)
		}
		n++
	}
	if rows.Err() != nil || n != len(want) {
		t.Errorf("%d batches (%v)", n, rows.Err())
	}
	var events, persons int
	var school, residence *string
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM extract_event), (SELECT count(*) FROM person),
		(SELECT school FROM person), (SELECT residence FROM person)`).Scan(&events, &persons, &school, &residence); err != nil {
		t.Fatal(err)
	}
	if events != 1 || persons != 1 || school != nil || residence != nil {
		t.Errorf("after the upgrade: %d events, %d persons, school %v, residence %v", events, persons, school, residence)
	}
	mustExec(t, conn, `
		INSERT INTO extract_event (batch_id, prev_batch, kind, id_number, region_code, effective, state)
		VALUES (2, 1, 'school_start', '`+idA+`', '440981', '2026-06-30', 'auto'), (2, 1, 'school_end', '`+idB+`', '440981', '2026-06-30', 'auto');
		INSERT INTO import_batch (kind, region_code, source, file_name, file_sha256, file_size, status, extract_date)
		VALUES ('居住人口', '440981', '居住人口', 'r.csv', 'a4', 1, 'failed', '2026-07-01')`)
	// The residence batches count as derived (nothing was, nor will be, of
	// them); the hukou batches are left as they were.
	var derived []int64
	if err := conn.QueryRow(ctx, `SELECT array_agg(id ORDER BY id) FROM import_batch WHERE derived_at IS NOT NULL`).Scan(&derived); err != nil ||
		len(derived) != 2 || derived[0] != 4 || derived[1] != 5 {
		t.Errorf("derived batches %v (%v), want [4 5]", derived, err)
	}
	// No default: a day in the session's time zone is never taken silently.
	if _, err := conn.Exec(ctx, `INSERT INTO import_batch (kind, region_code, source, file_name, file_sha256, file_size, status)
		VALUES ('居住人口', '440981', '居住人口', 'r.csv', 'a8', 1, 'failed')`); err == nil {
		t.Error("a batch without an extract date was accepted")
	}
	if _, err := conn.Exec(ctx, `INSERT INTO extract_event (batch_id, prev_batch, kind, id_number, region_code, effective, state)
		VALUES (2, 1, 'graduation', 'x', '440981', '2026-06-30', 'auto')`); err == nil {
		t.Error("an unknown event kind was accepted")
	}
}
