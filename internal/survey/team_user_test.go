package survey_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/apperr"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/survey"
)

// rowsWriter keeps the rows of an export.
type rowsWriter struct{ rows [][]string }

func (w *rowsWriter) Write(row []string) error {
	w.rows = append(w.rows, append([]string(nil), row...))
	return nil
}

func (w *rowsWriter) WriteValues(row []any) error { return nil }

func (w *rowsWriter) Close() error { return nil }

// mustUser adds an account and returns it as an actor.
func mustUser(t *testing.T, db *pgxpool.Pool, username string, role actor.Role, region string) actor.Actor {
	t.Helper()
	a := actor.Actor{Username: username, Role: role, Region: region, IP: "test"}
	if err := db.QueryRow(context.Background(), `INSERT INTO app_user (username, display_name, role, region_code, password_hash)
		VALUES ($1, $1, $2, $3, 'x') RETURNING id`, username, role, region).Scan(&a.UserID); err != nil {
		t.Fatal(err)
	}
	return a
}

// twoVillages is a township of the round with at least two villages that
// have target households, and two of them.
func twoVillages(t *testing.T, db *pgxpool.Pool, round int64) (string, string) {
	t.Helper()
	var v1, v2 string
	err := db.QueryRow(context.Background(), `SELECT min(region_code), max(region_code) FROM survey_household
		WHERE round_id = $1 AND length(region_code) = 12 AND targets > 0
		GROUP BY left(region_code, 9) HAVING count(DISTINCT region_code) >= 2 ORDER BY count(*) DESC LIMIT 1`, round).Scan(&v1, &v2)
	if err != nil {
		t.Fatal(err)
	}
	return v1, v2
}

// targetIn is a target member of a household of village (household id,
// task code, member id, ID number, name).
func targetIn(t *testing.T, db *pgxpool.Pool, round int64, village string) (int64, string, int64, string, string) {
	t.Helper()
	var hid, mid int64
	var code, id, name string
	err := db.QueryRow(context.Background(), `SELECT h.id, h.code, m.id, m.id_number, m.name FROM survey_household h
		JOIN survey_member m ON m.household_id = h.id WHERE h.round_id = $1 AND h.region_code = $2 AND m.target
		ORDER BY h.id, m.id LIMIT 1`, round, village).Scan(&hid, &code, &mid, &id, &name)
	if err != nil {
		t.Fatal(err)
	}
	return hid, code, mid, id, name
}

