package survey_test

import (
	"context"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/registry"
	"github.com/canbao/canbao/internal/survey"
)

// TestApprovedFormEndsTarget: a person whose form is approved is no longer
// a survey target in the next comparison run, and only that person.
func TestApprovedFormEndsTarget(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	fixture.ImportCounty(t, db, 40, 7, "csv")
	eng := compare.New(db)
	first, err := eng.Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	targets := func(run int64) int {
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM run_persons($1) WHERE survey`, run).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := targets(first.RunID)
	var id, name, region string
	if err := db.QueryRow(ctx, `SELECT rp.id_number, rp.name, rp.region_code FROM run_persons($1) rp JOIN person p USING (id_number)
		WHERE rp.survey AND p.birth IS NOT NULL AND p.sex IS NOT NULL ORDER BY rp.id_number LIMIT 1`, first.RunID).Scan(&id, &name, &region); err != nil {
		t.Fatal(err)
	}
	var round, household, member int64
	if err := db.QueryRow(ctx, `INSERT INTO survey_round (region_code, title, run_id) VALUES ($1, '批次', $2) RETURNING id`, fixture.County, first.RunID).Scan(&round); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `INSERT INTO survey_household (round_id, code, household, region_code, added_run) VALUES ($1, 'C1', '', $2, $3) RETURNING id`,
		round, region, first.RunID).Scan(&household); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `INSERT INTO survey_member (household_id, round_id, id_number, name, target, added_run) VALUES ($1, $2, $3, $4, true, $5) RETURNING id`,
		household, round, id, name, first.RunID).Scan(&member); err != nil {
		t.Fatal(err)
	}
	forms := survey.NewForms(db)
	forms.Today = func() time.Time { return today }
	county := actor.Actor{Username: "county", Role: actor.County, Region: fixture.County, IP: "test"}
	p, err := registry.NewStore(db).Person(ctx, county, id)
	if err != nil {
		t.Fatal(err)
	}
	f := complete(p.Name, id)
	sub, err := forms.Save(ctx, county, member, survey.Save{Data: f, Submit: true, Key: "x"})
	if err != nil {
		t.Fatal(err)
	}
	next := func() int64 {
		t.Helper()
		r, err := eng.Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r.RunID
	}
	if second := next(); targets(second) != before {
		t.Fatalf("a submitted form changed the targets: %d, was %d", targets(second), before)
	}
	if _, err := forms.Approve(ctx, county, sub.Form.ID, sub.Form.Version); err != nil {
		t.Fatal(err)
	}
	third := next()
	if got := targets(third); got != before-1 {
		t.Errorf("targets after approval: %d, want %d", got, before-1)
	}
	var still bool
	if err := db.QueryRow(ctx, `SELECT survey FROM run_persons($1) WHERE id_number = $2`, third, id).Scan(&still); err != nil || still {
		t.Errorf("the surveyed person is still a target (%v)", err)
	}
	var summary int
	if err := db.QueryRow(ctx, `SELECT n FROM run_summary WHERE run_id = $1 AND region_code = $2 AND metric = 'survey'`, third, fixture.County).Scan(&summary); err != nil || summary != before-1 {
		t.Errorf("summary says %d targets (%v), want %d", summary, err, before-1)
	}
}
