package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/demo"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/indicator"
	"github.com/canbao/canbao/internal/survey"
)

// loadSurveyAndSnapshot gives the load benchmark's county a survey round
// with field work (demo.SurveyProgress) and times today's snapshot of
// every indicator of every region: the nightly job's work.
func loadSurveyAndSnapshot(b *testing.B, e *env, runID int64) time.Duration {
	b.Helper()
	ctx := context.Background()
	now := time.Now()
	if _, err := demo.SurveyProgress(ctx, e.db, demo.Progress{Region: fixture.County, RunID: runID,
		Start: now.AddDate(0, 0, -14), Now: now, Deadline: now.AddDate(0, 0, 30), Recount: survey.Recount}); err != nil {
		b.Fatal(err)
	}
	if _, err := e.db.Exec(ctx, `ANALYZE survey_member; ANALYZE survey_form; ANALYZE survey_household`); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	res, err := indicator.Snapshot(ctx, e.db, now)
	if err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	c := res.Counts[fixture.County]
	fmt.Printf("daily snapshot: %.2f s for %d regions (county: 常住人口 %d, 需入户调查 %d, 已入户 %d)\n",
		took.Seconds(), len(res.Counts), c[indicator.Population], c[indicator.ToSurvey], c[indicator.Visited])
	return took
}

// timeLists prints how long one request for a few lists behind dashboard
// figures takes: they count their persons live from the same facts as the
// snapshot, so unlike the dashboard they scan the region's persons.
func timeLists(b *testing.B, c *http.Client, base, township string) {
	b.Helper()
	day := time.Now().Format(time.DateOnly)
	for _, l := range []struct{ region, part string }{
		{fixture.County, "population"}, {fixture.County, "visited"}, {township, "to_survey"}, {township, "registered"},
	} {
		u := base + "/dashboard/persons?" + url.Values{"region": {l.region}, "part": {l.part}, "day": {day}}.Encode()
		start := time.Now()
		resp, err := c.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: status %d", u, resp.StatusCode)
		}
		fmt.Printf("list %-10s of %-9s: %6.0f ms (one request)\n", l.part, l.region, float64(time.Since(start).Milliseconds()))
	}
}
