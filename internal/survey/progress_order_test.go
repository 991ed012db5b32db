package survey_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/survey"
)

// TestProgressListOrder: the lists behind the visited numbers, read from
// the forms' own index (000024), show what their definitions select in
// list order (village, household, member), page by page through their
// cursors and by page number, for a region, a team and a clerk; after a
// household moves to another village its forms move with it in the list.
func TestProgressListOrder(t *testing.T) {
	t.Parallel()
	db, run := county(t, 1200)
	ctx := context.Background()
	res := publish(t, db, run)
	forms := survey.NewForms(db)
	forms.Today = func() time.Time { return today }
	reader := mustUser(t, db, "reader", actor.County, fixture.County)
	v1, v2 := twoVillages(t, db, res.Round)
	township := v1[:9]
	// Forms in every state for the targets, by two clerks; a team with
	// every other household of the township.
	var team int64
	if err := db.QueryRow(ctx, `INSERT INTO survey_team (region_code, name) VALUES ($1, '第一组') RETURNING id`, township).Scan(&team); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO survey_form (member_id, household_id, round_id, state, entered_by, entered_name)
		  SELECT m.id, m.household_id, m.round_id, (ARRAY['draft', 'submitted', 'approved', 'returned', 'approved'])[1 + m.id % 5],
		         CASE WHEN m.id % 2 = 0 THEN $2::bigint END, '测试'
		  FROM survey_member m WHERE m.round_id = $1 AND m.target`, []any{res.Round, reader.UserID}},
		{`UPDATE survey_household SET team_id = $3 WHERE round_id = $1 AND region_code LIKE $2 || '%' AND id % 2 = 0`, []any{res.Round, township, team}},
	} {
		if _, err := db.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	mustRecount(t, db, res.Round)
	// want is a list's keys (village, household, member) in plain SQL
	// over the households' own villages.
	want := func(t *testing.T, cond string, households bool) []string {
		t.Helper()
		key, order := `h.region_code || ' ' || h.id || ' ' || m.id`, ` ORDER BY h.region_code, h.id, m.id`
		if households {
			key, order = `h.region_code || ' ' || h.id`, ` GROUP BY h.region_code, h.id ORDER BY h.region_code, h.id`
		}
		rows, err := db.Query(ctx, `SELECT `+key+` FROM survey_form f JOIN survey_household h ON h.id = f.household_id AND h.round_id = f.round_id
			JOIN survey_member m ON m.id = f.member_id AND m.round_id = f.round_id
			WHERE f.round_id = $1 AND f.state IN ('submitted', 'approved', 'returned') AND `+cond+order, res.Round)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				t.Fatal(err)
			}
			out = append(out, k)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	// walk reads a list whole through its cursors, checking each page
	// against the same page asked for by number.
	walk := func(t *testing.T, code string, g survey.Group, metric string) ([]string, int) {
		t.Helper()
		var seen []string
		var after []string
		total := -1
		for page := 1; page < 500; page++ {
			lq := list.Query{Page: page, Size: 3, After: after}
			p, err := forms.ProgressList(ctx, reader, res.Round, code, g, metric, lq)
			if err != nil {
				t.Fatal(err)
			}
			jumped, err := forms.ProgressList(ctx, reader, res.Round, code, g, metric, list.Query{Page: page, Size: 3})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(jumped.Items, p.Items) {
				t.Fatalf("page %d by cursor %v:\n%v\nby number:\n%v", page, after, p.Items, jumped.Items)
			}
			total = p.Total
			for _, it := range p.Items {
				k := it.RegionCode + " " + strconv.FormatInt(it.HouseholdID, 10)
				if it.MemberID != 0 {
					k += " " + strconv.FormatInt(it.MemberID, 10)
				}
				seen = append(seen, k)
			}
			if len(p.Items) < 3 {
				break
			}
			last := p.Items[len(p.Items)-1]
			after = []string{last.RegionCode, strconv.FormatInt(last.HouseholdID, 10), strconv.FormatInt(last.MemberID, 10)}
			if last.MemberID == 0 {
				after = after[:2]
			}
		}
		return seen, total
	}
	check := func(t *testing.T) {
		for name, c := range map[string]struct {
			code, cond string
			g          survey.Group
			metric     string
		}{
			"CountyVisited":     {fixture.County, "true", survey.Group{Kind: "region", Key: fixture.County}, survey.ProgressVisited},
			"TownshipConfirmed": {township, "h.region_code LIKE '" + township + "%' AND f.state = 'approved'", survey.Group{Kind: "region", Key: township}, survey.ProgressConfirmed},
			"TownshipHouseholds": {township, "h.region_code LIKE '" + township + "%'", survey.Group{Kind: "region", Key: township},
				survey.ProgressHouseholdsVisited},
			"TeamVisited": {township, "h.region_code LIKE '" + township + "%' AND h.team_id = " + strconv.FormatInt(team, 10),
				survey.Group{Kind: "team", Key: strconv.FormatInt(team, 10)}, survey.ProgressVisited},
			"ClerkHouseholds": {fixture.County, "f.entered_by = " + strconv.FormatInt(reader.UserID, 10),
				survey.Group{Kind: "clerk", Key: strconv.FormatInt(reader.UserID, 10)}, survey.ProgressHouseholdsVisited},
		} {
			t.Run(name, func(t *testing.T) {
				households := c.metric == survey.ProgressHouseholdsVisited
				w := want(t, c.cond, households)
				if len(w) < 7 {
					t.Fatalf("%d rows: too few to page", len(w))
				}
				got, total := walk(t, c.code, c.g, c.metric)
				if !slices.Equal(got, w) || total != len(w) {
					t.Errorf("list (total %d):\n%v\nwant (%d):\n%v", total, got, len(w), w)
				}
			})
		}
	}
	t.Run("Published", check)
	// A household of the township with a visited form moves to another
	// of its villages.
	var moved int64
	var from string
	if err := db.QueryRow(ctx, `SELECT h.id, h.region_code FROM survey_household h JOIN survey_form f ON f.household_id = h.id
		WHERE h.round_id = $1 AND h.region_code LIKE $2 || '%' AND f.state = 'approved' ORDER BY h.id LIMIT 1`, res.Round, township).Scan(&moved, &from); err != nil {
		t.Fatal(err)
	}
	to := map[bool]string{true: v2, false: v1}[from == v1]
	if _, err := db.Exec(ctx, `UPDATE survey_household SET region_code = $3 WHERE round_id = $1 AND id = $2`, res.Round, moved, to); err != nil {
		t.Fatal(err)
	}
	mustRecount(t, db, res.Round)
	t.Run("Moved", check)
}
