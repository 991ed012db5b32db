package indicator

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/compare"
	"github.com/canbao/canbao/internal/list"
	"github.com/canbao/canbao/internal/pgtest"
)

// The hand-made data set: two counties of one city.
//
// County A (440981), townships T1 (440981107, village 440981107204) and T2
// (440981108). Run 1 (10 days ago) is the baseline a survey round was
// published from; run 2 (2 days ago) is A's current run; run 4 (failed,
// newest) counts for nothing. County B (440982, township 440982100) has run
// 3 (5 days ago, 户籍 extracts only) and no round.
//
// Persons of run 2 (A):
//
//	p1 T1  universe, insured,             not a target          registry
//	p2 T1  universe, pension 应参未参,     target, form approved (个人未参保)  registry
//	p3 T1  universe, insured, 信息有误,    target, form approved  registry
//	p4 T2  universe, both 应参未参,        target, form submitted registry
//	p5 T2  outside the universe, 信息有误
//	p6 T2  universe, insured, not a target, no registry entry
//	p7 A   universe, insured, placed on the county only        registry
//	p8 T1  universe, insured (was pension 应参未参 in run 1)   registry
//
// Run 1 (A): p2 (pension 应参未参), p3 (insured), p4 (both 应参未参), p8
// (pension 应参未参), p9 T2 (medical 应参未参; gone from run 2).
// Round 1 (A, 8 days ago): household h1 (village of T1): p2, p3 targets, p1
// listed; h2 (T2): p4 target; h3 (T2): p10 target, never visited.
// Run 3 (B): q1 universe, pension 应参未参, target; q2 universe, insured, registry.
type person struct {
	key, id, region string
	universe        bool
	pension         string
	medical         string
	flags           int
	survey          bool
	registry        bool
}

func id(birth, seq string) string { return "440981" + birth + seq + "X" }

var (
	ins, not, na = compare.Insured, compare.NotInsured, compare.NotApplied
	infoErr      = int(compare.FlagInfoError)
	ids          = map[string]string{
		"p1": id("19700101", "001"), "p2": id("19800101", "011"), "p3": id("19900101", "021"),
		"p4": id("20000101", "022"), "p5": id("19500101", "041"), "p6": id("19550101", "051"),
		"p7": id("19650101", "061"), "p8": id("19750101", "071"), "p9": id("19850101", "081"),
		"p10": id("19950101", "091"), "q1": id("19600101", "031"), "q2": id("19610101", "032"),
	}
)

const (
	cityCode = "4409"
	countyA  = "440981"
	countyB  = "440982"
	t1       = "440981107"
	village1 = "440981107204"
	t2       = "440981108"
	t3       = "440982100"
)

