package compare

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/source"
)

// TestBatchOutOfLineOrder: a batch whose table no longer returns its rows
// in line order (rows rewritten by hand, say, which moves them to the end
// of the table) is noticed, read again sorted, and compared the same.
func TestBatchOutOfLineOrder(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	fixture.ImportCounty(t, db, 400, 5, "csv")
	ctx := context.Background()
	eng := New(db)
	req := Request{Region: fixture.County, AsOf: fixture.AsOf}
	before, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `UPDATE source_record SET line = line
		WHERE batch_id = (SELECT id FROM import_batch WHERE kind = '户籍人口') AND line <= 30`); err != nil {
		t.Fatal(err)
	}

	conn, err := eng.workConn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	batches, err := currentBatches(ctx, tx, req.Region)
	if err != nil {
		t.Fatal(err)
	}
	if err := newState(req.Region, batches, nil).load(ctx, tx, false); !errors.Is(err, errUnordered) {
		t.Fatalf("reading the rewritten batch in table order: %v, want errUnordered", err)
	}
	if err := newState(req.Region, batches, nil).load(ctx, tx, true); err != nil {
		t.Fatalf("reading it sorted: %v", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	after, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	const diff = `
		WITH a AS (SELECT * FROM run_persons($1)), b AS (SELECT * FROM run_persons($2)),
		ra AS (SELECT id_number, array_agg((batch_id, line) ORDER BY batch_id, line) AS recs FROM run_records($1) GROUP BY 1),
		rb AS (SELECT id_number, array_agg((batch_id, line) ORDER BY batch_id, line) AS recs FROM run_records($2) GROUP BY 1)
		SELECT count(*) FROM a FULL JOIN b USING (id_number) LEFT JOIN ra USING (id_number) LEFT JOIN rb USING (id_number)
		WHERE (a.name, a.region_code, a.in_universe, a.pension, a.medical, a.flags, a.survey)
		      IS DISTINCT FROM (b.name, b.region_code, b.in_universe, b.pension, b.medical, b.flags, b.survey)
		   OR ra.recs::text IS DISTINCT FROM rb.recs::text`
	var n, persons int
	if err := db.QueryRow(ctx, diff, before.RunID, after.RunID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM run_persons($1)`, after.RunID), &persons)
	if n != 0 || persons == 0 || after.Linked != before.Linked || after.Review != before.Review || after.Unmatched != before.Unmatched {
		t.Errorf("%d of %d persons differ; before %+v, after %+v", n, persons, before, after)
	}
}

// TestRerunChangesNothing: comparing unchanged data again changes no
// registry entry, whatever the server's date format.
func TestRerunChangesNothing(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	fixture.ImportCounty(t, db, 300, 9, "csv")
	ctx := context.Background()
	if _, err := db.Exec(ctx, `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET DateStyle = %L', current_database(), 'SQL, DMY'); END $$`); err != nil {
		t.Fatal(err)
	}
	eng := New(db)
	req := Request{Region: fixture.County, AsOf: fixture.AsOf}
	first, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	var changes, touched, persons int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM person_event WHERE source_kind = 'compare' AND source_id = $1`, second.RunID).Scan(&changes); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE last_kind = 'compare' AND last_source = $1), count(*) FROM person`, second.RunID).Scan(&touched, &persons); err != nil {
		t.Fatal(err)
	}
	if changes != 0 || touched != 0 || persons != first.Persons {
		t.Errorf("second run: %d changes, %d of %d registry entries rewritten (first run: %d persons)", changes, touched, persons, first.Persons)
	}
	if list, total, err := diffPage(ctx, eng, first.RunID, second.RunID, 50, 1); err != nil || total != 0 || len(list) != 0 {
		t.Errorf("diff of two runs of the same data: %d rows, total %d, %v", len(list), total, err)
	}

	// Two persons without medical insurance enroll: the next run's diff
	// lists exactly them, and pages through them.
	rows, err := db.Query(ctx, `SELECT id_number, name FROM run_persons($1) WHERE medical = $2 ORDER BY id_number LIMIT 2`,
		second.RunID, NotInsured)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	csv := "公民身份号码,姓名,险种类型,参保状态\n"
	for rows.Next() {
		var id, name string
		pgtest.MustScan(t, rows, &id, &name)
		ids = append(ids, id)
		csv += id + "," + name + ",390,1\n"
	}
	rows.Close()
	if len(ids) != 2 {
		t.Fatalf("want two uninsured persons, have %v", ids)
	}
	// ... and someone new to the county, known from this file only.
	newcomer := "65010220000101001" // sorts after the county's own IDs
	newcomer += string(idcard.CheckChar(newcomer))
	csv += newcomer + ",新来人,390,1\n"
	path := filepath.Join(t.TempDir(), "enrolled.csv")
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	late, err := imports.New(db).Import(ctx, fixture.Actor, imports.Request{Kind: source.Enrollment, Region: fixture.County, Path: path,
		Source: "late", TempDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	third, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	var firstKind string
	var firstSource int64
	if err := db.QueryRow(ctx, `SELECT first_kind, first_source FROM person WHERE id_number = $1`, newcomer).Scan(&firstKind, &firstSource); err != nil ||
		firstKind != "compare" || firstSource != third.RunID {
		t.Errorf("newcomer's entry added by %s %d, want run %d (%v)", firstKind, firstSource, third.RunID, err)
	}
	want := []string{ids[0], ids[1], newcomer}
	diffIDs := func(list []DiffRow) []string {
		var out []string
		for _, d := range list {
			out = append(out, d.IDNumber)
		}
		return out
	}
	// Against its base run, and against an older run (joined, not marked).
	for _, a := range []int64{second.RunID, first.RunID} {
		list, total, err := diffPage(ctx, eng, a, third.RunID, 50, 1)
		if err != nil || total != 3 || !slices.Equal(diffIDs(list), want) || list[0].NewMedical != Insured || list[0].OldMedical != NotInsured ||
			list[2].OldUniverse != nil || list[2].NewUniverse == nil {
			t.Fatalf("diff of run %d and %d after two enrollments and a newcomer: %+v, total %d, %v", a, third.RunID, list, total, err)
		}
	}
	if list, total, _ := diffPage(ctx, eng, second.RunID, third.RunID, 1, 2); total != 3 || len(list) != 1 || list[0].IDNumber != ids[1] {
		t.Errorf("second page of one: %+v, total %d", list, total)
	}
	if list, total, _ := diffPage(ctx, eng, second.RunID, third.RunID, 10, 2); total != 3 || len(list) != 0 {
		t.Errorf("page past the end: %+v, total %d", list, total)
	}

	// Withdrawn, the file takes the enrollments and the newcomer away again.
	if err := imports.New(db).Withdraw(ctx, actor.CLI("test"), late.BatchID); err != nil {
		t.Fatal(err)
	}
	fourth, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	list, total, err := diffPage(ctx, eng, third.RunID, fourth.RunID, 50, 1)
	if err != nil || total != 3 || !slices.Equal(diffIDs(list), want) || list[0].NewMedical != NotInsured ||
		list[2].NewUniverse != nil || list[2].OldUniverse == nil {
		t.Errorf("diff after the withdrawal: %+v, total %d, %v", list, total, err)
	}
}

// diffPage is a page of the county's diff between runs a and b.
func diffPage(ctx context.Context, eng *Engine, a, b int64, size, page int) ([]DiffRow, int, error) {
	p, err := eng.Diff(ctx, fixture.Actor, a, b, fixture.County, list.Query{Page: page, Size: size})
	return p.Items, p.Total, err
}
