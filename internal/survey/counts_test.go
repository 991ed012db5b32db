package survey_test

import (
	"context"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/region"
	"github.com/canbao/canbao/internal/survey"
)

// mustRecount writes a round's kept counts anew after a test wrote its
// rows around the survey's own changes.
func mustRecount(t *testing.T, db *pgxpool.Pool, round int64) {
	t.Helper()
	if err := pgx.BeginFunc(context.Background(), db, func(tx pgx.Tx) error { return survey.Recount(context.Background(), tx, round) }); err != nil {
		t.Fatal(err)
	}
}

// The oracle: the progress and round counts as they were counted per
// request before survey_count kept them (progress.go and round_counts.go
// up to migration 000021), over the rows themselves.
const oracleBase = `
	FROM survey_member m JOIN survey_household h ON h.id = m.household_id JOIN survey_round r ON r.id = h.round_id
	LEFT JOIN survey_form f ON f.member_id = m.id AND f.state <> 'superseded'
	WHERE h.round_id = $1 AND h.region_code LIKE $2::text || '%' AND (m.target OR f.id IS NOT NULL) AND $3::date IS NOT NULL
	AND (NOT EXISTS (SELECT 1 FROM survey_team_user tu WHERE tu.user_id = $4::bigint AND tu.team_only)
		OR EXISTS (SELECT 1 FROM survey_team_user tu JOIN survey_team tt ON tt.id = tu.team_id
		           WHERE tu.user_id = $4::bigint AND tt.active AND tu.team_id = h.team_id))`

