package compare_test

import (
	"context"
	"testing"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/pgtest"
)

// TestDecisionOnExactLink: a reviewer decides a record from an older
// run's review queue (the review pages accept any run) that the base
// linked by its own valid ID, so the base has no run_link row for it. The
// decision (none of the candidates) takes the record from its ID's
// person, whom nothing else touches: the incremental run must still
// write what a full run writes. The decision is inserted as Decide
// would, for a record that was in review in an earlier run.
func TestDecisionOnExactLink(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	fixture.ImportCounty(t, db, 300, 9, "csv")
	eng := compare.New(db)
	base, err := eng.Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A record linked by its own ID, whose ID does not end in 000, of a
	// person with another record (so the person stays in the run).
	var batch int64
	var line int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT r.batch_id, r.line FROM run_records($1) r
		WHERE NOT EXISTS (SELECT FROM run_link l WHERE l.run_id = $1 AND l.batch_id = r.batch_id AND l.line = r.line)
		  AND r.id_number NOT LIKE '%000'
		  AND (SELECT count(*) FROM run_records($1) o WHERE o.id_number = r.id_number) > 1
		ORDER BY r.batch_id, r.line LIMIT 1`, base.RunID), &batch, &line)
	if _, err := db.Exec(ctx, `INSERT INTO link_decision (batch_id, line, id_number, decided_name) VALUES ($1, $2, NULL, 'reviewer')`, batch, line); err != nil {
		t.Fatal(err)
	}
	equalsFull(t, db, eng, base.RunID)
}