func auditActions(t *testing.T, db *pgxpool.Pool, prefix string) []string {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT action || ' ' || result FROM audit_log WHERE action LIKE $1 || '%' ORDER BY id`, prefix)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestTeamMemberView: a member bound to an account with 只看本组任务 lists,
// finds, opens, saves and submits only their team's households; another
// team's village is not found (404) until it is reassigned to their team.
// Binding, the limit and unbinding are audited; management is refused.
func TestTeamMemberView(t *testing.T) {
	t.Parallel()
	db, run := county(t, 120)
	ctx := context.Background()
	res := publish(t, db, run)
	st, forms := survey.New(db), survey.NewForms(db)
	forms.Today = func() time.Time { return today }
	v1, v2 := twoVillages(t, db, res.Round)
	township := v1[:9]
	clerk := mustUser(t, db, "clerk", actor.Township, township)
	member := mustUser(t, db, "member", actor.Township, township)
	countyUser := mustUser(t, db, "countyuser", actor.County, township[:6])
	r, err := st.GetRound(ctx, clerk, res.Round)
	if err != nil {
		t.Fatal(err)
	}
	a := mustTeam(t, st, clerk, township, "第一组")
	b := mustTeam(t, st, clerk, township, "第二组")
	for v, team := range map[string]int64{v1: a, v2: b} {
		if err := st.AssignVillage(ctx, clerk, r, v, team); err != nil {
			t.Fatal(err)
		}
	}
	h1, code1, m1, _, _ := targetIn(t, db, res.Round, v1)
	h2, code2, m2, id2, name2 := targetIn(t, db, res.Round, v2)
	all := func(who actor.Actor) list.Page[survey.Household] {
		t.Helper()
		p, err := st.Households(ctx, who, r, survey.HouseholdFilter{Region: township}, list.Query{Page: 1, Size: 5000})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	townshipTotal := all(clerk).Total
	var teamA int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM survey_household WHERE round_id = $1 AND team_id = $2`, r.ID, a).Scan(&teamA); err != nil {
		t.Fatal(err)
	}
	if teamA == 0 || teamA == townshipTotal {
		t.Fatalf("team a has %d of the township's %d households: the test needs some of each", teamA, townshipTotal)
	}

	t.Run("ErrBind", func(t *testing.T) {
		for _, c := range []struct {
			b    survey.Binding
			kind apperr.Kind
		}{
			{survey.Binding{Member: "王五", UserID: member.UserID}, apperr.Invalid},      // not a member
			{survey.Binding{Member: "张三", UserID: countyUser.UserID}, apperr.NotFound}, // not of the township
			{survey.Binding{Member: "张三", UserID: -1}, apperr.NotFound},
		} {
			if err := st.Bind(ctx, clerk, a, c.b); apperr.KindOf(err) != c.kind {
				t.Errorf("bind %+v: %v, want %v", c.b, err, c.kind)
			}
		}
		other := actor.Actor{Username: "other", Role: actor.Township, Region: "440981999", IP: "test"}
		if err := st.Bind(ctx, other, a, survey.Binding{Member: "张三", UserID: member.UserID}); apperr.KindOf(err) != apperr.NotFound {
			t.Errorf("another township's clerk binds: %v", err)
		}
	})

	// Bound without the limit, the member keeps the township's view.
	if err := st.Bind(ctx, clerk, a, survey.Binding{Member: "张三", UserID: member.UserID}); err != nil {
		t.Fatal(err)
	}
	if got := all(member).Total; got != townshipTotal {
		t.Errorf("bound, not limited: %d households, want the township's %d", got, townshipTotal)
	}
	if err := st.Bind(ctx, clerk, a, survey.Binding{Member: "李四", UserID: member.UserID}); apperr.KindOf(err) != apperr.Conflict {
		t.Errorf("one account for two members of a team: %v", err)
	}
	if err := st.Bind(ctx, clerk, a, survey.Binding{Member: "张三", UserID: member.UserID, TeamOnly: true}); err != nil {
		t.Fatal(err)
	}

	t.Run("ListsOnlyTheTeam", func(t *testing.T) {
		p := all(member)
		if p.Total != teamA || len(p.Items) != teamA {
			t.Errorf("limited member lists %d households (%d items), team a has %d", p.Total, len(p.Items), teamA)
		}
		for _, h := range p.Items {
			if h.TeamID != a {
				t.Errorf("limited member lists household %s of team %d", h.Code, h.TeamID)
			}
		}
		if all(clerk).Total != townshipTotal {
			t.Error("the clerk's view changed")
		}
		total, _, err := st.Counts(ctx, member, r, township)
		if err != nil || total[survey.MetricHouseholds] != teamA {
			t.Errorf("counts of the limited member: %v (%v), want %d households", total, err, teamA)
		}
		ms, err := st.Members(ctx, member, r, v2, false, list.Query{Page: 1, Size: 10})
		if err != nil || ms.Total != 0 {
			t.Errorf("members of the other team's village: %d (%v)", ms.Total, err)
		}
		var w rowsWriter
		if _, err := st.ExportTasks(ctx, member, r, township, &w); err != nil {
			t.Fatal(err)
		}
		for _, row := range w.rows[1:] {
			if row[1] == v2 {
				t.Fatalf("task export of the limited member has a household of %s", v2)
			}
		}
		loads, err := st.Loads(ctx, member, r, township)
		if err != nil || len(loads) != 1 || loads[0].ID != a || loads[0].Households != teamA {
			t.Errorf("loads of the limited member: %+v (%v)", loads, err)
		}
		p2, err := forms.Progress(ctx, member, r.ID, township)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range p2.Teams {
			if tr.Group.Key != "0" && tr.Group.Key != strconv.FormatInt(a, 10) {
				t.Errorf("progress of the limited member has team %s", tr.Group.Key)
			}
		}
		if p2.Total.Households != teamA {
			t.Errorf("progress of the limited member: %d households, team a has %d", p2.Total.Households, teamA)
		}
	})

	t.Run("OtherVillageNotFound", func(t *testing.T) {
		notFound := func(what string, err error) {
			t.Helper()
			if apperr.KindOf(err) != apperr.NotFound {
				t.Errorf("%s: %v, want not found", what, err)
			}
		}
		p, err := st.Households(ctx, member, r, survey.HouseholdFilter{Region: township, Query: code2}, list.Query{Page: 1, Size: 10})
		if err != nil || p.Total != 0 {
			t.Errorf("search by code %s: %d found (%v)", code2, p.Total, err)
		}
		_, _, err = st.FindTask(ctx, member, code2)
		notFound("find task", err)
		tasks, err := forms.Tasks(ctx, member, list.Query{Page: 1, Size: 10, Filters: url.Values{"q": {code2}}})
		if err != nil || tasks.Total != 0 {
			t.Errorf("entry search by code: %d (%v)", tasks.Total, err)
		}
		tasks, err = forms.Tasks(ctx, member, list.Query{Page: 1, Size: 10, Filters: url.Values{"q": {id2}}})
		if err != nil || tasks.Total != 0 {
			t.Errorf("entry search by ID: %d (%v)", tasks.Total, err)
		}
		tasks, err = forms.Tasks(ctx, member, list.Query{Page: 1, Size: 10, Filters: url.Values{"q": {name2}}})
		for _, tr := range tasks.Items {
			if tr.HouseholdID == h2 {
				t.Errorf("entry search by name %s finds the other team's household (%v)", name2, err)
			}
		}
		_, err = forms.Household(ctx, member, h2)
		notFound("open household", err)
		_, err = forms.Entry(ctx, member, m2)
		notFound("open form", err)
		_, err = forms.Save(ctx, member, m2, survey.Save{Data: complete(name2, id2)})
		notFound("save", err)
		_, err = forms.Save(ctx, member, m2, survey.Save{Data: complete(name2, id2), Submit: true, Key: "k1"})
		notFound("submit", err)
		_, err = forms.AddFound(ctx, member, h2, "王小燕", validID("44098120150301002"), "孙女")
		notFound("add a found person", err)
		_, err = st.Print(ctx, member, r, survey.PrintFilter{Team: b})
		notFound("print the other team", err)
		_, err = st.Print(ctx, member, r, survey.PrintFilter{Village: v2})
		notFound("print the other village", err)
		if set, err := st.Print(ctx, member, r, survey.PrintFilter{Team: a}); err != nil || len(set.Households) != teamA {
			t.Errorf("print own team: %d households (%v), want %d", len(set.Households), err, teamA)
		}
		// Their own team's households open.
		if _, err := forms.Household(ctx, member, h1); err != nil {
			t.Errorf("open own household: %v", err)
		}
		if _, err := forms.Entry(ctx, member, m1); err != nil {
			t.Errorf("open own form: %v", err)
		}
		if _, _, err := st.FindTask(ctx, member, code1); err != nil {
			t.Errorf("find own task: %v", err)
		}
	})

	t.Run("ErrManage", func(t *testing.T) {
		forbidden := func(what string, err error) {
			t.Helper()
			if apperr.KindOf(err) != apperr.Forbidden {
				t.Errorf("%s by the limited member: %v, want forbidden", what, err)
			}
		}
		forbidden("assign a village", st.AssignVillage(ctx, member, r, v2, a))
		forbidden("assign households", st.AssignHouseholds(ctx, member, r, township, []int64{h2}, a))
		forbidden("bind", st.Bind(ctx, member, a, survey.Binding{Member: "张三", UserID: member.UserID}))
		_, err := st.SaveTeam(ctx, member, 0, survey.TeamForm{Township: township, Name: "自建组",
			Members: []survey.TeamMember{{Name: "王五", Phone: "13800138000"}}})
		forbidden("create a team", err)
		forbidden("archive", st.SetArchive(ctx, member, r, v1, 1, "箱"))
	})

	// The village is reassigned to their team: now they can.
	if err := st.AssignVillage(ctx, clerk, r, v2, a); err != nil {
		t.Fatal(err)
	}
	if _, err := forms.Entry(ctx, member, m2); err != nil {
		t.Fatalf("open after reassigning: %v", err)
	}
	if _, err := forms.Save(ctx, member, m2, survey.Save{Data: complete(name2, id2)}); err != nil {
		t.Fatalf("save after reassigning: %v", err)
	}
	saved, err := forms.Save(ctx, member, m2, survey.Save{Version: 1, Data: complete(name2, id2), Submit: true, Key: "k2"})
	if err != nil || saved.Form.State != survey.Submitted {
		t.Fatalf("submit after reassigning: %v %+v", err, saved.Form.State)
	}
	if tasks, err := forms.Tasks(ctx, member, list.Query{Page: 1, Size: 10, Filters: url.Values{"q": {code2}}}); err != nil || tasks.Total != 1 {
		t.Errorf("entry search after reassigning: %d (%v)", tasks.Total, err)
	}
	// A deactivated team shows nothing to its limited member.
	if _, err := st.SaveTeam(ctx, clerk, a, survey.TeamForm{Name: "第一组", Active: false,
		Members: []survey.TeamMember{{Name: "张三", Phone: "13800138000"}, {Name: "李四", Phone: "0668-6612345"}}}); err != nil {
		t.Fatal(err)
	}
	if got := all(member).Total; got != 0 {
		t.Errorf("team deactivated: its limited member lists %d households", got)
	}
	// The limit off, then the member removed from the team: unbound.
	if err := st.Bind(ctx, clerk, a, survey.Binding{Member: "张三", UserID: member.UserID}); err != nil {
		t.Fatal(err)
	}
	if got := all(member).Total; got != townshipTotal {
		t.Errorf("limit off: %d households, want %d", got, townshipTotal)
	}
	if _, err := st.SaveTeam(ctx, clerk, a, survey.TeamForm{Name: "第一组", Active: true,
		Members: []survey.TeamMember{{Name: "李四", Phone: "0668-6612345"}}}); err != nil {
		t.Fatal(err)
	}
	team, err := st.GetTeam(ctx, clerk, a)
	if err != nil || len(team.Accounts) != 0 {
		t.Errorf("member removed, accounts left: %+v (%v)", team.Accounts, err)
	}
	got := strings.Join(auditActions(t, db, "survey.team."), "; ")
	want := "survey.team.bind rejected; survey.team.bind rejected; survey.team.bind rejected; survey.team.bind rejected; " +
		"survey.team.bind ok; survey.team.bind rejected; survey.team.limit ok; survey.team.bind rejected; survey.team.limit ok; survey.team.unbind ok"
	if got != want {
		t.Errorf("audit:\n got %s\nwant %s", got, want)
	}
}
