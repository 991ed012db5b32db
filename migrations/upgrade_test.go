package migrations_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5" // registers pgx5://
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/db"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/migrations"
)

// Each upgrade starts a database with the migrations of the first commit
// named (as they were on main then: testdata/migrations/<commit>), moves it
// through the later ones, putting data in at each new version, and then
// migrates it with the embedded migrations. Every commit on main that
// changed migrations/ is a starting point; the chains add histories of a
// database upgraded by an older main before this one.
var upgrades = []struct {
	commits []string
	// plainFails: the embedded migrations fail here without
	// migrations.Prepare (000004 drops an index this 000003 never made).
	plainFails bool
}{
	{commits: []string{"075bb07"}},
	{commits: []string{"d78aa41"}},
	{commits: []string{"2b3afc0"}},
	{commits: []string{"b50f414"}, plainFails: true},
	{commits: []string{"f11a79c"}, plainFails: true},
	{commits: []string{"7bcf902"}, plainFails: true},
	{commits: []string{"6503853"}},
	{commits: []string{"8782410"}},
	{commits: []string{"e7dac91"}},
	{commits: []string{"075bb07", "d78aa41", "b50f414"}, plainFails: true},
	{commits: []string{"d78aa41", "6503853", "e7dac91"}},
	{commits: []string{"2b3afc0", "e7dac91"}},
}

func TestUpgradeFromEveryLandedVersion(t *testing.T) {
	server := pgtest.ServerURL(t)
	fresh := newDatabase(t, server)
	if err := db.Migrate(fresh); err != nil {
		t.Fatal(err)
	}
	want := catalog(t, connect(t, fresh))
	for _, u := range upgrades {
		t.Run(strings.Join(u.commits, "-"), func(t *testing.T) {
			dbURL := newDatabase(t, server)
			conn := connect(t, dbURL)
			level := 0
			for _, c := range u.commits {
				up(t, dbURL, os.DirFS("../testdata/migrations/"+c))
				for v := level + 1; v <= version(t, conn); v++ {
					seed(t, conn, v)
				}
				level = version(t, conn)
			}

			// The repair's own version first: the data is checked in the
			// shape 000005 leaves, which later migrations may change.
			err := migrateTo(dbURL, migrations.FS, repairVersion)
			if u.plainFails {
				if err == nil {
					t.Fatal("the embedded migrations applied without migrations.Prepare; is plainFails still true?")
				}
				if v, dirty := versionDirty(t, conn); v != 4 || !dirty {
					t.Fatalf("after the failed attempt: version %d dirty %v, want 4 dirty", v, dirty)
				}
			} else if err != nil {
				t.Fatalf("embedded migrations: %v", err)
			}
			if err := migrations.Prepare(context.Background(), conn); err != nil {
				t.Fatal(err)
			}
			if err := migrateTo(dbURL, migrations.FS, repairVersion); err != nil {
				t.Fatal(err)
			}
			checkData(t, conn, level)
			// A new batch's partition is made and attached as the importer does.
			mustExec(t, conn, `
				INSERT INTO import_batch (kind, region_code, source, file_name, file_sha256, file_size, status)
				VALUES ('hukou', '440981', '公安', 'b.csv', 'def', 1, 'done');
				CREATE TABLE source_record_new (LIKE source_record INCLUDING DEFAULTS, CHECK (batch_id = 999));
				INSERT INTO source_record_new (batch_id, line, name, raw) VALUES (999, 2, '赵六', 'x');
				ALTER TABLE source_record ATTACH PARTITION source_record_new FOR VALUES IN (999)`)
			counts := rowCounts(t, conn)

			// Then the latest, whatever it is by now.
			if err := db.Migrate(dbURL); err != nil {
				t.Fatal(err)
			}
			if got := catalog(t, conn); !slices.Equal(got, want) {
				t.Errorf("schema differs from a fresh database:\n%s", diff(want, got))
			}
			if bad := partitionDrift(t, conn); len(bad) > 0 {
				t.Errorf("partitions differ from their tables: %v", bad)
			}
			if got := rowCounts(t, conn); !maps.Equal(got, counts) {
				t.Errorf("rows at version %d: %v; at the latest: %v", repairVersion, counts, got)
			}
		})
	}
}

