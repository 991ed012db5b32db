package registry_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"

	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/migrations"
)

// eventMigration returns the version of the migration that creates
// person_event and the one before it, found by name so a renumbering at
// merge time does not break the test.
func eventMigration(t *testing.T) (before, this uint) {
	t.Helper()
	names, err := fs.Glob(migrations.FS, "*.up.sql")
	if err != nil {
		t.Fatal(err)
	}
	var versions []uint
	for _, n := range names {
		v, err := strconv.ParseUint(n[:strings.IndexByte(n, '_')], 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, uint(v))
		if strings.HasSuffix(n, "_person_event.up.sql") {
			this = uint(v)
		}
	}
	for _, v := range versions {
		if v < this && v > before {
			before = v
		}
	}
	if this == 0 || before == 0 {
		t.Fatalf("no person_event migration among %v", names)
	}
	return before, this
}

// emptyDatabase creates a database without any schema and returns its
// URL and a migrator for it; both go when t ends.
func emptyDatabase(t *testing.T) (*pgx.Conn, *migrate.Migrate) {
	t.Helper()
	server := pgtest.ServerURL(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	name := fmt.Sprintf("t_migrate_%d", time.Now().UnixNano())
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(server)
	u.Path = "/" + name
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	u.Scheme = "pgx5"
	m, err := migrate.NewWithSourceInstance("iofs", src, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if serr, derr := m.Close(); serr != nil || derr != nil {
			t.Errorf("close migrate: %v %v", serr, derr)
		}
		conn.Close(context.Background())
		if c, err := pgx.Connect(context.Background(), server); err == nil {
			if _, err := c.Exec(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
				t.Errorf("drop %s: %v", name, err)
			}
			c.Close(context.Background())
		}
	})
	return conn, m
}

// TestMigratePersonChange: a database whose comparisons recorded changes
// in person_change keeps every one of them, as events of their run with
// its as-of date and starter, and its entries name their run as source.
// Migrating down brings person_change back with the same rows.
func TestMigratePersonChange(t *testing.T) {
	t.Parallel()
	conn, m := emptyDatabase(t)
	ctx := context.Background()
	before, this := eventMigration(t)
	if err := m.Migrate(before); err != nil {
		t.Fatal(err)
	}
	const setup = `
		INSERT INTO app_user (id, username, display_name, role, region_code, password_hash) VALUES (5, 'county', '县管理员', 'county', '', 'x');
		INSERT INTO comparison_run (id, region_code, as_of, status, created_by, created_name) VALUES
			(1, '', '2026-03-31', 'done', 5, '县管理员'), (2, '', '2026-06-30', 'done', NULL, 'cli');
		INSERT INTO person (id_number, name, identity_kind, region_code, first_run, last_run) VALUES
			('440981198001010018', '陈达文', '户籍人口', '440981101001', 1, 2),
			('440981199002020025', '李小梅', '户籍人口', '440981102001', 1, 1);
		INSERT INTO person_change (run_id, id_number, field, old_value, new_value, at) VALUES
			(1, '440981198001010018', 'pop_status', NULL, '正常', '2026-04-01 10:00+08'),
			(2, '440981198001010018', 'name', '陈大文', '陈达文', '2026-07-01 09:30+08'),
			(2, '440981198001010018', 'household', 'H1', NULL, '2026-07-01 09:30+08');`
	if _, err := conn.Exec(ctx, setup); err != nil {
		t.Fatal(err)
	}
	if err := m.Migrate(this); err != nil {
		t.Fatal(err)
	}
	const q = `SELECT id_number || '|' || field || '|' || coalesce(old_value, '∅') || '|' || coalesce(new_value, '∅') || '|' ||
		to_char(effective, 'YYYY-MM-DD') || '|' || source_kind || '|' || source_id || '|' || coalesce(actor_id::text, '∅') || '|' ||
		to_char(recorded_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
		FROM person_event ORDER BY id`
	got := strings.Join(collect(t, conn, q), "\n")
	want := strings.Join([]string{
		"440981198001010018|pop_status|∅|正常|2026-03-31|compare|1|5|2026-04-01 10:00",
		"440981198001010018|name|陈大文|陈达文|2026-06-30|compare|2|∅|2026-07-01 09:30",
		"440981198001010018|household|H1|∅|2026-06-30|compare|2|∅|2026-07-01 09:30",
	}, "\n")
	if got != want {
		t.Errorf("events after the migration:\n%s\nwant\n%s", got, want)
	}
	var gone bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('person_change') IS NULL`).Scan(&gone); err != nil || !gone {
		t.Errorf("person_change still there (%v)", err)
	}
	sources := strings.Join(collect(t, conn, `SELECT first_kind || first_source || last_kind || last_source FROM person ORDER BY id_number`), " ")
	if sources != "compare1compare2 compare1compare1" {
		t.Errorf("entries' sources %q", sources)
	}

	if err := m.Migrate(before); err != nil {
		t.Fatal(err)
	}
	back := strings.Join(collect(t, conn, `SELECT run_id || '|' || field || '|' || coalesce(new_value, '∅') FROM person_change ORDER BY id`), " ")
	if back != "1|pop_status|正常 2|name|陈达文 2|household|∅" {
		t.Errorf("person_change after migrating down: %q", back)
	}
}

func collect(t *testing.T, conn *pgx.Conn, q string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatal(err)
	}
	return out
}
