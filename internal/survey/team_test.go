package survey_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/survey"
)

// busiestVillage is the village of the round with the most households.
func busiestVillage(t *testing.T, db *pgxpool.Pool, round int64) (string, int) {
	t.Helper()
	var v string
	var n int
	if err := db.QueryRow(context.Background(), `SELECT region_code, count(*) FROM survey_household WHERE round_id = $1 AND length(region_code) = 12
		GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1`, round).Scan(&v, &n); err != nil {
		t.Fatal(err)
	}
	return v, n
}

func mustTeam(t *testing.T, st *survey.Store, a actor.Actor, township, name string) int64 {
	t.Helper()
	id, err := st.SaveTeam(context.Background(), a, 0, survey.TeamForm{Township: township, Name: name,
		Members: []survey.TeamMember{{Name: "张三", Phone: "13800138000"}, {Name: "李四", Phone: "0668-6612345"}}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestTeamsAndAssignment(t *testing.T) {
	t.Parallel()
	db, run := county(t, 120)
	ctx := context.Background()
	res := publish(t, db, run)
	st := survey.New(db)
	village, n := busiestVillage(t, db, res.Round)
	township := village[:9]
	clerk := actor.Actor{UserID: 0, Username: "clerk", Role: actor.Township, Region: township}
	r, err := st.GetRound(ctx, clerk, res.Round)
	if err != nil {
		t.Fatal(err)
	}
	a := mustTeam(t, st, clerk, township, "第一组")
	b := mustTeam(t, st, clerk, township, "第二组")

	t.Run("ErrInvalidTeam", func(t *testing.T) {
		for _, f := range []survey.TeamForm{
			{Township: township, Name: "", Members: []survey.TeamMember{{Name: "王五", Phone: "13800138000"}}},
			{Township: township, Name: "第三组"},
			{Township: township, Name: "第三组", Members: []survey.TeamMember{{Name: "王五", Phone: "电话"}}},
		} {
			if _, err := st.SaveTeam(ctx, clerk, 0, f); apperr.KindOf(err) != apperr.Invalid {
				t.Errorf("%+v saved: %v", f, err)
			}
		}
		_, err := st.SaveTeam(ctx, clerk, 0, survey.TeamForm{Township: township, Name: "第一组", Members: []survey.TeamMember{{Name: "王五", Phone: "13800138000"}}})
		if apperr.KindOf(err) != apperr.Conflict {
			t.Errorf("second team of the same name: %v", err)
		}
	})
	t.Run("ErrOtherTownship", func(t *testing.T) {
		other := actor.Actor{Username: "other", Role: actor.Township, Region: "440981999"}
		if _, err := st.SaveTeam(ctx, other, a, survey.TeamForm{Name: "改名", Members: []survey.TeamMember{{Name: "王五", Phone: "13800138000"}}}); apperr.KindOf(err) != apperr.NotFound {
			t.Errorf("another township's clerk edits the team: %v", err)
		}
		if teams, err := st.Teams(ctx, other, other.Region); err != nil || len(teams) != 0 {
			t.Errorf("another township sees %d teams (%v)", len(teams), err)
		}
		leader := actor.Actor{Username: "leader", Role: actor.Leader, Region: fixture.County}
		if err := st.AssignVillage(ctx, leader, r, village, a); apperr.KindOf(err) != apperr.Forbidden {
			t.Errorf("leader assigns: %v", err)
		}
		// A team of another township cannot take this village.
		far := mustTeam(t, st, staff, "440981100", "远方组")
		if err := st.AssignVillage(ctx, staff, r, village, far); apperr.KindOf(err) != apperr.Invalid {
			t.Errorf("team of another township takes the village: %v", err)
		}
	})

	// Rebalance spreads the whole village evenly over both teams.
	if err := st.Rebalance(ctx, clerk, r, village, []int64{a, b}); err != nil {
		t.Fatal(err)
	}
	loads := teamLoads(t, st, clerk, r, township)
	if la, lb := loads[a].Households, loads[b].Households; la+lb != n || la-lb > 1 || lb-la > 1 {
		t.Errorf("rebalanced %d households as %d and %d", n, la, lb)
	}
	// One household moves to b; then the whole village goes to a.
	p, err := st.Households(ctx, clerk, r, survey.HouseholdFilter{Region: village, Team: a}, list.Query{Page: 1, Size: 1})
	if err != nil || len(p.Items) != 1 {
		t.Fatalf("households of team a: %v", err)
	}
	if err := st.AssignHouseholds(ctx, clerk, r, township, []int64{p.Items[0].ID}, b); err != nil {
		t.Fatal(err)
	}
	if after := teamLoads(t, st, clerk, r, township); after[b].Households != loads[b].Households+1 {
		t.Errorf("moving one household: team b has %d, had %d", after[b].Households, loads[b].Households)
	}
	if err := st.AssignHouseholds(ctx, clerk, r, township, []int64{-1}, b); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("assigning a household that does not exist: %v", err)
	}
	if err := st.AssignVillage(ctx, clerk, r, village, a); err != nil {
		t.Fatal(err)
	}
	loads = teamLoads(t, st, clerk, r, township)
	if loads[a].Households != n || loads[b].Households != 0 || len(loads[a].Villages) != 1 {
		t.Errorf("village to team a: a %d (villages %v), b %d; want %d, 0", loads[a].Households, loads[a].Villages, loads[b].Households, n)
	}
	var persons, targets int
	if err := db.QueryRow(ctx, `SELECT sum(persons), sum(targets) FROM survey_household WHERE round_id = $1 AND region_code = $2`,
		res.Round, village).Scan(&persons, &targets); err != nil {
		t.Fatal(err)
	}
	if loads[a].Persons != persons || loads[a].Targets != targets {
		t.Errorf("team a load %d persons %d targets, village has %d, %d", loads[a].Persons, loads[a].Targets, persons, targets)
	}
	// Visited counts follow the forms: one member submitted.
	if _, err := db.Exec(ctx, `INSERT INTO survey_form (member_id, household_id, round_id, state)
		SELECT m.id, m.household_id, m.round_id, 'submitted' FROM survey_member m JOIN survey_household h ON h.id = m.household_id
		WHERE h.round_id = $1 AND h.region_code = $2 ORDER BY m.id LIMIT 1`, res.Round, village); err != nil {
		t.Fatal(err)
	}
	mustRecount(t, db, res.Round)
	if l := teamLoads(t, st, clerk, r, township)[a]; l.HouseholdsVisited != 1 || l.PersonsVisited != 1 {
		t.Errorf("after one submitted form: %d households, %d persons visited", l.HouseholdsVisited, l.PersonsVisited)
	}
	var audited int
	if err := db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE action = 'survey.assign' AND result = 'ok'),
		count(*) FILTER (WHERE action = 'survey.team' AND result = 'ok') FROM audit_log`).Scan(&audited, new(int)); err != nil || audited != 3 {
		t.Errorf("%d assignments audited, want 3 (%v)", audited, err)
	}
}

func teamLoads(t *testing.T, st *survey.Store, a actor.Actor, r survey.Round, region string) map[int64]survey.Load {
	t.Helper()
	ls, err := st.Loads(context.Background(), a, r, region)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]survey.Load{}
	for _, l := range ls {
		out[l.ID] = l
	}
	return out
}

// TestScope: a township clerk sees the county round's part in their
// township only, and the counts of every level add up to the round's.
func TestScope(t *testing.T) {
	t.Parallel()
	db, run := county(t, 80)
	ctx := context.Background()
	res := publish(t, db, run)
	st := survey.New(db)
	village, _ := busiestVillage(t, db, res.Round)
	clerk := actor.Actor{Username: "clerk", Role: actor.Township, Region: village[:9]}
	r, err := st.GetRound(ctx, clerk, res.Round)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Households(ctx, clerk, r, survey.HouseholdFilter{Region: fixture.County}, list.Query{Page: 1, Size: 10}); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("township clerk lists the county: %v", err)
	}
	p, err := st.Households(ctx, clerk, r, survey.HouseholdFilter{Region: clerk.Region}, list.Query{Page: 1, Size: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range p.Items {
		if !strings.HasPrefix(h.RegionCode, clerk.Region) {
			t.Errorf("clerk of %s sees household in %s", clerk.Region, h.RegionCode)
		}
	}
	// Counts per level: the county's equal the round's, each level's
	// lines add up to their parent and each equals its list's length.
	total, towns, err := st.Counts(ctx, staff, r, fixture.County)
	if err != nil {
		t.Fatal(err)
	}
	if total[survey.MetricHouseholds] != res.Households || total[survey.MetricPersons] != res.Persons || total[survey.MetricTargets] != res.Target {
		t.Errorf("county counts %v, round %+v", total, res)
	}
	sum := map[string]int{}
	for _, town := range towns {
		for k, n := range town.Counts {
			sum[k] += n
		}
		tt, villages, err := st.Counts(ctx, staff, r, town.Code)
		if err != nil {
			t.Fatal(err)
		}
		vs := map[string]int{}
		for _, v := range villages {
			for k, n := range v.Counts {
				vs[k] += n
			}
			hs, err := st.Households(ctx, staff, r, survey.HouseholdFilter{Region: v.Code}, list.Query{Page: 1, Size: 1})
			if err != nil || hs.Total != v.Counts[survey.MetricHouseholds] {
				t.Errorf("village %s: %d households counted, list of %d (%v)", v.Code, v.Counts[survey.MetricHouseholds], hs.Total, err)
			}
			ms, err := st.Members(ctx, staff, r, v.Code, true, list.Query{Page: 1, Size: 1})
			if err != nil || ms.Total != v.Counts[survey.MetricTargets] {
				t.Errorf("village %s: %d targets counted, list of %d (%v)", v.Code, v.Counts[survey.MetricTargets], ms.Total, err)
			}
		}
		for _, k := range survey.Metrics {
			if vs[k] != tt[k] || tt[k] != town.Counts[k] {
				t.Errorf("township %s %s: villages add to %d, township %d, county's line %d", town.Code, k, vs[k], tt[k], town.Counts[k])
			}
		}
	}
	for _, k := range survey.Metrics {
		if sum[k] != total[k] {
			t.Errorf("%s: townships add to %d, county %d", k, sum[k], total[k])
		}
	}
	// Finding a task by its code, and not from another township.
	h := p.Items[0]
	if _, got, err := st.FindTask(ctx, clerk, strings.ToLower(h.Code)); err != nil || got.ID != h.ID {
		t.Errorf("find %s: %+v %v", h.Code, got, err)
	}
	other := actor.Actor{Username: "other", Role: actor.Township, Region: "440981999"}
	if _, _, err := st.FindTask(ctx, other, h.Code); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("another township finds %s: %v", h.Code, err)
	}
}

// TestPrintAndArchive: a village's print holds every household and member
// with what the extracts say, and is audited; the village's archive is
// recorded and listed.
func TestPrintAndArchive(t *testing.T) {
	t.Parallel()
	db, run := county(t, 80)
	ctx := context.Background()
	res := publish(t, db, run)
	st := survey.New(db)
	village, n := busiestVillage(t, db, res.Round)
	r, err := st.GetRound(ctx, staff, res.Round)
	if err != nil {
		t.Fatal(err)
	}
	set, err := st.Print(ctx, staff, r, survey.PrintFilter{Village: village})
	if err != nil {
		t.Fatal(err)
	}
	var targets, ethnic, address, insured int
	for _, h := range set.Households {
		if len(h.Members) != h.Persons {
			t.Errorf("household %s prints %d of %d members", h.Code, len(h.Members), h.Persons)
		}
		for _, m := range h.Members {
			if m.Target {
				targets++
			}
			if m.Ethnic != "" {
				ethnic++
			}
			if m.HukouAddress != "" {
				address++
			}
			for _, sc := range m.Schemes {
				if sc.Insured {
					insured++
				}
			}
			if len(m.IDNumber) != 18 || m.Name == "" || len(m.Schemes) != 9 {
				t.Errorf("member printed as %+v", m)
			}
		}
	}
	if len(set.Households) != n || targets != set.Forms || ethnic == 0 || address == 0 || insured == 0 {
		t.Errorf("print of %s: %d households (want %d), %d targets (%d forms), %d with 民族, %d with 户籍地址, %d insured schemes",
			village, len(set.Households), n, targets, set.Forms, ethnic, address, insured)
	}
	var printed int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'survey.print' AND result = 'ok'`).Scan(&printed); err != nil || printed != 1 {
		t.Errorf("print audited %d times (%v)", printed, err)
	}
	if err := st.SetArchive(ctx, staff, r, village, 3, "档案室 2 号柜"); err != nil {
		t.Fatal(err)
	}
	if err := st.SetArchive(ctx, staff, r, village, -1, ""); apperr.KindOf(err) != apperr.Invalid {
		t.Errorf("negative boxes: %v", err)
	}
	as, err := st.Archives(ctx, staff, r, village[:9])
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, x := range as {
		if x.VillageCode == village {
			found = x.Boxes == 3 && x.ArchivedAt != nil && x.Households == n
		} else if x.Boxes != 0 {
			t.Errorf("village %s archived too", x.VillageCode)
		}
	}
	if !found {
		t.Errorf("archive of %s not listed: %+v", village, as)
	}
}

