package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
)

// loadPage is one page of the load mix: the roles that open it and its path.
type loadPage struct {
	name  string
	path  string
	roles []actor.Role
}

// loadJob is one request a simulated user makes: a page, as a role's session.
type loadJob struct {
	page int
	c    *http.Client
}

// BenchmarkPagesUnderLoad loads the city-sized county (CANBAO_BENCH_HOUSEHOLDS
// overrides the 290,000 households), compares it once, logs in as a county
// clerk, a township clerk, a leader and a city staff member, then drives a mix
// of the summary, list, person and home pages over loopback at 20 and at 100
// concurrent users. Each level stops after CANBAO_BENCH_LOAD_SECONDS (default
// 10) or 20,000 requests, whichever comes first, and reports p50/p95/p99 and
// requests/s per page.
func BenchmarkPagesUnderLoad(b *testing.B) {
	households := 290_000
	if n, err := strconv.Atoi(os.Getenv("CANBAO_BENCH_HOUSEHOLDS")); err == nil && n > 0 {
		households = n
	}
	seconds := 10
	if n, err := strconv.Atoi(os.Getenv("CANBAO_BENCH_LOAD_SECONDS")); err == nil && n > 0 {
		seconds = n
	}
	e := newEnv(b)
	fixture.ImportCounty(b, e.db, households, 5, "csv")
	res, err := compare.New(e.db).Run(context.Background(), fixture.Actor, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var someone, name, village string
	const qp = `SELECT id_number, name, region_code FROM run_persons($1) WHERE survey AND length(region_code) = 12 LIMIT 1`
	if err := e.db.QueryRow(ctx, qp, res.RunID).Scan(&someone, &name, &village); err != nil {
		b.Fatal(err)
	}
	township := village[:9]
	snapshot := loadSurveyAndSnapshot(b, e, res.RunID)
	e.mustCreateUser("lcounty", actor.County, fixture.County)
	e.mustCreateUser("ltownship", actor.Township, township)
	e.mustCreateUser("lleader", actor.Leader, fixture.County)
	e.mustCreateUser("lcity", actor.City, fixture.County[:4])
	users := map[actor.Role]string{actor.County: "lcounty", actor.Township: "ltownship", actor.Leader: "lleader", actor.City: "lcity"}

	run := fmt.Sprintf("/compare/runs/%d", res.RunID)
	all := []actor.Role{actor.County, actor.Township, actor.Leader, actor.City}
	clerks := []actor.Role{actor.County, actor.City}
	pages := []loadPage{
		{"summary county", run + "?region=" + fixture.County, []actor.Role{actor.County, actor.Leader, actor.City}},
		{"summary township", run + "?region=" + township, all},
		{"list universe p1", run + "/list?region=" + fixture.County + "&metric=universe", clerks},
		{"list survey p300", run + "/list?region=" + fixture.County + "&metric=survey&page=300", clerks},
		{"list search name", run + "/list?region=" + fixture.County + "&metric=universe&q=" + url.QueryEscape(name), clerks},
		{"person", e.srv.PersonURL(someone), []actor.Role{actor.County, actor.Township, actor.City}},
		{"home", "/", all},
		{"dashboard county", "/dashboard?region=" + fixture.County, []actor.Role{actor.County, actor.Leader, actor.City}},
		{"dashboard township", "/dashboard?region=" + township, all},
		{"not insured county", "/dashboard/notinsured?region=" + fixture.County, []actor.Role{actor.County, actor.Leader, actor.City}},
	}
	// One logged-in session per role, shared by that role's simulated users.
	tr := &http.Transport{MaxIdleConns: 200, MaxIdleConnsPerHost: 200}
	b.Cleanup(tr.CloseIdleConnections)
	sessions := map[actor.Role]*http.Client{}
	for role, u := range users {
		c := e.client()
		c.mustLogin(u)
		jar, _ := cookiejar.New(nil)
		base, _ := url.Parse(e.http.URL)
		jar.SetCookies(base, c.c.Jar.Cookies(base))
		sessions[role] = &http.Client{Jar: jar, Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	// Each worker plays one role and cycles through that role's pages.
	var mixes [][]loadJob
	for _, role := range all {
		var m []loadJob
		for p, pg := range pages {
			if slices.Contains(pg.roles, role) {
				m = append(m, loadJob{p, sessions[role]})
			}
		}
		mixes = append(mixes, m)
	}
	timeLists(b, sessions[actor.County], e.http.URL, township)
	b.ResetTimer()
	b.ReportMetric(snapshot.Seconds(), "snapshot-s")
	for _, users := range []int{20, 100} {
		ds, elapsed, err := drive(e.http.URL, pages, users, mixes, time.Duration(seconds)*time.Second, 20_000)
		if err != nil {
			b.Fatal(err)
		}
		var every []time.Duration
		// Printed, not logged: the benchmark log is cut after ten lines.
		fmt.Printf("%d concurrent users, %.1f s:\n", users, elapsed.Seconds())
		fmt.Printf("%-18s %7s %8s %8s %8s %8s\n", "page", "n", "p50 ms", "p95 ms", "p99 ms", "req/s")
		for p, pg := range pages {
			d := ds[p]
			if len(d) == 0 {
				continue
			}
			every = append(every, d...)
			fmt.Printf("%-18s %7d %8.1f %8.1f %8.1f %8.1f\n", pg.name, len(d), ms(percentile(d, 50)), ms(percentile(d, 95)),
				ms(percentile(d, 99)), float64(len(d))/elapsed.Seconds())
			b.ReportMetric(ms(percentile(d, 95)), fmt.Sprintf("p95-ms/%s@%d", slug(pg.name), users))
		}
		b.ReportMetric(ms(percentile(every, 50)), fmt.Sprintf("p50-ms@%d", users))
		b.ReportMetric(ms(percentile(every, 95)), fmt.Sprintf("p95-ms@%d", users))
		b.ReportMetric(ms(percentile(every, 99)), fmt.Sprintf("p99-ms@%d", users))
		b.ReportMetric(float64(len(every))/elapsed.Seconds(), fmt.Sprintf("req/s@%d", users))
	}
}

// drive runs users workers until the time limit or the request cap, and
// returns each page's latencies and the wall time taken. A page that does not
// answer 200 stops the run.
func drive(base string, pages []loadPage, users int, mixes [][]loadJob, limit time.Duration, maxRequests int) ([][]time.Duration, time.Duration, error) {
	var (
		mu    sync.Mutex
		ds    = make([][]time.Duration, len(pages))
		count int
		first error
		wg    sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(limit)
	for w := 0; w < users; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			mix := mixes[w%len(mixes)]
			for i := w; ; i++ {
				mu.Lock()
				stop := count >= maxRequests || first != nil || time.Now().After(deadline)
				count++
				mu.Unlock()
				if stop {
					return
				}
				j := mix[i%len(mix)]
				t := time.Now()
				status, err := fetchPage(j.c, base+pages[j.page].path)
				d := time.Since(t)
				mu.Lock()
				if err == nil && status != http.StatusOK {
					err = fmt.Errorf("%s: status %d", pages[j.page].name, status)
				}
				if err != nil && first == nil {
					first = err
				}
				ds[j.page] = append(ds[j.page], d)
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	return ds, time.Since(start), first
}

// fetchPage requests a page the way a browser does (accepting gzip) and
// reads the whole body.
func fetchPage(c *http.Client, u string) (int, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

func slug(s string) string {
	out := []byte(s)
	for i, c := range out {
		if c == ' ' {
			out[i] = '-'
		}
	}
	return string(out)
}