// repairVersion is 000005's number.
const repairVersion = 5

// rowCounts counts the rows of the tables seed fills, those that the
// latest migrations still have.
func rowCounts(t *testing.T, conn *pgx.Conn) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, table := range []string{"region", "app_user", "import_batch", "source_record", "comparison_run", "person"} {
		if !queryBool(t, conn, `SELECT to_regclass($1) IS NOT NULL`, table) {
			continue
		}
		var c int
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&c); err != nil {
			t.Fatal(err)
		}
		n[table] = c
	}
	return n
}

func queryBool(t *testing.T, conn *pgx.Conn, q string, arg any) bool {
	t.Helper()
	var b bool
	if err := conn.QueryRow(context.Background(), q, arg).Scan(&b); err != nil {
		t.Fatal(err)
	}
	return b
}

// IDs of the seeded persons (not checked as IDs by the schema).
const (
	idA = "440981199001011234"
	idB = "440981198502023456"
	idC = "44098119850202345X" // B's ID with a wrong check character
)

// seed puts the data a database of version v holds into it, in whatever
// shape that version's tables have.
func seed(t *testing.T, conn *pgx.Conn, v int) {
	switch v {
	case 1:
		mustExec(t, conn, `
			INSERT INTO region (code, name, level, parent_code) VALUES
				('44', '广东省', 1, ''), ('4409', '茂名市', 2, '44'), ('440981', '高州市', 3, '4409');
			INSERT INTO app_user (username, display_name, role, region_code, password_hash)
			VALUES ('gaozhou', '高州市管理员', 'county', '440981', 'hash')`)
	case 2:
		mustExec(t, conn, `
			INSERT INTO import_batch (kind, region_code, source, file_name, file_sha256, file_size, status, header, rows_read, rows_accepted, rows_marked)
			VALUES ('hukou', '440981', '公安', 'hukou.csv', 'abc', 100, 'done', '{身份证号,姓名,性别,民族}', 4, 4, 2);
			INSERT INTO import_issue (batch_id, line, rejected, col, value, reason) VALUES (1, 4, false, '身份证号', '`+idC+`', '校验位错误');
			CREATE TABLE source_record_1 (LIKE source_record INCLUDING DEFAULTS, CHECK (batch_id = 1))`)
		if hasColumn(t, conn, "source_record", "id_raw") { // 000002 as first landed
			mustExec(t, conn, `
				INSERT INTO source_record_1 (batch_id, line, id_raw, id_norm, id_damage, name, sex, ethnic, region_code, raw) VALUES
					(1, 2, '`+idA+`', '`+idA+`', 'ok', '张三', '男', '汉', '440981', '{`+idA+`,张三,男,汉}'),
					(1, 3, '`+idA+`', '`+idA+`', 'ok', '张三', '', '', '440981', '{`+idA+`,张三,"",""}'),
					(1, 4, '`+idC+`', '`+idC+`', 'check', '李四', '女', '汉', '440981', '{`+idC+`,李四,女,汉}'),
					(1, 5, '', '', 'blank', '王五', '', '', '440981', ARRAY['', '王五', NULL, ''])`)
		} else {
			mustExec(t, conn, `
				INSERT INTO source_record_1 (batch_id, line, id_norm, id_damage, name, sex, region_code, raw) VALUES
					(1, 2, '`+idA+`', NULL, '张三', '男', '440981', E'`+idA+`\x1f张三\x1f男\x1f汉'),
					(1, 3, '`+idA+`', NULL, '张三', NULL, '440981', E'`+idA+`\x1f张三\x1f\x1f'),
					(1, 4, '`+idC+`', 'check', '李四', '女', '440981', E'`+idC+`\x1f李四\x1f女\x1f汉'),
					(1, 5, NULL, 'blank', '王五', NULL, '440981', E'\x1f王五\x1f\x1f')`)
		}
		mustExec(t, conn, `ALTER TABLE source_record ATTACH PARTITION source_record_1 FOR VALUES IN (1)`)
	case 3:
		seedRun(t, conn)
	}
}

