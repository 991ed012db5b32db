package server_test

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/survey"
)

var (
	householdItem = regexp.MustCompile(`data-testid="household-([0-9A-Z]{7})"`)
	queueItem     = regexp.MustCompile(`<a href="(/survey/forms/[0-9]+)" data-testid="queue-item">`)
	taskItem      = regexp.MustCompile(`data-testid="task-([0-9A-Z]{7})"`)
)

// tableRows are the rows of the table with data-testid testid, in order.
func tableRows(body, testid string) []string {
	i := strings.Index(body, `data-testid="`+testid+`"`)
	if i < 0 {
		return nil
	}
	body = body[i:]
	if j := strings.Index(body, "</tbody>"); j >= 0 {
		body = body[:j]
	}
	if j := strings.Index(body, "<tbody>"); j >= 0 {
		body = body[j:]
	}
	var out []string
	for _, r := range strings.Split(body, "<tr")[1:] {
		out = append(out, strings.TrimSpace(r))
	}
	return out
}

// matches are the first groups of re in body, in order.
func matches(re *regexp.Regexp) func(string) []string {
	return func(body string) []string {
		var out []string
		for _, m := range re.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
}

// walkList follows a list's "next" links from path and returns its rows
// over all pages; every page must show what a jump to its number shows,
// and at least one link must carry a cursor.
func walkList(t *testing.T, c *client, path string, rows func(string) []string) []string {
	t.Helper()
	var seen []string
	next, cursors := path, 0
	for page := 1; next != ""; page++ {
		_, body := c.get(next)
		got := rows(body)
		_, jumped := c.get(with(path, url.Values{"page": {strconv.Itoa(page)}}))
		if want := rows(jumped); !slices.Equal(got, want) || len(got) == 0 {
			t.Fatalf("page %d by next link %s:\n%v\nby page number:\n%v", page, next, got, want)
		}
		seen = append(seen, got...)
		next = ""
		if m := nextLink.FindStringSubmatch(body); m != nil {
			next = html.UnescapeString(m[1])
			q := query(t, m[1])
			if q.Get(list.CursorParam) != "" {
				cursors++
			}
			if q.Get("page") != strconv.Itoa(page+1) {
				t.Fatalf("next link %s after page %d", next, page)
			}
		}
		if page > 200 {
			t.Fatal("more than 200 pages")
		}
	}
	if cursors == 0 && len(seen) > 0 {
		t.Errorf("%s: no next link carried a cursor", path)
	}
	return seen
}

// TestSurveyListCursor: the survey's long lists (task lists, members,
// progress lists, the review queue) followed page by page through their
// "next" links (a cursor: the last row's key) show every row once, in the
// order jumping to each page number shows, with filters and for a member
// limited to their team; a "next" link taken before a household was added
// in front of it still opens the page after the rows it followed.
func TestSurveyListCursor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.importDemoCounty(1200)
	ctx := context.Background()
	run, err := compare.New(e.db).Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: demoAsOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := survey.New(e.db).Publish(ctx, fixture.Actor, survey.PublishRequest{Region: fixture.County, RunID: run.RunID, Title: "翻页"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	round := strconv.FormatInt(pub.Round, 10)
	var township string
	if err := e.db.QueryRow(ctx, `SELECT left(region_code, 9) FROM survey_household WHERE round_id = $1 AND length(region_code) = 12
		GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`, pub.Round).Scan(&township); err != nil {
		t.Fatal(err)
	}
	e.mustCreateUser("gz", actor.County, fixture.County)
	e.mustCreateUser("tw", actor.Township, township)
	member := e.mustCreateUser("tm", actor.Township, township)
	// Forms in every state for a third of the targets (few returned: that
	// list is read from its forms, the others walk the households), some
	// submitted in the same instant, drafts never submitted; a team with
	// every other household of the township, and "tm" limited to it.
	var team int64
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO survey_form (member_id, household_id, round_id, state, entered_name, submitted_at)
		 SELECT m.id, m.household_id, m.round_id,
		        CASE WHEN m.id % 21 = 0 THEN 'returned' ELSE (ARRAY['draft', 'submitted', 'approved', 'submitted', 'submitted'])[1 + (m.id / 3) % 5] END, '测试',
		        CASE WHEN (m.id / 3) % 5 <> 0 THEN timestamptz '2026-07-01 08:00+08' + (m.id % 4) * interval '1 minute' END
		 FROM survey_member m WHERE m.round_id = $1 AND m.target AND m.id % 3 = 0`, []any{pub.Round}},
		{`INSERT INTO survey_team (region_code, name) VALUES ($1, '第一组')`, []any{township}},
		{`UPDATE survey_household SET team_id = (SELECT id FROM survey_team WHERE region_code = $2)
		 WHERE round_id = $1 AND region_code LIKE $2 || '%' AND id % 2 = 0`, []any{pub.Round, township}},
		{`INSERT INTO survey_team_user (team_id, member, user_id, team_only) SELECT id, '张三', $2, true FROM survey_team WHERE region_code = $1`,
			[]any{township, member.ID}},
	} {
		if _, err := e.db.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.db.QueryRow(ctx, `SELECT id FROM survey_team WHERE region_code = $1`, township).Scan(&team); err != nil {
		t.Fatal(err)
	}
	recount(t, e, pub.Round)
	clients := map[string]*client{}
	for _, u := range []string{"gz", "tw", "tm"} {
		clients[u] = e.client()
		clients[u].mustLogin(u)
	}
	households := "/survey/rounds/" + round + "/households?region=" + township
	// inOrder is the task codes of the township's households meeting cond,
	// in the list's order.
	inOrder := func(cond string) []string {
		rows, err := e.db.Query(ctx, `SELECT code FROM survey_household WHERE round_id = $1 AND region_code LIKE $2 || '%' AND `+cond+`
			ORDER BY region_code, id`, pub.Round, township)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
		return out
	}
	for name, tc := range map[string]struct {
		user, path string
		rows       func(string) []string
		want       []string // nil: every row once, as many as the total says
	}{
		"Households":       {"tw", households + "&size=7", matches(householdItem), inOrder("true")},
		"HouseholdsOfTeam": {"tw", households + "&size=4&team=" + strconv.FormatInt(team, 10), matches(householdItem), inOrder("team_id IS NOT NULL")},
		"Unassigned":       {"tw", households + "&size=4&team=-1", matches(householdItem), inOrder("team_id IS NULL")},
		"TeamMember":       {"tm", households + "&size=4", matches(householdItem), inOrder("team_id IS NOT NULL")},
		"IDSearch":         {"tw", households + "&size=5&q=4409", matches(householdItem), nil},
		"Targets":          {"tw", "/survey/rounds/" + round + "/members?region=" + township + "&targets=1&size=9", func(b string) []string { return tableRows(b, "member-list") }, nil},
		"ProgressPersons": {"tw", "/survey/progress/list?round=" + round + "&region=" + township + "&kind=region&key=" + township + "&metric=persons&size=8",
			func(b string) []string { return tableRows(b, "progress-list") }, nil},
		"ProgressVisited": {"gz", "/survey/progress/list?round=" + round + "&region=" + fixture.County + "&kind=region&key=" + fixture.County + "&metric=visited&size=3",
			func(b string) []string { return tableRows(b, "progress-list") }, nil},
		"ProgressReturned": {"gz", "/survey/progress/list?round=" + round + "&region=" + fixture.County + "&kind=region&key=" + fixture.County + "&metric=returned&size=2",
			func(b string) []string { return tableRows(b, "progress-list") }, nil},
		"ProgressHouseholds": {"tm", "/survey/progress/list?round=" + round + "&region=" + township + "&kind=region&key=" + township + "&metric=hh&size=4",
			func(b string) []string { return tableRows(b, "progress-list") }, nil},
		"ProgressClerk": {"tw", "/survey/progress/list?round=" + round + "&region=" + township + "&kind=clerk&key=0&metric=hh_visited&size=2",
			func(b string) []string { return tableRows(b, "progress-list") }, nil},
		"QueueSubmitted": {"gz", "/survey/review?size=3", matches(queueItem), nil},
		"QueueDrafts":    {"gz", "/survey/review?state=draft&size=2", matches(queueItem), nil},
	} {
		t.Run(name, func(t *testing.T) {
			c := &client{t: t, base: e.http.URL, c: clients[tc.user].c}
			total := c.listLength(tc.path)
			size, _ := strconv.Atoi(query(t, tc.path).Get("size"))
			if total <= 2*size {
				t.Fatalf("%s: %d rows, too few to page", tc.path, total)
			}
			seen := walkList(t, c, tc.path, tc.rows)
			if tc.want != nil && !slices.Equal(seen, tc.want) {
				t.Errorf("rows over all pages:\n%v\nwant\n%v", seen, tc.want)
			}
			if distinct := len(slices.Compact(slices.Sorted(slices.Values(seen)))); len(seen) != total || distinct != total {
				t.Errorf("%d rows over all pages (%d distinct), want %d, each once", len(seen), distinct, total)
			}
		})
	}

	// The entry search pages by number (its results are few): every
	// household it finds once, and a page past the end still says how many.
	t.Run("EntrySearch", func(t *testing.T) {
		c := &client{t: t, base: e.http.URL, c: clients["tw"].c}
		var surname string // the commonest in the township
		if err := e.db.QueryRow(ctx, `SELECT left(m.name, 1) FROM survey_member m JOIN survey_household h ON h.id = m.household_id
			WHERE h.region_code LIKE $1 || '%' GROUP BY 1 ORDER BY count(DISTINCT h.id) DESC LIMIT 1`, township).Scan(&surname); err != nil {
			t.Fatal(err)
		}
		path := "/survey/entry?size=3&q=" + url.QueryEscape(surname)
		total := c.listLength(path)
		if total <= 6 {
			t.Fatalf("%s: %d rows, too few to page", path, total)
		}
		var seen []string
		for page := 1; page <= (total+2)/3; page++ {
			_, body := c.get(with(path, url.Values{"page": {strconv.Itoa(page)}}))
			seen = append(seen, matches(taskItem)(body)...)
		}
		if distinct := len(slices.Compact(slices.Sorted(slices.Values(seen)))); len(seen) != total || distinct != total {
			t.Errorf("%d rows over all pages (%d distinct), want %d, each once", len(seen), distinct, total)
		}
		if got := c.listLength(with(path, url.Values{"page": {strconv.Itoa(total)}})); got != total {
			t.Errorf("a page past the end says %d, want %d", got, total)
		}
	})

	t.Run("AfterAdding", func(t *testing.T) {
		c := &client{t: t, base: e.http.URL, c: clients["tw"].c}
		path := households + "&size=7"
		_, body := c.get(path)
		m := nextLink.FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no next link")
		}
		link := html.UnescapeString(m[1])
		_, page2 := c.get(link)
		want := matches(householdItem)(page2)
		// A household placed in the township itself (no village known)
		// lists before every village: in front of the link's key.
		var code string
		if err := e.db.QueryRow(ctx, `INSERT INTO survey_household (id, round_id, code, household, region_code, added_run, head_name, persons, targets)
			SELECT n, $1, survey_task_code(n), '', $2, $3, '新户主', 1, 1 FROM nextval('survey_household_id_seq') n RETURNING code`,
			pub.Round, township, run.RunID).Scan(&code); err != nil {
			t.Fatal(err)
		}
		recount(t, e, pub.Round)
		_, again := c.get(link)
		if got := matches(householdItem)(again); !slices.Equal(got, want) {
			t.Errorf("next link after a household was added: %v, want %v", got, want)
		}
		_, first := c.get(path)
		if got := matches(householdItem)(first); len(got) == 0 || got[0] != code {
			t.Errorf("first page after adding %s: %v", code, got)
		}
	})
}

// recount writes a round's kept counts anew after rows written in SQL.
func recount(t *testing.T, e *env, round int64) {
	t.Helper()
	ctx := context.Background()
	tx, err := e.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := survey.Recount(ctx, tx, round); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
