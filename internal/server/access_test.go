package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/auth"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/region"
	"github.com/canbao/canbao/internal/report"
	"github.com/canbao/canbao/internal/survey"
)

// publicRoutes read or write no region data (static files answer every method).
var publicRoutes = map[string]bool{
	"* /static/*":  true,
	"GET /healthz": true,
	"GET /login":   true,
	"POST /login":  true,
	"POST /logout": true,
}

// How a route's data relates to the region under test (高州市 440981).
const (
	scoped = iota // the URL names data of 440981: foreign users get 404 (or the form's region error)
	listed        // a list of the user's region: 440981's marker shows only to those who see it
	owned         // the user's own upload or job (a token); only the role is checked here
)

// routeCase is how the test exercises one route.
type routeCase struct {
	action actor.Action
	kind   int
	path   string
	form   url.Values // POST body; nil for GET
	upload bool       // POST a multipart file instead
	// denied is the message a form answers (400) for a region outside the
	// user's, where it re-renders instead of answering 404.
	denied string
	// marker shows on a listed page when the user sees 440981's data;
	// parentSees: users below 440981 see it too (runs are read from below).
	marker     string
	parentSees bool
}

// binding is where a test user is bound, relative to 440981.
type binding struct {
	name, code string
	sees       bool // 440981 lies inside it
	below      bool // it lies inside 440981
}