// seedRun adds one comparison run: 张三 linked by ID (two records), 李四
// by a fuzzy match of a damaged ID, 王五 unmatched.
func seedRun(t *testing.T, conn *pgx.Conn) {
	mustExec(t, conn, `
		INSERT INTO comparison_run (region_code, as_of, status, batches, records, linked, unmatched, persons)
		VALUES ('440981', '2026-11-01', 'done', '{1}', 4, 3, 1, 2);
		INSERT INTO person (id_number, name, sex, identity_kind, region_code, first_run, last_run) VALUES
			('`+idA+`', '张三', '男', 'hukou', '440981', 1, 1), ('`+idB+`', '李四', '女', 'hukou', '440981', 1, 1);
		INSERT INTO person_change (run_id, id_number, field, old_value, new_value) VALUES (1, '`+idA+`', 'name', '张叁', '张三');
		INSERT INTO run_summary (run_id, region_code, metric, n) VALUES (1, '440981', 'universe', 2);
		INSERT INTO link_decision (batch_id, line, id_number, decided_name) VALUES (1, 4, '`+idB+`', '高州市管理员');
		CREATE TABLE run_link_1 (LIKE run_link INCLUDING DEFAULTS, CHECK (run_id = 1));
		CREATE TABLE run_person_1 (LIKE run_person INCLUDING DEFAULTS, CHECK (run_id = 1));
		INSERT INTO run_link_1 (run_id, batch_id, line, id_number, method, name_diff, kind, id_norm, id_damage, name, region_code) VALUES
			(1, 1, 4, '`+idB+`', 'fuzzy', false, 'hukou', '`+idC+`', 'check', '李四', '440981'),
			(1, 1, 5, NULL, 'unmatched', false, 'hukou', NULL, 'blank', '王五', '440981')`)
	if hasColumn(t, conn, "run_person", "record_batches") { // 000004: exact links ride on run_person
		mustExec(t, conn, `
			INSERT INTO run_person_1 (run_id, id_number, name, region_code, in_universe, pension, medical, flags, survey, record_batches, record_lines) VALUES
				(1, '`+idA+`', '张三', '440981', true, 'enrolled', 'enrolled', 0, false, '{1,1}', '{2,3}'),
				(1, '`+idB+`', '李四', '440981', true, 'none', 'none', 4, true, '{1}', '{4}')`)
	} else {
		mustExec(t, conn, `
			INSERT INTO run_link_1 (run_id, batch_id, line, id_number, method, name_diff, kind, id_norm, id_damage, name, region_code) VALUES
				(1, 1, 2, '`+idA+`', 'exact', false, 'hukou', '`+idA+`', NULL, '张三', '440981'),
				(1, 1, 3, '`+idA+`', 'exact', false, 'hukou', '`+idA+`', NULL, '张三', '440981');
			INSERT INTO run_person_1 (run_id, id_number, name, region_code, in_universe, pension, medical, flags, survey) VALUES
				(1, '`+idA+`', '张三', '440981', true, 'enrolled', 'enrolled', 0, false),
				(1, '`+idB+`', '李四', '440981', true, 'none', 'none', 4, true)`)
	}
	mustExec(t, conn, `
		ALTER TABLE run_link ATTACH PARTITION run_link_1 FOR VALUES IN (1);
		ALTER TABLE run_person ATTACH PARTITION run_person_1 FOR VALUES IN (1)`)
}

