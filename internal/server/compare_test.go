package server_test

import (
	"context"
	"encoding/csv"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/imports"
	"github.com/canbao/canbao/internal/sheet"
	"github.com/canbao/canbao/internal/source"
)

// demoAsOf is the as-of date the demo county is generated for.
var demoAsOf = fixture.AsOf

// importDemoCounty generates a small 高州市 and imports every extract.
func (e *env) importDemoCounty(households int) {
	e.t.Helper()
	fixture.ImportCounty(e.t, e.db, households, 7, "mixed")
}

// importNearTie imports an enrollment record without an ID whose name two
// persons of the county bear, so the comparison has a record to review.
func (e *env) importNearTie() {
	e.t.Helper()
	ctx := context.Background()
	var name string
	if err := e.db.QueryRow(ctx, `SELECT s.name FROM source_record s JOIN import_batch b ON b.id = s.batch_id
		WHERE b.kind = '户籍人口' AND s.id_damage IS NULL GROUP BY s.name HAVING count(DISTINCT s.id_norm) = 2
		ORDER BY s.name LIMIT 1`).Scan(&name); err != nil {
		e.t.Fatalf("no name borne by two persons: %v", err)
	}
	path := filepath.Join(e.t.TempDir(), "near-tie.csv")
	if err := os.WriteFile(path, []byte("公民身份号码,姓名,险种类型,参保状态\n,"+name+",390,1\n"), 0o644); err != nil {
		e.t.Fatal(err)
	}
	if _, err := imports.New(e.db).Import(ctx, fixture.Actor, imports.Request{Kind: source.Enrollment, Region: "440981", Path: path,
		Source: "near-tie", TempDir: e.t.TempDir()}, nil); err != nil {
		e.t.Fatal(err)
	}
}

