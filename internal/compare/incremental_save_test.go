package compare_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/pgtest"
)

// TestIncrementalFailureLeavesNoTable: an incremental run that writes
// every row (see Engine.WriteEveryRow) writes its
// untouched persons' rows into a table of their own, and its snapshot,
// before it knows it will succeed; a run that fails after that leaves no
// such table and no snapshot (the base keeps its own), and the next run
// writes its own and reads as its base.
func TestIncrementalFailureLeavesNoTable(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	fixture.ImportCounty(t, db, 200, 5, "csv")
	eng := compare.New(db)
	eng.WriteEveryRow()
	req := compare.Request{Region: fixture.County, AsOf: fixture.AsOf}
	base, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The next run's run_link partition name taken: the run fails in its
	// save, after the early rows were written.
	var next int64
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT last_value + 1 FROM comparison_run_id_seq`), &next)
	if _, err := db.Exec(ctx, fmt.Sprintf(`CREATE TABLE run_link_%d (x int)`, next)); err != nil {
		t.Fatal(err)
	}
	inc := req
	inc.Incremental = true
	if _, err := eng.Run(ctx, fixture.Actor, inc, nil); err == nil {
		t.Fatal("the run succeeded with its run_link partition's name taken")
	}
	var left *string
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT to_regclass($1)::text`, fmt.Sprintf("public.run_person_%d", next)), &left)
	if left != nil {
		t.Errorf("the failed run left table %s behind", *left)
	}
	var failed string
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT status FROM comparison_run ORDER BY id DESC LIMIT 1`), &failed)
	if failed != "failed" {
		t.Errorf("the failed run is recorded as %q", failed)
	}
	var snapshots int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM run_snapshot WHERE run_id <> $1`, base.RunID), &snapshots)
	if snapshots != 0 {
		t.Errorf("the failed run left %d snapshot rows", snapshots)
	}
	snapshotMatches(t, db, base.RunID)

	if _, err := db.Exec(ctx, fmt.Sprintf(`DROP TABLE run_link_%d`, next)); err != nil {
		t.Fatal(err)
	}
	again, err := eng.Run(ctx, fixture.Actor, inc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Incremental {
		t.Fatalf("the run after the failed one ran in full: %s", again.Note)
	}
	baseRead(t, again, "快照")
	snapshotMatches(t, db, again.RunID)
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT count(*) FROM run_snapshot WHERE run_id = $1`, base.RunID), &snapshots)
	if snapshots != 0 {
		t.Error("the base's snapshot stays once a later run of the region has its own")
	}
	for _, tab := range runTables {
		if a, b := runRows(t, db, tab, base.RunID), runRows(t, db, tab, again.RunID); !slices.Equal(a, b) && tab != "run_person_changed" {
			t.Errorf("%s: the incremental run after the failed one differs from its base:\n%s", tab, firstDiff(a, b))
		}
	}
	// Its partition has every index run_person has, adopted when attached.
	var missing int
	pgtest.MustScan(t, db.QueryRow(ctx, `
		SELECT count(*) FROM pg_index pi
		WHERE pi.indrelid = 'run_person_row'::regclass
		  AND NOT EXISTS (SELECT 1 FROM pg_inherits h JOIN pg_index ci ON ci.indexrelid = h.inhrelid
		                  WHERE h.inhparent = pi.indexrelid AND ci.indrelid = to_regclass($1))`,
		fmt.Sprintf("public.run_person_%d", again.RunID)), &missing)
	if missing != 0 {
		t.Errorf("the incremental run's partition lacks %d of run_person's indexes", missing)
	}
}

// TestIncrementalDropsOrphanTables: an early written table (of a run that
// writes every row) whose run
// ended without attaching or dropping it (its process stopped) is dropped
// by the next incremental run; one whose run still holds its lock is not.
func TestIncrementalDropsOrphanTables(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	fixture.ImportCounty(t, db, 200, 5, "csv")
	eng := compare.New(db)
	eng.WriteEveryRow()
	req := compare.Request{Region: fixture.County, AsOf: fixture.AsOf}
	if _, err := eng.Run(ctx, fixture.Actor, req, nil); err != nil {
		t.Fatal(err)
	}
	const orphan, live = "run_person_999999001", "run_person_999999002"
	for _, name := range []string{orphan, live} {
		if _, err := db.Exec(ctx, `CREATE TABLE `+name+` (LIKE run_person_row)`); err != nil {
			t.Fatal(err)
		}
	}
	// A run still going holds its table's lock.
	holder, err := db.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Release()
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_lock(7002, 999999002)`); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = holder.Exec(ctx, `SELECT pg_advisory_unlock(7002, 999999002)`) }()
	inc := req
	inc.Incremental = true
	res, err := eng.Run(ctx, fixture.Actor, inc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Incremental {
		t.Fatalf("the run ran in full: %s", res.Note)
	}
	for name, want := range map[string]bool{orphan: false, live: true} {
		var found *string
		pgtest.MustScan(t, db.QueryRow(ctx, `SELECT to_regclass($1)::text`, "public."+name), &found)
		if (found != nil) != want {
			t.Errorf("table %s kept: %v, want %v", name, found != nil, want)
		}
	}
}
