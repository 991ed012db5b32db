package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/fixture"
	"github.com/canbao/canbao/internal/idcard"
	"github.com/canbao/canbao/internal/survey"
)

// BenchmarkSurveyFormsUnderLoad publishes a round of the city-sized county
// (CANBAO_BENCH_HOUSEHOLDS overrides the 290,000 households; the publish's
// steps are printed), settles the database (see settle), then has 200
// concurrent clerks (19 township accounts sharing them, over loopback, each
// clerk on households of their own) open, save and submit forms for
// CANBAO_BENCH_LOAD_SECONDS (default 10); every submission is posted twice
// with its key, as after a lost connection, and every fourth form is only
// saved, twice, as a draft. It reports the throughput (with the process's
// CPU per request; a CPU profile of this phase alone goes to
// CANBAO_BENCH_LOAD_CPUPROFILE if set), p50/p95/p99 of the saves and
// submissions and checks in SQL that every submission exists once and every
// draft as last saved; then it drives the survey pages (round, township and
// village task lists, search, household, form, review queue, progress) at 20
// users.
func BenchmarkSurveyFormsUnderLoad(b *testing.B) {
	households := 290_000
	if n, err := strconv.Atoi(os.Getenv("CANBAO_BENCH_HOUSEHOLDS")); err == nil && n > 0 {
		households = n
	}
	seconds := 10
	if n, err := strconv.Atoi(os.Getenv("CANBAO_BENCH_LOAD_SECONDS")); err == nil && n > 0 {
		seconds = n
	}
	e := newEnv(b)
	ctx := context.Background()
	fixture.ImportCounty(b, e.db, households, 5, "csv")
	run, err := compare.New(e.db).Run(ctx, fixture.Actor, compare.Request{Region: fixture.County, AsOf: fixture.AsOf}, nil)
	if err != nil {
		b.Fatal(err)
	}
	pubStart := time.Now()
	pub, err := survey.New(e.db).Publish(ctx, fixture.Actor, survey.PublishRequest{Region: fixture.County, RunID: run.RunID, Title: "bench"},
		func(step string) { fmt.Printf("publish %8.2f s  %s\n", time.Since(pubStart).Seconds(), step) })
	if err != nil {
		b.Fatal(err)
	}
	fmt.Printf("published %d households, %d persons, %d targets of %d persons in %.2f s\n",
		pub.Households, pub.Persons, pub.Target, run.Persons, time.Since(pubStart).Seconds())
	// 19 townships with the most targets, one clerk account each (with the
	// reviewer, within the 20 logins a client address may make at once).
	rows, err := e.db.Query(ctx, `SELECT left(h.region_code, 9), array_agg(m.id ORDER BY m.household_id, m.id), array_agg(m.id_number ORDER BY m.household_id, m.id),
		       array_agg(m.name ORDER BY m.household_id, m.id), array_agg(m.household_id ORDER BY m.household_id, m.id)
		FROM survey_member m JOIN survey_household h ON h.id = m.household_id
		WHERE m.round_id = $1 AND m.target AND m.name <> '' AND length(h.region_code) >= 9 GROUP BY 1 ORDER BY count(*) DESC LIMIT 19`, pub.Round)
	if err != nil {
		b.Fatal(err)
	}
	type target struct {
		member   int64
		id, name string
	}
	type clerk struct {
		c          *http.Client
		csrf       string
		targets    []target
		households [][]target // the targets by household
	}
	tr := &http.Transport{MaxIdleConns: 400, MaxIdleConnsPerHost: 400}
	b.Cleanup(tr.CloseIdleConnections)
	var clerks []*clerk
	for rows.Next() {
		var town string
		var ids, hhs []int64
		var nums, names []string
		if err := rows.Scan(&town, &ids, &nums, &names, &hhs); err != nil {
			b.Fatal(err)
		}
		ck := &clerk{}
		for i := range ids {
			t := target{ids[i], nums[i], names[i]}
			ck.targets = append(ck.targets, t)
			if i == 0 || hhs[i] != hhs[i-1] {
				ck.households = append(ck.households, nil)
			}
			ck.households[len(ck.households)-1] = append(ck.households[len(ck.households)-1], t)
		}
		clerks = append(clerks, ck)
		name := "bclerk" + strconv.Itoa(len(clerks))
		e.mustCreateUser(name, actor.Township, town)
		c := e.client()
		c.mustLogin(name)
		ck.csrf = c.csrf("/")
		jar, _ := cookiejar.New(nil)
		base, _ := url.Parse(e.http.URL)
		jar.SetCookies(base, c.c.Jar.Cookies(base))
		ck.c = &http.Client{Jar: jar, Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	settle(b, e)
	b.ResetTimer()
	stopProfile := fixture.CPUProfile(b, "CANBAO_BENCH_LOAD_CPUPROFILE")
	cpu0, pg0 := processCPU(), serverCPU(b, e)

	const workers = 200
	var (
		mu             sync.Mutex
		requests       atomic.Int64 // form pages, saves and submissions answered
		saves, submits []time.Duration
		done           []int64 // members submitted
		drafts         []int64 // members whose form was saved twice and left a draft
		first          error
		wg             sync.WaitGroup
		deadline       = time.Now().Add(time.Duration(seconds) * time.Second)
		perClerk       = (workers + len(clerks) - 1) / len(clerks) // workers per clerk, rounded up: slots never overlap
		base           = e.http.URL
		post           = func(c *http.Client, path string, form url.Values) (int, string, error) {
			resp, err := c.PostForm(base+path, form)
			if err != nil {
				return 0, "", err
			}
			defer func() { _ = resp.Body.Close() }()
			body, err := io.ReadAll(resp.Body)
			return resp.StatusCode, string(body), err
		}
	)
	start := time.Now()
	for w := range workers {
		ck := clerks[w%len(clerks)]
		slot := w / len(clerks)
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Worker slot takes every perClerk-th household of its clerk: no two workers share one.
			var todo []target
			for k := slot; k < len(ck.households); k += perClerk {
				todo = append(todo, ck.households[k]...)
			}
			for n, t := range todo {
				if !time.Now().Before(deadline) {
					return
				}
				draftOnly := n%4 == 3
				path := "/survey/entry/members/" + strconv.FormatInt(t.member, 10)
				status, page, err := getPage(ck.c, base+path)
				requests.Add(1)
				if err == nil && status != http.StatusOK {
					err = fmt.Errorf("form page: %d", status)
				}
				var form url.Values
				if err == nil {
					form, err = benchForm(page, ck.csrf, t.name, t.id)
				}
				if err == nil {
					form.Set("do", "save")
					t0 := time.Now()
					status, _, err = post(ck.c, path, form)
					d := time.Since(t0)
					requests.Add(1)
					if err == nil && status != http.StatusSeeOther {
						err = fmt.Errorf("save: %d", status)
					}
					mu.Lock()
					saves = append(saves, d)
					mu.Unlock()
				}
				if err == nil && draftOnly {
					// A second save on top of the first, then left as a draft.
					v, _ := strconv.Atoi(form.Get("version"))
					form.Set("version", strconv.Itoa(v+1))
					form.Set("note", "草稿 "+strconv.FormatInt(t.member, 10))
					t0 := time.Now()
					status, _, err = post(ck.c, path, form)
					d := time.Since(t0)
					requests.Add(1)
					if err == nil && status != http.StatusSeeOther {
						err = fmt.Errorf("save: %d", status)
					}
					mu.Lock()
					saves = append(saves, d)
					if err == nil {
						drafts = append(drafts, t.member)
					}
					mu.Unlock()
				} else if err == nil {
					// Submit on top of the saved version, twice with one key.
					v, _ := strconv.Atoi(form.Get("version"))
					form.Set("version", strconv.Itoa(v+1))
					form.Set("do", "submit")
					for range 2 {
						t0 := time.Now()
						status, _, err = post(ck.c, path, form)
						d := time.Since(t0)
						requests.Add(1)
						if err == nil && status != http.StatusSeeOther {
							err = fmt.Errorf("submit: %d", status)
						}
						mu.Lock()
						submits = append(submits, d)
						mu.Unlock()
						if err != nil {
							break
						}
					}
				}
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				if err == nil && !draftOnly {
					done = append(done, t.member)
				}
				stop := first != nil
				mu.Unlock()
				if stop {
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopProfile()
	n := requests.Load()
	// Closed loop: each request's latency is about workers / throughput, so
	// the CPU a request costs (this process: server and client; PostgreSQL
	// is apart) is what moves p95.
	fmt.Printf("load: %d requests (form pages, saves, submissions) in %.1f s = %.0f req/s; this process %.2f ms CPU per request\n",
		n, elapsed.Seconds(), float64(n)/elapsed.Seconds(), float64((processCPU()-cpu0).Microseconds())/1000/float64(max(n, 1)))
	if pg := serverCPU(b, e); pg0 != nil && pg != nil {
		var d time.Duration
		for pid, t := range pg {
			d += t - pg0[pid] // a backend started since counts from 0
		}
		fmt.Printf("PostgreSQL (its processes alive at the end): %.2f ms CPU per request\n", float64(d.Microseconds())/1000/float64(max(n, 1)))
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "req/s@200")
	if first != nil {
		b.Fatal(first)
	}
	var lost, doubled int
	if err := e.db.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE f.state IS DISTINCT FROM 'submitted'),
		       count(*) FILTER (WHERE (SELECT count(*) FROM survey_form_event v WHERE v.form_id = f.id AND v.to_state = 'submitted') <> 1)
		FROM unnest($1::bigint[]) AS d(member) LEFT JOIN survey_form f ON f.member_id = d.member AND f.state <> 'superseded'`, done).
		Scan(&lost, &doubled); err != nil {
		b.Fatal(err)
	}
	var lostDrafts int
	if err := e.db.QueryRow(ctx, `
		SELECT count(*) FROM unnest($1::bigint[]) AS d(member)
		LEFT JOIN survey_form f ON f.member_id = d.member AND f.state <> 'superseded'
		WHERE f.state IS DISTINCT FROM 'draft' OR f.version <> 2 OR f.data->>'note' IS DISTINCT FROM '草稿 ' || d.member
		   OR (SELECT count(*) FROM survey_form x WHERE x.member_id = d.member) <> 1`, drafts).Scan(&lostDrafts); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("%d concurrent clerks, %.1f s: %d forms saved and submitted (each submission posted twice), %d saved twice as drafts\n",
		workers, elapsed.Seconds(), len(done), len(drafts))
	fmt.Printf("%-10s %7s %8s %8s %8s\n", "request", "n", "p50 ms", "p95 ms", "p99 ms")
	for _, s := range []struct {
		name string
		d    []time.Duration
	}{{"save", saves}, {"submit", submits}} {
		fmt.Printf("%-10s %7d %8.1f %8.1f %8.1f\n", s.name, len(s.d), ms(percentile(s.d, 50)), ms(percentile(s.d, 95)), ms(percentile(s.d, 99)))
		b.ReportMetric(ms(percentile(s.d, 95)), "p95-ms/"+s.name+"@200")
	}
	fmt.Printf("lost submissions %d, duplicated %d, lost drafts %d\n", lost, doubled, lostDrafts)
	// How survey_form was written: an update that changes no indexed
	// column is HOT (no index touched) when its page has room.
	var ins, upd, hot int64
	if err := e.db.QueryRow(ctx, `SELECT n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'survey_form'`).
		Scan(&ins, &upd, &hot); err == nil {
		fmt.Printf("survey_form: %d inserts, %d updates, %d of them HOT\n", ins, upd, hot)
	}
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(float64(doubled), "duplicated")
	b.ReportMetric(float64(lostDrafts), "lost-drafts")
	if lost != 0 || doubled != 0 || lostDrafts != 0 {
		b.Errorf("%d submissions lost, %d duplicated, %d drafts lost", lost, doubled, lostDrafts)
	}

	// The survey pages at 20 users, as the first clerk and a county reviewer.
	ck := clerks[0]
	var household int64
	if err := e.db.QueryRow(ctx, `SELECT household_id FROM survey_member WHERE id = $1`, ck.targets[0].member).Scan(&household); err != nil {
		b.Fatal(err)
	}
	e.mustCreateUser("breviewer", actor.County, fixture.County)
	rc := e.client()
	rc.mustLogin("breviewer")
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(base)
	jar.SetCookies(u, rc.c.Jar.Cookies(u))
	reviewer := &http.Client{Jar: jar, Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	round := strconv.FormatInt(pub.Round, 10)
	// The clerk's township, its village with the most households and a
	// page in the middle of that village's task list.
	var town, village, code string
	var villageHouseholds int
	if err := e.db.QueryRow(ctx, `SELECT left(h.region_code, 9), h.region_code, count(*), min(h.code) FROM survey_household h
		WHERE h.round_id = $1 AND left(h.region_code, 9) = (SELECT left(region_code, 9) FROM survey_household WHERE id = $2)
		GROUP BY h.region_code ORDER BY count(*) DESC LIMIT 1`, pub.Round, household).Scan(&town, &village, &villageHouseholds, &code); err != nil {
		b.Fatal(err)
	}
	middle := strconv.Itoa(max(1, (villageHouseholds+survey.HouseholdSpec.Size-1)/survey.HouseholdSpec.Size/2))
	pages := []loadPage{
		{"tasks search", "/survey/entry?q=" + url.QueryEscape(ck.targets[1].name), nil},
		{"household", "/survey/entry/households/" + strconv.FormatInt(household, 10), nil},
		{"form", "/survey/entry/members/" + strconv.FormatInt(ck.targets[1].member, 10), nil},
		{"review queue", "/survey/review", nil},
		{"progress county", "/survey/progress?round=" + round + "&region=" + fixture.County, nil},
		{"progress list", "/survey/progress/list?round=" + round + "&region=" + fixture.County + "&kind=region&key=" + fixture.County + "&metric=visited", nil},
		{"round county", "/survey/rounds/" + round + "?region=" + fixture.County, nil},
		{"round township", "/survey/rounds/" + round + "?region=" + town, nil},
		{"tasks township", "/survey/rounds/" + round + "/households?region=" + town, nil},
		{"tasks village p" + middle, "/survey/rounds/" + round + "/households?region=" + village + "&page=" + middle, nil},
		{"tasks code", "/survey/rounds/" + round + "/households?region=" + town + "&q=" + code, nil},
		{"progress town", "/survey/progress?round=" + round + "&region=" + town, nil},
	}
	mixes := [][]loadJob{{{0, ck.c}, {1, ck.c}, {2, ck.c}, {7, ck.c}, {8, ck.c}, {9, ck.c}, {10, ck.c}, {11, ck.c}},
		{{3, reviewer}, {4, reviewer}, {5, reviewer}, {6, reviewer}}}
	ds, el, err := drive(base, pages, 20, mixes, time.Duration(seconds)*time.Second, 20_000)
	if err != nil {
		b.Fatal(err)
	}
	var every []time.Duration
	fmt.Printf("survey pages, 20 concurrent users, %.1f s:\n", el.Seconds())
	fmt.Printf("%-20s %7s %8s %8s %8s\n", "page", "n", "p50 ms", "p95 ms", "p99 ms")
	for p, pg := range pages {
		every = append(every, ds[p]...)
		fmt.Printf("%-20s %7d %8.1f %8.1f %8.1f\n", pg.name, len(ds[p]), ms(percentile(ds[p], 50)), ms(percentile(ds[p], 95)), ms(percentile(ds[p], 99)))
		b.ReportMetric(ms(percentile(ds[p], 95)), "p95-ms/"+strings.ReplaceAll(pg.name, " ", "-")+"@20")
	}
	b.ReportMetric(ms(percentile(every, 95)), "p95-ms/survey-pages@20")
	// Each page alone at 20 users (a page slow only in the mix waits for
	// the others' CPU); CANBAO_BENCH_ALONE_SECONDS, default 2, 0: skip.
	alone := 2
	if n, err := strconv.Atoi(os.Getenv("CANBAO_BENCH_ALONE_SECONDS")); err == nil && n >= 0 {
		alone = n
	}
	if alone == 0 {
		return
	}
	fmt.Printf("survey pages alone, 20 concurrent users, %d s each:\n", alone)
	fmt.Printf("%-20s %7s %8s %8s %8s\n", "page", "n", "p50 ms", "p95 ms", "p99 ms")
	for _, mix := range mixes {
		for _, job := range mix {
			ds, _, err := drive(base, pages, 20, [][]loadJob{{job}}, time.Duration(alone)*time.Second, 20_000)
			if err != nil {
				b.Fatal(err)
			}
			d := ds[job.page]
			fmt.Printf("%-20s %7d %8.1f %8.1f %8.1f\n", pages[job.page].name, len(d), ms(percentile(d, 50)), ms(percentile(d, 95)), ms(percentile(d, 99)))
			b.ReportMetric(ms(percentile(d, 95)), "p95-ms/"+strings.ReplaceAll(pages[job.page].name, " ", "-")+"-alone@20")
		}
	}
}

// settle vacuums and analyses the database and waits for autovacuum to
// finish, so the clerks work on a county as it stands after its import
// has been digested (as on a bureau's server, where surveys start days
// after the extracts came in). Just after the 2.7M-record import,
// comparison and publish, autovacuum workers ran through the load phase:
// they took CPU from the clerks and, holding back the xmin horizon, kept
// re-saved drafts from being HOT updates.
func settle(b *testing.B, e *env) {
	ctx := context.Background()
	t := time.Now()
	if _, err := e.db.Exec(ctx, `VACUUM (ANALYZE)`); err != nil {
		b.Fatal(err)
	}
	vacuumed := time.Since(t)
	var workers int
	for range 300 {
		if err := e.db.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'`).Scan(&workers); err != nil {
			b.Fatal(err)
		}
		if workers == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Printf("settled: VACUUM (ANALYZE) %.1f s, then %.1f s waiting for autovacuum (%d workers still running)\n",
		vacuumed.Seconds(), (time.Since(t) - vacuumed).Seconds(), workers)
}

// processCPU is the CPU time this process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU is the CPU time of each PostgreSQL process by pid (backends,
// autovacuum, WAL writer ...) when the server runs on this machine; nil
// when it cannot be read. Read from /proc: user and system clock ticks.
func serverCPU(b *testing.B, e *env) map[int]time.Duration {
	rows, err := e.db.Query(context.Background(), `SELECT pid FROM pg_stat_activity`)
	if err != nil {
		return nil
	}
	defer rows.Close()
	out := map[int]time.Duration{}
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			return nil
		}
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return nil // not on this machine
		}
		// Fields after the command's closing parenthesis: utime and stime are 14 and 15.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) < 13 {
			return nil
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[pid] = time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
	}
	if rows.Err() != nil {
		b.Logf("server CPU: %v", rows.Err())
		return nil
	}
	return out
}

// getPage reads a page whole.
func getPage(c *http.Client, u string) (int, string, error) {
	resp, err := c.Get(u)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// benchForm fills a member's form from its page's hidden fields.
func benchForm(page, csrf, name, id string) (url.Values, error) {
	v, k := versionField.FindStringSubmatch(page), keyField.FindStringSubmatch(page)
	if v == nil || k == nil {
		return nil, fmt.Errorf("no version or key on the form page")
	}
	born, _ := idcard.Birth(id)
	sex := map[bool]string{true: "男", false: "女"}[idcard.Male(id)]
	return url.Values{"csrf": {csrf}, "version": {v[1]}, "key": {k[1]}, "name": {name}, "id_number": {id}, "sex": {sex},
		"birth": {born.Format("2006-01-02")}, "method": {"入户"}, "surveyor": {"调查员"}, "surveyed_on": {"2026-07-01"}, "outcome": {"在户"},
		"willing": {"愿意参保"}, "reason": {"个人未参保"}, "phone": {"13800138000"}}, nil
}