// TestRoutePermissions walks every route of the router and checks each one
// against the permission table and the region rule with real users of every
// role, bound to 440981 itself, its city, one of its townships and a
// sibling county (and a township of it). A route missing from the table
// below fails the test, so a new handler cannot go unchecked.
func TestRoutePermissions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	fixture.ImportCounty(t, e.db, 40, 7, "csv")
	e.importNearTie()
	eng := compare.New(e.db)
	first, err := eng.Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: demoAsOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	run, err := eng.Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: demoAsOf.AddDate(0, 1, 0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := report.NewStore(e.db).PrepareMissing(ctx, nil); err != nil { // the basic tables' lists need the run's report rows
		t.Fatal(err)
	}
	var (
		batch, nearTie, reviewBatch int64
		reviewLine                  int
		person, town, townName      string
		siblingTown                 string
	)
	q := func(sql string, arg any, dst ...any) {
		t.Helper()
		if err := e.db.QueryRow(ctx, sql, arg).Scan(dst...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	q(`SELECT min(id) FROM import_batch WHERE region_code = $1 AND source <> 'near-tie'`, fixture.County, &batch)
	q(`SELECT id FROM import_batch WHERE source = $1`, "near-tie", &nearTie)
	q(`SELECT batch_id, line FROM run_review WHERE run_id = $1 ORDER BY batch_id, line LIMIT 1`, run.RunID, &reviewBatch, &reviewLine)
	q(`SELECT id_number FROM run_persons($1) WHERE region_code NOT LIKE '440981107%' ORDER BY id_number LIMIT 1`, run.RunID, &person)
	q(`SELECT code, name FROM region WHERE parent_code = $1 AND code <> '440981107' ORDER BY code LIMIT 1`, fixture.County, &town, &townName)
	q(`SELECT min(code) FROM region WHERE parent_code = $1`, "440982", &siblingTown)
	var job int64 // a job of the county that has ended (cancelling it is a no-op for anyone who sees it)
	q(`INSERT INTO job (kind, region_code, title, state, owner) VALUES ('import', $1, 'hukou.csv', 'failed', 'test') RETURNING id`, fixture.County, &job)
	jobID := strconv.FormatInt(job, 10)
	var bulletin int64 // a draft bulletin of the county
	q(`INSERT INTO report_bulletin (region_code, number, title) VALUES ($1, 1, '第一期') RETURNING id`, fixture.County, &bulletin)
	bulletinPath := "/reports/bulletins/" + strconv.FormatInt(bulletin, 10)
	// survey rounds (survey1): a round of the county, one of its villages
	// outside 440981107 and a team of that village's township.
	sr, err := survey.New(e.db).Publish(ctx, fixture.Actor, survey.PublishRequest{Region: fixture.County, RunID: run.RunID, Title: "权限"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var surveyVillage string
	q(`SELECT min(region_code) FROM survey_household WHERE round_id = $1 AND length(region_code) = 12 AND region_code NOT LIKE '440981107%'`, sr.Round, &surveyVillage)
	surveyTeam, err := survey.New(e.db).SaveTeam(ctx, fixture.Actor, 0, survey.TeamForm{Township: surveyVillage[:9], Name: "权限组",
		Members: []survey.TeamMember{{Name: "张三", Phone: "13800138000"}}})
	if err != nil {
		t.Fatal(err)
	}
	roundPath, teamPath := fmt.Sprintf("/survey/rounds/%d", sr.Round), fmt.Sprintf("/survey/teams/%d", surveyTeam)
	teamForm := url.Values{"name": {"权限组"}, "member_name": {"张三"}, "member_phone": {"13800138000"}, "active": {"1"}}
	// dynamic management: a pending event and a pending manual change of the county
	var event, change int64
	q(`INSERT INTO extract_event (batch_id, prev_batch, kind, id_number, name, region_code, effective, state, hold_reason)
		SELECT $1::bigint, $1::bigint, 'move_out', id_number, '变化标记人', region_code, '2026-11-01', 'pending', '测试'
		FROM run_persons((SELECT max(id) FROM comparison_run WHERE status = 'done')) WHERE region_code NOT LIKE '440981107%' ORDER BY id_number LIMIT 1
		RETURNING id`, batch, &event)
	q(`INSERT INTO manual_change (id_number, region_code, kind, changes, old_values, effective, reason, state, made_name)
		SELECT id_number, region_code, 'change', '{"phone": "13800000000"}', '{"phone": ""}', '2026-11-01', '测试', 'pending', 'maker'
		FROM person WHERE id_number = $1 RETURNING id`, person, &change)
	q(`INSERT INTO manual_change_document (change_id, file_name, content_type, size, sha256, content)
		VALUES ($1, 'a.pdf', 'application/pdf', 4, 'x', '%PDF') RETURNING change_id`, change, &change)
	eventPath, changePath := "/events/"+strconv.FormatInt(event, 10), "/changes/"+strconv.FormatInt(change, 10)

	bindings := []binding{
		{"own", "440981", true, true},
		{"parent", "4409", true, false},
		{"child", "440981107", false, true},
		{"sibling", "440982", false, false},
		{"siblingtown", siblingTown, false, false},
	}
	type user struct {
		role actor.Role
		b    binding
		c    *client
		csrf string
	}
	var users []user
	for _, role := range actor.Roles {
		for _, b := range bindings {
			if !auth.RegionLevelFits(role, region.LevelOf(b.code)) {
				continue
			}
			name := string(role) + "_" + b.name
			e.mustCreateUser(name, role, b.code)
			c := e.client()
			c.mustLogin(name)
			users = append(users, user{role, b, c, c.csrf("/")})
		}
	}
	target := e.mustCreateUser("target", actor.County, fixture.County)
	sf := e.surveyFormCase(run.RunID, town)

	runPath := "/compare/runs/" + strconv.FormatInt(run.RunID, 10)
	inCounty := "?region=" + fixture.County
	reviewItem := fmt.Sprintf("%s/review/%d/%d%s", runPath, reviewBatch, reviewLine, inCounty)
	batchPath := "/imports/" + strconv.FormatInt(batch, 10)
	userPath := "/users/" + strconv.FormatInt(target.ID, 10)
	cases := map[string]routeCase{
		"GET /":               {action: actor.RegionRead, kind: owned, path: "/"},
		"GET /regions":        {action: actor.RegionRead, kind: listed, path: "/regions?q=" + url.QueryEscape(townName), marker: town},
		"GET /regions/{code}": {action: actor.RegionRead, kind: scoped, path: "/regions/" + fixture.County},

		"GET /imports":                          {action: actor.ImportRead, kind: listed, path: "/imports", marker: "near-tie"},
		"GET /imports/{id:[0-9]+}":              {action: actor.ImportRead, kind: scoped, path: batchPath},
		"GET /imports/{id:[0-9]+}/errors.xlsx":  {action: actor.Export, kind: scoped, path: batchPath + "/errors.xlsx"},
		"POST /imports/{id:[0-9]+}/withdraw":    {action: actor.BatchWithdraw, kind: scoped, path: "/imports/" + strconv.FormatInt(nearTie, 10) + "/withdraw", form: url.Values{}},
		"GET /imports/new":                      {action: actor.Import, kind: owned, path: "/imports/new"},
		"POST /imports/upload":                  {action: actor.Import, kind: scoped, path: "/imports/upload", upload: true, denied: "只能导入本人管辖区划内的数据"},
		"GET /imports/uploads/{token}":          {action: actor.Import, kind: owned, path: "/imports/uploads/none"},
		"POST /imports/uploads/{token}":         {action: actor.Import, kind: owned, path: "/imports/uploads/none", form: url.Values{}},
		"POST /imports/uploads/{token}/confirm": {action: actor.Import, kind: owned, path: "/imports/uploads/none/confirm", form: url.Values{}},
		"GET /compare":                          {action: actor.CompareRead, kind: listed, path: "/compare", marker: `href="` + runPath + `"`, parentSees: true},
		"POST /compare":                         {action: actor.Compare, kind: scoped, path: "/compare", form: url.Values{"region": {fixture.County}, "as_of": {"bad"}}, denied: "只能比对本人管辖区划内的数据"},
		"GET /jobs":                             {action: actor.JobRead, kind: listed, path: "/jobs", marker: `data-testid="job-` + jobID + `"`},
		"GET /jobs/{id:[0-9]+}":                 {action: actor.JobRead, kind: scoped, path: "/jobs/" + jobID},
		"GET /jobs/{id:[0-9]+}/status":          {action: actor.JobRead, kind: scoped, path: "/jobs/" + jobID + "/status"},
		"POST /jobs/{id:[0-9]+}/cancel":         {action: actor.JobRead, kind: scoped, path: "/jobs/" + jobID + "/cancel", form: url.Values{}},
		"GET /compare/runs/{id:[0-9]+}":         {action: actor.CompareRead, kind: scoped, path: runPath + inCounty},
		"GET /compare/runs/{id:[0-9]+}/list":    {action: actor.CompareRead, kind: scoped, path: runPath + "/list" + inCounty + "&metric=universe"},
		"GET /compare/runs/{id:[0-9]+}/diff":    {action: actor.CompareRead, kind: scoped, path: runPath + "/diff" + inCounty + "&base=" + strconv.FormatInt(first.RunID, 10)},
		"GET /compare/runs/{id:[0-9]+}/review":  {action: actor.CompareRead, kind: scoped, path: runPath + "/review" + inCounty},
		"GET /compare/runs/{id:[0-9]+}/review/{batch:[0-9]+}/{line:[0-9]+}":  {action: actor.CompareRead, kind: scoped, path: reviewItem},
		"POST /compare/runs/{id:[0-9]+}/review/{batch:[0-9]+}/{line:[0-9]+}": {action: actor.Review, kind: scoped, path: reviewItem, form: url.Values{"choice": {"none"}}},
		"GET /compare/runs/{id:[0-9]+}/export.xlsx":                          {action: actor.Export, kind: scoped, path: runPath + "/export.xlsx" + inCounty},
		"GET /compare/runs/{id:[0-9]+}/export.csv":                           {action: actor.Export, kind: scoped, path: runPath + "/export.csv" + inCounty},
		"GET /compare/runs/{id:[0-9]+}/unmatched.xlsx":                       {action: actor.Export, kind: scoped, path: runPath + "/unmatched.xlsx" + inCounty},
		"GET /persons/{id}": {action: actor.PersonRead, kind: scoped, path: e.srv.PersonURL(person)},

		// as of a past day (issue 13)
		"GET /asof":              {action: actor.CompareRead, kind: scoped, path: "/asof?region=" + fixture.County + "&date=2026-07-15"},
		"GET /persons/{id}/asof": {action: actor.PersonRead, kind: scoped, path: e.srv.PersonURL(person) + "/asof?date=2026-07-15"},

		"GET /users":                {action: actor.UsersManage, kind: listed, path: "/users?q=target", marker: ">target<"},
		"POST /users":               {action: actor.UsersManage, kind: scoped, path: "/users", form: url.Values{"username": {"made"}, "display_name": {"新用户"}, "role": {"county"}, "region": {fixture.County}, "password": {testPassword}}, denied: "只能在本人管辖区划"},
		"POST /users/{id}/disable":  {action: actor.UsersManage, kind: scoped, path: userPath + "/disable", form: url.Values{}},
		"POST /users/{id}/enable":   {action: actor.UsersManage, kind: scoped, path: userPath + "/enable", form: url.Values{}},
		"POST /users/{id}/password": {action: actor.UsersManage, kind: scoped, path: userPath + "/password", form: url.Values{"password": {"New@2026pw"}}},
		"GET /audit":                {action: actor.AuditRead, kind: listed, path: "/audit?user=fixture", marker: ">fixture<"},

		// reports
		"GET /reports":                                   {action: actor.ReportRead, kind: owned, path: "/reports"},
		"GET /reports/list":                              {action: actor.ReportRead, kind: scoped, path: "/reports/list?col=b1.1&region=" + fixture.County},
		"GET /reports/{table:[a-z0-9]+}":                 {action: actor.ReportRead, kind: scoped, path: "/reports/basic1" + inCounty},
		"GET /reports/{table:[a-z0-9]+}/export.xlsx":     {action: actor.ReportRead, kind: scoped, path: "/reports/progress/export.xlsx" + inCounty},
		"GET /reports/{table:[a-z0-9]+}/edit":            {action: actor.ReportEdit, kind: scoped, path: "/reports/progress/edit" + inCounty},
		"POST /reports/{table:[a-z0-9]+}/edit":           {action: actor.ReportEdit, kind: scoped, path: "/reports/progress/edit", form: url.Values{"region": {fixture.County}, "period": {"2026-06"}, "p.1": {"是"}}},
		"GET /reports/bulletins":                         {action: actor.ReportRead, kind: listed, path: "/reports/bulletins", marker: `data-testid="bulletin-` + strconv.FormatInt(bulletin, 10) + `"`},
		"POST /reports/bulletins":                        {action: actor.ReportEdit, kind: scoped, path: "/reports/bulletins", form: url.Values{"region": {fixture.County}, "title": {"测试通报"}}},
		"GET /reports/bulletins/{id:[0-9]+}":             {action: actor.ReportRead, kind: scoped, path: bulletinPath},
		"GET /reports/bulletins/{id:[0-9]+}/export.xlsx": {action: actor.ReportRead, kind: scoped, path: bulletinPath + "/export.xlsx"},
		"POST /reports/bulletins/{id:[0-9]+}/issue":      {action: actor.ReportEdit, kind: scoped, path: bulletinPath + "/issue", form: url.Values{}},

		// survey rounds, teams, printing, archive (survey1)
		"GET /survey":                                    {action: actor.CompareRead, kind: listed, path: "/survey", marker: fmt.Sprintf(`data-testid="round-%d"`, sr.Round), parentSees: true},
		"POST /survey":                                   {action: actor.SurveyPublish, kind: scoped, path: "/survey", form: url.Values{"region": {fixture.County}, "run": {strconv.FormatInt(run.RunID, 10)}, "title": {""}}, denied: "只能在本人管辖区划内发布调查"},
		"GET /survey/rounds/{id:[0-9]+}":                 {action: actor.CompareRead, kind: scoped, path: roundPath + inCounty},
		"POST /survey/rounds/{id:[0-9]+}/topup":          {action: actor.SurveyPublish, kind: scoped, path: roundPath + "/topup", form: url.Values{"run": {strconv.FormatInt(run.RunID, 10)}}},
		"GET /survey/rounds/{id:[0-9]+}/households":      {action: actor.CompareRead, kind: scoped, path: roundPath + "/households" + inCounty},
		"GET /survey/rounds/{id:[0-9]+}/members":         {action: actor.CompareRead, kind: scoped, path: roundPath + "/members" + inCounty},
		"GET /survey/rounds/{id:[0-9]+}/tasks.xlsx":      {action: actor.Export, kind: scoped, path: roundPath + "/tasks.xlsx" + inCounty},
		"GET /survey/rounds/{id:[0-9]+}/teams":           {action: actor.CompareRead, kind: scoped, path: roundPath + "/teams" + inCounty},
		"POST /survey/rounds/{id:[0-9]+}/assign":         {action: actor.SurveyAssign, kind: scoped, path: roundPath + "/assign", form: url.Values{"region": {fixture.County}}},
		"POST /survey/rounds/{id:[0-9]+}/assign-village": {action: actor.SurveyAssign, kind: scoped, path: roundPath + "/assign-village", form: url.Values{"region": {fixture.County}, "village": {surveyVillage}, "team": {"0"}}},
		"POST /survey/rounds/{id:[0-9]+}/rebalance":      {action: actor.SurveyAssign, kind: scoped, path: roundPath + "/rebalance", form: url.Values{"region": {fixture.County}, "village": {surveyVillage}}},
		"GET /survey/rounds/{id:[0-9]+}/print":           {action: actor.SurveyAssign, kind: scoped, path: roundPath + "/print?village=" + surveyVillage},
		"GET /survey/rounds/{id:[0-9]+}/archive":         {action: actor.CompareRead, kind: scoped, path: roundPath + "/archive" + inCounty},
		"POST /survey/rounds/{id:[0-9]+}/archive":        {action: actor.SurveyAssign, kind: scoped, path: roundPath + "/archive", form: url.Values{"region": {fixture.County}, "village": {surveyVillage}, "boxes": {"1"}}},
		"GET /survey/teams":                              {action: actor.CompareRead, kind: listed, path: "/survey/teams", marker: fmt.Sprintf(`data-testid="team-%d"`, surveyTeam)},
		"POST /survey/teams":                             {action: actor.SurveyAssign, kind: scoped, path: "/survey/teams", form: url.Values{"township": {surveyVillage[:9]}, "name": {"新组"}, "member_name": {"李四"}, "member_phone": {"13900139000"}}},
		"GET /survey/teams/{team:[0-9]+}":                {action: actor.SurveyAssign, kind: scoped, path: teamPath},
		"POST /survey/teams/{team:[0-9]+}":               {action: actor.SurveyAssign, kind: scoped, path: teamPath, form: teamForm},

		// team: a member's account (unbinding a member bound to none changes nothing)
		"POST /survey/teams/{team:[0-9]+}/accounts": {action: actor.SurveyAssign, kind: scoped, path: teamPath + "/accounts", form: url.Values{"member": {"张三"}, "user": {"0"}}},

		// survey forms (survey2): a household of another township than 440981107, one submitted form, one member without
		"GET /survey/entry":                          {action: actor.SurveyEnter, kind: listed, path: "/survey/entry", marker: sf.code},
		"GET /survey/entry/households/{id}":          {action: actor.SurveyEnter, kind: scoped, path: sf.household},
		"POST /survey/entry/households/{id}/members": {action: actor.SurveyEnter, kind: scoped, path: sf.household + "/members", form: url.Values{"name": {"新成员"}, "id_number": {sf.newID}}},
		"GET /survey/entry/members/{id}":             {action: actor.SurveyEnter, kind: scoped, path: sf.member},
		"POST /survey/entry/members/{id}":            {action: actor.SurveyEnter, kind: scoped, path: sf.member, form: url.Values{"do": {"save"}, "version": {"0"}, "name": {"草稿"}}},
		"POST /survey/entry/forms/{id}/revise":       {action: actor.SurveyEnter, kind: scoped, path: "/survey/entry/forms/" + sf.formID + "/revise", form: url.Values{}},
		"GET /survey/review":                         {action: actor.SurveyApprove, kind: listed, path: "/survey/review", marker: sf.name},
		"GET /survey/forms/{id}":                     {action: actor.PersonRead, kind: scoped, path: sf.form},
		"POST /survey/forms/{id}/approve":            {action: actor.SurveyApprove, kind: scoped, path: sf.form + "/approve", form: url.Values{"version": {sf.version}}},
		"POST /survey/forms/{id}/return":             {action: actor.SurveyApprove, kind: scoped, path: sf.form + "/return", form: url.Values{"version": {sf.version}, "reason": {"核实"}}},
		"GET /survey/progress":                       {action: actor.ReportRead, kind: scoped, path: "/survey/progress?" + sf.inCounty},
		"GET /survey/progress/list":                  {action: actor.ReportRead, kind: scoped, path: "/survey/progress/list?kind=region&key=440981&metric=persons&" + sf.inCounty},
		"GET /survey/willing":                        {action: actor.ReportRead, kind: scoped, path: "/survey/willing?" + sf.inCounty},
		"GET /survey/export/approved.xlsx":           {action: actor.Export, kind: scoped, path: "/survey/export/approved.xlsx?" + sf.inCounty},
		"GET /survey/export/willing.xlsx":            {action: actor.Export, kind: scoped, path: "/survey/export/willing.xlsx?" + sf.inCounty},
		"GET /survey/export/reasons.xlsx":            {action: actor.Export, kind: scoped, path: "/survey/export/reasons.xlsx?" + sf.inCounty},
		"GET /events":                                {action: actor.ImportRead, kind: listed, path: "/events", marker: "变化标记人"},
		"POST /events/{id:[0-9]+}/confirm":           {action: actor.RegistryChange, kind: scoped, path: eventPath + "/confirm", form: url.Values{}},
		"POST /events/{id:[0-9]+}/reject":            {action: actor.RegistryChange, kind: scoped, path: eventPath + "/reject", form: url.Values{}},
		"GET /persons/{id}/change":                   {action: actor.RegistryChange, kind: scoped, path: e.srv.PersonURL(person) + "/change"},
		"POST /persons/{id}/change":                  {action: actor.RegistryChange, kind: scoped, path: e.srv.PersonURL(person) + "/change", form: url.Values{}},
		"GET /changes":                               {action: actor.PersonRead, kind: listed, path: "/changes", marker: `href="` + changePath + `"`},
		"GET /changes/{id:[0-9]+}":                   {action: actor.PersonRead, kind: scoped, path: changePath},
		"GET /changes/{id:[0-9]+}/document":          {action: actor.PersonRead, kind: scoped, path: changePath + "/document"},
		"POST /imports/{id:[0-9]+}/derive":           {action: actor.Import, kind: scoped, path: batchPath + "/derive", form: url.Values{}},
		"POST /changes/{id:[0-9]+}/review":           {action: actor.RegistryApprove, kind: scoped, path: changePath + "/review", form: url.Values{"decision": {"approve"}}},
		// report
		"GET /dashboard":            {action: actor.ReportRead, kind: scoped, path: "/dashboard" + inCounty},
		"GET /dashboard/notinsured": {action: actor.ReportRead, kind: scoped, path: "/dashboard/notinsured" + inCounty},
		"GET /dashboard/persons":    {action: actor.ReportRead, kind: scoped, path: "/dashboard/persons" + inCounty + "&part=population"},
		"POST /dashboard/snapshot":  {action: actor.ReportEdit, kind: owned, path: "/dashboard/snapshot", form: url.Values{}},
	}

	// Every route is in the table (or public), and the table names no route
	// that is gone.
	routes := map[string]bool{}
	err = chi.Walk(e.srv.Routes(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routes[method+" "+route] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing, stale []string
	for r := range routes {
		if _, ok := cases[r]; !ok && !publicRoutes[r] && !publicRoutes["* "+strings.SplitN(r, " ", 2)[1]] {
			missing = append(missing, r)
		}
	}
	for r := range cases {
		if !routes[r] {
			stale = append(stale, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 {
		t.Errorf("routes without a permission case (add them to TestRoutePermissions): %v", missing)
	}
	if len(stale) > 0 {
		t.Errorf("permission cases for routes that do not exist: %v", stale)
	}

	names := make([]string, 0, len(cases))
	for r := range cases {
		names = append(names, r)
	}
	sort.Strings(names)
	for _, r := range names {
		rc := cases[r]
		for _, u := range users {
			resp, body := u.c.request(t, rc, u.csrf)
			who := fmt.Sprintf("%s: %s bound to %s (%s)", r, u.role, u.b.code, u.b.name)
			if !actor.Allowed(u.role, rc.action) {
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s: status %d, want 403 (may not %s)", who, resp.StatusCode, rc.action)
				}
				continue
			}
			switch rc.kind {
			case owned:
				if resp.StatusCode == http.StatusForbidden {
					t.Errorf("%s: 403 for a role that may %s", who, rc.action)
				}
			case listed:
				sees := u.b.sees || (rc.parentSees && u.b.below)
				if resp.StatusCode != http.StatusOK || strings.Contains(body, rc.marker) != sees {
					t.Errorf("%s: status %d, shows %s: %v, want 200 and %v", who, resp.StatusCode, rc.marker, !sees, sees)
				}
			case scoped:
				refused := resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden ||
					(rc.denied != "" && resp.StatusCode == http.StatusBadRequest && strings.Contains(body, rc.denied))
				switch {
				case u.b.sees && refused:
					t.Errorf("%s: refused (%d) inside the user's region", who, resp.StatusCode)
				case u.b.sees && rc.form == nil && !rc.upload && resp.StatusCode != http.StatusOK:
					t.Errorf("%s: status %d, want 200", who, resp.StatusCode)
				case !u.b.sees && !refused:
					t.Errorf("%s: status %d outside the user's region, want 404", who, resp.StatusCode)
				}
			}
		}
	}
	// The menu offers exactly what the role may do.
	nav := map[string]actor.Action{"regions": actor.RegionRead, "imports": actor.ImportRead, "events": actor.ImportRead, "compare": actor.CompareRead,
		"jobs": actor.JobRead, "users": actor.UsersManage, "audit": actor.AuditRead, "survey": actor.CompareRead,
		"dashboard": actor.ReportRead, "reports": actor.ReportRead}
	nav["asof"] = actor.CompareRead // 历史查询 (issue 13)
	for _, u := range users {
		_, home := u.c.get("/")
		for item, act := range nav {
			if got := strings.Contains(home, `data-testid="nav-`+item+`"`); got != actor.Allowed(u.role, act) {
				t.Errorf("%s bound to %s: menu item %s shown %v, want %v", u.role, u.b.code, item, got, !got)
			}
		}
	}
	if u, _ := auth.NewStore(e.db).ByID(ctx, target.ID); u.Disabled {
		t.Error("the last enable left the target disabled")
	}
}

// request sends rc's request as u.
func (u *client) request(t *testing.T, rc routeCase, csrf string) (*http.Response, string) {
	t.Helper()
	switch {
	case rc.upload:
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		if err := mw.WriteField("csrf", csrf); err != nil { // first: the body is streamed
			t.Fatal(err)
		}
		if err := mw.WriteField("kind", "参保信息"); err != nil {
			t.Fatal(err)
		}
		if err := mw.WriteField("region", fixture.County); err != nil {
			t.Fatal(err)
		}
		fw, _ := mw.CreateFormFile("file", "enroll.csv")
		f, err := os.Open("../../testdata/import/enroll_utf8bom.csv")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(fw, f); err != nil {
			t.Fatal(err)
		}
		_ = f.Close() // read only
		if err := mw.Close(); err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", u.base+rc.path, &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := u.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp, readBody(t, resp)
	case rc.form != nil:
		form := url.Values{"csrf": {csrf}}
		for k, v := range rc.form {
			form[k] = v
		}
		return u.post(rc.path, form)
	}
	return u.get(rc.path)
}
