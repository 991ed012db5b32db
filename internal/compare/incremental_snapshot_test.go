package compare_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/pgtest"
)

// snapshotMatches checks that a run saved a snapshot and that it holds
// exactly what its run_person rows hold, as an incremental run reads them.
func snapshotMatches(t *testing.T, db *pgxpool.Pool, runID int64) {
	t.Helper()
	diff, ok, err := compare.SnapshotMatchesRows(context.Background(), db, runID)
	switch {
	case err != nil:
		t.Fatal(err)
	case !ok:
		t.Errorf("run %d saved no snapshot", runID)
	case diff != "":
		t.Errorf("run %d: the snapshot differs from run_person: %s", runID, diff)
	}
}

// baseRead checks how an incremental run read its base: from its
// snapshot or from its rows (see the step part it timed).
func baseRead(t *testing.T, res compare.RunResult, from string) {
	t.Helper()
	want := "· 读取上次结果（" + from + "，"
	if !slices.ContainsFunc(res.Steps, func(s compare.StepTime) bool { return strings.HasPrefix(s.Step, want) }) {
		t.Errorf("the base was not read %s: %v", from, res.Steps)
	}
}

// TestSnapshotDamaged: a snapshot cut short or not one at all does not
// decode, and an incremental run over a base whose snapshot does not
// decode reads the base's rows instead, with the same result.
func TestSnapshotDamaged(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	fixture.ImportCounty(t, db, 120, 3, "csv")
	eng := compare.New(db)
	req := compare.Request{Region: fixture.County, AsOf: fixture.AsOf}
	base, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT string_agg(data, '' ORDER BY chunk) FROM run_snapshot WHERE run_id = $1`, base.RunID), &data)
	n, err := compare.DecodeSnapshot(data)
	if err != nil || n != base.Persons {
		t.Fatalf("the snapshot decodes to %d persons (%v), the run has %d", n, err, base.Persons)
	}
	for _, cut := range []int{0, 10, len(data) / 3, len(data) / 2, len(data) - 1} {
		if _, err := compare.DecodeSnapshot(data[:cut]); err == nil {
			t.Errorf("a snapshot cut at %d of %d bytes decodes", cut, len(data))
		}
	}
	if _, err := compare.DecodeSnapshot(append(slices.Clone(data), 0)); err == nil {
		t.Error("a snapshot with a byte more decodes")
	}
	// Any byte changed: an error or some persons, never a panic.
	for i := 0; i < len(data); i += max(1, len(data)/500) {
		damaged := slices.Clone(data)
		damaged[i] ^= 0xA5
		_, _ = compare.DecodeSnapshot(damaged)
	}

	if _, err := db.Exec(ctx, `UPDATE run_snapshot SET data = substring(data FROM 1 FOR length(data) - 7) WHERE run_id = $1`, base.RunID); err != nil {
		t.Fatal(err)
	}
	inc := req
	inc.Incremental = true
	res, err := eng.Run(ctx, fixture.Actor, inc, nil)
	if err != nil || !res.Incremental {
		t.Fatalf("incremental run over a damaged snapshot: %+v %v", res, err)
	}
	baseRead(t, res, "逐行，快照无法读取")
	for _, tab := range []string{"run_person", "run_gone", "run_summary"} {
		if a, b := runRows(t, db, tab, base.RunID), runRows(t, db, tab, res.RunID); !slices.Equal(a, b) {
			t.Errorf("%s: an unchanged county's incremental run differs from its base:\n%s", tab, firstDiff(a, b))
		}
	}
	snapshotMatches(t, db, res.RunID)
}