// checkData checks that what seed put in at versions up to level is there,
// in the current shape.
func checkData(t *testing.T, conn *pgx.Conn, level int) {
	t.Helper()
	expect := func(q string, want ...string) {
		t.Helper()
		if got := queryStrings(t, conn, q); !slices.Equal(got, want) {
			t.Errorf("%s\n got  %q\n want %q", q, got, want)
		}
	}
	expect(`SELECT code || ' ' || name FROM region ORDER BY code`, " 全国", "44 广东省", "4409 茂名市", "440981 高州市")
	expect(`SELECT username || ' ' || region_code FROM app_user`, "gaozhou 440981")
	if level < 2 {
		return
	}
	const null = "∅"
	expect(`SELECT concat_ws('|', line, coalesce(id_norm, '∅'), coalesce(id_damage, '∅'), coalesce(name, '∅'),
	               coalesce(sex, '∅'), coalesce(region_code, '∅'), replace(raw, E'\x1f', '/'))
	        FROM source_record ORDER BY batch_id, line`,
		"2|"+idA+"|"+null+"|张三|男|440981|"+idA+"/张三/男/汉",
		"3|"+idA+"|"+null+"|张三|"+null+"|440981|"+idA+"/张三//",
		"4|"+idC+"|check|李四|女|440981|"+idC+"/李四/女/汉",
		"5|"+null+"|blank|王五|"+null+"|440981|/王五//")
	expect(`SELECT concat_ws('|', batch_id, line, reason) FROM import_issue`, "1|4|校验位错误")
	expect(`SELECT concat_ws('|', id, status, rows_accepted) FROM import_batch`, "1|done|4")
	if level < 3 {
		return
	}
	expect(`SELECT concat_ws('|', id, status, coalesce(base_run::text, '∅')) FROM comparison_run`, "1|done|"+null)
	expect(`SELECT concat_ws('|', id_number, name, first_run, last_run) FROM person ORDER BY id_number`,
		idB+"|李四|1|1", idA+"|张三|1|1")
	expect(`SELECT concat_ws('|', id_number, field, old_value, new_value) FROM person_change`, idA+"|name|张叁|张三")
	expect(`SELECT concat_ws('|', id_number, name, pension, flags, survey, record_batches, record_lines, changed)
	        FROM run_person ORDER BY id_number`,
		idB+"|李四|none|4|t|{1}|{4}|f", idA+"|张三|enrolled|0|f|{1,1}|{2,3}|f")
	expect(`SELECT concat_ws('|', line, coalesce(id_number, '∅'), method) FROM run_link ORDER BY line`,
		"4|"+idB+"|fuzzy", "5|"+null+"|unmatched")
	expect(`SELECT concat_ws('|', metric, n) FROM run_summary`, "universe|2")
	expect(`SELECT concat_ws('|', line, id_number) FROM link_decision`, "4|"+idB)
}

// catalog lists the schema's tables, columns (in order, with type,
// collation, nullability and default), indexes, constraints, triggers,
// functions and sequences, leaving out partitions (a fresh database has
// none; partitionDrift checks them against their tables).
func catalog(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	const q = `
		WITH rel AS (
			SELECT c.oid, c.relname, c.relkind FROM pg_class c
			WHERE c.relnamespace = current_schema()::text::regnamespace AND NOT c.relispartition)
		SELECT 'table ' || relname || ' ' || relkind::text || coalesce(' ' || pg_get_partkeydef(oid), '')
		FROM rel WHERE relkind IN ('r', 'p', 'v', 'm', 'S')
		UNION ALL
		SELECT format('column %s #%s %s %s%s%s%s', r.relname,
		              row_number() OVER (PARTITION BY r.oid ORDER BY a.attnum), a.attname,
		              format_type(a.atttypid, a.atttypmod),
		              CASE WHEN a.attcollation <> t.typcollation THEN ' collate ' || co.collname ELSE '' END,
		              CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
		              coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), ''))
		FROM rel r
		JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
		JOIN pg_type t ON t.oid = a.atttypid
		LEFT JOIN pg_collation co ON co.oid = a.attcollation
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE r.relkind IN ('r', 'p', 'v', 'm')
		UNION ALL
		SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN rel r ON r.oid = i.indrelid
		UNION ALL
		SELECT format('constraint %s %s %s', r.relname, c.conname, pg_get_constraintdef(c.oid))
		FROM pg_constraint c JOIN rel r ON r.oid = c.conrelid
		UNION ALL
		SELECT 'trigger ' || pg_get_triggerdef(g.oid) FROM pg_trigger g JOIN rel r ON r.oid = g.tgrelid WHERE NOT g.tgisinternal
		UNION ALL
		SELECT format('function %s(%s) %s', p.proname, pg_get_function_arguments(p.oid), md5(p.prosrc))
		FROM pg_proc p WHERE p.pronamespace = current_schema()::text::regnamespace
		ORDER BY 1`
	return queryStrings(t, conn, q)
}

