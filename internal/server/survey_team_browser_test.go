package server_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/survey"
)

// TestBrowserTeamMemberView: the township clerk binds a team member to an
// account with 只看本组任务 on the team page; that member signs in and finds
// their team's household but not another team's (the search finds nothing,
// the household page is not found, the round's list leaves it out).
func TestBrowserTeamMemberView(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.importDemoCounty(80)
	ctx := context.Background()
	run, err := compare.New(e.db).Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: demoAsOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := survey.New(e.db)
	res, err := st.Publish(ctx, fixture.Actor, survey.PublishRequest{Region: fixture.County, RunID: run.RunID, Title: "组员视图"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var v1, v2 string
	if err := e.db.QueryRow(ctx, `SELECT min(region_code), max(region_code) FROM survey_household
		WHERE round_id = $1 AND length(region_code) = 12 GROUP BY left(region_code, 9)
		HAVING count(DISTINCT region_code) >= 2 ORDER BY count(*) DESC LIMIT 1`, res.Round).Scan(&v1, &v2); err != nil {
		t.Fatal(err)
	}
	township := v1[:9]
	e.mustCreateUser("clerk", actor.Township, township)
	member := e.mustCreateUser("member", actor.Township, township)
	r, err := st.GetRound(ctx, fixture.Actor, res.Round)
	if err != nil {
		t.Fatal(err)
	}
	var teams [2]int64
	for i, v := range []string{v1, v2} {
		if teams[i], err = st.SaveTeam(ctx, fixture.Actor, 0, survey.TeamForm{Township: township, Name: fmt.Sprintf("第%d组", i+1),
			Members: []survey.TeamMember{{Name: "张三" + strconv.Itoa(i), Phone: "13800138000"}}}); err != nil {
			t.Fatal(err)
		}
		if err := st.AssignVillage(ctx, fixture.Actor, r, v, teams[i]); err != nil {
			t.Fatal(err)
		}
	}
	code := func(v string) (int64, string) {
		var id int64
		var c string
		if err := e.db.QueryRow(ctx, `SELECT id, code FROM survey_household WHERE round_id = $1 AND region_code = $2 ORDER BY id LIMIT 1`,
			res.Round, v).Scan(&id, &c); err != nil {
			t.Fatal(err)
		}
		return id, c
	}
	_, own := code(v1)
	otherID, other := code(v2)

	b := newBrowserFor(t, 3*time.Minute)
	base := e.http.URL
	browserLogin(t, b, base, "clerk")
	mustDo(t, b,
		chromedp.Navigate(fmt.Sprintf("%s/survey/teams/%d", base, teams[0])),
		chromedp.WaitVisible(sel("account-list")),
		chromedp.SetValue(sel("account-user-0"), strconv.FormatInt(member.ID, 10)),
		chromedp.Click(sel("account-only-0")),
		chromedp.Click(sel("account-save-0")),
		chromedp.WaitVisible(sel("account-bound-0")),
	)
	if got := text(t, b, "account-bound-0"); !strings.Contains(got, "member") || !strings.Contains(got, "只看本组") {
		t.Errorf("bound account shows %q", got)
	}
	mustDo(t, b, chromedp.Navigate(base+"/survey/teams"), chromedp.WaitVisible(sel("team-list")))
	if got := text(t, b, fmt.Sprintf("team-%d", teams[0])); !strings.Contains(got, "账号 member，只看本组任务") {
		t.Errorf("team list shows %q", got)
	}
	browserLogout(t, b, base)

	browserLogin(t, b, base, "member")
	// Their own household: the code opens it.
	mustDo(t, b,
		chromedp.Navigate(base+"/survey/entry"),
		chromedp.WaitVisible(sel("task-search")),
		chromedp.SendKeys(sel("task-q"), strings.ToLower(own)),
		chromedp.Click(sel("task-find")),
		chromedp.WaitVisible(sel("household-facts")),
	)
	if got := text(t, b, "household-code"); got != own {
		t.Errorf("own task opens %q, want %s", got, own)
	}
	// Another team's: not found by its code, nor by its address.
	mustDo(t, b,
		chromedp.Navigate(base+"/survey/entry"),
		chromedp.WaitVisible(sel("task-search")),
		chromedp.SendKeys(sel("task-q"), other),
		chromedp.Click(sel("task-find")),
		chromedp.WaitVisible(sel("task-message")),
	)
	if got := text(t, b, "task-message"); !strings.Contains(got, "没有找到") {
		t.Errorf("other team's code: %q", got)
	}
	mustDo(t, b, chromedp.Navigate(fmt.Sprintf("%s/survey/entry/households/%d", base, otherID)), chromedp.WaitVisible(sel("error-message")))
	if got := text(t, b, "error-message"); !strings.Contains(got, "不存在") {
		t.Errorf("other team's household page: %q", got)
	}
	// The round's household list of the township: their team's only, and
	// no assignment form for a member limited to their team.
	count := func(testID string) int {
		t.Helper()
		n, err := chromedp.Run(b, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="`+testID+`"]').length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range []struct {
		code string
		want int
	}{{own, 1}, {other, 0}} {
		mustDo(t, b, chromedp.Navigate(fmt.Sprintf("%s/survey/rounds/%d/households?region=%s&q=%s", base, res.Round, township, c.code)),
			chromedp.WaitVisible(sel("household-search")))
		if got := count("household-" + c.code); got != c.want {
			t.Errorf("round list: household %s shown %d times, want %d", c.code, got, c.want)
		}
		if got := count("assign-households"); got != 0 {
			t.Error("a member limited to their team is offered the assignment form")
		}
	}
}
