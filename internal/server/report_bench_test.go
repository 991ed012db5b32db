package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/indicator"
	"github.com/canbao/canbao/internal/report"
)

// BenchmarkReports loads the city-sized county (CANBAO_BENCH_HOUSEHOLDS
// overrides the 290,000 households, about 1,000,000 persons), compares it,
// takes the day's indicator snapshot and issues a bulletin, then measures
// through the real server: the first basic table before the run's report
// rows exist (it shows the waiting state and starts their preparation
// job), the preparation itself, each xlsx export (5 downloads each; the
// issue asks for ≤ 3 s), and the report pages under 20 concurrent users.
func BenchmarkReports(b *testing.B) {
	households := 290_000
	if n, err := strconv.Atoi(os.Getenv("CANBAO_BENCH_HOUSEHOLDS")); err == nil && n > 0 {
		households = n
	}
	seconds := 10
	if n, err := strconv.Atoi(os.Getenv("CANBAO_BENCH_LOAD_SECONDS")); err == nil && n > 0 {
		seconds = n
	}
	ctx := context.Background()
	e := newEnv(b)
	fixture.ImportCounty(b, e.db, households, 5, "csv")
	res, err := compare.New(e.db).Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil)
	if err != nil {
		b.Fatal(err)
	}
	e.mustCreateUser("rcounty", actor.County, fixture.County)
	e.mustCreateUser("rleader", actor.Leader, fixture.County)
	c := e.client()
	c.mustLogin("rcounty")
	in := "?region=" + fixture.County

	t0 := time.Now()
	if _, err := indicator.Snapshot(ctx, e.db, time.Now()); err != nil {
		b.Fatal(err)
	}
	snap := time.Since(t0)
	st := report.NewStore(e.db)
	id, err := st.CreateBulletin(ctx, fixture.Actor, fixture.County, "基准测试通报", "")
	if err != nil {
		b.Fatal(err)
	}
	if err := st.IssueBulletin(ctx, fixture.Actor, id, time.Now()); err != nil {
		b.Fatal(err)
	}
	bulletin := fmt.Sprintf("/reports/bulletins/%d", id)
	b.ResetTimer()
	t0 = time.Now()
	if resp, body := c.get("/reports/basic1" + in); resp.StatusCode != http.StatusOK || !strings.Contains(body, "report-preparing") {
		b.Fatalf("basic1 before preparation: %d, no waiting state", resp.StatusCode)
	}
	first := time.Since(t0)
	// The page started the preparation job; this waits for it (the same
	// advisory lock) and times the whole of it.
	t0 = time.Now()
	if _, err := st.Prepare(ctx, res.RunID, nil); err != nil {
		b.Fatal(err)
	}
	committed := time.Since(t0)
	// The job's last step (VACUUM ANALYZE of the new rows) runs after the
	// rows are committed; the pages are measured once it is over.
	for {
		var busy bool
		const q = `SELECT EXISTS (SELECT 1 FROM job WHERE kind = 'report' AND state IN ('queued', 'running'))`
		if err := e.db.QueryRow(ctx, q).Scan(&busy); err != nil {
			b.Fatal(err)
		}
		if !busy {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	jobDone := time.Since(t0)
	var persons, took int64
	if err := e.db.QueryRow(ctx, `SELECT persons, duration_ms FROM report_run WHERE run_id = $1`, res.RunID).Scan(&persons, &took); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("indicator snapshot %.0f ms; first basic table (waiting state, starts the job) %.0f ms\n", ms(snap), ms(first))
	fmt.Printf("report rows of %d persons prepared by the job in %d ms (rows committed after %.0f ms, job with its VACUUM ANALYZE over after %.0f ms)\n",
		persons, took, ms(committed), ms(jobDone))
	b.ReportMetric(ms(first), "first-basic-ms")
	b.ReportMetric(float64(took), "prepare-ms")

	exports := []struct{ name, path string }{
		{"progress", "/reports/progress/export.xlsx" + in},
		{"basic1", "/reports/basic1/export.xlsx" + in},
		{"basic2", "/reports/basic2/export.xlsx" + in},
		{"bulletin", bulletin + "/export.xlsx"},
	}
	fmt.Printf("%-10s %8s %8s\n", "export", "p50 ms", "max ms")
	for _, x := range exports {
		var ds []time.Duration
		for range 5 {
			t := time.Now()
			resp, _ := c.get(x.path)
			ds = append(ds, time.Since(t))
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("%s: %d", x.path, resp.StatusCode)
			}
		}
		fmt.Printf("%-10s %8.1f %8.1f\n", x.name, ms(percentile(ds, 50)), ms(percentile(ds, 100)))
		b.ReportMetric(ms(percentile(ds, 100)), "export-max-ms/"+x.name)
	}

	pages := []loadPage{
		{"progress", "/reports/progress" + in, nil},
		{"basic1", "/reports/basic1" + in, nil},
		{"basic2", "/reports/basic2" + in, nil},
		{"bulletin", bulletin, nil},
		{"list b1.5 p20", "/reports/list?col=b1.5&page=20&region=" + fixture.County, nil},
	}
	tr := &http.Transport{MaxIdleConns: 100, MaxIdleConnsPerHost: 100}
	b.Cleanup(tr.CloseIdleConnections)
	var mixes [][]loadJob
	for _, u := range []string{"rcounty", "rleader"} {
		lc := e.client()
		lc.mustLogin(u)
		jar, _ := cookiejar.New(nil)
		base, _ := url.Parse(e.http.URL)
		jar.SetCookies(base, lc.c.Jar.Cookies(base))
		hc := &http.Client{Jar: jar, Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		var m []loadJob
		for p := range pages {
			m = append(m, loadJob{p, hc})
		}
		mixes = append(mixes, m)
	}
	ds, elapsed, err := drive(e.http.URL, pages, 20, mixes, time.Duration(seconds)*time.Second, 5_000)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Printf("20 concurrent users, %.1f s:\n%-14s %7s %8s %8s\n", elapsed.Seconds(), "page", "n", "p50 ms", "p95 ms")
	for p, pg := range pages {
		if len(ds[p]) == 0 {
			continue
		}
		fmt.Printf("%-14s %7d %8.1f %8.1f\n", pg.name, len(ds[p]), ms(percentile(ds[p], 50)), ms(percentile(ds[p], 95)))
		b.ReportMetric(ms(percentile(ds[p], 95)), "p95-ms/"+slug(pg.name)+"@20")
	}
}
