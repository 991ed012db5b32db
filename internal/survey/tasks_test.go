package survey_test

import (
	"context"
	"slices"
	"testing"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/survey"
)

// TestTaskList: the task list page's one round trip holds what the
// queries it replaced read one by one: the total of the households the
// actor may see, the page of them in list order, each one's members (the
// head first, then by id; a household without members still listed),
// their forms' states, the township's active teams, and whether the
// actor is limited to their team.
func TestTaskList(t *testing.T) {
	t.Parallel()
	db, run := county(t, 600)
	ctx := context.Background()
	res := publish(t, db, run)
	st := survey.New(db)
	v1, _ := twoVillages(t, db, res.Round)
	township := v1[:9]
	clerk := mustUser(t, db, "clerk", actor.Township, township)
	member := mustUser(t, db, "member", actor.Township, township)
	r, err := st.GetRound(ctx, clerk, res.Round)
	if err != nil {
		t.Fatal(err)
	}
	a := mustTeam(t, st, clerk, township, "第一组")
	mustTeam(t, st, clerk, township, "第二组")
	gone := mustTeam(t, st, clerk, township, "第三组")
	// Every other household to team a, a household of no one (every
	// member dropped out of the lists) in front of the villages, a
	// submitted form, and a team that no longer works.
	hid, _, mid, _, _ := targetIn(t, db, res.Round, v1)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO survey_household (id, round_id, code, household, region_code, added_run, head_name)
		  SELECT n, $1, survey_task_code(n), '', $2, $3, '空户' FROM nextval('survey_household_id_seq') n`, []any{r.ID, township, run}},
		{`INSERT INTO survey_form (member_id, household_id, round_id, state, entered_name) VALUES ($1, $2, $3, 'submitted', '测试')`,
			[]any{mid, hid, r.ID}},
		{`UPDATE survey_team SET active = false WHERE id = $1`, []any{gone}},
		{`UPDATE survey_household SET team_id = $3 WHERE round_id = $1 AND region_code LIKE $2 || '%' AND id % 2 = 0`, []any{r.ID, township, a}},
	} {
		if _, err := db.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	mustRecount(t, db, r.ID)
	// want is the township's households in list order (their codes) and
	// the members of each (ids), read here in plain SQL.
	want := func(cond string) ([]string, map[string][]int64) {
		t.Helper()
		rows, err := db.Query(ctx, `SELECT h.code, coalesce(array_agg(m.id ORDER BY m.relation <> '户主', m.id) FILTER (WHERE m.id IS NOT NULL), '{}')
			FROM survey_household h LEFT JOIN survey_member m ON m.household_id = h.id AND m.round_id = h.round_id
			WHERE h.round_id = $1 AND h.region_code LIKE $2 || '%' AND `+cond+` GROUP BY h.region_code, h.id, h.code ORDER BY h.region_code, h.id`,
			r.ID, township)
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		members := map[string][]int64{}
		for rows.Next() {
			var c string
			var ids []int64
			if err := rows.Scan(&c, &ids); err != nil {
				t.Fatal(err)
			}
			codes = append(codes, c)
			members[c] = ids
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return codes, members
	}
	check := func(t *testing.T, who actor.Actor, cond string, limited bool) {
		t.Helper()
		codes, members := want(cond)
		if len(codes) < 5 {
			t.Fatalf("%d households: too few to page", len(codes))
		}
		var seen []string
		for page := 1; page <= (len(codes)+1)/2; page++ {
			p, err := st.TaskList(ctx, who, r, survey.HouseholdFilter{Region: township}, list.Query{Page: page, Size: 2})
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != len(codes) {
				t.Errorf("page %d: total %d, want %d", page, p.Total, len(codes))
			}
			if p.Limited != limited {
				t.Errorf("page %d: limited %v, want %v", page, p.Limited, limited)
			}
			if names := teamNames(p.Teams); !slices.Equal(names, []string{"第一组", "第二组"}) {
				t.Errorf("page %d: teams %v, want the two active ones", page, names)
			}
			for _, h := range p.Items {
				seen = append(seen, h.Code)
				var got []int64
				for _, m := range p.Members[h.ID] {
					got = append(got, m.ID)
					if m.HouseholdID != h.ID || m.Code != h.Code || m.RegionCode != h.RegionCode {
						t.Errorf("member %d of %s: household %d %s %s", m.ID, h.Code, m.HouseholdID, m.Code, m.RegionCode)
					}
					if wantState := map[bool]string{true: "submitted", false: ""}[m.ID == mid]; m.State != wantState {
						t.Errorf("member %d: state %q, want %q", m.ID, m.State, wantState)
					}
				}
				if !slices.Equal(got, members[h.Code]) && len(got)+len(members[h.Code]) > 0 {
					t.Errorf("members of %s: %v, want %v", h.Code, got, members[h.Code])
				}
				if wantVisited := map[bool]int{true: 1}[h.ID == hid]; h.Visited != wantVisited {
					t.Errorf("household %s: %d visited, want %d", h.Code, h.Visited, wantVisited)
				}
			}
		}
		if !slices.Equal(seen, codes) {
			t.Errorf("households over all pages:\n%v\nwant\n%v", seen, codes)
		}
	}
	t.Run("Clerk", func(t *testing.T) { check(t, clerk, "true", false) })
	if err := st.Bind(ctx, clerk, a, survey.Binding{Member: "张三", UserID: member.UserID, TeamOnly: true}); err != nil {
		t.Fatal(err)
	}
	t.Run("LimitedMember", func(t *testing.T) { check(t, member, "h.team_id IS NOT NULL", true) })

	t.Run("Code", func(t *testing.T) {
		var code string
		if err := db.QueryRow(ctx, `SELECT code FROM survey_household WHERE id = $1`, hid).Scan(&code); err != nil {
			t.Fatal(err)
		}
		p, err := st.TaskList(ctx, clerk, r, survey.HouseholdFilter{Region: township, Query: code}, list.Query{Page: 1, Size: 5})
		if err != nil || p.Total != 1 || len(p.Items) != 1 || p.Items[0].ID != hid || len(p.Members[hid]) == 0 {
			t.Errorf("task code %s: %+v (%v)", code, p, err)
		}
	})
}

func teamNames(ts []survey.TeamChoice) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}