func load(t *testing.T, db *pgxpool.Pool, today time.Time) {
	t.Helper()
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// at is noon k days before today, in the database's time zone.
	at := func(k int) string { return fmt.Sprintf("($1::date - %d + time '12:00')::timestamptz", k) }
	for _, r := range [][]any{{"44", "广东省", 1, ""}, {cityCode, "茂名市", 2, "44"}, {countyA, "高州市", 3, cityCode},
		{countyB, "化州市", 3, cityCode}, {t1, "镇江镇", 4, countyA}, {t2, "长坡镇", 4, countyA},
		{village1, "镇江村", 5, t1}, {t3, "河西街道", 4, countyB}} {
		exec(`INSERT INTO region (code, name, level, parent_code) VALUES ($1, $2, $3, $4)`, r...)
	}
	exec(`INSERT INTO import_batch (id, kind, region_code, source, file_name, file_sha256, file_size, status, extract_date) VALUES
		(1, '参保信息', '440981', '', 'e.csv', 'a', 1, 'done', '2026-06-30'), (2, '户籍人口', '440981', '', 'h.csv', 'b', 1, 'done', '2026-06-30'),
		(3, '户籍人口', '440982', '', 'h2.csv', 'c', 1, 'done', '2026-06-30')`)
	exec(`INSERT INTO comparison_run (id, region_code, as_of, status, batches, started_at) VALUES
		(1, '440981', $1::date, 'done', '{1,2}', `+at(10)+`),
		(2, '440981', $1::date, 'done', '{1,2}', `+at(2)+`),
		(3, '440982', $1::date, 'done', '{3}', `+at(5)+`),
		(4, '440981', $1::date, 'failed', '{1,2}', `+at(1)+`)`, today)
	for run := 1; run <= 3; run++ {
		exec(fmt.Sprintf(`CREATE TABLE run_person_%d PARTITION OF run_person_row FOR VALUES IN (%d)`, run, run))
	}
	put := func(run int, ps []person) {
		for _, p := range ps {
			exec(`INSERT INTO run_person_row (run_id, id_number, name, region_code, in_universe, pension, medical, flags, survey)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, run, ids[p.key], p.key, p.region, p.universe, p.pension, p.medical, p.flags, p.survey)
			if p.registry {
				exec(`INSERT INTO person (id_number, name, identity_kind, region_code, first_source, last_source, first_kind, last_kind)
					VALUES ($1, $2, '户籍人口', $3, $4, $4, 'compare', 'compare') ON CONFLICT DO NOTHING`, ids[p.key], p.key, p.region, run)
			}
		}
	}
	put(2, []person{
		{"p1", "", t1, true, ins, ins, 0, false, true},
		{"p2", "", village1, true, not, ins, 0, true, true},
		{"p3", "", village1, true, ins, ins, infoErr, true, true},
		{"p4", "", t2, true, not, not, 0, true, true},
		{"p5", "", t2, false, na, na, infoErr, false, false},
		{"p6", "", t2, true, ins, ins, 0, false, false},
		{"p7", "", countyA, true, ins, ins, 0, false, true},
		{"p8", "", t1, true, ins, ins, 0, false, true},
	})
	put(1, []person{
		{"p2", "", village1, true, not, ins, 0, true, false},
		{"p3", "", village1, true, ins, ins, 0, false, false},
		{"p4", "", t2, true, not, not, 0, true, false},
		{"p8", "", t1, true, not, ins, 0, true, false},
		{"p9", "", t2, true, ins, not, 0, true, false},
	})
	put(3, []person{
		{"q1", "", t3, true, not, ins, 0, true, false},
		{"q2", "", t3, true, ins, ins, 0, false, true},
	})
	exec(`INSERT INTO survey_round (id, region_code, title, run_id, created_at) VALUES (1, '440981', '第一轮', 2, `+at(8)+`)`, today)
	exec(`INSERT INTO survey_household (id, round_id, code, household, region_code, added_run) VALUES
		(1, 1, 'H1', 'h1', '440981107204', 1), (2, 1, 'H2', 'h2', '440981108', 1), (3, 1, 'H3', 'h3', '440981108', 2)`)
	member := func(mid, hh int, key string, target bool, flags int) {
		exec(`INSERT INTO survey_member (id, household_id, round_id, id_number, name, target, flags, added_run)
			VALUES ($1, $2, 1, $3, $4, $5, $6, 1)`, mid, hh, ids[key], key, target, flags)
	}
	member(1, 1, "p2", true, 0)
	member(2, 1, "p3", true, infoErr)
	member(3, 1, "p1", false, 0)
	member(4, 2, "p4", true, 0)
	member(5, 3, "p10", true, 0)
	exec(`INSERT INTO survey_form (member_id, household_id, round_id, state, reason, submitted_at, reviewed_at) VALUES
		(1, 1, 1, 'approved', '个人未参保', `+at(4)+`, `+at(3)+`),
		(2, 1, 1, 'approved', '', `+at(2)+`, `+at(1)+`),
		(3, 1, 1, 'draft', '', NULL, NULL),
		(4, 2, 1, 'submitted', '', `+at(4)+`, NULL)`, today)
	exec(`INSERT INTO survey_form (member_id, household_id, round_id, state, reason, submitted_at, reviewed_at) VALUES
		(4, 2, 1, 'superseded', '', `+at(6)+`, NULL)`, today)
}

// want are the counts worked out by hand from the table above.
var want = map[string]Counts{
	countyA: {Population: 7, Registered: 5, ToSurvey: 4, Visited: 3, Confirmed: 2, ErrorsFound: 1, Corrected: 1,
		ExpansionBase: 4, Expanded: 1, InternalCompared: 7, CrossCompared: 7, NotInsured: 2},
	t1: {Population: 4, Registered: 4, ToSurvey: 2, Visited: 2, Confirmed: 2, ErrorsFound: 1, Corrected: 1,
		ExpansionBase: 2, Expanded: 1, InternalCompared: 4, CrossCompared: 4, NotInsured: 1},
	t2: {Population: 2, Registered: 0, ToSurvey: 2, Visited: 1, Confirmed: 0, ErrorsFound: 0, Corrected: 0,
		ExpansionBase: 2, Expanded: 0, InternalCompared: 2, CrossCompared: 2, NotInsured: 1},
	countyB: {Population: 2, Registered: 1, ToSurvey: 1, InternalCompared: 0, CrossCompared: 2, NotInsured: 1},
	cityCode: {Population: 9, Registered: 6, ToSurvey: 5, Visited: 3, Confirmed: 2, ErrorsFound: 1, Corrected: 1,
		ExpansionBase: 4, Expanded: 1, InternalCompared: 7, CrossCompared: 9, NotInsured: 3},
}

func today() time.Time { return dayOf(time.Now()) }

func TestComputeByHand(t *testing.T) {
	db, _ := pgtest.New(t)
	ctx := context.Background()
	day := today()
	load(t, db, day)
	for _, scope := range []string{"", cityCode, countyA} {
		s, err := LoadScope(ctx, db, scope, day)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Compute(ctx, db, s)
		if err != nil {
			t.Fatal(err)
		}
		for code, w := range want {
			if !actor.Within(scope, code) {
				continue
			}
			for _, p := range Parts {
				if got := res.Counts[code][p]; got != w[p] {
					t.Errorf("scope %q region %s %s = %d, want %d", scope, code, p, got, w[p])
				}
			}
		}
	}
	// The rates of county A: 5/7 registered, 3/4 visited, 2/4 confirmed, 1/1 corrected, 1/4 expanded.
	s, _ := LoadScope(ctx, db, countyA, day)
	res, err := Compute(ctx, db, s)
	if err != nil {
		t.Fatal(err)
	}
	for ind, w := range map[Indicator]string{RegistrationRate: "71.4%", VisitRate: "75.0%", SurveyRate: "50.0%",
		CorrectionRate: "100.0%", ExpansionRate: "25.0%"} {
		if got := ind.Of(res.Counts[countyA]).Percent(); got != w {
			t.Errorf("%s = %s, want %s", ind.Label, got, w)
		}
	}
	if got := ExpansionRate.Of(res.Counts[countyB]).Percent(); got != "无数据" {
		t.Errorf("county B without a round: expansion %s, want 无数据", got)
	}
	// Not insured in A: p2 (男, 46, pension, 个人未参保), p4 (女, 26, both, no approved form).
	wantB := map[Bucket]int64{{DimReason, "个人未参保"}: 1, {DimReason, ReasonUnknown}: 1, {DimSex, "男"}: 1, {DimSex, "女"}: 1,
		{DimScheme, SchemePension}: 1, {DimScheme, SchemeBoth}: 1, {DimAge, "40–49岁"}: 1, {DimAge, "16–29岁"}: 1}
	for b, n := range wantB {
		if got := res.Breakdown[countyA][b]; got != n {
			t.Errorf("breakdown %v = %d, want %d", b, got, n)
		}
	}
	ages := 0
	for b, n := range res.Breakdown[countyA] {
		if b.Dim == DimAge {
			ages += int(n)
		}
	}
	if ages != 2 {
		t.Errorf("age bands add up to %d, want 2", ages)
	}
}

// Six days ago only run 1 (A) had run and the round existed, nobody was
// visited yet (p4's first form was submitted that day at noon... and
// superseded since, so it is not seen), and county B had no run.
func TestComputeAsOfPastDay(t *testing.T) {
	db, _ := pgtest.New(t)
	ctx := context.Background()
	day := today()
	load(t, db, day)
	s, err := LoadScope(ctx, db, "", day.AddDate(0, 0, -6))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Runs(), []int64{1}) || !slices.Equal(s.Rounds(), []int64{1}) {
		t.Fatalf("runs %v rounds %v, want [1] [1]", s.Runs(), s.Rounds())
	}
	res, err := Compute(ctx, db, s)
	if err != nil {
		t.Fatal(err)
	}
	// Run 1's universe: p2, p3, p4, p8, p9; its targets p2, p4, p8, p9 are
	// covered by the round, whose targets are p2, p3, p4, p10.
	w := Counts{Population: 5, ToSurvey: 4, Visited: 0, Confirmed: 0, ExpansionBase: 4, Expanded: 0, NotInsured: 4}
	for p, n := range w {
		if got := res.Counts[cityCode][p]; got != n {
			t.Errorf("6 days ago: %s = %d, want %d", p, got, n)
		}
	}
	// Four days ago p4's form was submitted (noon), so it counts as visited
	// at the end of that day; p2's approval came a day later.
	s, _ = LoadScope(ctx, db, "", day.AddDate(0, 0, -4))
	res, err = Compute(ctx, db, s)
	if err != nil {
		t.Fatal(err)
	}
	if v, c := res.Counts[countyA][Visited], res.Counts[countyA][Confirmed]; v != 2 || c != 0 {
		t.Errorf("4 days ago: visited %d confirmed %d, want 2 (p2, p4) and 0", v, c)
	}
}

// Every part's list in every region has as many persons as its count, and
// the registered list is exactly the persons worked out by hand.
func TestListsEqualCounts(t *testing.T) {
	db, _ := pgtest.New(t)
	ctx := context.Background()
	load(t, db, today())
	st := NewStore(db)
	leader := actor.Actor{Username: "l", Role: actor.Leader, Region: cityCode}
	lq := list.Query{Page: 1, Size: 100}
	for code, w := range want {
		for _, p := range Parts {
			page, err := st.Persons(ctx, leader, code, time.Time{}, p, Filter{}, lq)
			if err != nil {
				t.Fatal(err)
			}
			if int64(page.Total) != w[p] || int64(len(page.Items)) != w[p] {
				t.Errorf("%s %s: list total %d (%d rows), want %d", code, p, page.Total, len(page.Items), w[p])
			}
		}
	}
	page, err := st.Persons(ctx, leader, countyA, time.Time{}, Registered, Filter{}, lq)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range page.Items {
		got = append(got, r.Name)
	}
	slices.Sort(got)
	if w := []string{"p1", "p2", "p3", "p7", "p8"}; !slices.Equal(got, w) {
		t.Errorf("registered in A: %v, want %v", got, w)
	}
	page, err = st.Persons(ctx, leader, countyA, today(), NotInsured, Filter{DimReason, "个人未参保"}, lq)
	if err != nil || page.Total != 1 || page.Items[0].Name != "p2" {
		t.Errorf("not insured for 个人未参保: %+v, %v; want p2", page, err)
	}
	outsider := actor.Actor{Username: "o", Role: actor.Leader, Region: countyB}
	if _, err := st.Persons(ctx, outsider, countyA, time.Time{}, Population, Filter{}, lq); err == nil {
		t.Error("a leader of county B read county A's list")
	}
}

// A snapshot writes every region's indicators; a city's row is the sum of
// its counties' rows.
func TestSnapshotAddsUp(t *testing.T) {
	db, _ := pgtest.New(t)
	ctx := context.Background()
	day := today()
	load(t, db, day)
	for range 2 { // a day computed again replaces its rows
		if _, err := Snapshot(ctx, db, day); err != nil {
			t.Fatal(err)
		}
	}
	const q = `SELECT indicator, numerator, denominator FROM indicator_snapshot WHERE day = $1 AND region_code = $2`
	read := func(code string) map[string]Value {
		rows, err := db.Query(ctx, q, day, code)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]Value{}
		for rows.Next() {
			var k string
			var v Value
			if err := rows.Scan(&k, &v.Num, &v.Den); err != nil {
				t.Fatal(err)
			}
			out[k] = v
		}
		return out
	}
	city, a, b := read(cityCode), read(countyA), read(countyB)
	if len(city) != len(All) {
		t.Fatalf("city has %d indicators, want %d", len(city), len(All))
	}
	for _, ind := range All {
		sum := Value{a[ind.Key].Num + b[ind.Key].Num, a[ind.Key].Den + b[ind.Key].Den}
		if city[ind.Key] != sum {
			t.Errorf("%s: city %v, counties add up to %v", ind.Key, city[ind.Key], sum)
		}
		if w := ind.Of(want[cityCode]); city[ind.Key] != w {
			t.Errorf("%s: city %v, want %v", ind.Key, city[ind.Key], w)
		}
	}
}

// A newer run of a smaller region takes that region over from an older
// run of a larger one; a newer run covering an older one replaces it.
func TestCurrentSources(t *testing.T) {
	runs := []runSource{{ID: 1, Region: "4409"}, {ID: 2, Region: "440981"}, {ID: 3, Region: "440982"},
		{ID: 4, Region: "440981107"}, {ID: 5, Region: "440982"}}
	got := current(runs, func(r *runSource) (int64, string, *[]string) { return r.ID, r.Region, &r.Exclude })
	// Run 3 is replaced by run 5 (same region, newer) — in the database one
	// region has one current run already, this checks the rule regardless.
	want := map[int64][]string{5: nil, 4: nil, 2: {"440981107%"}, 1: {"440982%", "440981107%", "440981%"}}
	if len(got) != len(want) {
		t.Fatalf("kept %d runs, want %d: %+v", len(got), len(want), got)
	}
	for _, r := range got {
		w, ok := want[r.ID]
		if !ok {
			t.Errorf("run %d kept", r.ID)
			continue
		}
		a, b := slices.Clone(r.Exclude), slices.Clone(w)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Errorf("run %d excludes %v, want %v", r.ID, r.Exclude, w)
		}
	}
}

// The dashboard's reads: a region with its children from a snapshot, and
// its trend over the snapshot days.
func TestBoardAndTrend(t *testing.T) {
	db, _ := pgtest.New(t)
	ctx := context.Background()
	day := today()
	load(t, db, day)
	for _, d := range []time.Time{day.AddDate(0, 0, -6), day} {
		if _, err := Snapshot(ctx, db, d); err != nil {
			t.Fatal(err)
		}
	}
	st := NewStore(db)
	leader := actor.Actor{Username: "l", Role: actor.Leader, Region: cityCode}
	total, kids, err := st.Board(ctx, leader, countyA, day)
	if err != nil {
		t.Fatal(err)
	}
	if got := total.Get(VisitRate); got != VisitRate.Of(want[countyA]) {
		t.Errorf("board A visit rate %v, want %v", got, VisitRate.Of(want[countyA]))
	}
	// T1 and T2, then the rest line of p7 (placed on the county).
	if len(kids) != 3 || kids[0].Code != t1 || kids[1].Code != t2 || !kids[2].Rest {
		t.Fatalf("children of A: %+v", kids)
	}
	if got := kids[2].Get(PopulationCount).Num; got != 1 {
		t.Errorf("rest line population %d, want 1 (p7)", got)
	}
	if got := kids[1].Get(SurveyRate); got != (Value{0, 2}) {
		t.Errorf("T2 survey rate %v, want 0/2", got)
	}
	trend, err := st.Trend(ctx, leader, cityCode)
	if err != nil {
		t.Fatal(err)
	}
	if len(trend) != 2 || trend[0].Values["population"].Num != 5 || trend[1].Values["population"].Num != 9 {
		t.Errorf("trend of the city: %+v, want population 5 then 9", trend)
	}
	bd, err := st.Breakdown(ctx, leader, cityCode, day)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, b := range bd[DimScheme] {
		n += b.N
	}
	if n != want[cityCode][NotInsured] {
		t.Errorf("schemes add up to %d, want %d", n, want[cityCode][NotInsured])
	}
	d, ok, err := st.LatestDay(ctx)
	if err != nil || !ok || !d.Day.Equal(day) {
		t.Errorf("latest day %v %v %v, want %v", d.Day, ok, err, day)
	}
}

func TestJudge(t *testing.T) {
	d := func(m, day int) time.Time { return time.Date(2026, time.Month(m), day, 0, 0, 0, 0, time.UTC) }
	// A 100-day round: 1 March to 9 June; on 20 April (50 days) half is due.
	round := Schedule{Start: d(3, 1), Deadline: d(6, 9)}
	for _, c := range []struct {
		name string
		done Value
		s    Schedule
		day  time.Time
		want Light
	}{
		{"OnSchedule", Value{50, 100}, round, d(4, 20), Green},
		{"Ahead", Value{80, 100}, round, d(4, 20), Green},
		{"SlightlyBehind", Value{41, 100}, round, d(4, 20), Amber},
		{"FarBehind", Value{39, 100}, round, d(4, 20), Red},
		{"DoneAfterDeadline", Value{100, 100}, round, d(7, 1), Green},
		{"LateAfterDeadline", Value{99, 100}, round, d(7, 1), Red},
		{"BeforeStart", Value{0, 100}, round, d(2, 1), Green},
		{"NoDeadline", Value{0, 100}, Schedule{Start: d(3, 1)}, d(4, 20), None},
		{"NothingToSurvey", Value{0, 0}, round, d(4, 20), None},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got, _ := Judge(c.done, c.s, c.day); got != c.want {
				t.Errorf("Judge(%v) = %q, want %q", c.done, got, c.want)
			}
		})
	}
}

func TestNextRun(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 30, 1, 0, 0, 0, loc)
	if got := NextRun(now, 1, 30); !got.Equal(time.Date(2026, 11, 30, 1, 30, 0, 0, loc)) {
		t.Errorf("later today: %v", got)
	}
	if got := NextRun(now, 1, 0); !got.Equal(time.Date(2026, 12, 1, 1, 0, 0, 0, loc)) {
		t.Errorf("now itself: %v, want tomorrow", got)
	}
}

// A second round (county B's, with nobody listed yet) takes B's survey
// over from its run: B has nobody to survey until the round lists them,
// and A counts as before.
func TestTwoRounds(t *testing.T) {
	db, _ := pgtest.New(t)
	ctx := context.Background()
	day := today()
	load(t, db, day)
	if _, err := db.Exec(ctx, `INSERT INTO survey_round (id, region_code, title, run_id) VALUES (2, '440982', '化州', 3)`); err != nil {
		t.Fatal(err)
	}
	s, err := LoadScope(ctx, db, "", day)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Compute(ctx, db, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Parts {
		if got := res.Counts[countyA][p]; got != want[countyA][p] {
			t.Errorf("A %s = %d, want %d", p, got, want[countyA][p])
		}
	}
	if got := res.Counts[countyB][ToSurvey]; got != 0 {
		t.Errorf("B to survey %d, want 0 (its round lists nobody)", got)
	}
}