// oracleCount is the old progress count per key (an SQL expression over
// the base), over rows meeting extra when given.
func oracleCount(t *testing.T, db *pgxpool.Pool, a actor.Actor, round int64, code, key, extra string) []survey.ProgressRow {
	t.Helper()
	where := oracleBase
	if extra != "" {
		where += " AND " + extra
	}
	q := `
		WITH p AS (
			SELECT ` + key + ` AS key, h.id AS hid,
			       coalesce(f.state IN ('submitted', 'approved', 'returned'), false) AS visited,
			       coalesce(f.state = 'approved', false) AS confirmed,
			       coalesce(f.state = 'returned', false) AS returned,
			       coalesce(r.deadline < $3 AND f.state IS DISTINCT FROM 'approved', false) AS overdue
			` + where + `),
		hh AS (SELECT key, hid, bool_or(visited) AS visited, bool_and(confirmed) AS confirmed FROM p GROUP BY key, hid),
		hc AS (SELECT key, count(*) AS n, count(*) FILTER (WHERE visited) AS v, count(*) FILTER (WHERE confirmed) AS c FROM hh GROUP BY key)
		SELECT p.key, hc.n, hc.v, hc.c, count(*), count(*) FILTER (WHERE p.visited), count(*) FILTER (WHERE p.confirmed),
		       count(*) FILTER (WHERE p.returned), count(*) FILTER (WHERE p.overdue)
		FROM p JOIN hc ON hc.key = p.key GROUP BY p.key, hc.n, hc.v, hc.c ORDER BY p.key`
	rows, err := db.Query(context.Background(), q, round, code, today, a.UserID)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (survey.ProgressRow, error) {
		var r survey.ProgressRow
		err := row.Scan(&r.Group.Key, &r.Households, &r.HouseholdsVisited, &r.HouseholdsDone, &r.Persons, &r.Visited, &r.Confirmed,
			&r.Returned, &r.Overdue)
		return r, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// oracleRoundCounts is the old round count per child region of code:
// households, persons, targets and assigned households.
func oracleRoundCounts(t *testing.T, db *pgxpool.Pool, a actor.Actor, round int64, code string) map[string][4]int {
	t.Helper()
	q := `
		SELECT left(h.region_code, $3), count(*), coalesce(sum(h.persons), 0), coalesce(sum(h.targets), 0), count(h.team_id)
		FROM survey_household h
		WHERE h.round_id = $1 AND h.region_code LIKE $2 || '%'
		AND (NOT EXISTS (SELECT 1 FROM survey_team_user tu WHERE tu.user_id = $4::bigint AND tu.team_only)
			OR EXISTS (SELECT 1 FROM survey_team_user tu JOIN survey_team tt ON tt.id = tu.team_id
			           WHERE tu.user_id = $4::bigint AND tt.active AND tu.team_id = h.team_id))
		GROUP BY 1 ORDER BY 1`
	rows, err := db.Query(context.Background(), q, round, code, region.ChildLen(code), a.UserID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][4]int{}
	for rows.Next() {
		var c string
		var n [4]int
		if err := rows.Scan(&c, &n[0], &n[1], &n[2], &n[3]); err != nil {
			t.Fatal(err)
		}
		out[c] = n
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	return out
}

// keptRows are a round's survey_count rows, in key order.
func keptRows(t *testing.T, db *pgxpool.Pool, round int64) []string {
	t.Helper()
	return countTexts(t, db, round, `region_code, team_id, clerk_id, households, persons, targets,
		assigned, p_persons, visited, confirmed, returned, hh, hh_visited, hh_confirmed`)
}

// countTexts are cols of round's survey_count rows, as text, in key order.
func countTexts(t *testing.T, db *pgxpool.Pool, round int64, cols string) []string {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT concat_ws(' ', `+cols+`)
		FROM survey_count WHERE round_id = $1 ORDER BY region_code, team_id, clerk_id`, round)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// numbers strips a row to its group key and numbers.
func numbers(rows []survey.ProgressRow) []survey.ProgressRow {
	out := []survey.ProgressRow{}
	for _, r := range rows {
		r.Group.Kind, r.Label = "", ""
		out = append(out, r)
	}
	return out
}

// checkKept compares every progress and round number the actors read in
// each region with the oracle's.
func checkKept(t *testing.T, db *pgxpool.Pool, round int64, step string, actors []actor.Actor, codes []string) {
	t.Helper()
	ctx := context.Background()
	forms, st := survey.NewForms(db), survey.New(db)
	forms.Today = func() time.Time { return today }
	for _, a := range actors {
		r, err := st.GetRound(ctx, a, round)
		if err != nil {
			t.Fatal(err)
		}
		for _, code := range codes {
			if !a.Sees(code) {
				continue
			}
			p, err := forms.Progress(ctx, a, round, code)
			if err != nil {
				t.Fatalf("%s: progress of %s in %s: %v", step, a.Username, code, err)
			}
			want := map[string][]survey.ProgressRow{
				"total":    numbers(oracleCount(t, db, a, round, code, "$2::text", "")),
				"children": nil, "teams": nil, "clerks": nil,
			}
			if n := region.ChildLen(code); n > len(code) {
				want["children"] = numbers(oracleCount(t, db, a, round, code, "left(h.region_code, "+strconv.Itoa(n)+")", ""))
			}
			if len(code) >= 9 {
				want["teams"] = numbers(oracleCount(t, db, a, round, code, "coalesce(h.team_id, 0)::text", ""))
				want["clerks"] = numbers(oracleCount(t, db, a, round, code, "coalesce(f.entered_by, 0)::text", "f.id IS NOT NULL"))
			}
			total := numbers([]survey.ProgressRow{p.Total})
			total[0].Group.Key = code
			if len(want["total"]) == 0 {
				want["total"] = []survey.ProgressRow{{Group: survey.Group{Key: code}}}
			}
			got := map[string][]survey.ProgressRow{"total": total, "children": nil, "teams": nil, "clerks": nil}
			if p.Children != nil || want["children"] != nil {
				got["children"] = numbers(p.Children)
			}
			if len(code) >= 9 {
				got["teams"], got["clerks"] = numbers(p.Teams), numbers(p.Clerks)
			}
			for k := range want {
				if !reflect.DeepEqual(got[k], want[k]) {
					t.Errorf("%s: %s in %s, %s:\n kept   %+v\n oracle %+v", step, a.Username, code, k, got[k], want[k])
				}
			}
			total2, lines, err := st.Counts(ctx, a, r, code)
			if err != nil {
				t.Fatal(err)
			}
			kept := map[string][4]int{}
			var sum [4]int
			for _, l := range lines {
				kept[l.Code] = [4]int{l.Counts[survey.MetricHouseholds], l.Counts[survey.MetricPersons], l.Counts[survey.MetricTargets], l.Counts[survey.MetricAssigned]}
			}
			for c, n := range oracleRoundCounts(t, db, a, round, code) {
				for i := range n {
					sum[i] += n[i]
				}
				if c == code {
					delete(kept, c)
					continue
				}
				if kept[c] != n {
					t.Errorf("%s: %s round counts of %s: kept %v, oracle %v", step, a.Username, c, kept[c], n)
				}
				delete(kept, c)
			}
			if len(kept) > 0 {
				t.Errorf("%s: %s round counts of regions the oracle has not: %v", step, a.Username, kept)
			}
			if got := [4]int{total2[survey.MetricHouseholds], total2[survey.MetricPersons], total2[survey.MetricTargets], total2[survey.MetricAssigned]}; got != sum {
				t.Errorf("%s: %s round total of %s: kept %v, oracle %v", step, a.Username, code, got, sum)
			}
		}
	}
}

// TestKeptCounts drives every change that moves a number (publish,
// assignment of villages and households, rebalance, draft, submission,
// approval, return, resubmission, revision, a member found at the door,
// top-up) and after each compares the kept counts with the oracle's, for
// a county user, a township clerk and a member limited to their team.
func TestKeptCounts(t *testing.T) {
	t.Parallel()
	db, run := county(t, 120)
	ctx := context.Background()
	res := publish(t, db, run)
	if _, err := db.Exec(ctx, `UPDATE survey_round SET deadline = '2026-11-01' WHERE id = $1`, res.Round); err != nil {
		t.Fatal(err)
	}
	st, forms := survey.New(db), survey.NewForms(db)
	forms.Today = func() time.Time { return today }
	v1, v2 := twoVillages(t, db, res.Round)
	township := v1[:9]
	manager := mustUser(t, db, "manager", actor.Township, township)
	clerk1 := mustUser(t, db, "clerk1", actor.Township, township)
	clerk2 := mustUser(t, db, "clerk2", actor.Township, township)
	limited := mustUser(t, db, "limited", actor.Township, township)
	cli := actor.Actor{Username: "cli", Role: actor.Township, Region: township, IP: "test"}
	countyUser := actor.Actor{Username: "county", Role: actor.County, Region: fixture.County, IP: "test"}
	reviewer := mustUser(t, db, "reviewer", actor.County, fixture.County)
	actors := []actor.Actor{countyUser, manager, limited}
	codes := []string{fixture.County, township, v1, v2}
	check := func(step string) { t.Helper(); checkKept(t, db, res.Round, step, actors, codes) }
	check("publish")
	// A new round's rows are written from its households alone (no
	// teams, forms or clerks yet): every one of them, every number, as
	// the full recount over its rows writes them.
	published := keptRows(t, db, res.Round)
	mustRecount(t, db, res.Round)
	if recounted := keptRows(t, db, res.Round); len(published) == 0 || !reflect.DeepEqual(published, recounted) {
		t.Errorf("publish wrote counts\n %v\nthe recount writes\n %v", published, recounted)
	}

	r, err := st.GetRound(ctx, manager, res.Round)
	if err != nil {
		t.Fatal(err)
	}
	a := mustTeam(t, st, manager, township, "第一组")
	b := mustTeam(t, st, manager, township, "第二组")
	if err := st.Bind(ctx, manager, a, survey.Binding{Member: "张三", UserID: limited.UserID, TeamOnly: true}); err != nil {
		t.Fatal(err)
	}
	for v, team := range map[string]int64{v1: a, v2: b} {
		if err := st.AssignVillage(ctx, manager, r, v, team); err != nil {
			t.Fatal(err)
		}
	}
	check("assign villages")
	h1, _, m1, id1, name1 := targetIn(t, db, res.Round, v1)
	if err := st.AssignHouseholds(ctx, manager, r, township, []int64{h1}, b); err != nil {
		t.Fatal(err)
	}
	check("assign a household")
	if err := st.AssignVillage(ctx, manager, r, v2, 0); err != nil {
		t.Fatal(err)
	}
	if err := st.Rebalance(ctx, manager, r, v2, []int64{a, b}); err != nil {
		t.Fatal(err)
	}
	check("rebalance")

	// Forms of two households of v1 by two clerks and the command line.
	var members []struct {
		id       int64
		idNumber string
		name     string
	}
	rows, err := db.Query(ctx, `SELECT m.id, m.id_number, m.name FROM survey_member m JOIN survey_household h ON h.id = m.household_id
		WHERE h.round_id = $1 AND h.region_code = $2 AND m.id <> $3 ORDER BY NOT m.target, h.id, m.id LIMIT 6`, res.Round, v1, m1)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var m struct {
			id       int64
			idNumber string
			name     string
		}
		if err := rows.Scan(&m.id, &m.idNumber, &m.name); err != nil {
			t.Fatal(err)
		}
		members = append(members, m)
	}
	if rows.Err() != nil || len(members) < 4 {
		t.Fatalf("%d members in %s (%v)", len(members), v1, rows.Err())
	}
	save := func(who actor.Actor, member int64, idNumber, name string, version int, submit bool) survey.FormRecord {
		t.Helper()
		s, err := forms.Save(ctx, who, member, survey.Save{Version: version, Data: complete(name, idNumber), Submit: submit,
			Key: fmt.Sprintf("%d-%d-%v", member, version, submit)})
		if err != nil {
			t.Fatal(err)
		}
		return s.Form
	}
	f1 := save(clerk1, m1, id1, name1, 0, false)
	check("draft")
	// A draft saved again moves no number: no counts row is written.
	rowsBefore := countRows(t, db, res.Round)
	f1 = save(clerk1, m1, id1, name1, f1.Version, false)
	if after := countRows(t, db, res.Round); !reflect.DeepEqual(after, rowsBefore) {
		t.Errorf("a draft saved again wrote counts rows:\n before %v\n after  %v", rowsBefore, after)
	}
	check("draft saved again")
	f1 = save(clerk1, m1, id1, name1, f1.Version, true)
	check("draft submitted")
	// The submission repeated with its key, and a save of the submitted
	// form (refused), move nothing.
	rowsBefore = countRows(t, db, res.Round)
	if s, err := forms.Save(ctx, clerk1, m1, survey.Save{Version: f1.Version - 1, Data: complete(name1, id1), Submit: true,
		Key: fmt.Sprintf("%d-%d-%v", m1, f1.Version-1, true)}); err != nil || !s.Repeated {
		t.Fatalf("repeated submission: %+v, %v", s, err)
	}
	if _, err := forms.Save(ctx, clerk2, m1, survey.Save{Version: f1.Version, Data: complete(name1, id1)}); err == nil {
		t.Fatal("a submitted form saved as a draft")
	}
	if after := countRows(t, db, res.Round); !reflect.DeepEqual(after, rowsBefore) {
		t.Errorf("a repeated submission or a refused save wrote counts rows:\n before %v\n after  %v", rowsBefore, after)
	}
	check("submission repeated")
	f2 := save(clerk2, members[0].id, members[0].idNumber, members[0].name, 0, true)
	f3 := save(cli, members[1].id, members[1].idNumber, members[1].name, 0, true)
	f4 := save(clerk2, members[len(members)-1].id, members[len(members)-1].idNumber, members[len(members)-1].name, 0, false)
	check("submit")
	if f1, err = forms.Approve(ctx, reviewer, f1.ID, f1.Version); err != nil {
		t.Fatal(err)
	}
	if f2, err = forms.Return(ctx, reviewer, f2.ID, f2.Version, "请补充就业状态"); err != nil {
		t.Fatal(err)
	}
	if _, err = forms.Approve(ctx, reviewer, f3.ID, f3.Version); err != nil {
		t.Fatal(err)
	}
	check("review")
	// The returned form, resubmitted by the other clerk: the clerk row moves.
	f2 = save(clerk1, members[0].id, members[0].idNumber, members[0].name, f2.Version, false)
	check("returned form edited")
	save(clerk1, members[0].id, members[0].idNumber, members[0].name, f2.Version, true)
	if _, err := forms.Revise(ctx, clerk2, f1.ID); err != nil {
		t.Fatal(err)
	}
	check("resubmit and revise")
	found, err := forms.AddFound(ctx, clerk2, h1, "新来人", newID(v1[:6]+"19900101", 77), "其他")
	if err != nil {
		t.Fatal(err)
	}
	check("found member")
	ff := save(clerk2, found.ID, found.IDNumber, found.Name, 0, true)
	if _, err = forms.Return(ctx, reviewer, ff.ID, ff.Version, "请核对身份证号码"); err != nil {
		t.Fatal(err)
	}
	save(clerk2, members[len(members)-1].id, members[len(members)-1].idNumber, members[len(members)-1].name, f4.Version, true)
	check("found member's form")

	if _, err := survey.New(db).Publish(ctx, staff, survey.PublishRequest{Round: res.Round, Region: fixture.County, RunID: compareNow(t, db)}, nil); err != nil {
		t.Fatal(err)
	}
	check("top-up")
	// Team loads, household lists and the review queue count from the
	// kept counts too.
	for _, who := range []actor.Actor{manager, limited} {
		loads, err := st.Loads(ctx, who, r, township)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query(ctx, `
			SELECT coalesce(h.team_id, 0), count(*), coalesce(sum(h.persons), 0), coalesce(sum(h.targets), 0),
			       count(*) FILTER (WHERE coalesce(v.n, 0) > 0), coalesce(sum(v.n), 0)
			FROM survey_household h
			LEFT JOIN (SELECT household_id, count(*) AS n FROM survey_form
			           WHERE round_id = $1 AND state IN ('submitted', 'approved', 'returned') GROUP BY household_id) v ON v.household_id = h.id
			WHERE h.round_id = $1 AND h.region_code LIKE $2 || '%'
			AND (NOT EXISTS (SELECT 1 FROM survey_team_user tu WHERE tu.user_id = $3::bigint AND tu.team_only)
				OR EXISTS (SELECT 1 FROM survey_team_user tu JOIN survey_team tt ON tt.id = tu.team_id
				           WHERE tu.user_id = $3::bigint AND tt.active AND tu.team_id = h.team_id))
			GROUP BY 1`, res.Round, township, who.UserID)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64][5]int{}
		for rows.Next() {
			var id int64
			var n [5]int
			if err := rows.Scan(&id, &n[0], &n[1], &n[2], &n[3], &n[4]); err != nil {
				t.Fatal(err)
			}
			want[id] = n
		}
		for _, l := range loads {
			if got := [5]int{l.Households, l.Persons, l.Targets, l.HouseholdsVisited, l.PersonsVisited}; got != want[l.ID] {
				t.Errorf("%s: load of team %d: kept %v, oracle %v", who.Username, l.ID, got, want[l.ID])
			}
		}
	}
	// Household lists and the review queue count from the kept counts too.
	for _, who := range []actor.Actor{manager, limited} {
		for _, f := range []survey.HouseholdFilter{{Region: township}, {Region: v1, Team: a}, {Region: township, Team: -1},
			{Region: township, Assigned: true}} {
			p, err := st.Households(ctx, who, r, f, list.Query{Page: 1, Size: 5000})
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != len(p.Items) {
				t.Errorf("%s: households %+v: total %d, listed %d", who.Username, f, p.Total, len(p.Items))
			}
		}
	}
	for _, state := range []string{"submitted", "approved", "returned", "draft"} {
		for _, code := range []string{fixture.County, township, v1} {
			q := list.Parse(url.Values{"state": {state}, "region": {code}, "size": {"1000"}}, survey.QueueSpec)
			p, err := forms.Queue(ctx, reviewer, q)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if err := db.QueryRow(ctx, `SELECT count(*) FROM survey_form f JOIN survey_household h ON h.id = f.household_id
				WHERE f.state = $1 AND h.region_code LIKE $2 || '%'`, state, code).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if p.Total != n || len(p.Items) != min(n, q.Size) {
				t.Errorf("queue of %s forms in %s: total %d, %d listed, %d forms", state, code, p.Total, len(p.Items), n)
			}
		}
	}
	// The lists behind the numbers, read from the rows, are as long.
	for _, who := range []actor.Actor{manager, limited} {
		p, err := forms.Progress(ctx, who, res.Round, township)
		if err != nil {
			t.Fatal(err)
		}
		checkLists(t, &world{forms: forms}, who, p)
	}
}

// countRows is round's survey_count rows with the version of each (its
// xmin): a row written anew, even with the same numbers, differs.
func countRows(t *testing.T, db *pgxpool.Pool, round int64) []string {
	t.Helper()
	return countTexts(t, db, round, `xmin, region_code, team_id, clerk_id, p_persons, visited, hh, hh_visited`)
}

// formMember is a member whose form a test saves.
type formMember struct {
	id             int64
	idNumber, name string
}

// formMembers reads the members q selects (id, ID number, name); fewer
// than least fails the test.
func formMembers(t *testing.T, db *pgxpool.Pool, least int, q string, args ...any) []formMember {
	t.Helper()
	rows, err := db.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatal(err)
	}
	members, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (m formMember, err error) {
		return m, r.Scan(&m.id, &m.idNumber, &m.name)
	})
	if err != nil || len(members) < least {
		t.Fatalf("%d members (%v)", len(members), err)
	}
	return members
}

// TestKeptCountsConcurrent: clerks saving and submitting forms of one
// village at once lose no update of its counts.
func TestKeptCountsConcurrent(t *testing.T) {
	t.Parallel()
	db, run := county(t, 120)
	ctx := context.Background()
	res := publish(t, db, run)
	forms := survey.NewForms(db)
	forms.Today = func() time.Time { return today }
	village, _ := busiestVillage(t, db, res.Round)
	clerk := mustUser(t, db, "clerk", actor.Township, village[:9])
	// The fixture's villages hold a household or two: the township's
	// households move to one village, so the saves below all move the
	// same counts rows at once.
	if _, err := db.Exec(ctx, `UPDATE survey_household SET region_code = $2 WHERE round_id = $1 AND region_code LIKE left($2, 9) || '%'`,
		res.Round, village); err != nil {
		t.Fatal(err)
	}
	mustRecount(t, db, res.Round)
	members := formMembers(t, db, 6, `SELECT m.id, m.id_number, m.name FROM survey_member m JOIN survey_household h ON h.id = m.household_id
		WHERE h.round_id = $1 AND h.region_code = $2 ORDER BY m.id`, res.Round, village)
	var wg sync.WaitGroup
	errs := make(chan error, len(members))
	for i, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := forms.Save(ctx, clerk, m.id, survey.Save{Data: complete(m.name, m.idNumber), Submit: i%2 == 0, Key: strconv.Itoa(i)})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	countyUser := actor.Actor{Username: "county", Role: actor.County, Region: fixture.County, IP: "test"}
	checkKept(t, db, res.Round, "concurrent saves", []actor.Actor{countyUser, clerk}, []string{fixture.County, village[:9], village})
}

// TestKeptCountsOneHousehold: two clerks saving, submitting and saving
// again the forms of one household's members at once (each change works
// out what it moved from the household's other members) lose no update
// of its counts, and a reviewer returning and approving them meanwhile
// neither.
func TestKeptCountsOneHousehold(t *testing.T) {
	t.Parallel()
	db, run := county(t, 120)
	ctx := context.Background()
	res := publish(t, db, run)
	forms := survey.NewForms(db)
	forms.Today = func() time.Time { return today }
	// The household with the most members; every member a target but one,
	// so forms move both kinds of progress person.
	var household int64
	var village string
	if err := db.QueryRow(ctx, `SELECT h.id, h.region_code FROM survey_household h JOIN survey_member m ON m.household_id = h.id
		WHERE h.round_id = $1 GROUP BY h.id, h.region_code ORDER BY count(*) DESC, h.id LIMIT 1`, res.Round).Scan(&household, &village); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `UPDATE survey_member SET target = id <> (SELECT max(id) FROM survey_member WHERE household_id = $1)
		WHERE household_id = $1`, household); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `UPDATE survey_household SET targets = persons - 1 WHERE id = $1`, household); err != nil {
		t.Fatal(err)
	}
	mustRecount(t, db, res.Round)
	members := formMembers(t, db, 2, `SELECT id, id_number, name FROM survey_member WHERE household_id = $1 ORDER BY id`, household)
	clerks := []actor.Actor{mustUser(t, db, "clerk1", actor.Township, village[:9]), mustUser(t, db, "clerk2", actor.Township, village[:9])}
	reviewer := mustUser(t, db, "reviewer", actor.County, fixture.County)
	countyUser := actor.Actor{Username: "county", Role: actor.County, Region: fixture.County, IP: "test"}
	check := func(step string) {
		t.Helper()
		checkKept(t, db, res.Round, step, []actor.Actor{countyUser, clerks[0]}, []string{fixture.County, village[:9], village})
	}
	// Each member's form by both clerks in turn, at once over the
	// members: a draft, the same draft again, a submission posted twice,
	// a return and a draft of the returned form; the last member's
	// approved.
	var wg sync.WaitGroup
	errs := make(chan error, len(members))
	for i, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- func() error {
				who := clerks[i%2]
				s, err := forms.Save(ctx, who, m.id, survey.Save{Data: complete(m.name, m.idNumber)})
				if err != nil {
					return err
				}
				if s, err = forms.Save(ctx, clerks[(i+1)%2], m.id, survey.Save{Version: s.Form.Version, Data: complete(m.name, m.idNumber)}); err != nil {
					return err
				}
				key := "k" + strconv.Itoa(i)
				for range 2 {
					if _, err = forms.Save(ctx, who, m.id, survey.Save{Version: s.Form.Version, Data: complete(m.name, m.idNumber), Submit: true, Key: key}); err != nil {
						return err
					}
				}
				f, err := forms.Save(ctx, who, m.id, survey.Save{Version: s.Form.Version, Data: complete(m.name, m.idNumber), Submit: true, Key: key})
				if err != nil {
					return err
				}
				if i == len(members)-1 {
					_, err = forms.Approve(ctx, reviewer, f.Form.ID, f.Form.Version)
					return err
				}
				r, err := forms.Return(ctx, reviewer, f.Form.ID, f.Form.Version, "请核对")
				if err != nil {
					return err
				}
				_, err = forms.Save(ctx, clerks[(i+1)%2], m.id, survey.Save{Version: r.Version, Data: complete(m.name, m.idNumber)})
				return err
			}()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	check("one household at once")
}