// startCompare posts the comparison form and returns the job page.
func (c *client) startCompare(regionCode, asOf string) string {
	c.t.Helper()
	token := c.csrf("/compare")
	resp, body := c.post("/compare", url.Values{"csrf": {token}, "region": {regionCode}, "as_of": {asOf}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/jobs/") {
		c.t.Fatalf("start comparison: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	return resp.Header.Get("Location")
}

// waitCompare follows a comparison job until it redirects to its run and
// returns the run's path; a failed job returns "" and its page.
func (c *client) waitCompare(job string) (string, string) {
	c.t.Helper()
	for deadline := time.Now().Add(120 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, body := c.get(job)
		if resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/compare/runs/") {
			return resp.Header.Get("Location"), ""
		}
		if resp.StatusCode != http.StatusOK {
			c.t.Fatalf("job page: %d", resp.StatusCode)
		}
		if !strings.Contains(body, `data-testid="job-error" hidden`) {
			return "", body
		}
	}
	c.t.Fatal("comparison did not finish")
	return "", ""
}

func (c *client) mustCompare(regionCode, asOf string) string {
	c.t.Helper()
	run, failed := c.waitCompare(c.startCompare(regionCode, asOf))
	if run == "" {
		c.t.Fatalf("comparison failed:\n%s", failed)
	}
	return run
}

var (
	numberLink = regexp.MustCompile(`<a (?:class="value" )?href="([^"]*)" data-testid="((?:n|card)-[^"]*)">(\d+)</a>`)
	listTotal  = regexp.MustCompile(`共 (\d+) 条`)
	personHref = regexp.MustCompile(`href="/persons/([A-Za-z0-9_-]{20,})"`)
	fullID     = regexp.MustCompile(`[^0-9*][0-9]{17}[0-9X][^0-9*]`)
	personID   = regexp.MustCompile(`data-testid="person-id">([0-9X]{18})<`)
)

// summaryNumber is one number on a summary page and the list it opens.
type summaryNumber struct {
	id, link string
	n        int
}

func summaryNumbers(t *testing.T, page string) map[string]summaryNumber {
	t.Helper()
	out := map[string]summaryNumber{}
	for _, m := range numberLink.FindAllStringSubmatch(page, -1) {
		n, _ := strconv.Atoi(m[3])
		out[m[2]] = summaryNumber{id: m[2], link: html.UnescapeString(m[1]), n: n}
	}
	if len(out) == 0 {
		t.Fatalf("no numbers on the summary page:\n%s", page)
	}
	return out
}

// total reads 共 N 条 from a list page.
func (c *client) total(path string) int {
	c.t.Helper()
	resp, body := c.get(path)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("%s: %d", path, resp.StatusCode)
	}
	m := listTotal.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("%s has no total", path)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestCompareThroughWeb(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.importDemoCounty(300)
	e.importNearTie()
	e.mustCreateUser("gz", actor.County, "440981")
	c := e.client()
	c.mustLogin("gz")

	asOf := demoAsOf.Format("2006-01-02")
	runPath := c.mustCompare("440981", asOf)
	_, page := c.get(runPath)
	county := summaryNumbers(t, page)
	if county["card-persons"].n == 0 || county["card-universe"].n == 0 {
		t.Fatalf("empty comparison: %+v", county["card-persons"])
	}

	// Townships with the most persons, for drill-down and scoping.
	var towns []summaryNumber
	for id, sn := range county {
		if strings.HasPrefix(id, "n-440981") && strings.HasSuffix(id, "-persons") && len(id) == len("n-440981107-persons") {
			towns = append(towns, sn)
		}
	}
	sort.Slice(towns, func(i, j int) bool { return towns[i].n > towns[j].n })
	if len(towns) < 2 || towns[1].n == 0 {
		t.Fatalf("persons live in fewer than two townships: %v", towns)
	}
	town := strings.TrimSuffix(strings.TrimPrefix(towns[0].id, "n-"), "-persons")
	other := strings.TrimSuffix(strings.TrimPrefix(towns[1].id, "n-"), "-persons")

	t.Run("NumbersEqualLists", func(t *testing.T) {
		checked := 0
		for id, sn := range county {
			// every total and card, and every number of the two biggest townships
			if !strings.HasPrefix(id, "card-") && !strings.HasPrefix(id, "n-440981-") &&
				!strings.HasPrefix(id, "n-"+town+"-") && !strings.HasPrefix(id, "n-"+other+"-") {
				continue
			}
			if got := c.total(sn.link); got != sn.n {
				t.Errorf("%s: summary says %d, list has %d (%s)", id, sn.n, got, sn.link)
			}
			checked++
		}
		// Drill down: the township's own page agrees with its row above.
		_, page := c.get(runPath + "?region=" + town)
		own := summaryNumbers(t, page)
		for _, m := range compare.Metrics {
			if own["n-"+town+"-"+m.Key].n != county["n-"+town+"-"+m.Key].n {
				t.Errorf("township %s %s: own page %d, county page %d", town, m.Key, own["n-"+town+"-"+m.Key].n, county["n-"+town+"-"+m.Key].n)
			}
		}
		// and one village's numbers equal their lists
		for id, sn := range own {
			if strings.HasPrefix(id, "n-"+town) && len(id) > len("n-"+town+"-") && id[len("n-"+town)] != '-' && sn.n > 0 {
				if got := c.total(sn.link); got != sn.n {
					t.Errorf("%s: summary says %d, list has %d", id, sn.n, got)
				}
				checked++
				if checked > 80 {
					break
				}
			}
		}
		t.Logf("checked %d numbers against their lists", checked)
		if !strings.Contains(page, "合计") || !strings.Contains(page, `data-testid="crumbs"`) {
			t.Error("township page lacks the total row or breadcrumbs")
		}
		// A search narrows the list.
		q := url.Values{"q": {"440981"}}
		if n := c.total(county["card-universe"].link + "&" + q.Encode()); n > county["card-universe"].n {
			t.Errorf("search found %d of %d", n, county["card-universe"].n)
		}
		if resp, _ := c.get(runPath + "/list?metric=nonsense"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("unknown metric: %d", resp.StatusCode)
		}
	})

	// A person of each of the two townships, from the county's view.
	personIn := func(code string) string {
		_, body := c.get(runPath + "/list?metric=persons&region=" + code)
		m := personHref.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no person listed in %s", code)
		}
		if id := fullID.FindString(body); id != "" {
			t.Errorf("list shows a full ID %s", id)
		}
		return m[1]
	}
	mine, theirs := personIn(town), personIn(other)

	t.Run("PersonPageAudited", func(t *testing.T) {
		resp, body := c.get("/persons/" + mine)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("person page: %d", resp.StatusCode)
		}
		id := personID.FindStringSubmatch(body)
		if id == nil {
			t.Fatal("person page does not show the full ID")
		}
		if strings.Contains(body, `data-testid="county-note"`) {
			t.Errorf("person page flags the known county code of %s", mine)
		}
		for _, want := range []string{`data-testid="sources"`, `data-testid="history"`, "最近一次比对结果"} {
			if !strings.Contains(body, want) {
				t.Errorf("person page lacks %s", want)
			}
		}
		var n int
		if err := e.db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'record.view' AND object = $1 AND username = 'gz'`,
			"person:"+id[1]).Scan(&n); err != nil || n != 1 {
			t.Errorf("audit rows for the view: %d (%v)", n, err)
		}
		// Among the persons flagged 信息有误, some linked record disagrees
		// with the identity in a highlighted cell.
		_, list := c.get(runPath + "/list?metric=flag32&region=440981")
		marked := false
		for _, m := range personHref.FindAllStringSubmatch(list, -1) {
			if _, page := c.get("/persons/" + m[1]); strings.Contains(page, `<td class="diff">`) {
				marked = true
				break
			}
		}
		if !marked {
			t.Error("no person flagged 信息有误 has a highlighted cell")
		}
		if resp, _ := c.get("/persons/110105194912310021"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("unknown person: %d", resp.StatusCode)
		}
	})

	t.Run("TownshipClerkScoped", func(t *testing.T) {
		e.mustCreateUser("clerk", actor.Township, town)
		clerk := e.client()
		clerk.mustLogin("clerk")
		_, body := clerk.get("/compare")
		if !strings.Contains(body, `href="`+runPath+`"`) {
			t.Error("clerk does not see the county's run")
		}
		if strings.Contains(body, `data-testid="compare-form"`) {
			t.Error("clerk is offered the start form")
		}
		resp, body := clerk.get(runPath)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("clerk summary: %d", resp.StatusCode)
		}
		own := summaryNumbers(t, body)
		if got, want := own["card-persons"].n, county["n-"+town+"-persons"].n; got != want {
			t.Errorf("clerk sees %d persons, the county's row for the township says %d", got, want)
		}
		for _, p := range []string{runPath + "?region=" + other, runPath + "?region=440981", runPath + "/list?metric=persons&region=" + other,
			runPath + "/export.csv?region=" + other, "/persons/" + theirs} {
			if resp, _ := clerk.get(p); resp.StatusCode != http.StatusNotFound {
				t.Errorf("clerk reached %s: %d", p, resp.StatusCode)
			}
		}
		if resp, _ := clerk.get("/persons/" + mine); resp.StatusCode != http.StatusOK {
			t.Errorf("clerk cannot open a person of the township: %d", resp.StatusCode)
		}
		token := clerk.csrf("/compare")
		if resp, _ := clerk.post("/compare", url.Values{"csrf": {token}, "region": {town}, "as_of": {asOf}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("clerk started a comparison: %d", resp.StatusCode)
		}
	})

	t.Run("Export", func(t *testing.T) {
		resp, err := c.c.Get(c.base + runPath + "/export.csv?region=440981")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("csv export: %d %s", resp.StatusCode, resp.Header.Get("Content-Disposition"))
		}
		r := csv.NewReader(resp.Body)
		r.FieldsPerRecord = -1
		rows, err := r.ReadAll()
		if err := resp.Body.Close(); err != nil {
			t.Fatal(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"公民身份号码", "姓名", "登记对象", "养老参保状态", "医疗参保状态", "问题标记", "入户调查", "来源记录"}
		if len(rows) == 0 || strings.Join(rows[0], ",") != "\uFEFF"+strings.Join(want, ",") && strings.Join(rows[0], ",") != strings.Join(want, ",") {
			t.Errorf("csv header %v", rows[0])
		}
		if len(rows)-1 != county["card-persons"].n {
			t.Errorf("csv has %d persons, summary %d", len(rows)-1, county["card-persons"].n)
		}

		resp, err = c.c.Get(c.base + runPath + "/export.xlsx?region=" + town)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "x.xlsx")
		f, _ := os.Create(path)
		if _, err := f.ReadFrom(resp.Body); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if err := resp.Body.Close(); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("xlsx export: %d", resp.StatusCode)
		}
		rs, _, err := sheet.Open(path, sheet.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var header []string
		n := 0
		for rs.Next() {
			if header == nil {
				header = append([]string(nil), rs.Values()...)
				continue
			}
			n++
		}
		if err := rs.Close(); err != nil {
			t.Fatal(err)
		}
		if strings.Join(header, ",") != strings.Join(want, ",") || n != county["n-"+town+"-persons"].n {
			t.Errorf("xlsx: header %v, %d rows, want %d", header, n, county["n-"+town+"-persons"].n)
		}
		if resp, _ := c.get(runPath + "/unmatched.xlsx?region=440981"); resp.StatusCode != http.StatusOK {
			t.Errorf("unmatched export: %d", resp.StatusCode)
		}
		var audited int
		if err := e.db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'compare.export'`).Scan(&audited); err != nil {
			t.Fatal(err)
		}
		if audited != 3 {
			t.Errorf("%d exports audited, want 3", audited)
		}
	})

	t.Run("Review", func(t *testing.T) {
		_, body := c.get(runPath + "/review?region=440981")
		m := regexp.MustCompile(`href="(/compare/runs/\d+/review/\d+/\d+)\?[^"]*" data-testid="review-item"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no record in review (%d), though one was imported for it", county["card-review"].n)
		}
		item := m[1]
		resp, page := c.get(item)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("review item: %d", resp.StatusCode)
		}
		if personHref.MatchString(page) || regexp.MustCompile(`\b[0-9]{17}[0-9X]\b`).MatchString(page) {
			t.Error("the review page shows or posts a full ID")
		}
		choice := regexp.MustCompile(`name="choice" value="([0-9]+)"`).FindStringSubmatch(page)
		if choice == nil {
			t.Fatalf("review item has no candidates:\n%s", page)
		}
		token := c.csrf(item)
		resp, _ = c.post(item, url.Values{"csrf": {token}, "choice": {choice[1]}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("decide: %d", resp.StatusCode)
		}
		_, page = c.get(resp.Header.Get("Location"))
		if !strings.Contains(page, "已记录审核结论，下次比对时生效") {
			t.Error("no flash after the decision")
		}
		var chosen, candidate string
		if err := e.db.QueryRow(context.Background(), `SELECT coalesce(d.id_number, ''), r.candidates[$1::int + 1]
			FROM link_decision d JOIN run_review r USING (batch_id, line)`, choice[1]).Scan(&chosen, &candidate); err != nil {
			t.Fatal(err)
		}
		if chosen == "" || chosen != candidate {
			t.Errorf("decision stored %q, want candidate %s (%q)", chosen, choice[1], candidate)
		}
		if _, page := c.get(item); !regexp.MustCompile(`value="` + choice[1] + `" checked`).MatchString(page) {
			t.Error("the earlier decision is not selected on the review page")
		}
		for _, bad := range []string{"9", "110105194912310021"} {
			resp, _ = c.post(item, url.Values{"csrf": {token}, "choice": {bad}})
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("choice %q outside the candidates was accepted: %d", bad, resp.StatusCode)
			}
		}
		e.mustCreateUser("boss", actor.Leader, "440981")
		boss := e.client()
		boss.mustLogin("boss")
		if _, page := boss.get(item); strings.Contains(page, `name="choice"`) {
			t.Error("a leader is offered the decision")
		}
		if resp, _ := boss.post(item, url.Values{"csrf": {boss.csrf(item)}, "choice": {"none"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("leader decided: %d", resp.StatusCode)
		}
	})

	t.Run("SecondRunDiffAndHome", func(t *testing.T) {
		second := c.mustCompare("440981", asOf)
		_, page := c.get(second)
		m := regexp.MustCompile(`href="([^"]*/diff\?[^"]*)" data-testid="diff-link"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatal("second run has no link to the diff")
		}
		resp, body := c.get(html.UnescapeString(m[1]))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-testid="diff"`) {
			t.Errorf("diff page: %d", resp.StatusCode)
		}
		_, home := c.get("/")
		if !strings.Contains(home, "登记对象") || !strings.Contains(home, second+"/list?metric=universe") {
			t.Error("home page lacks the latest run's numbers")
		}
	})

	t.Run("FailedRunShowsError", func(t *testing.T) {
		e.mustCreateUser("city", actor.City, "4409")
		city := e.client()
		city.mustLogin("city")
		run, page := city.waitCompare(city.startCompare("440902", asOf))
		if run != "" || !strings.Contains(page, "还没有可比对的导入数据") {
			t.Errorf("comparison of a county without data: %q", run)
		}
		_, list := city.get("/compare")
		if !strings.Contains(list, "失败") {
			t.Error("the failed run is not listed")
		}
		token := city.csrf("/compare")
		if resp, _ := city.post("/compare", url.Values{"csrf": {token}, "region": {"450102"}, "as_of": {asOf}}); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("comparison outside the city: %d", resp.StatusCode)
		}
	})
}
