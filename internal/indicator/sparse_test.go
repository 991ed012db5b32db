package indicator

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/demo"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/survey"
)

// TestSparseTwinCountsAlike: the indicators of a county whose current run
// is a sparse run (one storing only the persons unlike its anchor's) are
// those of the full run it was made from, with a round published from the
// full run counting its expansion against the twin.
func TestSparseTwinCountsAlike(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	fixture.ImportCounty(t, db, 600, 19, "csv")
	eng := compare.New(db)
	req := compare.Request{Region: fixture.County, AsOf: fixture.AsOf}
	a, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	fixture.ImportNewer(t, db, 8, demo.KindHukou, demo.KindDeath, demo.KindResidence)
	b, err := eng.Run(ctx, fixture.Actor, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := survey.New(db).Publish(ctx, fixture.Actor,
		survey.PublishRequest{Region: fixture.County, RunID: b.RunID, Title: "调查"}, nil); err != nil {
		t.Fatal(err)
	}
	compute := func() Result {
		t.Helper()
		s, err := LoadScope(ctx, db, "4409", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		res, err := Compute(ctx, db, s)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	full := compute()
	tw := pgtest.SparseTwin(t, db, a.RunID, b.RunID)
	if tw.Stored == 0 || tw.Stored > b.Persons/4 {
		t.Fatalf("the twin stores %d of %d persons", tw.Stored, b.Persons)
	}
	sparse := compute()
	if runs := sparse.Scope.Runs(); len(runs) != 1 || runs[0] != tw.Run {
		t.Fatalf("current runs %v, want the twin %d", runs, tw.Run)
	}
	if len(sparse.Scope.rounds) != 1 || sparse.Scope.rounds[0].Baseline != b.RunID || sparse.Scope.rounds[0].Current != tw.Run {
		t.Fatalf("round sources %+v, want baseline %d and current %d", sparse.Scope.rounds, b.RunID, tw.Run)
	}
	c := full.Counts[fixture.County]
	if c[Population] == 0 || c[NotInsured] == 0 || c[ExpansionBase] == 0 {
		t.Fatalf("county counts %v: nothing to compare", c)
	}
	if !reflect.DeepEqual(full.Counts, sparse.Counts) || !reflect.DeepEqual(full.Breakdown, sparse.Breakdown) {
		t.Errorf("counts from the run and from its twin differ:\n%v\n%v", full.Counts[fixture.County], sparse.Counts[fixture.County])
	}
}
