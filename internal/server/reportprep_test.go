package server_test

import (
	"context"
	"html"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/report"
)

// waitPrepared waits for a job to prepare run's report rows; the bound
// only keeps a broken job from hanging the test.
func (e *env) waitPrepared(runID int64) {
	e.t.Helper()
	st := report.NewStore(e.db)
	for deadline := time.Now().Add(120 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ok, err := st.Prepared(context.Background(), runID); err != nil || ok {
			if err != nil {
				e.t.Fatal(err)
			}
			return
		}
	}
	e.t.Fatalf("run %d: report rows not prepared", runID)
}

// TestReportsPreparedByJob: a basic table never derives a run's report
// rows inside the request. A run compared outside the server (the CLI)
// shows the waiting state with the job it starts, and refuses exports,
// until the job is done; a run compared through the web's job has its
// rows prepared by the job it starts when done, with no page asking.
func TestReportsPreparedByJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.importDemoCounty(30)
	e.mustCreateUser("prepclerk", actor.County, fixture.County)
	c := e.client()
	c.mustLogin("prepclerk")
	page := "/reports/basic1?region=" + fixture.County

	res, err := compare.New(e.db).Run(context.Background(), fixture.Actor, compare.Request{Region: fixture.County, AsOf: demoAsOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := c.get(page)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "正在准备报表数据") || !strings.Contains(body, `data-testid="report-preparing"`) {
		t.Fatalf("before preparation: status %d, no waiting state:\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `data-job-status="/jobs/`) || figureLink.MatchString(body) || strings.Contains(body, "export.xlsx") {
		t.Errorf("the waiting state should poll its job and show no figures nor export")
	}
	resp, body = c.get("/reports/basic1/export.xlsx?region=" + fixture.County)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "正在准备报表数据") {
		t.Errorf("export before preparation: %d", resp.StatusCode)
	}
	e.waitPrepared(res.RunID)
	_, body = c.get(page)
	if strings.Contains(body, "report-preparing") {
		t.Fatal("still waiting once prepared")
	}
	links := figureLink.FindAllStringSubmatch(body, -1)
	if len(links) < 10 {
		t.Fatalf("once prepared: %d figures", len(links))
	}
	for _, l := range links[:5] {
		_, list := c.get(html.UnescapeString(l[1]))
		if m := reportListTotal.FindStringSubmatch(list); m == nil || m[1] != l[2] {
			t.Errorf("%s: figure %s, list says %v", l[1], l[2], m)
		}
	}
	var jobs int
	if err := e.db.QueryRow(context.Background(), `SELECT count(*) FROM job WHERE kind = $1 AND result_id = $2 AND state = 'succeeded'`,
		report.JobKind, res.RunID).Scan(&jobs); err != nil || jobs != 1 {
		t.Errorf("preparation jobs of run %d: %d (%v), want 1", res.RunID, jobs, err)
	}

	// Through the web: the comparison's job starts the preparation.
	run := c.mustCompare(fixture.County, demoAsOf.Format("2006-01-02"))
	runID, err := strconv.ParseInt(strings.TrimPrefix(strings.SplitN(run, "?", 2)[0], "/compare/runs/"), 10, 64)
	if err != nil || runID == res.RunID {
		t.Fatalf("run page %q", run)
	}
	e.waitPrepared(runID)
	if _, body = c.get(page); strings.Contains(body, "report-preparing") || !strings.Contains(body, "比对批次 #"+strconv.FormatInt(runID, 10)) {
		t.Errorf("after the web's comparison the table should count run %d at once", runID)
	}
}
