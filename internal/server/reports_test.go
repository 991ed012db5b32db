package server_test

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/indicator"
	"github.com/canbao/canbao/internal/report"
)

// reportEnv is a generated county with one comparison run.
func reportEnv(t *testing.T, households int) *env {
	t.Helper()
	e := newEnv(t)
	e.importDemoCounty(households)
	if _, err := compare.New(e.db).Run(context.Background(), fixture.Actor, compare.Request{Region: fixture.County, AsOf: demoAsOf}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := indicator.Snapshot(context.Background(), e.db, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := report.NewStore(e.db).PrepareMissing(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return e
}

var (
	figureLink      = regexp.MustCompile(`<a href="(/reports/list\?[^"]+)">([0-9]+)</a>`)
	rateLink        = regexp.MustCompile(`title="([0-9]+) / [0-9]+"><a href="(/dashboard/persons\?[^"]+)">`)
	dashListTotal   = regexp.MustCompile(`data-testid="list-total" data-n="([0-9]+)"`)
	reportListTotal = regexp.MustCompile(`data-testid="list-total">([0-9]+)<`)
)

// TestReportFiguresAreTheirLists follows every figure of both basic tables,
// as a county clerk and as the city's leader, to its list: the list's
// length is the figure, and the list pages mask ID numbers.
func TestReportFiguresAreTheirLists(t *testing.T) {
	t.Parallel()
	e := reportEnv(t, 40)
	e.mustCreateUser("repclerk", actor.County, fixture.County)
	e.mustCreateUser("repleader", actor.Leader, "4409")
	for _, name := range []string{"repclerk", "repleader"} {
		c := e.client()
		c.mustLogin(name)
		for _, table := range []string{"basic1", "basic2"} {
			resp, body := c.get("/reports/" + table + "?region=" + fixture.County)
			if resp.StatusCode != 200 {
				t.Fatalf("%s %s: status %d", name, table, resp.StatusCode)
			}
			links := figureLink.FindAllStringSubmatch(body, -1)
			if len(links) < 10 {
				t.Fatalf("%s %s: only %d figures link to lists", name, table, len(links))
			}
			checked := 0
			for _, l := range links {
				if l[2] == "0" && checked > 20 {
					continue // enough empty lists seen
				}
				href := html.UnescapeString(l[1])
				_, list := c.get(href + "&size=200")
				m := reportListTotal.FindStringSubmatch(list)
				if m == nil || m[1] != l[2] {
					t.Errorf("%s: figure %s, list says %v", href, l[2], m)
					continue
				}
				n, _ := strconv.Atoi(l[2])
				if rows := strings.Count(list, `<td class="code">`); n <= 200 && rows != n {
					t.Errorf("%s: figure %d, %d rows on the list", href, n, rows)
				}
				if regexp.MustCompile(`<td class="code">[0-9]{17}[0-9X]</td>`).MatchString(list) {
					t.Errorf("%s: an unmasked ID on the list", href)
				}
				checked++
			}
		}
		// each rate of the progress table links to its numerator's persons
		_, prog := c.get("/reports/progress?region=" + fixture.County)
		rates := rateLink.FindAllStringSubmatch(prog, -1)
		if len(rates) < 6 {
			t.Errorf("%s: %d rates link to lists", name, len(rates))
		}
		for _, m := range rates[:min(len(rates), 8)] {
			_, list := c.get(html.UnescapeString(m[2]))
			if got := dashListTotal.FindStringSubmatch(list); got == nil || got[1] != m[1] {
				t.Errorf("%s: numerator %s, its list %v", html.UnescapeString(m[2]), m[1], got)
			}
		}
		if resp, _ := c.get("/reports/progress/edit?region=" + fixture.County); (name == "repleader") != (resp.StatusCode == 403) {
			t.Errorf("%s: the entry form answered %d", name, resp.StatusCode)
		}
		resp, _ := c.get("/reports/basic2/export.xlsx?region=" + fixture.County)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "spreadsheetml") {
			t.Errorf("%s: export answered %d %s", name, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	// A refused entry keeps what was typed and names the column.
	c := e.client()
	c.mustLogin("repclerk")
	form := url.Values{"csrf": {c.csrf("/reports/progress/edit")}, "region": {fixture.County}, "period": {"2026-06"},
		"p.29": {"十二"}, "p.9": {"人社、公安"}}
	resp, body := c.post("/reports/progress/edit", form)
	if resp.StatusCode != 400 || !strings.Contains(body, "第 29 栏") || !strings.Contains(body, "人社、公安") {
		t.Errorf("bad entry: status %d", resp.StatusCode)
	}
}

// TestBrowserReports walks the report pages in Chromium: a basic table, a
// figure to its list, an entry saved and shown, a bulletin created, issued
// and printed.
func TestBrowserReports(t *testing.T) {
	t.Parallel()
	e := reportEnv(t, 40)
	e.mustCreateUser("repstaff", actor.County, fixture.County)
	ctx := newBrowser(t)
	mustDo(t, ctx,
		chromedp.Navigate(e.http.URL+"/login"),
		chromedp.WaitVisible(sel("login-form")),
		chromedp.SendKeys(sel("username"), "repstaff"),
		chromedp.SendKeys(sel("password"), testPassword),
		chromedp.Click(sel("login-submit")),
		chromedp.WaitVisible(sel("nav-reports")),
		chromedp.Click(sel("nav-reports")),
		chromedp.WaitVisible(sel("report-index")),
		chromedp.Click(sel("link-basic1")),
		chromedp.WaitVisible(sel("report-basic1")),
	)
	jia := text(t, ctx, "report-jia")
	if f := strings.Fields(jia); len(f) != 26 || f[0] != "甲栏" || f[1] != "1" || f[25] != "25" {
		t.Errorf("甲栏 row: %q", jia)
	}
	if notes := text(t, ctx, "report-notes"); !strings.Contains(notes, "本报表区划（高州市）") {
		t.Errorf("notes: %q", notes)
	}
	if rowText := text(t, ctx, "row-合计"); !strings.Contains(rowText, "(2) ≥ (3)") || !strings.Contains(rowText, "无数据") {
		t.Errorf("合计 row: %q", rowText)
	}
	// 合计's first figure (本省户籍人口数) and its list
	figure, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="row-合计"] td:nth-child(2) a').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	mustDo(t, ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="row-合计"] td:nth-child(2) a`)),
		chromedp.WaitVisible(sel("report-persons")),
	)
	if got := text(t, ctx, "list-total"); got != figure || figure == "0" {
		t.Errorf("list of 本省户籍人口数: %s persons, figure %s", got, figure)
	}
	// an entry of the progress table
	mustDo(t, ctx,
		chromedp.Navigate(e.http.URL+"/reports/progress/edit?region="+fixture.County),
		chromedp.WaitVisible(sel("edit-form")),
		chromedp.SetValue(sel("field-p.29"), "12"),
		chromedp.SetValue(sel("field-p.1"), "是"),
		chromedp.Click(sel("edit-save")),
		chromedp.WaitVisible(sel("flash")),
	)
	if h := text(t, ctx, "edit-history"); !strings.Contains(h, "培训场次") || !strings.Contains(h, "12") {
		t.Errorf("history: %q", h)
	}
	mustDo(t, ctx,
		chromedp.Navigate(e.http.URL+"/reports/progress?region="+fixture.County),
		chromedp.WaitVisible(sel("report-progress")),
	)
	// the 合计 cell under the 甲栏 number 29
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const nums = [...document.querySelectorAll('[data-testid="report-jia"] th')].map(th => th.textContent.trim());
		const i = nums.indexOf('29');
		return document.querySelectorAll('[data-testid="row-合计"] td')[i].textContent.trim();
	})()`))
	if err != nil || got != "12" {
		t.Errorf("column 29 of 合计: %q (%v), want 12", got, err)
	}
	// a bulletin, issued and printed
	mustDo(t, ctx,
		chromedp.Navigate(e.http.URL+"/reports/bulletins"),
		chromedp.WaitVisible(sel("bulletin-form")),
		chromedp.SendKeys(sel("bulletin-title"), "全民参保登记工作通报"),
		chromedp.Click(sel("bulletin-create")),
	)
	mustDo(t, ctx,
		chromedp.WaitVisible(sel("bulletin-issue")),
		chromedp.Click(sel("bulletin-issue")),
		chromedp.WaitVisible(sel("flash")),
	)
	if meta := text(t, ctx, "bulletin-meta"); !strings.Contains(meta, "第 1 期") || !strings.Contains(meta, "已定稿") {
		t.Errorf("bulletin meta: %q", meta)
	}
	mustDo(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	}))
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[
		getComputedStyle(document.querySelector('.sidenav')).display,
		getComputedStyle(document.querySelector('[data-testid="report-bulletin"]')).display].join(' ')`))
	if err != nil || shown != "none table" {
		t.Errorf("printed: menu and table display %q (%v), want none table", shown, err)
	}
}
