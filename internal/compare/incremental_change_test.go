package compare_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/batchdiff"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/pgtest"
)

// changedCounty compares a generated county and changes it (see
// changeCounty), with before run between: it returns the base run and
// the superseded and the newer 户籍人口 batch.
func changedCounty(t *testing.T, db *pgxpool.Pool, households int, before func()) (base, old, nw int64) {
	t.Helper()
	ctx := context.Background()
	gen := fixture.ImportCounty(t, db, households, 9, "csv")
	reviewItems(t, db)
	res, err := compare.New(db).Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if before != nil {
		before()
	}
	changeCounty(t, db, gen)
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT id, superseded_by FROM import_batch WHERE kind = '户籍人口' AND superseded_by IS NOT NULL`), &old, &nw)
	return res.RunID, old, nw
}

// unkeyed makes the county's batches look imported before records had
// keys: no id_key, no index on it.
func unkeyed(t *testing.T, db *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	var batches []int64
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT array_agg(id) FROM import_batch WHERE status = 'done'`), &batches)
	for _, b := range batches {
		if _, err := db.Exec(ctx, `DROP INDEX IF EXISTS `+pgx.Identifier{batchdiff.KeyIndex(b)}.Sanitize()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(ctx, `UPDATE source_record SET id_key = NULL`); err != nil {
		t.Fatal(err)
	}
}

// TestIncrementalReadsRecordedChange: importing the newer 户籍人口 extract
// records its change from the one it superseded, the change a comparison
// finds by comparing the two, and keys its records by their valid IDs;
// the incremental run reads that change and finds the touched records by
// key in the new batch (the older batches without keys, as after an
// upgrade), with the result of a full run.
func TestIncrementalReadsRecordedChange(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	base, old, nw := changedCounty(t, db, 300, func() { unkeyed(t, db) })

	recorded, ok, err := batchdiff.Load(ctx, db, old, nw)
	if err != nil || !ok {
		t.Fatalf("no change recorded from batch %d to %d (%v)", old, nw, err)
	}
	o, okO, err := batchdiff.ReadRows(ctx, db, old)
	if err != nil {
		t.Fatal(err)
	}
	n, okN, err := batchdiff.ReadRows(ctx, db, nw)
	if err != nil || !okO || !okN {
		t.Fatalf("batches not matchable: %v %v %v", okO, okN, err)
	}
	if computed := batchdiff.Compute(old, nw, o, n); !batchdiff.Equal(recorded, computed) {
		t.Errorf("recorded change %+v, compared %+v", recorded, computed)
	}
	if len(recorded.Removed) == 0 || len(recorded.Added) == 0 {
		t.Errorf("the change recorded neither removed nor added records: %+v", recorded)
	}

	// Every record of the new batch has its key, and the batch an index.
	rows, err := db.Query(ctx, `SELECT coalesce(id_norm, ''), coalesce(id_damage, ''), id_key FROM source_record WHERE batch_id = $1`, nw)
	if err != nil {
		t.Fatal(err)
	}
	keyed := 0
	for rows.Next() {
		var id, damage string
		var key *int64
		pgtest.MustScan(t, rows, &id, &damage, &key)
		want, ok := batchdiff.Key(id, damage)
		if ok != (key != nil) || ok && *key != want {
			t.Errorf("record %s (%s): key %v, want %d %v", id, damage, key, want, ok)
		}
		if ok {
			keyed++
		}
	}
	rows.Close()
	var indexed bool
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, batchdiff.KeyIndex(nw)), &indexed)
	if keyed == 0 || !indexed {
		t.Errorf("%d records keyed, index %v", keyed, indexed)
	}
	equalsFull(t, db, compare.New(db), base)
}

// TestIncrementalWithoutRecordedChange: batches imported before changes
// were recorded and records keyed are compared and scanned, with the
// result of a full run.
func TestIncrementalWithoutRecordedChange(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	base, _, _ := changedCounty(t, db, 300, nil)
	if _, err := db.Exec(context.Background(), `DELETE FROM batch_change`); err != nil {
		t.Fatal(err)
	}
	unkeyed(t, db)
	equalsFull(t, db, compare.New(db), base)
}

// TestIncrementalFollowsRecordedChange: the incremental run goes by the
// recorded change, not by the batches: a change recorded wrong (a removed
// record said to be another, added, one, and no ID named) gives another
// result than a full run. The equality tests would catch such a mistake.
func TestIncrementalFollowsRecordedChange(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	_, old, nw := changedCounty(t, db, 300, nil)
	tag, err := db.Exec(ctx, `UPDATE batch_change SET kept = kept || ARRAY[removed[1], added[1], 1],
		removed = removed[2:], added = added[2:], ids = '{}' WHERE batch_id = $1 AND prev_batch = $2 AND removed <> '{}' AND added <> '{}'`, nw, old)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("change the recorded change: %v %v", tag, err)
	}
	eng := compare.New(db)
	req := compare.Request{Region: fixture.County, AsOf: fixture.AsOf}
	inc := req
	inc.Incremental = true
	res, err := eng.Run(ctx, fixture.Actor, inc, nil)
	if err != nil || !res.Incremental {
		t.Fatalf("incremental run: %+v %v", res, err)
	}
	if _, err := db.Exec(ctx, `UPDATE comparison_run SET status = 'failed' WHERE id = $1`, res.RunID); err != nil {
		t.Fatal(err)
	}
	full, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	same := true
	for _, tab := range []string{"run_person", "run_gone"} {
		same = same && slices.Equal(runRows(t, db, tab, res.RunID), runRows(t, db, tab, full.RunID))
	}
	if same {
		t.Errorf("a wrong recorded change (batch %d from %d) left the incremental run as the full one", nw, old)
	}
}
