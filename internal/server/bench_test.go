package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
)

// BenchmarkPagesCitySized loads a city-sized county (1,000,000 persons;
// CANBAO_BENCH_HOUSEHOLDS overrides the 290,000 households), runs the
// comparison, then requests the summary and list pages with a real HTTP
// client through the whole server (login, session, scoping, rendering) and
// reports p50 and p95.
func BenchmarkPagesCitySized(b *testing.B) {
	households := 290_000
	if n, err := strconv.Atoi(os.Getenv("CANBAO_BENCH_HOUSEHOLDS")); err == nil && n > 0 {
		households = n
	}
	e := newEnv(b)
	fixture.ImportCounty(b, e.db, households, 5, "csv")
	// Two runs, so the diff page joins two million-person runs.
	first, err := compare.New(e.db).Run(context.Background(), fixture.Actor, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil)
	if err != nil {
		b.Fatal(err)
	}
	res, err := compare.New(e.db).Run(context.Background(), fixture.Actor, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil)
	if err != nil {
		b.Fatal(err)
	}
	e.mustCreateUser("bench", actor.County, fixture.County)
	c := e.client()
	c.mustLogin("bench")
	run := fmt.Sprintf("/compare/runs/%d", res.RunID)
	var township string
	if err := e.db.QueryRow(context.Background(), `SELECT left(region_code, 9) FROM run_persons($1) WHERE length(region_code) = 12 LIMIT 1`, res.RunID).Scan(&township); err != nil {
		b.Fatal(err)
	}
	var someone, name, village string
	if err := e.db.QueryRow(context.Background(), `SELECT id_number, name, region_code FROM run_persons($1) WHERE survey AND length(region_code) = 12 LIMIT 1`,
		res.RunID).Scan(&someone, &name, &village); err != nil {
		b.Fatal(err)
	}
	pages := map[string]string{
		"summary county":     run + "?region=" + fixture.County,
		"summary township":   run + "?region=" + township,
		"list universe p1":   run + "/list?region=" + fixture.County + "&metric=universe",
		"list universe p200": run + "/list?region=" + fixture.County + "&metric=universe&page=200",
		"list survey":        run + "/list?region=" + fixture.County + "&metric=survey",
		"list flag":          run + "/list?region=" + township + "&metric=flag32",
		"list search ID":     run + "/list?region=" + fixture.County + "&metric=universe&q=" + someone[:10],
		"list search name":   run + "/list?region=" + fixture.County + "&metric=universe&q=" + url.QueryEscape(name),
		"list village":       run + "/list?region=" + village + "&metric=persons",
		"review queue":       run + "/review?region=" + fixture.County,
		"diff county":        fmt.Sprintf("%s/diff?region=%s&base=%d", run, fixture.County, first.RunID),
		"diff township":      fmt.Sprintf("%s/diff?region=%s&base=%d", run, township, first.RunID),
		"person":             e.srv.PersonURL(someone),
	}
	b.ResetTimer()
	var all []time.Duration
	for name, path := range pages {
		var ds []time.Duration
		for i := 0; i < 40; i++ {
			t := time.Now()
			resp, _ := c.get(path)
			ds = append(ds, time.Since(t))
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("%s: status %d", path, resp.StatusCode)
			}
		}
		p50, p95 := percentile(ds, 50), percentile(ds, 95)
		b.Logf("%-20s p50 %6.1f ms  p95 %6.1f ms", name, ms(p50), ms(p95))
		all = append(all, ds...)
	}
	b.ReportMetric(ms(percentile(all, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(all, 95)), "p95-ms")
}

func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
