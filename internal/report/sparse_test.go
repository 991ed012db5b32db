package report_test

import (
	"context"
	"strings"
	"testing"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/demo"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/report"
)

// TestSparseTwinPreparesAlike: the report rows prepared from a sparse run
// (one storing only the persons unlike its anchor's, their records derived)
// are those prepared from the full run it was made from, person by person
// and count by count.
func TestSparseTwinPreparesAlike(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	fixture.ImportCounty(t, db, 600, 17, "csv")
	eng := compare.New(db)
	req := compare.Request{Region: fixture.County, AsOf: fixture.AsOf}
	a, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	fixture.ImportNewer(t, db, 6, demo.KindHukou, demo.KindDeath, demo.KindResidence)
	b, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	tw := pgtest.SparseTwin(t, db, a.RunID, b.RunID)
	if tw.Stored == 0 || tw.Stored > b.Persons/4 {
		t.Fatalf("the twin stores %d of %d persons", tw.Stored, b.Persons)
	}
	st := report.NewStore(db)
	mustPrepare(t, st, b.RunID)
	mustPrepare(t, st, tw.Run)
	for _, table := range []string{"report_person", "report_count"} {
		q := `SELECT to_jsonb(r) - 'run_id' FROM ` + table + ` r WHERE run_id = $1`
		var differ, rows, local int
		pgtest.MustScan(t, db.QueryRow(ctx, `SELECT (SELECT count(*) FROM (`+q+` EXCEPT ALL `+replace2(q)+`) x)
			+ (SELECT count(*) FROM (`+replace2(q)+` EXCEPT ALL `+q+`) y), (SELECT count(*) FROM (`+q+`) z),
			(SELECT count(*) FROM report_person WHERE run_id = $1 AND (hukou OR local_active))`, b.RunID, tw.Run), &differ, &rows, &local)
		if differ != 0 || rows == 0 || local == 0 {
			t.Errorf("%s: %d of %d rows of the run differ from its twin's (%d persons with a local hukou or enrollment)", table, differ, rows, local)
		}
	}
}

// replace2 makes q read the run in $2.
func replace2(q string) string { return strings.ReplaceAll(q, "$1", "$2") }
