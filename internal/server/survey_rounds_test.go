package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/survey"
	"github.com/canbao/canbao/web"
)

// waitRound follows a publish job until it lands on its round.
func (c *client) waitRound(job string) string {
	c.t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, body := c.get(job)
		if resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/survey/rounds/") {
			return resp.Header.Get("Location")
		}
		if strings.Contains(body, "发布失败") && !strings.Contains(body, `data-testid="job-error" hidden`) {
			c.t.Fatalf("publish failed: %s", body[strings.Index(body, "发布失败"):])
		}
	}
	c.t.Fatal("publish did not finish")
	return ""
}

var (
	cellLink   = regexp.MustCompile(`<a href="([^"]+)" data-testid="n-([0-9]+)-([a-z]+)">([0-9]+)</a>`)
	pagerTotal = regexp.MustCompile(`共 ([0-9]+) 条`)
)

// listLength reads the total a list page's pager states.
func (c *client) listLength(path string) int {
	c.t.Helper()
	resp, body := c.get(path)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("%s: status %d", path, resp.StatusCode)
	}
	m := pagerTotal.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("%s: no total", path)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestSurveyRoundPages publishes a round through the web as county staff,
// walks the breakdown county → township → village checking every number
// against the length of the list it opens, and has a township clerk make
// two teams, assign the village, print it (Chromium, PDF) and archive it.
func TestSurveyRoundPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.importDemoCounty(150)
	ctx := context.Background()
	run, err := compare.New(e.db).Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: demoAsOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.mustCreateUser("staff", actor.County, fixture.County)
	staff := e.client()
	staff.mustLogin("staff")
	token := staff.csrf("/survey")
	form := url.Values{"csrf": {token}, "region": {fixture.County}, "run": {strconv.FormatInt(run.RunID, 10)}, "title": {""}}
	if resp, body := staff.post("/survey", form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "请填写调查批次名称") {
		t.Fatalf("publish without a title: %d", resp.StatusCode)
	}
	form.Set("title", "2026 年入户调查")
	form.Set("deadline", "2026-09-30")
	resp, _ := staff.post("/survey", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish: status %d", resp.StatusCode)
	}
	roundPath := staff.waitRound(resp.Header.Get("Location"))
	id, _ := strconv.ParseInt(strings.TrimPrefix(strings.SplitN(roundPath, "?", 2)[0], "/survey/rounds/"), 10, 64)

	// Every number of every level equals its list; each level's lines add
	// up to the level above (the footer).
	var village string
	checked := 0
	var walk func(code string, depth int)
	walk = func(code string, depth int) {
		_, body := staff.get(fmt.Sprintf("/survey/rounds/%d?region=%s", id, code))
		for _, m := range cellLink.FindAllStringSubmatch(body, -1) {
			link := strings.ReplaceAll(m[1], "&amp;", "&")
			n, _ := strconv.Atoi(m[4])
			if got := staff.listLength(link); got != n {
				t.Errorf("%s %s: shows %d, its list has %d", m[2], m[3], n, got)
			}
			checked++
			if len(m[2]) == 12 && n > 0 && m[3] == "households" && village == "" {
				village = m[2]
			}
		}
		if depth < 2 {
			for _, m := range regexp.MustCompile(`data-testid="drill-([0-9]+)"`).FindAllStringSubmatch(body, -1) {
				if strings.Contains(body, `data-testid="n-`+m[1]+`-households">0<`) {
					continue
				}
				walk(m[1], depth+1)
				if depth == 0 {
					break // one township and its villages are enough
				}
			}
		}
	}
	walk(fixture.County, 0)
	if checked < 20 || village == "" {
		t.Fatalf("checked %d numbers, village %q", checked, village)
	}
	// The rest works in the township with the most targets, on its
	// village with the most.
	if err := e.db.QueryRow(ctx, `SELECT region_code FROM survey_household WHERE round_id = $1 AND length(region_code) = 12
		GROUP BY 1 ORDER BY sum(sum(targets)) OVER (PARTITION BY left(region_code, 9)) DESC, sum(targets) DESC, 1 LIMIT 1`, id).Scan(&village); err != nil {
		t.Fatal(err)
	}

	// The township clerk: two teams, the village to the first, then the
	// task list, the print and the archive.
	township := village[:9]
	e.mustCreateUser("clerk", actor.Township, township)
	clerk := e.client()
	clerk.mustLogin("clerk")
	token = clerk.csrf("/survey/teams")
	for _, name := range []string{"第一组", "第二组"} {
		resp, body := clerk.post("/survey/teams", url.Values{"csrf": {token}, "township": {township}, "name": {name},
			"member_name": {"张三", "李四", ""}, "member_phone": {"13800138000", "13900139000", ""}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("create team %s: %d %s", name, resp.StatusCode, body)
		}
	}
	if resp, body := clerk.post("/survey/teams", url.Values{"csrf": {token}, "township": {township}, "name": {"第三组"},
		"member_name": {"王五"}, "member_phone": {"电话"}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "联系电话") {
		t.Errorf("team with a bad phone: %d", resp.StatusCode)
	}
	_, teamsPage := clerk.get("/survey/teams")
	if !strings.Contains(teamsPage, "138****8000") || strings.Contains(teamsPage, "13800138000") {
		t.Error("team list does not mask phones")
	}
	teams, err := survey.New(e.db).Teams(ctx, actor.Actor{Role: actor.Township, Region: township}, township)
	if err != nil || len(teams) != 2 {
		t.Fatalf("teams: %v %v", teams, err)
	}
	roundTeams := fmt.Sprintf("/survey/rounds/%d/teams?region=%s", id, township)
	token = clerk.csrf(roundTeams)
	resp, body := clerk.post(fmt.Sprintf("/survey/rounds/%d/assign-village", id), url.Values{"csrf": {token}, "region": {township},
		"village": {village}, "team": {strconv.FormatInt(teams[0].ID, 10)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("assign village: %d %s", resp.StatusCode, body)
	}
	var households, targets int
	if err := e.db.QueryRow(ctx, `SELECT count(*), sum(targets) FROM survey_household WHERE round_id = $1 AND region_code = $2 AND team_id = $3`,
		id, village, teams[0].ID).Scan(&households, &targets); err != nil || households == 0 {
		t.Fatalf("village assigned: %d households (%v)", households, err)
	}
	_, body = clerk.get(roundTeams)
	if !strings.Contains(body, fmt.Sprintf(`data-testid="load-%d"`, teams[0].ID)) {
		t.Error("team load not shown")
	}
	// The task list searched by a member's ID start shows IDs masked.
	var someID, code string
	if err := e.db.QueryRow(ctx, `SELECT m.id_number, h.code FROM survey_member m JOIN survey_household h ON h.id = m.household_id
		WHERE h.round_id = $1 AND h.region_code = $2 ORDER BY m.id LIMIT 1`, id, village).Scan(&someID, &code); err != nil {
		t.Fatal(err)
	}
	_, body = clerk.get(fmt.Sprintf("/survey/rounds/%d/households?region=%s&q=%s", id, village, someID[:14]))
	if !strings.Contains(body, `data-testid="household-`+code+`"`) || strings.Contains(body, someID) {
		t.Errorf("search by ID start: household %s shown %v, whole ID shown %v", code, strings.Contains(body, code), strings.Contains(body, someID))
	}
	// The clerk may not open another township's part, nor publish.
	if resp, _ := clerk.get(fmt.Sprintf("/survey/rounds/%d/households?region=%s", id, fixture.County)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("clerk lists the county: %d", resp.StatusCode)
	}

	// Every village of the township to the first team, then the team's
	// print: one page per target plus the summary pages.
	rows, err := e.db.Query(ctx, `SELECT DISTINCT region_code FROM survey_household WHERE round_id = $1 AND region_code LIKE $2 || '%'`, id, township)
	if err != nil {
		t.Fatal(err)
	}
	var villages []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		villages = append(villages, v)
	}
	for _, v := range villages {
		resp, body := clerk.post(fmt.Sprintf("/survey/rounds/%d/assign-village", id), url.Values{"csrf": {token}, "region": {township},
			"village": {v}, "team": {strconv.FormatInt(teams[0].ID, 10)}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("assign village %s: %d %s", v, resp.StatusCode, body)
		}
	}
	printPath := fmt.Sprintf("/survey/rounds/%d/print?team=%d", id, teams[0].ID)
	resp, html := clerk.get(printPath)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("print: %d", resp.StatusCode)
	}
	var persons int
	if err := e.db.QueryRow(ctx, `SELECT sum(persons), sum(targets) FROM survey_household WHERE round_id = $1 AND team_id = $2`,
		id, teams[0].ID).Scan(&persons, &targets); err != nil {
		t.Fatal(err)
	}
	summaryPages := (persons + web.SummaryRowsPerPage - 1) / web.SummaryRowsPerPage
	if got := strings.Count(html, `data-testid="print-form"`); got != targets {
		t.Errorf("print has %d forms, the village %d targets", got, targets)
	}
	if got := strings.Count(html, `data-testid="print-summary"`); got != summaryPages {
		t.Errorf("print has %d summary pages, want %d for %d persons", got, summaryPages, persons)
	}
	var targetID, targetName string
	if err := e.db.QueryRow(ctx, `SELECT m.id_number, m.name FROM survey_member m JOIN survey_household h ON h.id = m.household_id
		WHERE h.round_id = $1 AND h.team_id = $2 AND m.target ORDER BY m.id DESC LIMIT 1`, id, teams[0].ID).Scan(&targetID, &targetName); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html, targetID) || !strings.Contains(html, targetName) || !strings.Contains(html, `data-testid="qr-`) {
		t.Error("a target's form lacks their whole ID, name or the QR code")
	}
	pages, text := printPDF(t, e.http.URL, html)
	t.Logf("checked %d numbers; team of %d villages: %d persons, %d targets; PDF %d pages", checked, len(villages), persons, targets, pages)
	if pages != targets+summaryPages {
		t.Errorf("PDF has %d pages, want %d forms + %d summary pages", pages, targets, summaryPages)
	}
	if text != "" && (!strings.Contains(text, targetID) || !strings.Contains(text, targetName)) {
		t.Errorf("PDF text lacks %s %s", targetName, targetID)
	}
	var printed int
	if err := e.db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'survey.print' AND username = 'clerk'`).Scan(&printed); err != nil || printed != 1 {
		t.Errorf("print audited %d times (%v)", printed, err)
	}

	// Archive the village.
	archive := fmt.Sprintf("/survey/rounds/%d/archive", id)
	token = clerk.csrf(archive + "?region=" + township)
	resp, _ = clerk.post(archive, url.Values{"csrf": {token}, "region": {township}, "village": {village}, "boxes": {"2"}, "note": {"镇档案室"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("archive: %d", resp.StatusCode)
	}
	if _, body := clerk.get(archive + "?region=" + township); !strings.Contains(body, "已归档 2 箱") {
		t.Error("archive not listed")
	}
	// The task list export holds every member of the village.
	resp, _ = clerk.get(fmt.Sprintf("/survey/rounds/%d/tasks.xlsx?region=%s", id, village))
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "spreadsheetml") {
		t.Errorf("export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// printPDF prints html (the print page as served) to PDF in headless
// Chromium, its stylesheet from the running server, and returns the page
// count and, when pdftotext is installed, the PDF's text.
func printPDF(t *testing.T, base, html string) (int, string) {
	t.Helper()
	chromium := ""
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not found; .ci/run installs it")
		}
		t.Skip("chromium not found")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "print.html")
	html = strings.ReplaceAll(html, `href="/static/`, `href="`+base+`/static/`)
	if err := os.WriteFile(page, []byte(html), 0o600); err != nil {
		t.Fatal(err)
	}
	pdf := filepath.Join(dir, "print.pdf")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--print-to-pdf="+pdf, "file://"+page)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	b, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	pages := len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(b, -1))
	text := ""
	if _, err := exec.LookPath("pdftotext"); err == nil {
		out, err := exec.Command("pdftotext", pdf, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		text = string(out)
	} else {
		t.Log("pdftotext not installed: the form's text is checked in the printed HTML")
	}
	return pages, text
}
