package compare_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/demo"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/registry"
	"github.com/canbao/canbao/internal/source"
)

// TestSparseChain: incremental runs write only what differs from their
// anchor, one on top of another, and read as the full runs they stand
// for: after a newer hukou extract; after the older extract comes back
// (the persons it removed return, those it added go, on top of a sparse
// base); and, writing every row, after a clerk's correction that the
// extract, imported once more, overrides.
func TestSparseChain(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	gen := fixture.ImportCounty(t, db, 400, 13, "csv")
	reviewItems(t, db)
	eng := compare.New(db)
	a, err := eng.Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil)
	if err != nil {
		t.Fatal(err)
	}

	changeCounty(t, db, gen)
	b, full := equalsFull(t, db, eng, a.RunID)
	hide(t, db, full) // b is the region's last run again
	sparseOn(t, db, b, a.RunID, a.Persons)

	restoreHukou(t, db, gen, 70, "新")
	c, full := equalsFull(t, db, eng, b)
	hide(t, db, full)
	sparseOn(t, db, c, a.RunID, a.Persons)
	// The persons b alone had (the newer extract's births) are gone.
	var left int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM run_persons($1) p
		WHERE NOT EXISTS (SELECT FROM run_persons($2) q WHERE q.id_number = p.id_number)`, b, c), &left)
	if left == 0 {
		t.Error("no person of the newer extract left with the older one")
	}

	manualRename(t, db, gen, 100)
	restoreHukou(t, db, gen, 71, "新二")
	eng.WriteEveryRow()
	d, _ := equalsFull(t, db, eng, c)
	var anchor *int64
	var rows, persons int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT anchor, persons, (SELECT count(*) FROM run_person_row WHERE run_id = $1)
		FROM comparison_run WHERE id = $1`, d), &anchor, &persons, &rows)
	if anchor != nil || rows != persons {
		t.Errorf("a run writing every row: anchor %v, %d rows for %d persons", anchor, rows, persons)
	}
}

// hide marks a run failed, so that the next run's base is the one before.
func hide(t *testing.T, db *pgxpool.Pool, runID int64) {
	t.Helper()
	if _, err := db.Exec(context.Background(), `UPDATE comparison_run SET status = 'failed' WHERE id = $1`, runID); err != nil {
		t.Fatal(err)
	}
}

// sparseOn checks that a run wrote an overlay of anchor: a few rows.
func sparseOn(t *testing.T, db *pgxpool.Pool, runID, anchor int64, persons int) {
	t.Helper()
	var got *int64
	var rows int
	pgtest.MustScan(t, db.QueryRow(context.Background(), `SELECT anchor, (SELECT count(*) FROM run_person_row WHERE run_id = $1)
		FROM comparison_run WHERE id = $1`, runID), &got, &rows)
	if got == nil || *got != anchor {
		t.Fatalf("run %d: anchor %v, want %d", runID, got, anchor)
	}
	if rows == 0 || rows*5 > persons {
		t.Errorf("run %d wrote %d rows of %d persons", runID, rows, persons)
	}
	t.Logf("run %d: %d rows over run %d's %d persons", runID, rows, anchor, persons)
}

// restoreHukou imports the county's first hukou extract again as the
// newest, the name on one line appended to.
func restoreHukou(t *testing.T, db *pgxpool.Pool, gen demo.Result, line int, add string) {
	t.Helper()
	rows, head := hukouRows(t, gen)
	nameCol := slices.IndexFunc(rows[head], func(c string) bool { return strings.Contains(c, "姓名") })
	rows[head+line][nameCol] += add
	path := filepath.Join(t.TempDir(), "户籍人口_还原.csv")
	writeCSV(t, path, rows)
	importFile(t, db, source.Hukou, path, "")
}

// hukouRows reads the county's first hukou extract: its rows, and the
// header's index among them.
func hukouRows(t *testing.T, gen demo.Result) ([][]string, int) {
	t.Helper()
	i := slices.IndexFunc(gen.Files, func(f demo.File) bool { return f.Kind == string(source.Hukou) })
	rows := readAnyCSV(t, gen.Files[i].Path)
	head := slices.IndexFunc(rows, func(r []string) bool {
		return slices.ContainsFunc(r, func(c string) bool { return strings.Contains(c, "身份") })
	})
	return rows, head
}

// manualRename has a clerk rename the person on a line of the county's
// first hukou extract, before the extract comes again: the newer extract
// wins again, in an incremental run as in a full one.
func manualRename(t *testing.T, db *pgxpool.Pool, gen demo.Result, line int) {
	t.Helper()
	rows, head := hukouRows(t, gen)
	idCol := slices.IndexFunc(rows[head], func(c string) bool { return strings.Contains(c, "身份") })
	ctx := context.Background()
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := registry.Apply(ctx, tx, registry.ChangeSet{Source: registry.Source{Kind: registry.Manual, ID: 2}, Effective: fixture.AsOf,
		Persons: registry.NewEntries(registry.Entry{ID: rows[head+line][idCol], Values: map[registry.Field]string{registry.Name: "再改姓名"}})}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

func importFile(t *testing.T, db *pgxpool.Pool, kind source.Kind, path, src string) {
	t.Helper()
	req := imports.Request{Kind: kind, Region: fixture.County, Path: path, TempDir: filepath.Dir(path), Source: src}
	if _, err := imports.New(db).Import(context.Background(), fixture.Actor, req, nil); err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
}
