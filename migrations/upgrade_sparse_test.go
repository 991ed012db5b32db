package migrations_test

import (
	"slices"
	"testing"

	"github.com/canbao/canbao/internal/db"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/migrations"
)

// TestUpgradeSparseRuns fills a run's partitions at version 28 and
// migrates to the latest: run_person becomes run_person_row with its rows,
// partition and indexes; run_persons and run_records return the run whole,
// the records from its rows' arrays; and a sparse run anchored on it then
// derives its persons' records from their keys and run_link.
func TestUpgradeSparseRuns(t *testing.T) {
	dbURL := newDatabase(t, pgtest.ServerURL(t))
	if err := migrateTo(dbURL, migrations.FS, 28); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dbURL)
	mustExec(t, conn, `
		INSERT INTO region (code, name, level, parent_code) VALUES
			('44', '广东省', 1, ''), ('4409', '茂名市', 2, '44'), ('440981', '高州市', 3, '4409');
		INSERT INTO import_batch (kind, region_code, source, file_name, file_sha256, file_size, status, extract_date)
		VALUES ('参保信息', '440981', '社保', 'e.csv', 'a1', 1, 'done', '2026-11-01');
		CREATE TABLE source_record_1 (LIKE source_record INCLUDING DEFAULTS, CHECK (batch_id = 1));
		INSERT INTO source_record_1 (batch_id, line, id_norm, id_damage, name, raw) VALUES
			(1, 2, '`+idA+`', NULL, '张三', 'x'), (1, 3, '`+idA+`', NULL, '张三', 'x'),
			(1, 4, '`+idC+`', 'check', '李四', 'x'), (1, 5, '`+idB+`', NULL, '李四', 'x');
		ALTER TABLE source_record ATTACH PARTITION source_record_1 FOR VALUES IN (1);
		INSERT INTO comparison_run (region_code, as_of, status, batches, records, linked, persons)
		VALUES ('440981', '2026-11-01', 'done', '{1}', 4, 4, 2);
		CREATE TABLE run_person_1 (LIKE run_person INCLUDING DEFAULTS, CHECK (run_id = 1));
		INSERT INTO run_person_1 (run_id, id_number, name, region_code, in_universe, pension, medical, flags, survey, record_batches, record_lines, changed) VALUES
			(1, '`+idA+`', '张三', '440981', true, '已参保', '已参保', 0, false, '{1,1}', '{2,3}', true),
			(1, '`+idB+`', '李四', '440981', true, '应参未参', '应参未参', 4, true, '{1,1}', '{4,5}', true);
		ALTER TABLE run_person ATTACH PARTITION run_person_1 FOR VALUES IN (1);
		CREATE TABLE run_link_1 (LIKE run_link INCLUDING DEFAULTS, CHECK (run_id = 1));
		INSERT INTO run_link_1 (run_id, batch_id, line, id_number, method, name_diff, kind, id_norm, id_damage, name)
		VALUES (1, 1, 4, '`+idB+`', 'fuzzy', false, '参保信息', '`+idC+`', 'check', '李四');
		ALTER TABLE run_link ATTACH PARTITION run_link_1 FOR VALUES IN (1)`)
	const indexes = `SELECT indexdef FROM pg_indexes WHERE tablename = 'run_person_1' ORDER BY indexname`
	before := queryStrings(t, conn, indexes)

	if err := db.Migrate(dbURL); err != nil {
		t.Fatal(err)
	}
	if after := queryStrings(t, conn, indexes); len(before) < 4 || !slices.Equal(before, after) {
		t.Errorf("run_person_1's indexes before the upgrade %q, after %q", before, after)
	}
	expect := func(q string, want ...string) {
		t.Helper()
		if got := queryStrings(t, conn, q); !slices.Equal(got, want) {
			t.Errorf("%s\n got  %q\n want %q", q, got, want)
		}
	}
	expect(`SELECT concat_ws('|', inhparent::regclass, inhrelid::regclass) FROM pg_inherits WHERE inhrelid = 'run_person_1'::regclass`,
		"run_person_row|run_person_1")
	expect(`SELECT concat_ws('|', id, coalesce(anchor::text, '∅')) FROM comparison_run`, "1|∅")
	expect(`SELECT concat_ws('|', run_id, id_number, name, pension, flags, survey, changed) FROM run_persons(1) ORDER BY id_number`,
		"1|"+idB+"|李四|应参未参|4|t|t", "1|"+idA+"|张三|已参保|0|f|t")
	expect(`SELECT concat_ws('|', id_number, batch_id, line) FROM run_records(1) ORDER BY batch_id, line`,
		idA+"|1|2", idA+"|1|3", idB+"|1|4", idB+"|1|5")

	// A sparse run on it (as an incremental run writes one): 李四 unlike
	// the anchor's, 张三 the anchor's with the records of their key, and a
	// third person gone. The import keys new batches; this one is keyed
	// here.
	mustExec(t, conn, `
		UPDATE source_record SET id_key = id_key(id_norm) WHERE id_damage IS NULL;
		INSERT INTO comparison_run (region_code, as_of, status, batches, records, linked, persons, anchor)
		VALUES ('440981', '2026-11-02', 'done', '{1}', 4, 4, 2, 1);
		CREATE TABLE run_person_2 PARTITION OF run_person_row FOR VALUES IN (2);
		INSERT INTO run_person_2 (run_id, id_number, name, region_code, in_universe, pension, medical, flags, survey, record_batches, record_lines, changed)
		VALUES (2, '`+idB+`', '李四', '440981', true, '已参保', '应参未参', 4, true, '{1,1}', '{4,5}', true);
		CREATE TABLE run_link_2 PARTITION OF run_link FOR VALUES IN (2);
		INSERT INTO run_link_2 SELECT 2, batch_id, line, id_number, method, name_diff, reason, kind, id_norm, id_damage, name, region_code FROM run_link_1`)
	expect(`SELECT concat_ws('|', run_id, id_number, pension, changed) FROM run_persons(2) ORDER BY id_number`,
		"2|"+idB+"|已参保|t", "2|"+idA+"|已参保|f")
	expect(`SELECT concat_ws('|', id_number, batch_id, line) FROM run_records(2) ORDER BY batch_id, line`,
		idA+"|1|2", idA+"|1|3", idB+"|1|4", idB+"|1|5")
	mustExec(t, conn, `INSERT INTO run_person_gone (run_id, id_number) VALUES (2, '`+idA+`')`)
	expect(`SELECT id_number FROM run_persons(2)`, idB)
	expect(`SELECT concat_ws('|', id_number, line) FROM run_records(2) ORDER BY line`, idB+"|4", idB+"|5")
}
