package compare_test

import (
	"context"
	"testing"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/pgtest"
)

// TestEngineChecksTheActor: the engine refuses, and audits, a comparison
// by a role that may not compare or of a region outside the actor's, and
// its reads answer not found outside the actor's region, whatever the
// caller checked.
func TestEngineChecksTheActor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := pgtest.New(t)
	fixture.Regions(t, db, "4409")
	eng := compare.New(db)
	req := compare.Request{Region: fixture.County, AsOf: fixture.AsOf}
	cases := []struct {
		name string
		a    actor.Actor
		kind apperr.Kind
	}{
		{"ErrLeader", actor.Actor{Username: "leader", Role: actor.Leader, Region: "4409"}, apperr.Forbidden},
		{"ErrTownship", actor.Actor{Username: "town", Role: actor.Township, Region: "440981107"}, apperr.Forbidden},
		{"ErrSiblingCounty", actor.Actor{Username: "hz", Role: actor.County, Region: "440982"}, apperr.NotFound},
		{"ErrAdminBelow", actor.Actor{Username: "townadmin", Role: actor.Admin, Region: "440981107"}, apperr.NotFound},
	}
	for _, c := range cases {
		if _, err := eng.Run(ctx, c.a, req, nil); apperr.KindOf(err) != c.kind {
			t.Errorf("%s: run %v, want kind %v", c.name, err, c.kind)
		}
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'compare.run' AND result = 'rejected' AND username = $1`,
			c.a.Username).Scan(&n); err != nil || n != 1 {
			t.Errorf("%s: %d refusals audited (%v), want 1", c.name, n, err)
		}
	}
	var runs int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM comparison_run`).Scan(&runs); err != nil || runs != 0 {
		t.Errorf("%d runs after refusals (%v)", runs, err)
	}
	sibling := actor.Actor{Role: actor.County, Region: "440982"}
	if _, _, err := eng.Summary(ctx, sibling, 1, fixture.County); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("summary of another county: %v", err)
	}
	if _, err := eng.Records(ctx, sibling, 1, fixture.County, true, "", list.Query{Page: 1, Size: 10}); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("records of another county: %v", err)
	}
	if _, err := eng.Persons(ctx, sibling, 1, fixture.County, compare.Metrics[0], "", list.Query{Page: 1, Size: 10}); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("persons of another county: %v", err)
	}
	if _, err := eng.Diff(ctx, sibling, 1, 2, fixture.County, list.Query{Page: 1, Size: 10}); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("differences of another county: %v", err)
	}
	if err := eng.Decide(ctx, actor.Actor{Role: actor.Leader, Region: "4409"}, 1, 1, 1, -1); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("a leader decides: %v", err)
	}
}