// TestDemo: the demo's round, with every household of the demo township
// assigned to one of its four teams, and one village archived; a second
// call changes nothing.
func TestDemo(t *testing.T) {
	t.Parallel()
	db, _ := county(t, 120)
	ctx := context.Background()
	st := survey.New(db)
	const township = "440981107"
	round, err := st.Demo(ctx, staff, fixture.County, township)
	if err != nil || round == 0 {
		t.Fatalf("demo: round %d, %v", round, err)
	}
	again, err := st.Demo(ctx, staff, fixture.County, township)
	if err != nil || again != round {
		t.Fatalf("demo again: round %d, %v", again, err)
	}
	var rounds, teams, unassigned, assigned, archived int
	if err := db.QueryRow(ctx, `SELECT (SELECT count(*) FROM survey_round), (SELECT count(*) FROM survey_team WHERE region_code = $1),
		(SELECT count(*) FROM survey_household WHERE round_id = $2 AND region_code LIKE $1 || '%' AND team_id IS NULL),
		(SELECT count(*) FROM survey_household WHERE round_id = $2 AND region_code LIKE $1 || '%' AND team_id IS NOT NULL),
		(SELECT count(*) FROM survey_archive WHERE round_id = $2)`, township, round).Scan(&rounds, &teams, &unassigned, &assigned, &archived); err != nil {
		t.Fatal(err)
	}
	if rounds != 1 || teams != len(survey.DemoTeams) || unassigned != 0 || assigned == 0 || archived != 1 {
		t.Errorf("demo: %d rounds, %d teams, %d households assigned, %d not, %d villages archived", rounds, teams, assigned, unassigned, archived)
	}
	// The demo's team member sees their team's households only; binding
	// again changes nothing.
	member := mustUser(t, db, "member", actor.Township, township)
	for range 2 {
		if err := st.DemoMember(ctx, staff, township, "member"); err != nil {
			t.Fatal(err)
		}
	}
	r, err := st.GetRound(ctx, member, round)
	if err != nil {
		t.Fatal(err)
	}
	var own int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM survey_household h JOIN survey_team t ON t.id = h.team_id
		WHERE h.round_id = $1 AND t.region_code = $2 AND t.name = $3`, round, township, survey.DemoTeams[0].Name).Scan(&own); err != nil {
		t.Fatal(err)
	}
	p, err := st.Households(ctx, member, r, survey.HouseholdFilter{Region: township}, list.Query{Page: 1, Size: 1})
	if err != nil || p.Total != own || own == 0 {
		t.Errorf("demo member lists %d households (%v); the first team has %d of %d", p.Total, err, own, assigned)
	}
	if only, err := st.Limited(ctx, member); err != nil || !only {
		t.Errorf("demo member limited: %v (%v)", only, err)
	}
	if n := len(auditActions(t, db, survey.AuditTeamBind)); n != 1 {
		t.Errorf("demo member bound %d times", n)
	}
}
