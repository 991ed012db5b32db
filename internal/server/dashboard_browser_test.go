package server_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/demo"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/indicator"
	"github.com/canbao/canbao/internal/survey"
)

// dashboardData is a compared county with a survey round part done and
// snapshots of the last four days.
func (e *env) dashboardData() {
	e.t.Helper()
	ctx := context.Background()
	fixture.ImportCounty(e.t, e.db, 200, 3, "csv")
	res, err := compare.New(e.db).Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	now := time.Now()
	if _, err := demo.SurveyProgress(ctx, e.db, demo.Progress{Region: fixture.County, RunID: res.RunID,
		Start: now.AddDate(0, 0, -10), Now: now, Deadline: now.AddDate(0, 0, 20), Recount: survey.Recount}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := indicator.Backfill(ctx, e.db, now.AddDate(0, 0, -3), now); err != nil {
		e.t.Fatal(err)
	}
}

// figure is a number on a page and the list it links to.
type figure struct {
	Href string `json:"href"`
	N    string `json:"n"`
	Text string `json:"text"`
}

const figuresJS = `Array.from(document.querySelectorAll('[data-testid="fig"]')).map(a => ({href: a.getAttribute('href'), n: a.dataset.n, text: a.textContent.trim()}))`

var indicatorListTotal = regexp.MustCompile(`data-testid="list-total" data-n="(\d+)"`)

// checkFigures opens the list behind every figure (as the same user, over
// HTTP) and checks its length is the figure.
func checkFigures(t *testing.T, c *client, figs []figure) {
	t.Helper()
	seen := map[string]string{}
	for _, f := range figs {
		if f.Text != f.N {
			t.Errorf("figure shows %q but carries %q", f.Text, f.N)
		}
		if prev, ok := seen[f.Href]; ok {
			if prev != f.N {
				t.Errorf("%s: figures %s and %s link to one list", f.Href, prev, f.N)
			}
			continue
		}
		seen[f.Href] = f.N
		resp, body := c.get(f.Href)
		m := indicatorListTotal.FindStringSubmatch(body)
		if resp.StatusCode != 200 || m == nil {
			t.Errorf("%s: status %d, no list total", f.Href, resp.StatusCode)
			continue
		}
		if m[1] != f.N {
			t.Errorf("%s: list has %s persons, figure says %s", f.Href, m[1], f.N)
		}
	}
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if len(png) < 10_000 || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("%s: not a PNG of a page (%d bytes)", name, len(png))
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	// CANBAO_SCREENSHOTS keeps a copy for people to look at.
	if d := os.Getenv("CANBAO_SCREENSHOTS"); d != "" {
		if err := os.WriteFile(filepath.Join(d, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshot %s: %d bytes", path, len(png))
}

// TestBrowserDashboard: a leader lands on the city's dashboard; its charts
// render; every figure (headline, ranking, trend; the county's after the
// drill-down; the statistics of the not insured) equals the length of the
// list it opens; the county's numbers add up to the city's; screenshots at
// desktop and phone widths are real PNGs.
func TestBrowserDashboard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashboardData()
	e.mustCreateUser("boss", actor.Leader, "4409")
	c := e.client()
	c.mustLogin("boss")
	ctx := newBrowser(t)
	ready := func(chart string) chromedp.Action[chromedp.Void] {
		return chromedp.WaitVisible(chromedp.CSS(`[data-chart="` + chart + `"][data-ready="1"]`))
	}
	mustDo(t, ctx,
		chromedp.Navigate(e.http.URL+"/login"),
		chromedp.WaitVisible(sel("login-form")),
		chromedp.SendKeys(sel("username"), "boss"),
		chromedp.SendKeys(sel("password"), testPassword),
		chromedp.Click(sel("login-submit")),
		chromedp.WaitVisible(sel("dash-cards")),
		ready("trend"), ready("kids"),
	)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/dashboard") {
		t.Errorf("a leader landed on %s", loc)
	}
	figs, err := chromedp.Run(ctx, chromedp.Evaluate[[]figure](figuresJS))
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) < 40 {
		t.Fatalf("only %d figures on the city's dashboard", len(figs))
	}
	checkFigures(t, c, figs)
	// The city's population is the sum of its counties' (and the county
	// with the data has all of it).
	sum, err := chromedp.Run(ctx, chromedp.Evaluate[int](`Array.from(document.querySelectorAll('[data-testid="kids"] tbody tr'))
		.map(tr => parseInt(tr.querySelector('td.num').textContent.trim(), 10)).reduce((a, b) => a + b, 0)`))
	if err != nil {
		t.Fatal(err)
	}
	if pop := text(t, ctx, "card-population"); !strings.Contains(pop, strconv.Itoa(sum)) || sum == 0 {
		t.Errorf("city population card %q, counties add up to %d", pop, sum)
	}
	screenshot(t, ctx, "dashboard-desktop.png")

	// Drill down to the county: its townships are ranked and lit.
	mustDo(t, ctx, chromedp.Click(sel("drill-"+fixture.County)), chromedp.WaitVisible(sel("kid-440981107")), ready("kids"))
	if crumbs := text(t, ctx, "crumbs"); !strings.Contains(crumbs, "茂名市") || !strings.Contains(crumbs, "高州市") {
		t.Errorf("crumbs after the drill-down: %q", crumbs)
	}
	lights, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('[data-testid="kids"] [data-testid="light"]')).map(s => s.className)`))
	if err != nil {
		t.Fatal(err)
	}
	lit := 0
	for _, l := range lights {
		if strings.Contains(l, "green") || strings.Contains(l, "amber") || strings.Contains(l, "red") {
			lit++
		}
	}
	if lit == 0 {
		t.Errorf("no township lit against the deadline: %v", lights)
	}
	figs, err = chromedp.Run(ctx, chromedp.Evaluate[[]figure](figuresJS))
	if err != nil {
		t.Fatal(err)
	}
	checkFigures(t, c, figs)
	// And one list opened in the browser itself.
	first, err := chromedp.Run(ctx, chromedp.Evaluate[figure](`(`+figuresJS+`).find(f => f.href.includes('part=visited'))`))
	if err != nil {
		t.Fatal(err)
	}
	mustDo(t, ctx, chromedp.Navigate(e.http.URL+first.Href), chromedp.WaitVisible(sel("list-total")))
	if got, _ := chromedp.Run(ctx, chromedp.Attributes(sel("list-total"))); got["data-n"] != first.N {
		t.Errorf("visited list in the browser has %s persons, figure %s", got["data-n"], first.N)
	}

	// The statistics of the not insured: each dimension adds up to the total.
	mustDo(t, ctx, chromedp.Navigate(e.http.URL+"/dashboard/notinsured?region="+fixture.County), ready("reason"))
	figs, err = chromedp.Run(ctx, chromedp.Evaluate[[]figure](figuresJS))
	if err != nil {
		t.Fatal(err)
	}
	checkFigures(t, c, figs)
	sums, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]int](`Object.fromEntries(Array.from(document.querySelectorAll('section[data-testid^="dim-"]'))
		.map(s => [s.dataset.testid, Array.from(s.querySelectorAll('[data-testid="fig"]')).reduce((a, x) => a + parseInt(x.dataset.n, 10), 0)]))`))
	if err != nil {
		t.Fatal(err)
	}
	total, _ := strconv.Atoi(figs[0].N)
	if total == 0 || len(sums) != 5 {
		t.Fatalf("not insured total %d, dimensions %v", total, sums)
	}
	for dim, n := range sums {
		if n != total {
			t.Errorf("%s adds up to %d, total %d", dim, n, total)
		}
	}

	// A phone: the dashboard in 390 px, charts drawn, no sideways scrolling
	// of the page (wide tables scroll inside their box).
	mustDo(t, ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(e.http.URL+"/dashboard"), ready("trend"))
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if width > 390 {
		t.Errorf("the dashboard is %d px wide on a 390 px phone", width)
	}
	screenshot(t, ctx, "dashboard-phone.png")
}
