package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/survey"
)

// TestTeamAccountHTTP: binding a member to an account on the team page:
// a name not in the team is a 400 with the message on the page, an account
// of another township is not found, a good binding shows on the page; the
// member so limited may not open the team's page nor bind anyone.
func TestTeamAccountHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser("clerk", actor.Township, "440981107")
	member := e.mustCreateUser("member", actor.Township, "440981107")
	var town string // another township of the county
	if err := e.db.QueryRow(context.Background(), `SELECT min(code) FROM region WHERE parent_code = $1 AND code <> '440981107'`,
		fixture.County).Scan(&town); err != nil {
		t.Fatal(err)
	}
	outsider := e.mustCreateUser("outsider", actor.Township, town)
	team, err := survey.New(e.db).SaveTeam(context.Background(), fixture.Actor, 0, survey.TeamForm{Township: "440981107", Name: "第一组",
		Members: []survey.TeamMember{{Name: "张三", Phone: "13800138000"}}})
	if err != nil {
		t.Fatal(err)
	}
	page := "/survey/teams/" + strconv.FormatInt(team, 10)
	c := e.client()
	c.mustLogin("clerk")
	token := c.csrf(page)
	bind := func(c *client, token, member string, user int64, only bool) (*http.Response, string) {
		t.Helper()
		f := url.Values{"csrf": {token}, "member": {member}, "user": {strconv.FormatInt(user, 10)}}
		if only {
			f.Set("team_only", "1")
		}
		return c.post(page+"/accounts", f)
	}
	if resp, body := bind(c, token, "王五", member.ID, true); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `data-testid="account-error"`) {
		t.Errorf("a name not in the team: %d", resp.StatusCode)
	}
	if resp, _ := bind(c, token, "张三", outsider.ID, true); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an account of another township: %d", resp.StatusCode)
	}
	if resp, _ := bind(c, token, "张三", member.ID, true); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("bind: %d", resp.StatusCode)
	}
	if _, body := c.get(page); !strings.Contains(body, `data-testid="account-bound-0"`) || !strings.Contains(body, "已绑定 member") {
		t.Error("the team page does not show the bound account")
	}
	m := e.client()
	m.mustLogin("member")
	if resp, _ := m.get(page); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the limited member opens the team's page: %d", resp.StatusCode)
	}
	if resp, _ := bind(m, m.csrf("/survey/teams"), "张三", member.ID, false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the limited member lifts their own limit: %d", resp.StatusCode)
	}
	if _, body := m.get("/survey/teams"); strings.Contains(body, `data-testid="team-form"`) {
		t.Error("the limited member is offered a new team's form")
	}
}
