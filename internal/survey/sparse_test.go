package survey_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/demo"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/survey"
)

// TestSparseTwinPublishesAlike: a round published from a sparse run (one
// storing only the persons unlike its anchor's) lists what a round
// published from the full run it was made from lists; topping the full
// run's round up from the twin changes nothing; its print shows the same
// members and records.
func TestSparseTwinPublishesAlike(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	fixture.ImportCounty(t, db, 600, 13, "csv")
	eng := compare.New(db)
	req := compare.Request{Region: fixture.County, AsOf: fixture.AsOf}
	a, err := eng.Run(ctx, staff, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	fixture.ImportNewer(t, db, 4, demo.KindHukou, demo.KindDeath, demo.KindResidence)
	b, err := eng.Run(ctx, staff, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	tw := pgtest.SparseTwin(t, db, a.RunID, b.RunID)
	if tw.Stored == 0 || tw.Stored > b.Persons/4 {
		t.Fatalf("the twin stores %d of %d persons", tw.Stored, b.Persons)
	}

	st := survey.New(db)
	full := publish(t, db, b.RunID)
	sparse := publish(t, db, tw.Run)
	const members = `SELECT h.household, h.region_code, m.id_number, m.name, m.relation, m.target, m.pension, m.medical, m.flags
		FROM survey_member m JOIN survey_household h ON h.id = m.household_id WHERE m.round_id = $1`
	var differ, listed int
	pgtest.MustScan(t, db.QueryRow(ctx, `SELECT (SELECT count(*) FROM (`+members+` EXCEPT ALL `+strings.ReplaceAll(members, "$1", "$2")+`) x)
		+ (SELECT count(*) FROM (`+strings.ReplaceAll(members, "$1", "$2")+` EXCEPT ALL `+members+`) y), (SELECT count(*) FROM survey_member WHERE round_id = $1)`,
		full.Round, sparse.Round), &differ, &listed)
	if differ != 0 || listed == 0 || full.Target != sparse.Target || full.Households != sparse.Households {
		t.Errorf("rounds of the run and its twin: %+v and %+v, %d of %d members differ", full, sparse, differ, listed)
	}

	// Five villages' prints, from the run and, after the top-up, from its
	// twin.
	var villages []string
	rows, err := db.Query(ctx, `SELECT region_code FROM survey_household WHERE round_id = $1 AND household <> ''
		GROUP BY 1 ORDER BY sum(persons) DESC, 1 LIMIT 5`, full.Round)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v string
		pgtest.MustScan(t, rows, &v)
		villages = append(villages, v)
	}
	rows.Close()
	prints := func() [][]survey.PrintHousehold {
		r, err := st.GetRound(ctx, staff, full.Round)
		if err != nil {
			t.Fatal(err)
		}
		var out [][]survey.PrintHousehold
		for _, v := range villages {
			set, err := st.Print(ctx, staff, r, survey.PrintFilter{Village: v})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, set.Households)
		}
		return out
	}
	before := prints()
	up, err := st.Publish(ctx, staff, survey.PublishRequest{Round: full.Round, Region: fixture.County, RunID: tw.Run}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if up.NewHouseholds != 0 || up.NewMembers != 0 || up.Dropped != 0 || up.Target != full.Target {
		t.Errorf("topping the run's round up from its twin: %+v, published %+v", up, full)
	}
	if r, err := st.GetRound(ctx, staff, full.Round); err != nil || r.RunID != tw.Run {
		t.Fatalf("round after the top-up: run %d (%v), want %d", r.RunID, err, tw.Run)
	}
	after := prints()
	insured, ethnic := 0, 0
	for _, hs := range before {
		for _, h := range hs {
			for _, m := range h.Members {
				if m.Ethnic != "" {
					ethnic++
				}
				for _, sc := range m.Schemes {
					if sc.Insured {
						insured++
					}
				}
			}
		}
	}
	if ethnic == 0 || insured == 0 || !reflect.DeepEqual(before, after) {
		t.Errorf("prints of %v from the run (%d with 民族, %d insured schemes) and from its twin differ", villages, ethnic, insured)
	}

	// The willing list reads each person's result in the first run after
	// the form's approval: forms approved between the run and its twin
	// (started a minute later) read the twin, then, approved before both
	// with the twin hidden, the run.
	if _, err := db.Exec(ctx, `UPDATE comparison_run SET started_at = started_at + interval '1 minute' WHERE id = $1`, tw.Run); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `
		INSERT INTO survey_form (member_id, household_id, round_id, state, willing, reviewed_at)
		SELECT m.id, m.household_id, m.round_id, 'approved', $2, c.started_at + interval '30 seconds'
		FROM survey_member m, comparison_run c
		WHERE m.round_id = $1 AND c.id = $3 AND m.id % 7 = 0`, full.Round, survey.Willing, b.RunID); err != nil {
		t.Fatal(err)
	}
	leader := actor.Actor{Username: "leader", Role: actor.Leader, Region: fixture.County, IP: "test"}
	willing := func() []survey.WillingItem {
		page, err := survey.NewForms(db).Willing(ctx, leader, full.Round, "", list.Query{Page: 1, Size: 10000})
		if err != nil {
			t.Fatal(err)
		}
		return page.Items
	}
	fromTwin := willing()
	if _, err := db.Exec(ctx, `UPDATE comparison_run SET status = 'failed' WHERE id = $1`, tw.Run); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `UPDATE survey_form SET reviewed_at = reviewed_at - interval '1 hour' WHERE round_id = $1`, full.Round); err != nil {
		t.Fatal(err)
	}
	fromRun := willing()
	results := 0
	for _, w := range fromRun {
		if w.Pension != "" {
			results++
		}
	}
	if results == 0 || !reflect.DeepEqual(fromTwin, fromRun) {
		t.Errorf("willing list from the twin (%d) and from the run (%d, %d with a result) differ", len(fromTwin), len(fromRun), results)
	}
}