// partitionDrift lists what a partition has that its table has not, or
// lacks: columns that differ in type, collation, nullability or default,
// indexes or keys of its own, indexes of the table missing on it.
func partitionDrift(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	const q = `
		WITH part AS (
			SELECT c.oid, c.relname, i.inhparent AS parent FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid
			WHERE c.relispartition AND c.relkind = 'r')
		SELECT format('%s.%s', p.relname, a.attname)
		FROM part p
		JOIN pg_attribute a ON a.attrelid = p.oid AND a.attnum > 0 AND NOT a.attisdropped
		LEFT JOIN pg_attribute pa ON pa.attrelid = p.parent AND pa.attname = a.attname AND NOT pa.attisdropped
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		LEFT JOIN pg_attrdef pd ON pd.adrelid = pa.attrelid AND pd.adnum = pa.attnum
		WHERE pa.attname IS NULL OR pa.atttypid <> a.atttypid OR pa.attcollation <> a.attcollation
		   OR pa.attnotnull <> a.attnotnull
		   OR pg_get_expr(d.adbin, d.adrelid) IS DISTINCT FROM pg_get_expr(pd.adbin, pd.adrelid)
		UNION ALL
		SELECT 'own index ' || i.indexrelid::regclass::text FROM pg_index i JOIN part p ON p.oid = i.indrelid
		WHERE NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
		UNION ALL
		SELECT format('%s lacks %s', p.relname, pi.indexrelid::regclass) FROM part p JOIN pg_index pi ON pi.indrelid = p.parent
		WHERE NOT EXISTS (SELECT 1 FROM pg_inherits h JOIN pg_index ci ON ci.indexrelid = h.inhrelid
		                  WHERE h.inhparent = pi.indexrelid AND ci.indrelid = p.oid)
		UNION ALL
		SELECT format('own constraint %s.%s', p.relname, c.conname) FROM part p JOIN pg_constraint c ON c.conrelid = p.oid
		WHERE c.contype <> 'c' AND c.conparentid = 0
		ORDER BY 1`
	return queryStrings(t, conn, q)
}

// diff shows the lines only one of two sorted lists has.
func diff(want, got []string) string {
	var b strings.Builder
	for _, w := range want {
		if !slices.Contains(got, w) {
			fmt.Fprintf(&b, "- %s\n", w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			fmt.Fprintf(&b, "+ %s\n", g)
		}
	}
	return b.String()
}

func queryStrings(t *testing.T, conn *pgx.Conn, q string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func hasColumn(t *testing.T, conn *pgx.Conn, table, column string) bool {
	t.Helper()
	var ok bool
	const q = `SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2 AND NOT attisdropped)`
	if err := conn.QueryRow(context.Background(), q, table, column).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func version(t *testing.T, conn *pgx.Conn) int {
	t.Helper()
	v, dirty := versionDirty(t, conn)
	if dirty {
		t.Fatalf("version %d is dirty", v)
	}
	return v
}

func versionDirty(t *testing.T, conn *pgx.Conn) (int, bool) {
	t.Helper()
	var (
		v     int
		dirty bool
	)
	if err := conn.QueryRow(context.Background(), `SELECT version, dirty FROM schema_migrations`).Scan(&v, &dirty); err != nil {
		t.Fatal(err)
	}
	return v, dirty
}

func mustExec(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
}

// up applies a directory of migrations with golang-migrate alone.
func up(t *testing.T, dbURL string, dir fs.FS) {
	t.Helper()
	if err := migrateTo(dbURL, dir, 0); err != nil {
		t.Fatal(err)
	}
}

// migrateTo applies dir's migrations up to version v (0: all of them) with
// golang-migrate alone.
func migrateTo(dbURL string, dir fs.FS, v uint) error {
	src, err := iofs.New(dir, ".")
	if err != nil {
		return err
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		return err
	}
	u.Scheme = "pgx5"
	m, err := migrate.NewWithSourceInstance("iofs", src, u.String())
	if err != nil {
		return err
	}
	defer func() { _, _ = m.Close() }()
	if v == 0 {
		err = m.Up()
	} else {
		err = m.Migrate(v)
	}
	if err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return err
	}
	return nil
}

func connect(t *testing.T, dbURL string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// newDatabase creates an empty database on the test server, dropped when
// the test ends.
func newDatabase(t *testing.T, server string) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := "up_" + hex.EncodeToString(b)
	admin := connect(t, server)
	mustExec(t, admin, `CREATE DATABASE `+name)
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), server)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
